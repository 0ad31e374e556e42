import type { Db } from '../db/db.ts';
import { ChannelError, type Logger, type PayChannel } from '../channels/types.ts';
import { PayState } from '../domain/order-states.ts';
import type { WayCode } from '../domain/pay-way.ts';
import { type PayOrderRow, getPayOrder, lockPayOrder, recordEvent } from '../services/order-store.ts';
import { type PayOrderService, toChannelInput } from '../services/pay-orders.ts';
import type { TenancyService } from '../services/tenancy.ts';
import type { PassageService } from '../services/passages.ts';
import { RouteCursor } from '../services/router.ts';
import { feeAmount } from '../domain/routing.ts';
import { CASHIER_IF_CODE } from './channel.ts';
import { PAYER_APPS, type PayerApp, payerAppById } from './payer-apps.ts';
import type { CashierTokens } from './token.ts';

export interface CashierPayment {
  payerApp: string;
  wayCode: string;
  ifCode: string;
  payer: string | null;
  payDataType: string | null;
  payData: string | null;
}

export interface CashierOrder {
  token: string;
  order: PayOrderRow;
  merchantName: string;
  payment: CashierPayment | null;
}

/** A reason the cashier cannot go on, shown to the payer as a page (never a stack trace). */
export class CashierRefusal extends Error {
  constructor(
    readonly reason: 'invalid' | 'expired' | 'not-cashier' | 'no-way' | 'other-app' | 'other-payer' | 'retry' | 'channel' | 'closed',
    readonly status: number,
    detail = '',
  ) {
    super(detail || reason);
  }
}

export interface CashierDeps {
  db: Db;
  tenancy: TenancyService;
  passages: PassageService;
  channels: ReadonlyMap<string, PayChannel>;
  payOrders: PayOrderService;
  tokens: CashierTokens;
  log: Logger;
  publicUrl: string;
  querySchedule: readonly number[];
}

const OPEN: ReadonlySet<number> = new Set([PayState.INIT, PayState.PAYING]);
/** Too close to expiry, a new channel order could outlive ours: refuse and let the payer see it expire. */
const MIN_REMAINING_MS = 30_000;
const PAYMENT_COLUMNS = `payer_app AS "payerApp", way_code AS "wayCode", if_code AS "ifCode", payer, pay_data_type AS "payDataType", pay_data AS "payData"`;

/**
 * The aggregated cashier (QR_CASHIER): turns a cashier order into a real channel order for the
 * app the payer opened it in. The order keeps its id, amount and merchant; its way and channel
 * become the real ones (WX_JSAPI at wxpay, ALI_WAP at alipay …) in one transaction with a
 * `cashier` timeline event, after which callbacks, queries, expiry and refunds follow the real
 * channel. Once resolved, an order stays with that app and payer: switching apps would leave a
 * live order at the first channel that the payer could still pay.
 */
export class CashierService {
  readonly #d: CashierDeps;
  constructor(deps: CashierDeps) {
    this.#d = deps;
  }

  async open(token: string): Promise<CashierOrder> {
    const claims = this.#d.tokens.verify(token);
    if (!claims) throw new CashierRefusal('invalid', 404);
    const order = await getPayOrder(this.#d.db, claims.payOrderId);
    // The expiry in the token must be the order's: a token is bound to one order and its life.
    if (!order || Math.floor(order.expired_at.getTime() / 1000) !== Math.floor(claims.expiresAt.getTime() / 1000)) throw new CashierRefusal('invalid', 404);
    const payment = await this.#payment(this.#d.db, order.pay_order_id);
    if (order.way_code !== 'QR_CASHIER' && !payment) throw new CashierRefusal('not-cashier', 404);
    const merchant = await this.#d.db.query<{ name: string }>(`SELECT name FROM merchants WHERE mch_no = $1`, [order.mch_no]);
    const config = await this.#d.tenancy.getChannelConfig(order.app_id, CASHIER_IF_CODE);
    return { token, order, merchantName: config?.params.displayName || merchant.rows[0]?.name || order.mch_no, payment };
  }

  /**
   * The payer apps this order can be paid with: the merchant app has a usable passage (routing
   * rules, an installed and configured channel) for one of their ways. `ifCode` is the channel
   * routing would pick now; the payment itself is routed again when the payer chooses.
   */
  async availableApps(order: PayOrderRow): Promise<Array<{ app: PayerApp; way: WayCode; ifCode: string }>> {
    const d = this.#d;
    const out = [];
    for (const app of PAYER_APPS) {
      for (const way of app.ways) {
        const plan = await d.passages.plan(order.app_id, way, order.amount, order.pay_order_id);
        let ifCode: string | undefined;
        for (const p of plan.candidates) {
          if (d.channels.has(p.ifCode) && (await d.tenancy.getChannelConfig(order.app_id, p.ifCode))) {
            ifCode = p.ifCode;
            break;
          }
        }
        if (ifCode) {
          out.push({ app, way, ifCode });
          break;
        }
      }
    }
    return out;
  }

  /**
   * Creates (or finds) the channel order for `app` and returns the payer-side data. `payer` is the
   * identity the app's OAuth gave (WeChat openid), or null.
   */
  async begin(c: CashierOrder, appId: string, payer: string | null): Promise<CashierPayment> {
    const d = this.#d;
    const app = payerAppById(appId);
    if (!app) throw new CashierRefusal('no-way', 400);
    if (!OPEN.has(c.order.state)) throw new CashierRefusal('closed', 409);
    if (c.order.expired_at.getTime() - Date.now() < MIN_REMAINING_MS) throw new CashierRefusal('expired', 410);
    const existing = await this.#payment(d.db, c.order.pay_order_id);
    // Routed like a unified order of the real way (passages, limits, circuit breakers, fee snapshot);
    // the cashier tries the first usable passage only: a payer waits at the page, and can reload.
    const route = existing ? null : await this.#route(c.order, app);
    const claimed = await d.db.transaction(async (tx) => {
      const order = await lockPayOrder(tx, c.order.pay_order_id);
      if (!order || !OPEN.has(order.state)) throw new CashierRefusal('closed', 409);
      const found = await this.#payment(tx, order.pay_order_id);
      if (found) return { order, payment: found, fresh: false };
      if (order.if_code !== CASHIER_IF_CODE) throw new CashierRefusal('not-cashier', 409);
      if (!route) throw new CashierRefusal('no-way', 400);
      const { passage, decision, way } = route;
      const r = await tx.query<PayOrderRow>(
        `UPDATE pay_orders SET if_code = $2, way_code = $3, channel_user = $4, passage_id = $5, fee_rate_ppm = $6, fee_amount = $7, updated_at = now() WHERE pay_order_id = $1 RETURNING *`,
        [order.pay_order_id, passage.ifCode, way, payer, passage.passageId, passage.feeRatePpm, feeAmount(order.amount, passage.feeRatePpm)],
      );
      const payment = (await tx.query<CashierPayment>(`INSERT INTO cashier_payments (pay_order_id, payer_app, way_code, if_code, payer) VALUES ($1, $2, $3, $4, $5) RETURNING ${PAYMENT_COLUMNS}`, [order.pay_order_id, app.id, way, passage.ifCode, payer])).rows[0] as CashierPayment;
      await recordEvent(tx, { orderType: 'pay', orderId: order.pay_order_id, kind: 'cashier', source: 'api', detail: { payerApp: app.id, wayCode: way, ifCode: passage.ifCode, route: decision } });
      return { order: r.rows[0] as PayOrderRow, payment, fresh: true };
    }).catch(async (err: unknown) => {
      await route?.cursor.release();
      throw err;
    });
    if (!claimed.fresh) await route?.cursor.release(); // another request resolved it first
    const { order, payment } = claimed;
    if (payment.payerApp !== app.id) throw new CashierRefusal('other-app', 409, payment.payerApp);
    if (payment.payer && payer && payment.payer !== payer) throw new CashierRefusal('other-payer', 409);
    if (payment.payData) return payment;
    return this.#createAtChannel(order, payment);
  }

  /** The first usable passage of the app's first enabled way for this payer app, its daily amount reserved. */
  async #route(order: PayOrderRow, app: PayerApp) {
    const d = this.#d;
    for (const way of app.ways) {
      const cursor = new RouteCursor({ passages: d.passages, tenancy: d.tenancy, channels: d.channels }, order.app_id, way, order.amount, order.pay_order_id);
      const taken = await cursor.next();
      if (taken) return { ...taken, way, cursor };
    }
    return null;
  }

  async #createAtChannel(order: PayOrderRow, payment: CashierPayment): Promise<CashierPayment> {
    const d = this.#d;
    const channel = d.channels.get(payment.ifCode);
    if (!channel) throw new CashierRefusal('no-way', 400);
    // The merchant's channelExtra was meant for the cashier (e.g. payDataType codeImgUrl); the real way gets only the payer.
    const key = payerAppById(payment.payerApp)?.payerKey;
    const input = { ...toChannelInput(order, d.publicUrl), extra: payment.payer && key ? { [key]: payment.payer } : {} };
    try {
      const r = await channel.createPayment(await d.payOrders.channelContext(order), input);
      await d.db.transaction(async (tx) => {
        await tx.query(`UPDATE cashier_payments SET pay_data_type = $2, pay_data = $3, updated_at = now() WHERE pay_order_id = $1`, [order.pay_order_id, r.payDataType, r.payData]);
        await tx.query(`UPDATE pay_orders SET channel_order_no = COALESCE($2, channel_order_no), next_check_at = now() + make_interval(secs => $3), updated_at = now() WHERE pay_order_id = $1 AND state IN (0, 1)`, [order.pay_order_id, r.channelOrderNo ?? null, d.querySchedule[0] ?? 10]);
        await recordEvent(tx, { orderType: 'pay', orderId: order.pay_order_id, kind: 'channel', source: 'api', detail: { op: 'create', via: 'cashier', wayCode: payment.wayCode, status: r.status, payDataType: r.payDataType } });
      });
      if (r.status !== 'WAITING') await d.payOrders.syncWithChannel((await getPayOrder(d.db, order.pay_order_id)) ?? order, 'query');
      return { ...payment, payDataType: r.payDataType, payData: r.payData };
    } catch (err) {
      if (!(err instanceof ChannelError)) throw err;
      const unknown = err.kind === 'timeout' || err.kind === 'system' || err.kind === 'bad_signature' || err.kind === 'protocol' || err.kind === 'mismatch';
      d.log.warn({ payOrderId: order.pay_order_id, kind: err.kind, msg: err.message }, 'cashier channel order failed');
      await recordEvent(d.db, { orderType: 'pay', orderId: order.pay_order_id, kind: 'channel', source: 'api', detail: { op: 'create', via: 'cashier', error: err.kind, errCode: err.channelCode, errMsg: err.channelMessage ?? err.message } });
      if (unknown) {
        await d.db.query(`UPDATE pay_orders SET next_check_at = now() WHERE pay_order_id = $1 AND state IN (0, 1)`, [order.pay_order_id]);
        throw new CashierRefusal('retry', 503);
      }
      throw new CashierRefusal('channel', 502, err.channelMessage ?? err.kind);
    }
  }

  async #payment(q: { query: Db['query'] }, payOrderId: string): Promise<CashierPayment | null> {
    const r = await q.query<CashierPayment>(`SELECT ${PAYMENT_COLUMNS} FROM cashier_payments WHERE pay_order_id = $1`, [payOrderId]);
    return r.rows[0] ?? null;
  }
}
