import { createPublicKey } from 'node:crypto';
import { loadPrivateKey } from '../v3-crypto.ts';
import type { SimContext } from './context.ts';
import { SimError } from './errors.ts';
import { alnum, digits, hex } from './ids.ts';
import { issueCertificate, merchantCertSubject, publicKeyIdFor, randomCertSerial } from './keys.ts';
import type { MerchantRecord, RegisterMerchantInput, SandboxCredentials, VerifyMode } from './types.ts';

/**
 * Sandbox merchant accounts. Registration is idempotent per mchid: a repeated call keeps what it
 * does not override, and generates only what is missing. The simulator keeps the merchant's
 * *public* key; a generated private key is returned once and never stored or logged.
 */

const bad = (message: string): SimError => new SimError(400, 'INVALID_MERCHANT', message);

function spkiPem(pem: string): string {
  return createPublicKey(pem).export({ type: 'spki', format: 'pem' }) as string;
}

function checkInput(input: RegisterMerchantInput): void {
  // The HTTP admin route passes parsed JSON straight in, so types are checked here, not assumed.
  for (const k of ['mchid', 'apiV3Key', 'merchantPrivateKeyPem', 'merchantPublicKeyPem', 'merchantSerialNo'] as const) {
    if (input[k] !== undefined && typeof input[k] !== 'string') throw bad(`${k} must be a string`);
  }
  if (input.mchid !== undefined && !/^[0-9]{6,32}$/.test(input.mchid)) throw bad('mchid must be 6–32 digits');
  if (input.appids !== undefined) {
    if (!Array.isArray(input.appids) || input.appids.length === 0) throw bad('appids must be a non-empty array');
    for (const a of input.appids) if (typeof a !== 'string' || !/^[0-9A-Za-z_]{1,32}$/.test(a)) throw bad(`invalid appid ${JSON.stringify(a)}`);
  }
  if (input.verifyMode !== undefined && input.verifyMode !== 'publicKey' && input.verifyMode !== 'platformCert') {
    throw bad("verifyMode must be 'publicKey' or 'platformCert'");
  }
  // The APIv3 key is the AES-256 key itself: 32 ASCII bytes (protocols.md §A.5).
  if (input.apiV3Key !== undefined && !/^[\x21-\x7e]{32}$/.test(input.apiV3Key)) {
    throw bad('apiV3Key must be 32 printable ASCII characters');
  }
  if (input.merchantSerialNo !== undefined && !/^[0-9A-Fa-f]{1,64}$/.test(input.merchantSerialNo)) throw bad('merchantSerialNo must be hex');
  if (input.nativeCallbackUrl !== undefined && (typeof input.nativeCallbackUrl !== 'string' || !/^https?:\/\/[^\s?#]+$/.test(input.nativeCallbackUrl))) throw bad('nativeCallbackUrl must be an http(s) URL without a query');
  if (input.providerType !== undefined && input.providerType !== 'normal' && input.providerType !== 'bank') throw bad("providerType must be 'normal' or 'bank'");
  if (input.channelId !== undefined && (typeof input.channelId !== 'string' || !/^[0-9]{1,32}$/.test(input.channelId))) throw bad('channelId must be digits');
  if (input.apiKey !== undefined && (typeof input.apiKey !== 'string' || !/^[0-9A-Za-z]{32}$/.test(input.apiKey))) throw bad('apiKey must be 32 letters or digits');
}

function resolvePublicKey(input: RegisterMerchantInput): string | undefined {
  let fromPrivate: string | undefined;
  if (input.merchantPrivateKeyPem !== undefined) {
    let key;
    try {
      key = loadPrivateKey(input.merchantPrivateKeyPem);
    } catch {
      throw bad('merchantPrivateKeyPem is not a readable private key');
    }
    if (key.asymmetricKeyType !== 'rsa') throw bad('merchant key must be RSA');
    fromPrivate = createPublicKey(key).export({ type: 'spki', format: 'pem' }) as string;
  }
  if (input.merchantPublicKeyPem === undefined) return fromPrivate;
  let pub: string;
  try {
    pub = spkiPem(input.merchantPublicKeyPem);
  } catch {
    throw bad('merchantPublicKeyPem is not a readable public key or certificate');
  }
  if (fromPrivate !== undefined && fromPrivate !== pub) throw bad('merchantPublicKeyPem does not match merchantPrivateKeyPem');
  return pub;
}

export interface Registration {
  credentials: SandboxCredentials;
  /** Settles when the sandbox API certificate for the merchant key exists (issued in the background). */
  certificate: Promise<string | undefined>;
}

export function registerMerchant(ctx: SimContext, input: RegisterMerchantInput = {}): Registration {
  checkInput(input);
  let mchid = input.mchid;
  if (mchid === undefined) do mchid = `19${digits(8)}`; while (ctx.state.merchants.has(mchid));
  const existing = ctx.state.merchants.get(mchid);

  let publicKeyPem = resolvePublicKey(input);
  let generatedPrivate: string | undefined;
  if (publicKeyPem === undefined) {
    if (existing) publicKeyPem = existing.merchantPublicKeyPem;
    else {
      const pair = ctx.keyPool.take();
      publicKeyPem = pair.publicKeyPem;
      generatedPrivate = pair.privateKeyPem;
    }
  }
  const keyChanged = !existing || existing.merchantPublicKeyPem !== publicKeyPem;
  const serial =
    input.merchantSerialNo?.toUpperCase() ?? (keyChanged ? randomCertSerial() : (existing as MerchantRecord).merchantSerialNo);
  const keepCert = !keyChanged && existing?.merchantSerialNo === serial ? existing.merchantCertificatePem : undefined;

  const record: MerchantRecord = {
    mchid,
    appids: input.appids ?? existing?.appids ?? [`wx${hex(8)}`],
    verifyMode: (input.verifyMode ?? existing?.verifyMode ?? 'publicKey') as VerifyMode,
    apiV3Key: input.apiV3Key ?? existing?.apiV3Key ?? alnum(32),
    apiKey: input.apiKey ?? existing?.apiKey ?? alnum(32),
    ...((input.nativeCallbackUrl ?? existing?.nativeCallbackUrl) ? { nativeCallbackUrl: input.nativeCallbackUrl ?? existing?.nativeCallbackUrl } : {}),
    ...((input.providerType ?? existing?.providerType) ? { providerType: input.providerType ?? existing?.providerType } : {}),
    ...((input.channelId ?? existing?.channelId) ? { channelId: input.channelId ?? existing?.channelId } : {}),
    merchantPublicKeyPem: publicKeyPem,
    merchantSerialNo: serial,
    ...(keepCert ? { merchantCertificatePem: keepCert } : {}),
    wxpayPublicKeyId: existing?.wxpayPublicKeyId ?? publicKeyIdFor(mchid, ctx.now()),
    createdAt: existing?.createdAt ?? ctx.now(),
  };
  ctx.state.putMerchant(record);
  ctx.log.info({ mchid, verifyMode: record.verifyMode, merchantSerialNo: serial, updated: Boolean(existing) }, 'sandbox merchant registered');

  const certificate = keepCert ? Promise.resolve(keepCert) : issueMerchantCertificate(ctx, record);
  return {
    credentials: {
      mchid,
      appids: [...record.appids],
      ...(generatedPrivate ? { merchantPrivateKeyPem: generatedPrivate } : {}),
      merchantSerialNo: serial,
      apiV3Key: record.apiV3Key,
      wxpayPublicKeyId: record.wxpayPublicKeyId,
      wxpayPublicKeyPem: ctx.keys.material.pubKeyPem,
      platformCertificatePem: ctx.keys.material.certPem,
      platformCertificateSerial: ctx.keys.certSerial,
      verifyMode: record.verifyMode,
      ...(record.providerType ? { providerType: record.providerType } : {}),
      apiKey: record.apiKey,
      tlsCaCertificatePem: ctx.tlsCaPem,
    },
    certificate,
  };
}

/** merchantSerialNo is a real certificate serial: the sandbox CA issues the merchant's API certificate. */
async function issueMerchantCertificate(ctx: SimContext, record: MerchantRecord): Promise<string | undefined> {
  try {
    const pem = await issueCertificate({
      issuerPrivateKeyPem: ctx.keys.material.certPrivateKeyPem,
      subjectPublicKeyPem: record.merchantPublicKeyPem,
      serial: record.merchantSerialNo,
      subject: merchantCertSubject(record.mchid),
      ca: false,
    });
    // A re-registration may have replaced the record meanwhile; only attach to the same key + serial.
    const current = ctx.state.merchants.get(record.mchid);
    if (current && current.merchantSerialNo === record.merchantSerialNo && current.merchantPublicKeyPem === record.merchantPublicKeyPem) {
      current.merchantCertificatePem = pem;
      ctx.state.changed();
    }
    return pem;
  } catch (err) {
    ctx.log.warn({ mchid: record.mchid, err: (err as Error).message }, 'merchant certificate not issued');
    return undefined;
  }
}

/** Public view for GET /sandbox/v1/merchants: no private key exists here to leak. */
export function merchantView(ctx: SimContext, m: MerchantRecord): SandboxCredentials & { merchantCertificatePem: string | null } {
  return {
    mchid: m.mchid,
    appids: [...m.appids],
    merchantSerialNo: m.merchantSerialNo,
    apiV3Key: m.apiV3Key,
    wxpayPublicKeyId: m.wxpayPublicKeyId,
    wxpayPublicKeyPem: ctx.keys.material.pubKeyPem,
    platformCertificatePem: ctx.keys.material.certPem,
    platformCertificateSerial: ctx.keys.certSerial,
    verifyMode: m.verifyMode,
    ...(m.providerType ? { providerType: m.providerType } : {}),
    apiKey: m.apiKey,
    tlsCaCertificatePem: ctx.tlsCaPem,
    merchantCertificatePem: m.merchantCertificatePem ?? null,
  };
}
