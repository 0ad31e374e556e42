import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dbLegs } from '../helpers/db.ts';
import { type Stack, orderNo, startStack } from '../helpers/stack.ts';
import { ConsoleClient, userWithRole } from '../helpers/console.ts';
import { consoleRoutesOf } from '../../src/console/http/realm.ts';
import { ROLES, ROUTE_ROLES, type Realm, type Role } from '../../src/console/rbac.ts';

/**
 * Every console API route, registered on a real gateway, against every role: a role outside the
 * route's list in src/console/rbac.ts gets 403, nobody gets in without a session, and no write
 * passes without the CSRF token. The routes come from the server itself, not from the table, so a
 * route added later is covered automatically (and one missing from the table fails at start).
 */
for (const leg of dbLegs()) {
  describe(`console RBAC on every route (${leg})`, () => {
    let s: Stack;
    let payOrderId: string;
    const clients = new Map<string, ConsoleClient>();
    before(async () => {
      s = await startStack(leg, { workers: false });
      const created = await s.client.unifiedOrder({ mchOrderNo: orderNo(), wayCode: 'WX_NATIVE', amount: 5, currency: 'cny', subject: 's', body: 'b' });
      payOrderId = (created.data as { payOrderId: string }).payOrderId;
      for (const realm of ['operator', 'merchant'] as const) {
        for (const role of ROLES) clients.set(`${realm}/${role}`, await userWithRole(s.gw, realm, role, realm === 'merchant' ? s.demo.mchNo : undefined));
      }
    });
    after(() => s?.close());

    const concrete = (url: string) =>
      url.replace(':appId', s.demo.appId).replace(':payOrderId', payOrderId).replace(':mchNo', s.demo.mchNo).replace(':ifCode', 'wxpay').replace(':passageId', '1').replace(':id', '1');

    test('every registered console route has a table entry, and every table entry is a registered route', () => {
      const routes = consoleRoutesOf(s.gw.http);
      assert.ok(routes.length >= 50, `expected the two realms' routes, got ${routes.length}`);
      for (const realm of ['operator', 'merchant'] as Realm[]) {
        const registered = new Set(routes.filter((r) => r.realm === realm).map((r) => r.key));
        assert.deepEqual([...registered].sort(), Object.keys(ROUTE_ROLES[realm]).sort(), `${realm}: table and server disagree`);
      }
    });

    test('without a session every non-public route answers 401', async () => {
      for (const r of consoleRoutesOf(s.gw.http)) {
        if (r.roles === 'public') continue;
        const anon = new ConsoleClient(s.gw.http, r.realm, null, null);
        const res = await anon.call(r.method, concrete(r.url.replace(/^\/(console|merchant)\/api/, '')), {});
        assert.equal(res.status, 401, `${r.realm} ${r.method} ${r.url}: ${JSON.stringify(res.json)}`);
      }
    });

    test('a role outside the route\'s list is refused with 403 on every route', async () => {
      let refusals = 0;
      for (const r of consoleRoutesOf(s.gw.http)) {
        if (r.roles === 'public') continue;
        for (const role of ROLES.filter((x: Role) => !(r.roles as readonly Role[]).includes(x))) {
          const client = clients.get(`${r.realm}/${role}`) as ConsoleClient;
          const res = await client.call(r.method, concrete(r.url.replace(/^\/(console|merchant)\/api/, '')), {});
          assert.equal(res.status, 403, `${r.realm} ${role} ${r.method} ${r.url}: ${JSON.stringify(res.json)}`);
          assert.equal(res.json.errorKey, 'FORBIDDEN');
          refusals++;
        }
      }
      assert.ok(refusals >= 40, `only ${refusals} refusals checked`);
      // And the refused writes changed nothing: readonly could not create a merchant.
      const merchants = await s.gw.db.query(`SELECT count(*)::int AS n FROM merchants`);
      assert.equal((merchants.rows[0] as { n: number }).n, 1);
    });

    test('every write without the CSRF token is refused, even for a role that may make it', async () => {
      for (const r of consoleRoutesOf(s.gw.http)) {
        if (r.roles === 'public' || r.method === 'GET') continue;
        const role = (r.roles as readonly Role[])[0] as Role;
        const signedIn = clients.get(`${r.realm}/${role}`) as ConsoleClient;
        const noToken = new ConsoleClient(s.gw.http, r.realm, signedIn.cookie, null);
        const res = await noToken.call(r.method, concrete(r.url.replace(/^\/(console|merchant)\/api/, '')), {});
        assert.equal(res.status, 403, `${r.realm} ${r.method} ${r.url}`);
        assert.equal(res.json.errorKey, 'CSRF_INVALID');
      }
    });
  });
}
