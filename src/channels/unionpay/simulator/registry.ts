import { X509Certificate } from 'node:crypto';
import { decimalSerial } from '../certs.ts';
import { AcpError, digits, type SimContext } from './context.ts';
import { issueSigningPfx } from './keys.ts';
import type { MerchantCredentials, MerchantRecord, ProviderCredentials, ProviderRecord } from './types.ts';

/**
 * Sandbox onboarding: merchants (ACP merId + signing certificate) and service providers
 * (serProvId + certificate + their sub-merchants). Idempotent per id. A generated certificate is
 * returned once as a PFX with its password; the simulator keeps only the certificate. Passing
 * `certificatePem` keeps an existing identity (a restarted sandbox, or your own key).
 */

export interface RegisterMerchantInput {
  merId?: string;
  certificatePem?: string;
  /** Issue a new certificate even if the merchant has one (rotation). */
  renew?: boolean;
}

export interface RegisterProviderInput {
  serProvId?: string;
  merId?: string;
  certificatePem?: string;
  renew?: boolean;
}

const bad = (msg: string): AcpError => new AcpError('10', msg);

function readCert(pem: unknown): { pem: string; certId: string } {
  if (typeof pem !== 'string') throw bad('certificatePem must be a string');
  try {
    const cert = new X509Certificate(pem);
    if (cert.publicKey.asymmetricKeyType !== 'rsa') throw new Error('not RSA');
    return { pem, certId: decimalSerial(cert) };
  } catch {
    throw bad('certificatePem is not a readable RSA certificate');
  }
}

function urls(ctx: SimContext): { acpBaseUrl: string; fileBaseUrl: string; userAuthUrl: string; spBaseUrl: string } {
  return { acpBaseUrl: ctx.baseUrl, fileBaseUrl: `${ctx.baseUrl}/filedownload/`, userAuthUrl: `${ctx.baseUrl}/qrcGtwWeb-web/api/userAuth`, spBaseUrl: `${ctx.baseUrl}/partner` };
}

async function certificateFor(ctx: SimContext, owner: string, input: { certificatePem?: string; renew?: boolean }, existing: { certificatePem: string; certId: string } | undefined) {
  if (input.certificatePem !== undefined) return { ...readCert(input.certificatePem), pfx: undefined };
  if (existing && !input.renew) return { pem: existing.certificatePem, certId: existing.certId, pfx: undefined };
  const issued = await issueSigningPfx(ctx.keys.material, owner);
  return { pem: issued.certificatePem, certId: issued.certId, pfx: issued };
}

export async function registerMerchant(ctx: SimContext, input: RegisterMerchantInput = {}): Promise<MerchantCredentials> {
  if (input.merId !== undefined && (typeof input.merId !== 'string' || !/^\d{15}$/.test(input.merId))) throw bad('merId must be 15 digits');
  let merId = input.merId;
  if (merId === undefined) do merId = `777${digits(12)}`; while (ctx.state.merchants.has(merId));
  const existing = ctx.state.merchants.get(merId);
  const cert = await certificateFor(ctx, merId, input, existing);
  const record: MerchantRecord = { merId, certificatePem: cert.pem, certId: cert.certId, createdAt: existing?.createdAt ?? ctx.now() };
  ctx.state.putMerchant(record);
  ctx.log.info({ merId, certId: cert.certId, updated: Boolean(existing) }, 'sandbox merchant registered');
  return { ...merchantView(ctx, record), ...(cert.pfx ? { pfxBase64: cert.pfx.pfxBase64, pfxPassword: cert.pfx.password } : {}) };
}

export function merchantView(ctx: SimContext, m: MerchantRecord): MerchantCredentials {
  const u = urls(ctx);
  return { merId: m.merId, certId: m.certId, certificatePem: m.certificatePem, middleCertPem: ctx.keys.material.middleCertPem, rootCertPem: ctx.keys.material.rootCertPem, acpBaseUrl: u.acpBaseUrl, fileBaseUrl: u.fileBaseUrl, userAuthUrl: u.userAuthUrl };
}

export async function registerProvider(ctx: SimContext, input: RegisterProviderInput = {}): Promise<ProviderCredentials> {
  if (input.serProvId !== undefined && (typeof input.serProvId !== 'string' || !/^[0-9A-Za-z]{4,32}$/.test(input.serProvId))) throw bad('serProvId must be 4–32 letters or digits');
  if (input.merId !== undefined && (typeof input.merId !== 'string' || !/^\d{15}$/.test(input.merId))) throw bad('merId must be 15 digits');
  let serProvId = input.serProvId;
  if (serProvId === undefined) do serProvId = `SP${digits(10)}`; while (ctx.state.providers.has(serProvId));
  const existing = ctx.state.providers.get(serProvId);
  const cert = await certificateFor(ctx, serProvId, input, existing);
  const merIds = new Set(existing?.merIds ?? []);
  merIds.add(input.merId ?? (existing?.merIds[0] ?? `777${digits(12)}`));
  const record: ProviderRecord = { serProvId, certificatePem: cert.pem, certId: cert.certId, merIds: [...merIds], createdAt: existing?.createdAt ?? ctx.now() };
  ctx.state.putProvider(record);
  ctx.log.info({ serProvId, merIds: record.merIds }, 'sandbox service provider registered');
  return { ...providerView(ctx, record), ...(cert.pfx ? { pfxBase64: cert.pfx.pfxBase64, pfxPassword: cert.pfx.password } : {}) };
}

export function providerView(ctx: SimContext, p: ProviderRecord): ProviderCredentials {
  const u = urls(ctx);
  return { serProvId: p.serProvId, merIds: p.merIds, certId: p.certId, certificatePem: p.certificatePem, ysfPublicKey: ctx.keys.spPublicKeyBase64, spBaseUrl: u.spBaseUrl, userAuthUrl: u.userAuthUrl };
}
