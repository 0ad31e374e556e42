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

  /** A fund-flow bill (资金账单) of one account for one day, stored like trade bills (a new fetch replaces the day's copy). */
  async fetchFundFlow(appId: string, ifCode: string, billDate: string, accountType: string): Promise<{ billDate: string; accountType: string; rows: number; summary: Record<string, string>; hash?: string }> {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(billDate)) throw new ApiError('PARAM_INVALID', 'date must be yyyy-MM-dd');
    if (!/^[A-Z_]{1,32}$/.test(accountType)) throw new ApiError('PARAM_INVALID', 'accountType must be an account name such as BASIC');
    const channel = this.deps.channels.get(ifCode);
    if (!channel?.downloadFundFlowBill) throw new ApiError('PARAM_INVALID', `channel ${ifCode} offers no fund-flow bill`);
    const config = await this.deps.tenancy.getChannelConfig(appId, ifCode);
    if (!config) throw new ApiError('NOT_FOUND', `app ${appId} has no ${ifCode} configuration`);
    let bill;
    try {
      bill = await channel.downloadFundFlowBill({ config, log: this.deps.log }, billDate, accountType);
    } catch (err) {
      if (!(err instanceof ChannelError)) throw err;
      throw new ApiError(err.kind === 'rejected' || err.kind === 'misconfigured' ? 'CHANNEL_REJECTED' : 'CHANNEL_UNAVAILABLE', `${err.channelCode ?? err.kind}: ${err.channelMessage ?? err.message}`);
    }
    await this.deps.db.transaction(async (tx) => {
      await tx.query(`DELETE FROM channel_fund_flows WHERE app_id = $1 AND if_code = $2 AND bill_date = $3 AND account_type = $4`, [appId, ifCode, billDate, accountType]);
      const r = await tx.query<{ id: number }>(
        `INSERT INTO channel_fund_flows (app_id, if_code, bill_date, account_type, hash, row_count, summary) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
        [appId, ifCode, billDate, accountType, bill.hash ?? null, bill.rows.length, JSON.stringify(bill.summary)],
      );
      const id = (r.rows[0] as { id: number }).id;
      let line = 0;
      for (const row of bill.rows) {
        line += 1;
        await tx.query(
          `INSERT INTO channel_fund_flow_rows (flow_id, line_no, entry_time, channel_order_no, flow_no, business_name, business_type, direction, amount, balance, raw) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
          [id, line, row.time, row.channelOrderNo, row.flowNo, row.businessName, row.businessType, row.direction, row.amount, row.balance, JSON.stringify(row.raw)],
        );
      }
    });
    return { billDate, accountType, rows: bill.rows.length, summary: bill.summary, ...(bill.hash ? { hash: bill.hash } : {}) };
  }
}
