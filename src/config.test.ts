import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, DEFAULT_NOTIFY_SCHEDULE, loadConfig } from './config.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'polypay-config-'));

test('defaults: port 9216, embedded database, generated dev keys kept in the data dir', () => {
  const d = dir();
  const c = loadConfig({ POLYPAY_DATA_DIR: d });
  assert.equal(c.port, 9216);
  assert.equal(c.databaseUrl, undefined);
  assert.equal(c.masterKey.length, 32);
  assert.equal(c.masterKeySource, 'generated');
  assert.deepEqual(c.notifySchedule, DEFAULT_NOTIFY_SCHEDULE);
  const again = loadConfig({ POLYPAY_DATA_DIR: d });
  assert.equal(again.masterKeySource, 'file');
  assert.deepEqual(again.masterKey, c.masterKey, 'restarts can still decrypt');
  assert.equal(readFileSync(join(d, 'admin.token'), 'utf8').trim(), c.adminToken);
});

test('every problem is reported at once, naming the variable', () => {
  try {
    loadConfig({ POLYPAY_DATA_DIR: dir(), PORT: 'x', DATABASE_URL: 'mysql://x', POLYPAY_MASTER_KEY: 'c2hvcnQ=', POLYPAY_NOTIFY_SCHEDULE: '1,a', POLYPAY_SANDBOX: 'maybe' });
    assert.fail('should throw');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    for (const name of ['PORT', 'DATABASE_URL', 'POLYPAY_MASTER_KEY', 'POLYPAY_NOTIFY_SCHEDULE', 'POLYPAY_SANDBOX']) assert.match(err.message, new RegExp(name));
  }
});

test('production requires explicit keys and turns the sandbox off', () => {
  assert.throws(() => loadConfig({ POLYPAY_DATA_DIR: dir(), NODE_ENV: 'production' }), /POLYPAY_MASTER_KEY is required[\s\S]*POLYPAY_ADMIN_TOKEN is required/);
  const c = loadConfig({ POLYPAY_DATA_DIR: dir(), NODE_ENV: 'production', POLYPAY_MASTER_KEY: Buffer.alloc(32, 1).toString('base64'), POLYPAY_ADMIN_TOKEN: 'x'.repeat(24) });
  assert.equal(c.sandbox.enabled, false);
});

test('a JSON config file is read; the environment wins', () => {
  const d = dir();
  const file = join(d, 'polypay.json');
  writeFileSync(file, JSON.stringify({ PORT: 7000, HOST: '0.0.0.0', POLYPAY_NOTIFY_SCHEDULE: [0, 5] }));
  const c = loadConfig({ POLYPAY_DATA_DIR: d, POLYPAY_CONFIG: file, HOST: '127.0.0.2' });
  assert.equal(c.port, 7000);
  assert.equal(c.host, '127.0.0.2');
  assert.deepEqual(c.notifySchedule, [0, 5]);
  assert.throws(() => loadConfig({ POLYPAY_DATA_DIR: d, POLYPAY_CONFIG: join(d, 'missing.json') }), /cannot read/);
});
