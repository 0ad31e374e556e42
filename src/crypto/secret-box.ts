import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Seals secrets at rest (app secrets, channel private keys, API keys) with AES-256-GCM under
 * the deployment's master key. Format: `v1.<iv b64>.<ciphertext+tag b64>`. The AAD binds a
 * sealed value to its purpose (e.g. `app:<appId>`), so a ciphertext copied into another
 * row does not decrypt.
 */
export class SecretBox {
  readonly #key: Buffer;
  constructor(masterKey: Buffer) {
    if (masterKey.length !== 32) throw new Error('master key must be 32 bytes');
    this.#key = masterKey;
  }

  seal(plaintext: string, aad: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `v1.${iv.toString('base64')}.${ct.toString('base64')}`;
  }

  open(sealed: string, aad: string): string {
    const [version, ivB64, ctB64] = sealed.split('.');
    if (version !== 'v1' || !ivB64 || !ctB64) throw new Error('unrecognised sealed secret');
    const data = Buffer.from(ctB64, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(ivB64, 'base64'));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(data.subarray(data.length - 16));
    return Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]).toString('utf8');
  }

  /** Keeps a value recognisable to an operator without revealing it: `abcd****wxyz`. */
  static mask(secret: string): string {
    if (secret.length <= 8) return '****';
    return `${secret.slice(0, 4)}****${secret.slice(-4)}`;
  }
}
