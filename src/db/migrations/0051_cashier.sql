-- QR_CASHIER (聚合收银台): the real way a payer's app resolved a cashier order to, and the
-- payer-side data of that channel order (the order's own pay_data stays the cashier URL).
CREATE TABLE cashier_payments (
  pay_order_id   text PRIMARY KEY REFERENCES pay_orders(pay_order_id),
  payer_app      text NOT NULL,          -- wechat | alipay | unionpay
  way_code       text NOT NULL,
  if_code        text NOT NULL,
  payer          text,                   -- openid / buyer id the channel order is bound to
  pay_data_type  text,
  pay_data       text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
