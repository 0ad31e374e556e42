import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SecretBox } from './secret-box.ts';

test('seals and opens; ciphertext is bound to its purpose and key', () => {
  const box = new SecretBox(randomBytes(32));
  const sealed = box.seal('-----BEGIN PRIVATE KEY-----abc', 'app:1');
  assert.ok(!sealed.includes('PRIVATE'));
  assert.equal(box.open(sealed, 'app:1'), '-----BEGIN PRIVATE KEY-----abc');
  assert.throws(() => box.open(sealed, 'app:2'));
  assert.throws(() => new SecretBox(randomBytes(32)).open(sealed, 'app:1'));
  assert.notEqual(box.seal('x', 'a'), box.seal('x', 'a'), 'fresh IV each time');
  assert.equal(SecretBox.mask('abcdefghijkl'), 'abcd****ijkl');
});
