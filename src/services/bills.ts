import type { Db } from '../db/db.ts';
import { ApiError } from '../domain/errors.ts';
import { ChannelError, type Logger, type PayChannel } from '../channels/types.ts';
import type { TenancyService } from './tenancy.ts';

/**
 * Fetches a channel's daily bill for an app and stores it, replacing an earlier copy of the same
 * day in one transaction (bills are re-issued; the latest is the truth). Reconciliation against
 * our orders reads channel_bill_rows.
 */
export class BillService {
  constructor(private readonly deps: { db: Db; tenancy: TenancyService; channels: ReadonlyMap<string, PayChannel>; log: Logger }) {}

  async fetch(appId: string, ifCode: string, billDate: string): Promise<{ billDate: string; rows: number; summary: Record<string, string>; hash?: string }> {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(billDate)) throw new ApiError('PARAM_INVALID', 'date must be yyyy-MM-dd');
    const channel = this.deps.channels.get(ifCode);
    if (!channel?.downloadBill) throw new ApiError('PARAM_INVALID', `channel ${ifCode} offers no bill download`);
    const config = await this.deps.tenancy.getChannelConfig(appId, ifCode);
    if (!config) throw new ApiError('NOT_FOUND', `app ${appId} has no ${ifCode} configuration`);
    let bill;
    try {
      bill = await channel.downloadBill({ config, log: this.deps.log }, billDate);
    } catch (err) {
      if (!(err instanceof ChannelError)) throw err;
      throw new ApiError(err.kind === 'rejected' ? 'CHANNEL_REJECTED' : 'CHANNEL_UNAVAILABLE', `${err.channelCode ?? err.kind}: ${err.channelMessage ?? err.message}`);
    }
    await this.deps.db.transaction(async (tx) => {
      await tx.query(`DELETE FROM channel_bills WHERE app_id = $1 AND if_code = $2 AND bill_date = $3`, [appId, ifCode, billDate]);
      const r = await tx.query<{ id: number }>(`INSERT INTO channel_bills (app_id, if_code, bill_date, hash, row_count, summary) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, [appId, ifCode, billDate, bill.hash ?? null, bill.rows.length, JSON.stringify(bill.summary)]);
      const id = (r.rows[0] as { id: number }).id;
      let line = 0;
      for (const row of bill.rows) {
        line += 1;
        await tx.query(
          `INSERT INTO channel_bill_rows (bill_id, line_no, kind, trade_time, out_trade_no, channel_order_no, out_refund_no, amount, fee, raw) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
          [id, line, row.kind, row.time, row.outTradeNo, row.channelOrderNo, row.outRefundNo ?? null, row.amount, row.fee, JSON.stringify(row.raw)],
        );
      }
    });
    return { billDate, rows: bill.rows.length, summary: bill.summary, ...(bill.hash ? { hash: bill.hash } : {}) };
  }
}
