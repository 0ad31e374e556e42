import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import assert from 'node:assert/strict';
import { after, before, beforeEach } from 'node:test';
import { ChannelError, type ChannelConfig, type ChannelContext, type InboundCallback, type Logger, type PayChannel, type PayOrderInput, type RefundInput } from '../../types.ts';
import type { AcquirerServer } from './server.ts';
import { defaultAcquirerFaults } from './types.ts';
import type { WayCode } from '../../../domain/pay-way.ts';

/**
 * Test helpers for the acquirer channels (not a test file): a notification receiver that records
 * raw requests and answers as told, and order/refund inputs shaped like the core's.
 */

export const quietLog: Logger = { info() {}, warn() {}, error() {}, debug() {} };

export interface Captured {
  at: number;
  headers: Record<string, string | undefined>;
  raw: Buffer;
  path: string;
}

export interface CaptureReceiver {
  url: string;
  received: Captured[];
  /** The body answered to delivery n (0-based). */
  respond: (c: Captured, index: number) => string;
  /** The HTTP status answered to delivery n (0-based); default 200. */
  status: (c: Captured, index: number) => number;
  waitFor(count: number, timeoutMs?: number): Promise<Captured[]>;
  close(): Promise<void>;
}

export async function startCaptureReceiver(defaultAnswer: string): Promise<CaptureReceiver> {
  const received: Captured[] = [];
  let server: Server;
  const receiver: CaptureReceiver = {
    url: '',
    received,
    respond: () => defaultAnswer,
    status: () => 200,
    async waitFor(count, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} notifications, got ${received.length}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return received.slice(0, count);
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(',') : v;
      const c: Captured = { at: Date.now(), headers, raw: Buffer.concat(chunks), path: req.url ?? '/' };
      received.push(c);
      res.writeHead(receiver.status(c, received.length - 1), { 'content-type': 'text/plain' });
      res.end(receiver.respond(c, received.length - 1));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/notify`;
  return receiver;
}

export function inbound(c: Captured): InboundCallback {
  return { headers: c.headers, rawBody: c.raw, query: {}, path: c.path.split('?')[0] as string };
}

let seq = 0;

export function orderInput(ifCode: string, over: Partial<PayOrderInput> & { wayCode: WayCode }, notifyBase = 'http://127.0.0.1:1'): PayOrderInput {
  const id = `P${Date.now()}${++seq}${Math.floor(Math.random() * 1000)}`;
  return { payOrderId: id, amount: 1234, currency: 'CNY', subject: '测试商品', body: 'body', clientIp: '10.1.2.3', expiredAt: new Date(Date.now() + 3600e3), extra: {}, notifyUrl: `${notifyBase}/api/pay/notify/${ifCode}/${id}`, returnUrl: null, channelOrderNo: null, ...over };
}

export function refundInput(order: PayOrderInput, amount: number, notifyUrl: string): RefundInput {
  return { refundOrderId: `R${order.payOrderId}${++seq}`, refundAmount: amount, payAmount: order.amount, currency: 'CNY', reason: 'test refund', notifyUrl, channelRefundNo: null };
}

export function contextOf(config: ChannelConfig): ChannelContext {
  return { config, log: quietLog };
}

export const isChannelError = (kind: string, code?: string) => (e: unknown): boolean => e instanceof ChannelError && e.kind === kind && (code === undefined || e.channelCode === code);

/**
 * The classification every acquirer channel must get right (routing failover depends on it): the
 * simulator down → `unavailable`; busy → `system` with the channel's busy code, nothing created;
 * an answer past the deadline → `timeout`, and the call was processed. `c` has a short timeoutMs.
 */
export async function assertErrorClassification(o: { channel: PayChannel; sim: AcquirerServer<unknown>; c: ChannelContext; order(way: WayCode): PayOrderInput; ways: [WayCode, WayCode, WayCode]; busyCode: string }): Promise<void> {
  const { channel, sim, c } = o;
  await sim.down();
  try {
    await assert.rejects(channel.createPayment(c, o.order(o.ways[0])), isChannelError('unavailable'));
  } finally {
    await sim.up();
  }
  sim.faults.busyNextRequests = 1;
  const busy = o.order(o.ways[1]);
  await assert.rejects(channel.createPayment(c, busy), isChannelError('system', o.busyCode));
  assert.equal((await channel.queryPayment(c, busy)).status, 'NOT_FOUND', 'busy: nothing was created');
  sim.faults.responseDelayMs = 1000;
  const slow = o.order(o.ways[2]);
  try {
    await assert.rejects(channel.createPayment(c, slow), isChannelError('timeout'));
  } finally {
    sim.faults.responseDelayMs = 0;
  }
  assert.equal((await channel.queryPayment(c, slow)).status, 'WAITING', 'the slow call was processed');
}

/**
 * The hooks every acquirer channel-vs-simulator test file shares: one simulator and one capture
 * receiver for the file; before each test the faults are switched off and the receiver answers
 * `answer` with HTTP 200 again, with nothing captured. `onStart` takes them (and registers merchants).
 */
export function useAcquirerSimulator<S extends AcquirerServer<unknown>>(start: () => Promise<S>, answer: (c: Captured) => string, onStart: (sim: S, rcv: CaptureReceiver) => Promise<void> | void): void {
  let sim: S | undefined;
  let rcv: CaptureReceiver | undefined;
  before(async () => {
    sim = await start();
    rcv = await startCaptureReceiver('');
    rcv.respond = (c) => answer(c);
    await onStart(sim, rcv);
  });
  after(async () => {
    await rcv?.close();
    await sim?.close();
  });
  beforeEach(() => {
    Object.assign(sim!.faults, defaultAcquirerFaults());
    rcv!.received.length = 0;
    rcv!.respond = (c) => answer(c);
    rcv!.status = () => 200;
  });
}
