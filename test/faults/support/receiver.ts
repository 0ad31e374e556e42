import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { verifySignature } from '../../../src/merchant-api/sign.ts';
import { sleep } from './harness.ts';

export interface Delivery {
  key: string;
  fields: Record<string, string>;
  signatureValid: boolean;
  at: number;
}

/**
 * A merchant notify endpoint for the fault suite. It holds every delivery for `holdMs` before
 * answering, so two deliveries of the same notification that overlap in time are caught
 * (`overlaps`); it can go down (port closed: connection refused) and come back on the same port.
 */
export class NotifyReceiver {
  readonly deliveries: Delivery[] = [];
  readonly overlaps: string[] = [];
  readonly url: string;
  /** Answer for each delivery; default SUCCESS. */
  respond: (d: Delivery) => string = () => 'SUCCESS';
  #server: Server | null = null;
  #sockets = new Set<Socket>();
  #inflight = new Map<string, number>();
  readonly #secret: string;
  readonly #holdMs: number;
  readonly port: number;

  private constructor(secret: string, holdMs: number, port: number) {
    this.#secret = secret;
    this.#holdMs = holdMs;
    this.port = port;
    this.url = `http://127.0.0.1:${port}/notify`;
  }

  static async start(secret: string, holdMs = 30): Promise<NotifyReceiver> {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const rec = new NotifyReceiver(secret, holdMs, port);
    await rec.up();
    return rec;
  }

  get isUp(): boolean {
    return this.#server !== null;
  }

  async up(): Promise<void> {
    if (this.#server) return;
    const server = createServer((req, res) => {
      let raw = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (raw += c));
      req.on('end', async () => {
        const fields = Object.fromEntries(new URLSearchParams(raw));
        const key = `${fields.refundOrderId ? `refund:${fields.refundOrderId}` : `pay:${fields.payOrderId}`}:${fields.state}`;
        const d: Delivery = { key, fields, signatureValid: typeof fields.sign === 'string' && verifySignature(fields, this.#secret, 'MD5', fields.sign), at: Date.now() };
        this.deliveries.push(d);
        const n = (this.#inflight.get(key) ?? 0) + 1;
        this.#inflight.set(key, n);
        if (n > 1) this.overlaps.push(`${key}: ${n} deliveries in flight at once`);
        let done = false;
        const finish = () => {
          if (done) return;
          done = true;
          const left = (this.#inflight.get(key) ?? 1) - 1;
          if (left <= 0) this.#inflight.delete(key);
          else this.#inflight.set(key, left);
        };
        res.on('close', finish);
        await sleep(this.#holdMs);
        if (!res.destroyed) res.end(this.respond(d));
        finish();
      });
    });
    server.on('connection', (s) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    server.keepAliveTimeout = 500;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.#server = server;
  }

  /** Closes the port: deliveries now fail with connection refused. */
  async down(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = null;
    const closed = new Promise<void>((r) => server.close(() => r()));
    for (const s of this.#sockets) s.destroy();
    await closed;
  }

  /** Valid, signed deliveries of one notification key. */
  deliveredKeys(): Set<string> {
    return new Set(this.deliveries.filter((d) => d.signatureValid).map((d) => d.key));
  }

  async close(): Promise<void> {
    await this.down();
  }
}
