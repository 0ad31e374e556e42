import { ACP_VERSION, SIGN_METHOD_RSA, acpSignString, digestSign, digestVerify, parseAcpTime, spSignString } from '../sign.ts';
import { refuse, respMsg, type SimContext } from './context.ts';
import type { MerchantRecord, ProviderRecord } from './types.ts';

/**
 * Wire rules the simulator enforces and follows (protocols.md §D.2–D.3, §D.6.2): request
 * verification as strict as the real gateways, and signing of its own answers and notifications.
 */

const ORDER_ID = /^[0-9A-Za-z]{8,40}$/;

export function need(params: Record<string, string>, ...names: string[]): void {
  for (const n of names) if (!params[n]) throw refuse('13', `${respMsg('13')} ${n}`);
}

export function format(ok: boolean, what: string): void {
  if (!ok) throw refuse('10', `${respMsg('10')} ${what}`);
}

export function checkOrderId(value: string | undefined, field = 'orderId'): string {
  format(value !== undefined && ORDER_ID.test(value), `${field} 须为8-40位字母数字`);
  return value as string;
}

/** fen, a positive integer without leading zeros or decimals (§D.2). */
export function checkAmount(value: string | undefined, field = 'txnAmt'): number {
  format(value !== undefined && /^[1-9][0-9]{0,11}$/.test(value), `${field} 以分为单位的正整数`);
  return Number(value);
}

export function checkUrl(value: string | undefined, field: string): string {
  let ok = false;
  try {
    const u = new URL(value ?? '');
    ok = u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    ok = false;
  }
  format(ok, `${field} 须为 http(s) 地址`);
  return value as string;
}

/**
 * Every ACP request: common fields, a registered merchant, its certificate serial, and the
 * signature over the sorted string of every non-blank field but `signature`.
 */
export function verifyAcpRequest(ctx: SimContext, params: Record<string, string>, o: { transaction: boolean } = { transaction: true }): MerchantRecord {
  need(params, 'version', 'encoding', 'signMethod', 'accessType', 'merId', 'txnTime');
  if (o.transaction) need(params, 'txnType', 'txnSubType', 'bizType');
  format(params.version === ACP_VERSION, `version 仅支持 ${ACP_VERSION}`);
  format((params.encoding ?? '').toUpperCase() === 'UTF-8', 'encoding 仅支持 UTF-8');
  format(params.signMethod === SIGN_METHOD_RSA, 'signMethod 仅支持 01 (RSA 证书签名)');
  format(parseAcpTime(params.txnTime as string) !== undefined, 'txnTime 格式 yyyyMMddHHmmss');
  const merchant = ctx.state.merchants.get(params.merId as string);
  if (!merchant) throw refuse('31', `${respMsg('31')} 商户 ${params.merId} 未开通`);
  if (params.accessType !== '0') throw refuse('32', `${respMsg('32')} accessType 仅支持 0 (商户直连)`);
  need(params, 'certId', 'signature');
  if (params.certId !== merchant.certId) throw refuse('11', `${respMsg('11')} certId ${params.certId} 不是该商户的签名证书`);
  const key = ctx.state.publicKey('m', merchant.merId, merchant.certificatePem);
  if (!digestVerify(acpSignString(params, true), params.signature as string, key)) throw refuse('11', respMsg('11'));
  return merchant;
}

/**
 * Signs an answer or notification as UnionPay: `signPubKeyCert` carries the signing certificate
 * and is itself part of the signed string. Fault switches bend it at send time.
 */
export function signAsUnionPay(ctx: SimContext, fields: Record<string, string>, opts: { tamper?: boolean } = {}): Record<string, string> {
  const foreign = ctx.faults.foreignSignCert;
  const out: Record<string, string> = { version: ACP_VERSION, encoding: 'UTF-8', signMethod: SIGN_METHOD_RSA, ...fields, signPubKeyCert: foreign ? ctx.keys.material.foreignSignCertPem : ctx.keys.material.signCertPem };
  const content = acpSignString(out, false);
  out.signature = digestSign(opts.tamper ? `${content}&forged=1` : content, foreign ? ctx.keys.foreignSignKey : ctx.keys.signKey);
  return out;
}

/** The service-provider gateway: a registered provider acting for one of its merchants, signed with the provider's certificate. */
export function verifySpRequest(ctx: SimContext, body: Record<string, unknown>): { provider: ProviderRecord; merId: string } {
  const serProvId = typeof body.serProvId === 'string' ? body.serProvId : '';
  const merId = typeof body.merId === 'string' ? body.merId : '';
  if (!serProvId || !merId) throw refuse('13', `${respMsg('13')} serProvId/merId`);
  const provider = ctx.state.providers.get(serProvId);
  if (!provider) throw refuse('31', `${respMsg('31')} 服务商 ${serProvId} 未开通`);
  if (!provider.merIds.includes(merId)) throw refuse('32', `${respMsg('32')} 商户 ${merId} 不属于服务商 ${serProvId}`);
  const signature = typeof body.signature === 'string' ? body.signature : '';
  if (!signature) throw refuse('13', `${respMsg('13')} signature`);
  if (!digestVerify(spSignString(body), signature, ctx.state.publicKey('p', provider.serProvId, provider.certificatePem))) throw refuse('11', respMsg('11'));
  return { provider, merId };
}

/** Signs a service-provider gateway answer or notification with the gateway key. */
export function signAsGateway(ctx: SimContext, body: Record<string, unknown>, opts: { tamper?: boolean } = {}): Record<string, unknown> {
  const content = spSignString(body);
  return { ...body, signature: digestSign(opts.tamper ? `${content}&forged=1` : content, ctx.keys.spKey) };
}
