import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Db } from '../db/db.ts';
import { ApiError } from '../domain/errors.ts';
import { newOrderId } from '../domain/ids.ts';
import { parseCurrency } from '../domain/money.ts';
import { PayState } from '../domain/order-states.ts';
import { BAR_WAYS, PAYER_KEYS, barWayForCode, concreteWay, isBarCodeOrder, isPayDataType, type WayCode } from '../domain/pay-way.ts';
import { ChannelError, type ChannelContext, type CreatePaymentResult, type Logger, type PayChannel, type PayOrderInput } from '../channels/types.ts';
import type { MerchantApp, TenancyService } from './tenancy.ts';
import type { PassageService } from './passages.ts';
import { RouteCursor, type RouteDecision } from './router.ts';
import { type Passage, feeAmount, isChannelFault, mayFailOver } from '../domain/routing.ts';
import type { NotificationService } from './notifications.ts';
import type { OrderSync } from './order-sync.ts';
import { type PayOrderRow, getPayOrder, setPayNextCheck, transitionPay } from './order-store.ts';

export interface UnifiedOrderRequest {
  mchOrderNo: string;
  wayCode: WayCode;
  amount: number;
  currency: string;
  subject: string;
  body: string;
  clientIp?: string;
  notifyUrl?: string;
  returnUrl?: string;
  expiredTime?: number;
  channelExtra?: string;
  extParam?: string;
  divisionMode?: number;
}

export interface UnifiedOrderResult {
  payOrderId: string;
  mchOrderNo: string;
  orderState: number;
  payDataType?: string;
  payData?: string;
  errCode?: string;
  errMsg?: string;
}

export interface PayOrderDeps {
  db: Db;
  tenancy: TenancyService;
  passages: PassageService;
  channels: ReadonlyMap<string, PayChannel>;
  sync: OrderSync;
  notifications: NotificationService;
  log: Logger;
  publicUrl: string;
  qrKey: Buffer;
  defaultExpireSeconds: number;
  querySchedule: readonly number[];
  barPollSchedule: readonly number[];
  /** Turns channelExtra.sessionToken (a payer identified by WeChat login/OAuth) into the openid. */
  resolveOpenid?: (appId: string, token: string, kind: 'lite' | 'mp') => string;
}

/** Ways whose payer-side data comes from WeChat's JSAPI family and need the payer's openid. */
const NEEDS_OPENID: ReadonlySet<WayCode> = new Set(['WX_JSAPI', 'WX_LITE']);
/** A repeat of an order still in INIT younger than this is "in progress", older is stuck. */
const IN_PROGRESS_MS = 30_000;

/**
 * Creating, querying and closing pay orders. Pattern: record, then call, then finalise
 * (style.md §8) — the INIT row commits before the channel call, no transaction is held across
 * it, and an unknown outcome leaves the order PAYING for the reconciler to settle.
 */
export class PayOrderService {
  readonly #d: PayOrderDeps;
  constructor(deps: PayOrderDeps) {
    this.#d = deps;
  }

  async unifiedOrder(app: MerchantApp, req: UnifiedOrderRequest): Promise<UnifiedOrderResult> {
    const d = this.#d;
    const extra = parseChannelExtra(req.channelExtra);
    const way = resolveWay(req.wayCode, extra, req.returnUrl);
    const currency = parseCurrency(req.currency);
    if (!currency) throw new ApiError('PARAM_INVALID', `unsupported currency "${req.currency}"`);
    let payerOpenid: string | null = typeof extra.openid === 'string' && extra.openid ? extra.openid : null;
    if (NEEDS_OPENID.has(way) && !payerOpenid && typeof extra.sessionToken === 'string' && d.resolveOpenid) {
      payerOpenid = d.resolveOpenid(app.appId, extra.sessionToken, way === 'WX_LITE' ? 'lite' : 'mp');
    }
    if (NEEDS_OPENID.has(way) && !payerOpenid) throw new ApiError('PARAM_INVALID', `channelExtra.openid (or a sessionToken from /api/wx/lite/login or /api/wx/oauth) is required for ${way}`);
    if (extra.payDataType !== undefined && !isPayDataType(extra.payDataType)) throw new ApiError('PARAM_INVALID', `channelExtra.payDataType "${String(extra.payDataType)}" is not one of payurl, form, wxapp, aliapp, ysfapp, codeUrl, codeImgUrl, none`);
    const expireSeconds = req.expiredTime ?? d.defaultExpireSeconds;
    const requestHash = hashRequest({ ...req, currency });

    const payOrderId = newOrderId('P');
    const route = new RouteCursor(d, app.appId, way, req.amount, payOrderId);
    let { passage, decision } = await route.first();
    // One statement inserts the order and its first timeline event: atomic without a BEGIN/COMMIT
    // round trip pair (this is the hottest write of the gateway; see docs/benchmarks.md).
    const r = await d.db.query<PayOrderRow>(
      `WITH o AS (
         INSERT INTO pay_orders (pay_order_id, mch_no, app_id, mch_order_no, if_code, way_code, amount, currency, subject, body, client_ip, notify_url, return_url,
                                 channel_extra, ext_param, division_mode, request_hash, expired_at, next_check_at, channel_user, passage_id, fee_rate_ppm, fee_amount)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, now() + make_interval(secs => $18), now() + interval '60 seconds', $19, $21, $22, $23)
         ON CONFLICT (mch_no, mch_order_no) DO NOTHING RETURNING *),
       e AS (INSERT INTO order_events (order_type, order_id, kind, to_state, source, detail) SELECT 'pay', pay_order_id, 'created', 0, 'api', $20::jsonb FROM o)
       SELECT * FROM o`,
      [payOrderId, app.mchNo, app.appId, req.mchOrderNo, passage.ifCode, way, req.amount, currency, req.subject, req.body, req.clientIp ?? null, req.notifyUrl ?? null, req.returnUrl ?? null,
        req.channelExtra ?? null, req.extParam ?? null, req.divisionMode ?? 0, requestHash, expireSeconds, payerOpenid,
        JSON.stringify({ wayCode: way, requestedWay: req.wayCode, ifCode: passage.ifCode, amount: req.amount, route: decision }),
        passage.passageId, passage.feeRatePpm, feeAmount(req.amount, passage.feeRatePpm)],
    );
    const inserted = r.rows[0];
    if (!inserted) {
      await route.release();
      return this.#repeat(app, req.mchOrderNo, requestHash);
    }
    let order = inserted;

    for (;;) {
      const result = await this.#callCreate(order);
      const fault = result instanceof ChannelError ? result.kind : null;
      if (fault && isChannelFault(fault)) d.passages.breakers.failure(passage.passageId, `${fault}: ${(result as ChannelError).message}`);
      else d.passages.breakers.success(passage.passageId);
      if (fault && mayFailOver(fault, isBarCodeOrder(way, extra))) {
        const next = await route.next();
        const moved = next ? await this.#reroute(order, next.passage, next.decision, result as ChannelError) : null;
        if (next && moved) {
          await route.release(passage);
          ({ passage, decision } = next);
          order = moved;
          continue;
        }
        if (next) await route.release();
      }
      const recorded = await this.#recordCreateResult(order, result);
      if (recorded.state === PayState.FAIL) await route.release(passage);
      return this.present(recorded);
    }
  }

  async #callCreate(order: PayOrderRow): Promise<CreatePaymentResult | ChannelError> {
    const channel = this.#d.channels.get(order.if_code);
    try {
      if (!channel) throw new ChannelError('misconfigured', `channel ${order.if_code} is not installed`);
      return await channel.createPayment(await this.#context(order), toChannelInput(order, this.#d.publicUrl));
    } catch (err) {
      if (!(err instanceof ChannelError)) throw err;
      return err;
    }
  }

  /**
   * Failover: the order (still INIT: nothing reached the payer) moves to the next passage, with its
   * fee snapshot, and the timeline says why. Null when the order moved meanwhile (closed by the merchant).
   */
  async #reroute(order: PayOrderRow, next: Passage, decision: RouteDecision, fault: ChannelError): Promise<PayOrderRow | null> {
    this.#d.log.warn({ payOrderId: order.pay_order_id, from: order.if_code, to: next.ifCode, fault: fault.kind, msg: fault.message }, 'pay order failed over to the next passage');
    const r = await this.#d.db.query<PayOrderRow>(
      `WITH u AS (UPDATE pay_orders SET if_code = $3, passage_id = $4, fee_rate_ppm = $5, fee_amount = $6, updated_at = now() WHERE pay_order_id = $1 AND state = $2 RETURNING *),
       e AS (INSERT INTO order_events (order_type, order_id, kind, source, detail) SELECT 'pay', pay_order_id, 'rerouted', 'api', $7::jsonb FROM u)
       SELECT * FROM u`,
      [order.pay_order_id, PayState.INIT, next.ifCode, next.passageId, next.feeRatePpm, feeAmount(order.amount, next.feeRatePpm),
        JSON.stringify({ from: { ifCode: order.if_code, passageId: order.passage_id }, fault: { kind: fault.kind, code: fault.channelCode, message: fault.message }, route: decision })],
    );
    return r.rows[0] ?? null;
  }

  async #repeat(app: MerchantApp, mchOrderNo: string, requestHash: string): Promise<UnifiedOrderResult> {
    const existing = await this.findByMerchant(app, { mchOrderNo });
    if (!existing) throw new ApiError('ORDER_IN_PROGRESS', 'retry shortly');
    if (existing.request_hash !== requestHash) throw new ApiError('IDEMPOTENCY_MISMATCH', `mchOrderNo ${mchOrderNo} was used for order ${existing.pay_order_id} with different parameters`);
    if (existing.state === PayState.INIT && Date.now() - existing.created_at.getTime() < IN_PROGRESS_MS) throw new ApiError('ORDER_IN_PROGRESS', `order ${existing.pay_order_id} is still being created`);
    return this.present(existing);
  }

  /**
   * Compare-and-set from INIT in one statement (no transaction, no row lock): if the order moved
   * meanwhile (closed by the merchant), the update matches nothing and the current row is returned.
   */
  async #recordCreateResult(order: PayOrderRow, result: CreatePaymentResult | ChannelError): Promise<PayOrderRow> {
    const updated = await this.#transitionAfterCreate(order, result);
    if (updated) return updated;
    if (!(result instanceof ChannelError)) {
      // The order moved before the answer was recorded (a callback or query beat it, e.g. a bar-code
      // payment confirmed at once): keep the pay data the merchant's answer must carry.
      const r = await this.#d.db.query<PayOrderRow>(
        `UPDATE pay_orders SET pay_data_type = COALESCE(pay_data_type, $2), pay_data = COALESCE(pay_data, $3), channel_order_no = COALESCE(channel_order_no, $4), updated_at = now()
          WHERE pay_order_id = $1 RETURNING *`,
        [order.pay_order_id, result.payDataType, result.payData, result.channelOrderNo ?? null],
      );
      if (r.rows[0]) return r.rows[0];
    }
    return (await getPayOrder(this.#d.db, order.pay_order_id)) ?? order;
  }

  async #transitionAfterCreate(order: PayOrderRow, result: CreatePaymentResult | ChannelError): Promise<PayOrderRow | null> {
    const d = this.#d;
    const schedule = isBarCodeOrder(order.way_code, order.channel_extra) ? d.barPollSchedule : d.querySchedule;
    const firstCheck = new Date(Date.now() + (schedule[0] ?? 10) * 1000);
    if (result instanceof ChannelError) {
      const unknownOutcome = result.kind === 'timeout' || result.kind === 'system' || result.kind === 'bad_signature' || result.kind === 'protocol' || result.kind === 'mismatch';
      const errCode = result.channelCode ?? result.kind.toUpperCase();
      const errMsg = result.channelMessage ?? result.message;
      const detail = { op: 'create', error: result.kind, errCode, errMsg };
      if (unknownOutcome) d.log.warn({ payOrderId: order.pay_order_id, kind: result.kind, errMsg }, 'channel outcome unknown at create; will query');
      return unknownOutcome
        ? transitionPay(d.db, order, PayState.PAYING, 'api', { err_code: errCode, err_msg: `outcome unknown, the gateway will query the channel: ${errMsg}`, next_check_at: firstCheck }, detail)
        : transitionPay(d.db, order, PayState.FAIL, 'api', { err_code: errCode, err_msg: errMsg, next_check_at: null }, detail);
    }
    const detail = { op: 'create', status: result.status, payDataType: result.payDataType };
    const patch = { pay_data_type: result.payDataType, pay_data: result.payData, channel_order_no: result.channelOrderNo ?? null, channel_user: result.channelUser ?? order.channel_user, err_code: result.errCode ?? null, err_msg: result.errMsg ?? null };
    if (result.status === 'WAITING') return transitionPay(d.db, order, PayState.PAYING, 'api', { ...patch, next_check_at: firstCheck }, detail);
    if (result.status === 'FAIL') return transitionPay(d.db, order, PayState.FAIL, 'api', { ...patch, next_check_at: null }, detail);
    const paid = await transitionPay(d.db, order, PayState.SUCCESS, 'api', { ...patch, success_at: new Date(), next_check_at: null }, detail, { notify: d.notifications.payEntry });
    if (paid) d.notifications.wakeSoon();
    return paid;
  }

  /** The unified-order answer for an order (also for idempotent repeats). */
  present(order: PayOrderRow): UnifiedOrderResult {
    const showPayData = order.state === PayState.INIT || order.state === PayState.PAYING || order.state === PayState.SUCCESS;
    const wanted = parseChannelExtraSafe(order.channel_extra).payDataType;
    let payDataType = order.pay_data_type ?? undefined;
    let payData = order.pay_data ?? undefined;
    if (wanted === 'codeImgUrl' && payData && (payDataType === 'codeUrl' || payDataType === 'payurl')) {
      payDataType = 'codeImgUrl';
      payData = `${this.#d.publicUrl}/api/scan/imgs/${qrToken(this.#d.qrKey, order.pay_order_id)}.png`;
    }
    return {
      payOrderId: order.pay_order_id,
      mchOrderNo: order.mch_order_no,
      orderState: order.state,
      ...(showPayData && payDataType ? { payDataType, payData: payData ?? '' } : {}),
      ...(order.err_code ? { errCode: order.err_code } : {}),
      ...(order.err_msg ? { errMsg: order.err_msg } : {}),
    };
  }

  async findByMerchant(app: MerchantApp, ids: { payOrderId?: string; mchOrderNo?: string }): Promise<PayOrderRow | null> {
    const r = ids.payOrderId
      ? await this.#d.db.query<PayOrderRow>(`SELECT * FROM pay_orders WHERE pay_order_id = $1 AND mch_no = $2`, [ids.payOrderId, app.mchNo])
      : await this.#d.db.query<PayOrderRow>(`SELECT * FROM pay_orders WHERE mch_no = $1 AND mch_order_no = $2`, [app.mchNo, ids.mchOrderNo]);
    const row = r.rows[0];
    // An order of another app of the same merchant is visible: Jeepay scopes by merchant.
    return row ?? null;
  }

  /** Query; with `sync` an unconfirmed order is first asked of the channel (seed 004 step 2). */
  async query(app: MerchantApp, ids: { payOrderId?: string; mchOrderNo?: string }, sync: boolean): Promise<PayOrderRow> {
    let order = await this.findByMerchant(app, ids);
    if (!order) throw new ApiError('ORDER_NOT_FOUND', ids.payOrderId ?? ids.mchOrderNo);
    if (sync && (order.state === PayState.PAYING || order.state === PayState.INIT)) {
      order = await this.syncWithChannel(order, 'query');
    }
    return order;
  }

  async syncWithChannel(order: PayOrderRow, source: 'query' | 'reconcile' | 'expiry' | 'close'): Promise<PayOrderRow> {
    const channel = this.#d.channels.get(order.if_code);
    if (!channel) return order;
    try {
      const status = await channel.queryPayment(await this.#context(order), toChannelInput(order, this.#d.publicUrl));
      const applied = await this.#d.sync.applyPayment(order.pay_order_id, status, source);
      return applied.order ?? order;
    } catch (err) {
      if (!(err instanceof ChannelError)) throw err;
      this.#d.log.warn({ payOrderId: order.pay_order_id, kind: err.kind, msg: err.message }, 'channel query failed');
      return (await getPayOrder(this.#d.db, order.pay_order_id)) ?? order;
    }
  }

  /**
   * Close: INIT closes here (and at the channel, harmlessly, in case a create is racing);
   * PAYING closes at the channel first. If the channel says it is already paid, we record the
   * payment and refuse the close.
   */
  async close(app: MerchantApp, ids: { payOrderId?: string; mchOrderNo?: string }, source: 'close' | 'expiry' = 'close'): Promise<PayOrderRow> {
    const order = await this.findByMerchant(app, ids);
    if (!order) throw new ApiError('ORDER_NOT_FOUND', ids.payOrderId ?? ids.mchOrderNo);
    return this.closeOrder(order, source);
  }

  async closeOrder(order: PayOrderRow, source: 'close' | 'expiry'): Promise<PayOrderRow> {
    if (order.state === PayState.CLOSED || order.state === PayState.FAIL || order.state === PayState.REVOKED) return order;
    if (order.state === PayState.SUCCESS || order.state === PayState.REFUNDED) throw new ApiError('ORDER_STATE_INVALID', `order ${order.pay_order_id} is paid`);
    const channel = this.#d.channels.get(order.if_code);
    if (channel) {
      try {
        const res = await channel.closePayment(await this.#context(order), toChannelInput(order, this.#d.publicUrl));
        if (res.status === 'ALREADY_PAID') {
          const synced = await this.syncWithChannel(order, source);
          if (synced.state === PayState.SUCCESS || synced.state === PayState.REFUNDED) throw new ApiError('ORDER_STATE_INVALID', `order ${order.pay_order_id} is paid`);
          // The channel refused the close because the order is paid, but the query that would record
          // the payment failed: never answer "closed" for it (found by test/faults/channel-misbehaviour);
          // refuse, and have the reconciler ask again soon (not at once: the channel is failing).
          if (synced.state === PayState.INIT || synced.state === PayState.PAYING) {
            await setPayNextCheck(this.#d.db, order.pay_order_id, new Date(Date.now() + (this.#d.querySchedule[0] ?? 10) * 1000));
            throw new ApiError('ORDER_STATE_INVALID', `the channel reports order ${order.pay_order_id} paid; the payment is being confirmed`);
          }
          return synced;
        }
      } catch (err) {
        if (!(err instanceof ChannelError)) throw err;
        const neverReached = err.kind === 'rejected' && /^ORDER_?NOT_?EXIST$/.test(err.channelCode ?? '');
        if (!neverReached) throw new ApiError(err.kind === 'rejected' ? 'CHANNEL_REJECTED' : 'CHANNEL_UNAVAILABLE', `${err.channelCode ?? err.kind}: ${err.channelMessage ?? err.message}`);
      }
    }
    const applied = await this.#d.sync.applyPayment(order.pay_order_id, { status: 'CLOSED' }, source);
    return applied.order ?? order;
  }

  /**
   * Bar-code pay that the payer never finished authorising: reverse it at the channel (撤销 /
   * trade.cancel), which also refunds it if it slipped through. A channel that reports it paid
   * is recorded as paid; one that asks to retry is asked again on the next pass.
   */
  async reverseOrder(order: PayOrderRow): Promise<PayOrderRow> {
    const channel = this.#d.channels.get(order.if_code);
    if (!channel?.reversePayment) return this.closeOrder(order, 'expiry');
    try {
      const res = await channel.reversePayment(await this.#context(order), toChannelInput(order, this.#d.publicUrl));
      if (res.status === 'ALREADY_PAID') return this.syncWithChannel(order, 'expiry');
      if (res.status === 'RETRY') return order;
      return (await this.#d.sync.applyPayment(order.pay_order_id, { status: 'REVOKED', errCode: 'REVERSED', errMsg: 'the payer did not confirm in time; reversed at the channel' }, 'expiry')).order ?? order;
    } catch (err) {
      if (!(err instanceof ChannelError)) throw err;
      this.#d.log.warn({ payOrderId: order.pay_order_id, kind: err.kind, msg: err.message }, 'bar-code reverse failed; will retry');
      return order;
    }
  }

  async #context(order: PayOrderRow): Promise<ChannelContext> {
    const config = await this.#d.tenancy.getChannelConfig(order.app_id, order.if_code);
    if (!config) throw new ChannelError('misconfigured', `app ${order.app_id} has no ${order.if_code} configuration`);
    return { config, log: this.#d.log };
  }

  channelContext(order: PayOrderRow): Promise<ChannelContext> {
    return this.#context(order);
  }
}

export function toChannelInput(order: PayOrderRow, publicUrl: string): PayOrderInput {
  return {
    payOrderId: order.pay_order_id,
    wayCode: order.way_code as WayCode,
    amount: order.amount,
    currency: order.currency as PayOrderInput['currency'],
    subject: order.subject,
    body: order.body,
    clientIp: order.client_ip,
    expiredAt: order.expired_at,
    // The payer's openid may come from a session token rather than channelExtra: it is kept in channel_user.
    extra: withPayer(parseChannelExtraSafe(order.channel_extra), order.channel_user),
    notifyUrl: `${publicUrl}/api/pay/notify/${order.if_code}/${order.pay_order_id}`,
    returnUrl: order.return_url,
    channelOrderNo: order.channel_order_no,
  };
}

export function parseChannelExtra(raw: string | undefined): Record<string, unknown> {
  if (raw === undefined || raw === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ApiError('PARAM_INVALID', 'channelExtra must be a JSON object string, e.g. {"openid":"o123"}');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ApiError('PARAM_INVALID', 'channelExtra must be a JSON object string');
  return parsed as Record<string, unknown>;
}

function parseChannelExtraSafe(raw: string | null): Record<string, unknown> {
  try {
    const extra = parseChannelExtra(raw ?? undefined);
    // Jeepay's docs say auth_code, its DTO authCode; fastjson accepted both, so do we.
    if (extra.authCode === undefined && typeof extra.auth_code === 'string') extra.authCode = extra.auth_code;
    return extra;
  } catch {
    return {};
  }
}

function withPayer(extra: Record<string, unknown>, channelUser: string | null): Record<string, unknown> {
  if (extra.openid === undefined && channelUser) extra.openid = channelUser;
  return extra;
}

/** AUTO_BAR becomes the bar-code way of the payer's code, WX/ALI their concrete product; bar-code ways need that code. */
function resolveWay(requested: WayCode, extra: Record<string, unknown>, returnUrl: string | null | undefined): WayCode {
  const code = typeof extra.authCode === 'string' ? extra.authCode : typeof extra.auth_code === 'string' ? extra.auth_code : undefined;
  let way = requested;
  if (way === 'WX' || way === 'ALI') {
    // "undefined"/"null" are what a broken OAuth lookup sends (Jeepay #123): no payer.
    const identifiedPayer = PAYER_KEYS[way].some((k) => typeof extra[k] === 'string' && !/^\s*(undefined|null)?\s*$/i.test(extra[k] as string));
    way = concreteWay(way, { authCode: code, identifiedPayer, returnUrl });
  }
  if (way === 'AUTO_BAR') {
    const resolved = code ? barWayForCode(code) : undefined;
    if (!resolved) throw new ApiError('PARAM_INVALID', 'AUTO_BAR needs channelExtra.authCode from a WeChat, Alipay, UnionPay or QQ 钱包 payment code');
    way = resolved;
  }
  if (BAR_WAYS.has(way) && !code) throw new ApiError('PARAM_INVALID', `channelExtra.authCode (the payer's payment code) is required for ${way}`);
  return way;
}

/** Idempotency fingerprint over the business parameters only (not reqTime/sign/version). */
export function hashRequest(fields: object): string {
  const entries = Object.entries(fields)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return createHash('sha256').update(JSON.stringify(entries)).digest('base64url');
}

/** QR image links name an order and carry a MAC, so the renderer cannot be used for arbitrary text (jeepay.md §9). */
export function qrToken(key: Buffer, payOrderId: string): string {
  return `${payOrderId}.${createHmac('sha256', key).update(`qr:${payOrderId}`).digest('base64url').slice(0, 22)}`;
}

export function verifyQrToken(key: Buffer, token: string): string | null {
  const dot = token.indexOf('.');
  if (dot <= 0) return null;
  const id = token.slice(0, dot);
  const expected = Buffer.from(qrToken(key, id));
  const given = Buffer.from(token);
  return expected.length === given.length && timingSafeEqual(expected, given) ? id : null;
}
