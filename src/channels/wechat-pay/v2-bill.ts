import { gunzipSync } from 'node:zlib';
import { request } from 'undici';
import { ChannelError } from '../types.ts';
import { type ParsedBill, parseBill } from './bill.ts';
import type { WechatPayV2Client } from './v2-client.ts';

/**
 * v2 下载对账单 (protocols.md §B.6): a signed XML request whose answer is the bill file itself (GZIP
 * here), or an XML document with return_code FAIL ("No Bill Exist" for a day without trades). v2
 * gives no digest: the file is trusted as the answer of an authenticated TLS exchange.
 */
export async function downloadV2Bill(client: WechatPayV2Client, billDate: string, billType: 'ALL' | 'SUCCESS' | 'REFUND' = 'ALL'): Promise<ParsedBill> {
  const path = '/pay/downloadbill';
  const body = client.requestXml({ appid: client.config.appId, bill_date: billDate.replaceAll('-', ''), bill_type: billType, tar_type: 'GZIP' });
  const dispatcher = client.dispatcher(path);
  // Raw bytes (gzip): the shared executor returns text, which would corrupt them.
  const res = await request(`${client.config.baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'text/xml; charset=utf-8' },
    body,
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
    ...(dispatcher && { dispatcher }),
  }).catch((err: unknown) => {
    throw new ChannelError('unavailable', `wxpay v2 ${path}: ${(err as Error).message}`, { cause: err });
  });
  const raw = Buffer.from(await res.body.arrayBuffer());
  if (res.statusCode !== 200) throw new ChannelError(res.statusCode >= 500 ? 'system' : 'protocol', `wxpay v2 ${path} → HTTP ${res.statusCode}`, { httpStatus: res.statusCode });
  const plain = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
  const text = plain.toString('utf8');
  if (text.trimStart().startsWith('<xml>')) {
    client.readAnswer(path, text); // throws for return_code FAIL (No Bill Exist, …)
    throw new ChannelError('protocol', `wxpay v2 ${path}: an XML answer where the bill file was expected`);
  }
  return parseBill(text);
}
