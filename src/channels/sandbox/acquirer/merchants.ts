import { createPrivateKey, createPublicKey } from 'node:crypto';
import { spkiPem } from '../../rsa.ts';
import { generateRsaPair } from '../certs.ts';
import type { AcquirerContext } from './engine.ts';
import type { MerchantRecord } from './types.ts';

/**
 * Merchant registration shared by the acquirer sandboxes: idempotent per merchant id; the
 * merchant keeps its key unless it brings another (a private key, whose public half is kept, or
 * a public key) or asks for a new one (`newKey: true`). A generated private key is returned once
 * and never stored.
 */

export class RegistrationError extends Error {}

function optString(input: Record<string, unknown>, name: string): string | undefined {
  const v = input[name];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new RegistrationError(`${name} must be a string`);
  return v;
}

export interface Registered {
  merchant: MerchantRecord;
  /** Only when this call generated the key pair. */
  privateKeyPem?: string;
}

export async function registerAcquirerMerchant(
  ctx: AcquirerContext,
  input: Record<string, unknown>,
  o: { idPattern: RegExp; newId(): string; secrets?: (existing: MerchantRecord | undefined) => Record<string, string> },
): Promise<Registered> {
  const id = optString(input, 'merchantId') ?? o.newId();
  if (!o.idPattern.test(id)) throw new RegistrationError(`merchantId must match ${o.idPattern.source}`);
  const existing = ctx.book.merchants.get(id);
  const privateText = optString(input, 'privateKeyPem');
  const publicText = optString(input, 'publicKeyPem');
  let publicKeyPem: string;
  let privateKeyPem: string | undefined;
  try {
    if (privateText) publicKeyPem = spkiPem(createPublicKey(createPrivateKey(privateText)));
    else if (publicText) publicKeyPem = spkiPem(createPublicKey(publicText));
    else if (existing && input.newKey !== true) publicKeyPem = existing.publicKeyPem;
    else ({ publicKeyPem, privateKeyPem } = await generateRsaPair());
  } catch {
    throw new RegistrationError('the key given is not a readable RSA key');
  }
  const merchant: MerchantRecord = {
    id,
    name: optString(input, 'name') ?? existing?.name ?? `Sandbox merchant ${id}`,
    publicKeyPem,
    secrets: o.secrets ? o.secrets(existing) : (existing?.secrets ?? {}),
    createdAt: existing?.createdAt ?? ctx.now(),
  };
  ctx.book.putMerchant(merchant);
  return { merchant, ...(privateKeyPem ? { privateKeyPem } : {}) };
}
