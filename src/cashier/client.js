// The cashier's only script (served from /cashier/assets/client.js; the pages' CSP allows scripts
// from this origin only). Plain ES5 for old in-app browsers. It reads what the server rendered
// into data-* attributes of <main id="cashier"> and never builds HTML from data.
(function () {
  var root = document.getElementById('cashier');
  if (!root) return;
  var d = root.dataset;
  function show(id) {
    var el = document.getElementById(id);
    if (el) el.className = el.className.replace(/\bhidden\b/, '');
  }
  function hide(id) {
    var el = document.getElementById(id);
    if (el && !/\bhidden\b/.test(el.className)) el.className += ' hidden';
  }

  // A known app: go on to its payment at once (the page only says where the payer is going).
  if (d.mode === 'continue' && d.next) {
    window.location.replace(d.next);
    return;
  }

  if (d.mode === 'wechat') {
    var params = JSON.parse(d.pay);
    var report = function (result) {
      // The payer's claim only makes the gateway ask WeChat at once; it changes nothing by itself.
      return fetch('/api/pay/client/confirm', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ payOrderId: d.order, clientToken: d.client, result: result }) }).catch(function () {});
    };
    var invoke = function () {
      hide('cancelled');
      window.WeixinJSBridge.invoke('getBrandWCPayRequest', params, function (res) {
        var msg = (res && res.err_msg) || '';
        if (/:ok$/.test(msg)) report('ok').then(function () { window.location.replace(d.result); });
        else {
          report(/cancel/.test(msg) ? 'cancel' : 'fail');
          show('cancelled');
        }
      });
    };
    var start = function () {
      if (window.WeixinJSBridge) invoke();
      else {
        show('nobridge');
        show('sandbox');
      }
    };
    document.getElementById('pay').onclick = start;
    if (window.WeixinJSBridge) invoke();
    else {
      document.addEventListener('WeixinJSBridgeReady', invoke, false);
      setTimeout(function () {
        if (!window.WeixinJSBridge) start();
      }, 1200);
    }
    return;
  }

  // Result page of an open order: follow the order over Server-Sent Events, reload when it ends.
  if (d.mode === 'result' && d.events && window.EventSource) {
    var es = new EventSource(d.events);
    es.addEventListener('order', function (e) {
      var o = JSON.parse(e.data);
      if (o.state !== 0 && o.state !== 1) {
        es.close();
        window.location.reload();
      }
    });
  }
})();
