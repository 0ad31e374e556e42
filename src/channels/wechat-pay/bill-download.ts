import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { request } from 'undici';
import { newNonce } from '../../domain/ids.ts';
import { ChannelError } from '../types.ts';
import type { WechatPayClient } from './client.ts';
import { type ParsedBill, parseBill } from './bill.ts';
import { type FundAccountType, type FundFlowBill, parseFundFlowBill } from './fund-flow.ts';

/**
 * v3 trade bill: ask for the link (a signed, verified call), download the file (signed request,
 * unsigned gzip answer — the documented exception), check its SHA1 against the verified answer
 * (over the decompressed bytes, as wechatpay-java does), then parse.
 */
export async function downloadTradeBill(client: WechatPayClient, billDate: string, billType: 'ALL' | 'SUCCESS' | 'REFUND' = 'ALL', subMchId?: string): Promise<ParsedBill & { hash: string }> {
  // A provider asks for one sub-merchant's bill with sub_mchid (protocols.md §A.2).
  const q = new URLSearchParams({ bill_date: billDate, ...(subMchId !== undefined && { sub_mchid: subMchId }), bill_type: billType, tar_type: 'GZIP' });
  const file = await downloadBillFile(client, `/v3/bill/tradebill?${q}`);
  return { ...parseBill(file.text), hash: file.hash };
}

/** v3 资金账单 of one account (BASIC 基本账户, OPERATION 运营账户, FEES 手续费账户), same link + SHA1 protocol. */
export async function downloadFundFlowBill(client: WechatPayClient, billDate: string, accountType: FundAccountType): Promise<FundFlowBill & { hash: string }> {
  const q = new URLSearchParams({ bill_date: billDate, account_type: accountType, tar_type: 'GZIP' });
  const file = await downloadBillFile(client, `/v3/bill/fundflowbill?${q}`);
  return { ...parseFundFlowBill(file.text), hash: file.hash };
}

async function downloadBillFile(client: WechatPayClient, pathAndQuery: string): Promise<{ text: string; hash: string }> {
  const answer = (await client.call('GET', pathAndQuery)).data as { hash_type?: string; hash_value?: string; download_url?: string };
  if (answer.hash_type !== 'SHA1' || !answer.hash_value || !answer.download_url) throw new ChannelError('protocol', `wxpay ${pathAndQuery.split('?')[0]} answer lacks hash or download_url`);
  const url = new URL(answer.download_url);
  const auth = client.authorize('GET', `${url.pathname}${url.search}`, '', String(Math.floor(Date.now() / 1000)), newNonce(32));
  // Raw bytes (gzip): the shared executor returns text, which would corrupt them.
  const res = await request(url, { method: 'GET', headers: { authorization: auth, accept: '*/*', 'user-agent': 'Polypay/1.0' }, headersTimeout: 30_000, bodyTimeout: 30_000 });
  const body = Buffer.from(await res.body.arrayBuffer());
  if (res.statusCode !== 200) throw new ChannelError(res.statusCode >= 500 ? 'system' : 'rejected', `wxpay bill download answered HTTP ${res.statusCode}`, { httpStatus: res.statusCode });
  const plain = body[0] === 0x1f && body[1] === 0x8b ? gunzipSync(body) : body;
  const hash = createHash('sha1').update(plain).digest('hex');
  if (hash !== answer.hash_value.toLowerCase()) throw new ChannelError('bad_signature', 'wxpay bill file does not match the SHA1 of the signed answer');
  return { text: plain.toString('utf8'), hash };
}
