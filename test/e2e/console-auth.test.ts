import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dbLegs } from '../helpers/db.ts';
import { type Stack, startStack } from '../helpers/stack.ts';
import { ConsoleClient, sessionCookie, signIn, userWithRole } from '../helpers/console.ts';
import { verifyPassword } from '../../src/console/passwords.ts';

const PASSWORD = 'correct horse battery';

/** Sign-in, session cookie, lockout, CSRF defences and account changes taking effect at once. */
for (const leg of dbLegs()) {
  describe(`console sign-in and sessions (${leg})`, () => {
    let s: Stack;
    before(async () => {
      s = await startStack(leg, { workers: false, env: { POLYPAY_CONSOLE_MAX_FAILED_LOGINS: '3' } });
      await s.gw.consoleAccounts.createUser({ realm: 'operator', username: 'alice', role: 'admin', password: PASSWORD });
    });
    after(() => s?.close());
    const anon = () => new ConsoleClient(s.gw.http, 'operator', null, null);

    test('the first admin is created once, its password stored only as a scrypt hash', async () => {
      const fresh = await startStack(leg, { workers: false });
      try {
        const first = await fresh.gw.consoleAccounts.ensureFirstAdmin();
        assert.ok(first && first.password.length >= 16);
        assert.equal(await fresh.gw.consoleAccounts.ensureFirstAdmin(), null, 'not created (nor printed) a second time');
        const row = (await fresh.gw.db.query<{ password_hash: string }>(`SELECT password_hash FROM console_users WHERE username = 'admin'`)).rows[0];
        assert.match(row?.password_hash ?? '', /^scrypt\$32768\$8\$1\$/);
        assert.ok(!row?.password_hash.includes(first.password));
        assert.ok(await verifyPassword(first.password, row?.password_hash ?? ''));
        await signIn(fresh.gw, 'operator', 'admin', first.password);
      } finally {
        await fresh.close();
      }
    });

    test('signing in sets an HttpOnly SameSite=Strict cookie scoped to the API; signing out ends the session', async () => {
      const r = await anon().post('/session', { username: 'alice', password: PASSWORD });
      assert.equal(r.status, 200);
      const cookie = String([r.headers['set-cookie']].flat()[0]);
      assert.match(cookie, /^polypay_op=[A-Za-z0-9_-]{40,};/);
      assert.match(cookie, /HttpOnly/);
      assert.match(cookie, /SameSite=Strict/);
      assert.match(cookie, /Path=\/console\/api/);
      assert.doesNotMatch(cookie, /Secure/, 'plain http in tests: Secure only when POLYPAY_PUBLIC_URL is https');
      const c = new ConsoleClient(s.gw.http, 'operator', sessionCookie(r.headers['set-cookie'], 'operator'), String(r.json.csrfToken));
      assert.equal((await c.get('/session')).status, 200);
      assert.equal((await c.call('DELETE', '/session')).status, 200);
      assert.equal((await c.get('/session')).status, 401);
      const stored = await s.gw.db.query(`SELECT token_hash FROM console_sessions`);
      assert.ok(stored.rows.every((x) => String(x.token_hash) !== c.cookie), 'only hashes of tokens are stored');
    });

    test('a merchant session cookie does not open the operator console', async () => {
      const m = await userWithRole(s.gw, 'merchant', 'admin', s.demo.mchNo);
      const asOperator = new ConsoleClient(s.gw.http, 'operator', m.cookie, m.csrf);
      assert.equal((await asOperator.get('/merchants')).status, 401);
    });

    test('wrong passwords lock the account; during the lock even the right password is refused', async () => {
      await s.gw.consoleAccounts.createUser({ realm: 'operator', username: 'bob', role: 'readonly', password: PASSWORD });
      const unknown = await anon().post('/session', { username: 'nobody', password: 'whatever-it-is' });
      assert.equal(unknown.status, 401);
      assert.equal(unknown.json.errorKey, 'LOGIN_FAILED');
      for (let i = 0; i < 3; i++) {
        const r = await anon().post('/session', { username: 'bob', password: `wrong-${i}-password` });
        assert.equal(r.status, 401);
        assert.equal(r.json.errorKey, 'LOGIN_FAILED');
      }
      const locked = await anon().post('/session', { username: 'bob', password: PASSWORD });
      assert.equal(locked.status, 423);
      assert.equal(locked.json.errorKey, 'ACCOUNT_LOCKED');
      assert.equal(locked.headers['set-cookie'], undefined);
      // The lock runs out (moved into the past here); the right password works again and resets the count.
      await s.gw.db.query(`UPDATE console_users SET locked_until = now() - interval '1 second' WHERE username = 'bob'`);
      assert.equal((await anon().post('/session', { username: 'bob', password: PASSWORD })).status, 200);
      const row = (await s.gw.db.query<{ failed_attempts: number }>(`SELECT failed_attempts FROM console_users WHERE username = 'bob'`)).rows[0];
      assert.equal(row?.failed_attempts, 0);
    });

    test('an admin reset lifts a lock and ends the old sessions', async () => {
      const carol = await userWithRole(s.gw, 'operator', 'operations');
      const admin = await signIn(s.gw, 'operator', 'alice', PASSWORD);
      const me = (await carol.get('/session')).json.user as { id: number; username: string };
      const reset = await admin.post(`/users/${me.id}/password`);
      assert.equal(reset.status, 200);
      assert.equal((await carol.get('/session')).status, 401, 'sessions end with a password reset');
      await signIn(s.gw, 'operator', me.username, String(reset.json.password));
    });

    test('a demotion takes effect on the next request of a live session', async () => {
      const dave = await userWithRole(s.gw, 'operator', 'admin');
      assert.equal((await dave.get('/users')).status, 200);
      const id = ((await dave.get('/session')).json.user as { id: number }).id;
      const admin = await signIn(s.gw, 'operator', 'alice', PASSWORD);
      assert.equal((await admin.patch(`/users/${id}`, { role: 'readonly' })).status, 200);
      assert.equal((await dave.get('/users')).status, 403);
    });

    test('CSRF: wrong token, foreign Origin, cross-site fetch or a form body are refused and change nothing', async () => {
      const admin = await signIn(s.gw, 'operator', 'alice', PASSWORD);
      const attempts: Array<{ name: string; client: ConsoleClient; headers: Record<string, string> }> = [
        { name: 'wrong token', client: new ConsoleClient(s.gw.http, 'operator', admin.cookie, 'not-the-token'), headers: {} },
        { name: 'foreign origin', client: admin, headers: { origin: 'https://evil.example' } },
        { name: 'cross-site fetch', client: admin, headers: { 'sec-fetch-site': 'cross-site' } },
        { name: 'form body', client: admin, headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      ];
      for (const a of attempts) {
        const r = await a.client.call('POST', '/merchants', { name: `csrf ${a.name}` }, a.headers);
        assert.equal(r.status, 403, a.name);
        assert.equal(r.json.errorKey, 'CSRF_INVALID', a.name);
      }
      const signInFromElsewhere = await anon().call('POST', '/session', { username: 'alice', password: PASSWORD }, { origin: 'https://evil.example' });
      assert.equal(signInFromElsewhere.status, 403, 'login CSRF refused too');
      const made = await s.gw.db.query(`SELECT 1 FROM merchants WHERE name LIKE 'csrf %'`);
      assert.equal(made.rows.length, 0);
      assert.equal((await admin.post('/merchants', { name: 'csrf ok' })).status, 200, 'the same request with the token passes');
    });

    test('a forgotten password is replaced through the admin API (CLI: console reset-password)', async () => {
      const refused = await s.gw.http.inject({ method: 'POST', url: '/admin/v1/console-users/operator/alice/password', headers: { authorization: 'Bearer wrong' } });
      assert.equal(refused.statusCode, 401);
      const r = await s.gw.http.inject({ method: 'POST', url: '/admin/v1/console-users/operator/alice/password', headers: { authorization: `Bearer ${s.config.adminToken}` } });
      const fresh = r.json() as { password: string };
      await assert.rejects(signIn(s.gw, 'operator', 'alice', PASSWORD));
      await signIn(s.gw, 'operator', 'alice', fresh.password);
      await s.gw.consoleAccounts.resetPassword('operator', (await s.gw.consoleAccounts.listUsers('operator')).find((u) => u.username === 'alice')?.id ?? 0, null, PASSWORD);
    });

    test('the last active admin cannot be demoted or disabled', async () => {
      const fresh = await startStack(leg, { workers: false });
      try {
        const first = await fresh.gw.consoleAccounts.ensureFirstAdmin();
        const admin = await signIn(fresh.gw, 'operator', 'admin', first?.password ?? '');
        const id = ((await admin.get('/session')).json.user as { id: number }).id;
        const r = await admin.patch(`/users/${id}`, { role: 'readonly' });
        assert.equal(r.status, 400);
        assert.equal(r.json.errorKey, 'PARAM_INVALID');
        assert.equal((await admin.patch(`/users/${id}`, { state: 0 })).status, 400);
        assert.equal((await admin.get('/users')).status, 200, 'still an admin');
      } finally {
        await fresh.close();
      }
    });
  });
}
