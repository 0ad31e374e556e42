import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { CashierTokens } from './token.ts';

const tokens = new CashierTokens(randomBytes(32));
const expires = new Date('2030-01-01T00:00:00Z');

test('a token names its order and expiry and verifies', () => {
  const t = tokens.sign('P2026010100000012345678', expires);
  assert.deepEqual(tokens.verify(t), { payOrderId: 'P2026010100000012345678', expiresAt: expires });
});

test('forgeries are refused: other order, other expiry, other key, truncated or re-encoded MAC', () => {
  const t = tokens.sign('P1', expires);
  const [id, exp, mac] = t.split('.') as [string, string, string];
  assert.equal(tokens.verify(`P2.${exp}.${mac}`), null);
  assert.equal(tokens.verify(`${id}.${Number(exp) + 86_400}.${mac}`), null);
  assert.equal(tokens.verify(new CashierTokens(randomBytes(32)).sign('P1', expires)), null);
  assert.equal(tokens.verify(`${id}.${exp}.${mac.slice(0, 42)}`), null);
  assert.equal(tokens.verify(`${id}.${exp}.${mac.slice(0, 42)}${mac[42] === 'A' ? 'B' : 'A'}`), null);
  assert.equal(tokens.verify(`${t}.extra`), null);
  assert.equal(tokens.verify('https://evil.example/'), null);
  assert.equal(tokens.verify(''), null);
});
