import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generatePassword, hashPassword, passwordProblem, verifyPassword } from './passwords.ts';

test('scrypt hashes verify the right password only, with a fresh salt each time', async () => {
  const a = await hashPassword('correct horse battery');
  const b = await hashPassword('correct horse battery');
  assert.notEqual(a, b);
  assert.match(a, /^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
  assert.equal(await verifyPassword('correct horse battery', a), true);
  assert.equal(await verifyPassword('correct horse batterY', a), false);
  assert.equal(await verifyPassword('correct horse battery', a.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))), false);
  assert.equal(await verifyPassword('x', 'md5$whatever'), false);
});

test('generated passwords: 16 characters, no look-alikes, accepted by the policy', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const p = generatePassword();
    assert.equal(p.length, 16);
    assert.doesNotMatch(p, /[0O1lI]/);
    assert.equal(passwordProblem(p), null);
    seen.add(p);
  }
  assert.equal(seen.size, 200);
  assert.match(String(passwordProblem('short')), /at least 10/);
});
