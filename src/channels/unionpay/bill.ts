import { inflateSync } from 'node:zlib';
import { unzipSync } from 'fflate';
import iconv from 'iconv-lite';
import { ChannelError, type ChannelBill, type ChannelBillRow } from '../types.ts';
import { parseAcpTime } from './sign.ts';

/**
 * The 全渠道 reconciliation file (对账文件, txnType 76, fileType 00; protocols.md §D.2). The
 * answer's fileContent is base64 of a DEFLATE (zlib) stream (the SDK's deCodeFileContent); inside
 * is a zip whose `…ZM_<merId>` member lists the day's transactions as fixed-width lines, fields
 * separated by one space, GBK. Widths are the ones every public SDK sample parses the ZM file
 * with (parseZMFile); field names after the UnionPay file interface as those samples quote it.
 */

export const ZM_FIELDS: ReadonlyArray<readonly [name: string, width: number]> = [
  ['tradeCode', 3], ['acqInsCode', 11], ['sendInsCode', 11], ['traceNo', 6], ['txnTime', 10], ['payCardNo', 19], ['txnAmt', 12],
  ['merCatCode', 4], ['termType', 2], ['queryId', 21], ['payType', 2], ['orderId', 32], ['payCardType', 2], ['origTraceNo', 6],
  ['origTxnTime', 10], ['merFee', 13], ['settleAmt', 13], ['payMethod', 4], ['groupMerId', 15], ['txnType', 2], ['txnSubType', 2],
  ['bizType', 6], ['accType', 2], ['billType', 4], ['billNo', 32], ['interactMode', 1], ['origQryId', 21], ['merId', 15],
  ['splitType', 1], ['subMerId', 15], ['subMerAbbr', 32], ['subMerSplitAmt', 13], ['settleNetAmt', 13], ['termId', 8],
  ['merReserved', 32], ['discountAmt', 13], ['invoiceAmt', 13], ['installmentFee', 12], ['installmentNum', 2], ['tradeMedia', 1],
  ['reserved1', 32], ['reserved2', 98],
];

/**
 * Trade codes. S22 (consume) and S30 (refund/退货) are what SDK samples match on; S31 for a
 * consume undo is an ASSUMPTION (docs/channels/unionpay.md, A8).
 */
export const TRADE_CODE = { consume: 'S22', refund: 'S30', undo: 'S31' } as const;

function protocol(message: string): ChannelError {
  return new ChannelError('protocol', `unionpay bill: ${message}`);
}

/** fileContent → the ZM member's bytes (and its name). */
export function unpackFileContent(fileContent: string): { name: string; bytes: Uint8Array } {
  let inflated: Buffer;
  try {
    inflated = inflateSync(Buffer.from(fileContent, 'base64'));
  } catch {
    throw protocol('fileContent is not base64 DEFLATE data');
  }
  let members: Record<string, Uint8Array>;
  try {
    members = unzipSync(new Uint8Array(inflated));
  } catch {
    throw protocol('the file is not a zip archive');
  }
  const name = Object.keys(members).find((n) => /ZM_\d+$/.test(n.split('/').pop() ?? ''));
  if (!name) throw protocol(`no ZM file in the archive (members: ${Object.keys(members).join(', ') || 'none'})`);
  return { name, bytes: members[name] as Uint8Array };
}

/** One ZM line (bytes, since widths count GBK bytes) into named, trimmed fields. */
export function parseZmLine(line: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  for (const [name, width] of ZM_FIELDS) {
    if (at >= line.length) break;
    out[name] = iconv.decode(Buffer.from(line.subarray(at, at + width)), 'gbk').trim();
    at += width + 1; // one separator byte
  }
  return out;
}

function lines(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 0x0a) {
      let end = i;
      if (end > start && bytes[end - 1] === 0x0d) end -= 1;
      if (end > start) out.push(bytes.subarray(start, end));
      start = i + 1;
    }
  }
  return out;
}

function fen(value: string, field: string): number {
  // Amounts are digits in fen; the fee carries a C/D (credit/debit) mark (ASSUMPTION A8).
  const m = /^([CD])?(\d{1,13})$/.exec(value);
  if (!m) throw protocol(`${field} "${value}" is not an amount in fen`);
  return Number(m[2]);
}

/** ZM lines → the gateway's bill rows. `year` completes the MMDDhhmmss transmission times. */
export function parseZmFile(bytes: Uint8Array, year: string): ChannelBill {
  const rows: ChannelBillRow[] = [];
  let paid = 0;
  let refunded = 0;
  for (const raw of lines(bytes)) {
    const f = parseZmLine(raw);
    const code = f.tradeCode ?? '';
    if (code !== TRADE_CODE.consume && code !== TRADE_CODE.refund && code !== TRADE_CODE.undo) continue;
    const amount = fen(f.txnAmt ?? '', 'txnAmt');
    const ms = parseAcpTime(`${year}${f.txnTime ?? ''}`);
    const kind = code === TRADE_CODE.consume ? 'pay' : 'refund';
    if (kind === 'pay') paid += amount;
    else refunded += amount;
    rows.push({
      kind,
      time: ms === undefined ? '' : new Date(ms).toISOString(),
      outTradeNo: kind === 'pay' ? (f.orderId ?? '') : '',
      channelOrderNo: kind === 'pay' ? (f.queryId ?? '') : (f.origQryId ?? ''),
      ...(kind === 'refund' ? { outRefundNo: f.orderId ?? '' } : {}),
      amount,
      fee: f.merFee ? String(fen(f.merFee, 'merFee')) : '',
      raw: f,
    });
  }
  // A refund line names the original by its queryId only; the consume line of the same file (if any) gives its orderId.
  const byQueryId = new Map(rows.filter((r) => r.kind === 'pay').map((r) => [r.channelOrderNo, r.outTradeNo]));
  for (const r of rows) if (r.kind === 'refund') r.outTradeNo = byQueryId.get(r.channelOrderNo) ?? '';
  return { rows, summary: { rows: String(rows.length), paid: String(paid), refunded: String(refunded) } };
}
