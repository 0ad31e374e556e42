import { createPrivateKey, createPublicKey } from 'node:crypto';
import { certSn } from '../sign.ts';
import { AlipayError, digits, type SimContext } from './context.ts';
import { generateRsaPair, issueCertificate } from './keys.ts';
import type { AppCredentials, AppRecord, RegisterAppInput } from './types.ts';

/**
 * Sandbox app registration (the open platform's "create app, upload key" step). Idempotent per
 * appId: a repeat keeps what it does not override. A generated app private key is returned once
 * and never stored; the simulator keeps the public key (and, in certificate mode, the
 * certificate it issued for it).
 */

const bad = (message: string): AlipayError => new AlipayError('40002', 'sandbox.invalid-app', message);

function publicKeyOf(input: RegisterAppInput): string | undefined {
  const spki = (pem: string) => createPublicKey(pem).export({ type: 'spki', format: 'pem' }) as string;
  let fromPrivate: string | undefined;
  if (input.appPrivateKeyPem !== undefined) {
    try {
      const key = createPrivateKey(input.appPrivateKeyPem);
      if (key.asymmetricKeyType !== 'rsa') throw new Error('not RSA');
      fromPrivate = spki(createPublicKey(key).export({ type: 'spki', format: 'pem' }) as string);
    } catch {
      throw bad('appPrivateKeyPem is not a readable RSA private key');
    }
  }
  if (input.appPublicKeyPem === undefined) return fromPrivate;
  let pub: string;
  try {
    pub = spki(input.appPublicKeyPem);
  } catch {
    throw bad('appPublicKeyPem is not a readable public key');
  }
  if (fromPrivate !== undefined && pub !== fromPrivate) throw bad('appPublicKeyPem does not match appPrivateKeyPem');
  return pub;
}

function check(input: RegisterAppInput): void {
  for (const f of ['appId', 'pid', 'appPrivateKeyPem', 'appPublicKeyPem'] as const) {
    if (input[f] !== undefined && typeof input[f] !== 'string') throw bad(`${f} must be a string`);
  }
  if (input.appId !== undefined && !/^[0-9]{16}$/.test(input.appId)) throw bad('appId must be 16 digits');
  if (input.pid !== undefined && !/^2088[0-9]{12}$/.test(input.pid)) throw bad('pid must be 2088 + 12 digits');
  if (input.mode !== undefined && input.mode !== 'publicKey' && input.mode !== 'cert') throw bad("mode must be 'publicKey' or 'cert'");
  if (input.openId !== undefined && typeof input.openId !== 'boolean') throw bad('openId must be a boolean');
  if (input.isv !== undefined && typeof input.isv !== 'boolean') throw bad('isv must be a boolean');
  if (input.authRedirectUri !== undefined && (typeof input.authRedirectUri !== 'string' || !/^https?:\/\/[^\s]+$/.test(input.authRedirectUri))) throw bad('authRedirectUri must be an http(s) URL');
}

export async function registerApp(ctx: SimContext, input: RegisterAppInput = {}): Promise<AppCredentials> {
  check(input);
  let appId = input.appId;
  if (appId === undefined) do appId = `2021${digits(12)}`; while (ctx.state.apps.has(appId));
  const existing = ctx.state.apps.get(appId);
  let publicKeyPem = publicKeyOf(input);
  let generatedPrivate: string | undefined;
  if (publicKeyPem === undefined) {
    if (existing) publicKeyPem = existing.appPublicKeyPem;
    else {
      const pair = await generateRsaPair();
      publicKeyPem = pair.publicKeyPem;
      generatedPrivate = pair.privateKeyPem;
    }
  }
  const mode = input.mode ?? existing?.mode ?? 'publicKey';
  const keepCert = existing?.appPublicKeyPem === publicKeyPem ? existing.appCertPem : undefined;
  const appCertPem = mode === 'cert' ? (keepCert ?? (await issueCertificate(ctx.keys.material, publicKeyPem, `C=CN, O=Polypay Sandbox Merchant, OU=Alipay, CN=${appId}`))) : keepCert;
  const record: AppRecord = {
    appId,
    pid: input.pid ?? existing?.pid ?? `2088${digits(12)}`,
    mode,
    openId: input.openId ?? existing?.openId ?? true,
    appPublicKeyPem: publicKeyPem,
    ...(appCertPem ? { appCertPem, appCertSn: certSn(appCertPem) } : {}),
    createdAt: existing?.createdAt ?? ctx.now(),
    ...((input.isv ?? existing?.isv) ? { isv: true } : {}),
    ...((input.authRedirectUri ?? existing?.authRedirectUri) ? { authRedirectUri: input.authRedirectUri ?? existing?.authRedirectUri } : {}),
  };
  ctx.state.putApp(record);
  ctx.log.info({ appId, mode, openId: record.openId, isv: Boolean(record.isv), updated: Boolean(existing) }, 'sandbox app registered');
  return { ...appView(ctx, record), ...(generatedPrivate ? { appPrivateKeyPem: generatedPrivate } : {}) };
}

/** What GET /sandbox/v1/apps shows: no private key exists here to leak. */
export function appView(ctx: SimContext, app: AppRecord): AppCredentials {
  const k = ctx.keys;
  return {
    appId: app.appId,
    pid: app.pid,
    mode: app.mode,
    openId: app.openId,
    isv: Boolean(app.isv),
    gatewayUrl: `${ctx.baseUrl}/gateway.do`,
    appPublicKeyPem: app.appPublicKeyPem,
    alipayPublicKeyPem: k.material.alipayPublicKeyPem,
    ...(app.mode === 'cert' && app.appCertPem
      ? { appCertPem: app.appCertPem, appCertSn: app.appCertSn, alipayPublicCertPem: k.material.alipayCertPem, alipayCertSn: k.alipayCertSn, alipayRootCertPem: k.material.rootBundlePem, alipayRootCertSn: k.rootCertSn }
      : {}),
  };
}
