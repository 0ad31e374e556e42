import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';

/** Building blocks every channel simulator shares: timers, the admin token check, request bodies. */

export interface Scheduler {
  at(delayMs: number, fn: () => void): void;
}

/** Timers a simulator can cancel at once on close; unref'd so they never keep a test run alive. */
export class TimerSet implements Scheduler {
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  at(delayMs: number, fn: () => void): void {
    if (this.closed) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, delayMs);
    t.unref();
    this.timers.add(t);
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

/** `Authorization: Bearer <token>`, compared as digests so timing reveals neither content nor length. */
export function bearerTokenOk(expected: string, header: string | undefined): boolean {
  if (!header?.startsWith('Bearer ')) return false;
  const a = createHash('sha256').update(header.slice(7)).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** A sandbox admin/payer request body (JSON object or form); null when it is neither. */
export function sandboxBody(req: FastifyRequest): Record<string, unknown> | null {
  const raw = typeof req.body === 'string' ? req.body : '';
  if (raw.trim() === '') return {};
  if ((req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(raw));
  try {
    const v: unknown = JSON.parse(raw);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    /* not JSON */
  }
  return null;
}

/** A sandbox admin/payer request the simulator refuses with 400 and this message. */
export class SandboxBadRequest extends Error {}

/** The request body as a JSON object (or form); SandboxBadRequest otherwise. */
export function requireSandboxBody(req: FastifyRequest): Record<string, unknown> {
  const b = sandboxBody(req);
  if (b === null) throw new SandboxBadRequest('body must be a JSON object');
  return b;
}

/** An optional string field: absent, null and '' are undefined; any other non-string is refused. */
export function optionalString(b: Record<string, unknown>, name: string): string | undefined {
  const v = b[name];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new SandboxBadRequest(`${name} must be a string`);
  return v;
}

/** Applies a fault-switch patch after checking every key and type against `spec` (all or nothing). */
export function applyFaultPatch<T extends object>(target: T, patch: Record<string, unknown>, spec: Record<keyof T, 'boolean' | 'count'>): void {
  for (const [k, v] of Object.entries(patch)) {
    const kind = spec[k as keyof T];
    if (!kind) throw new SandboxBadRequest(`unknown fault switch ${k}`);
    if (kind === 'boolean' && typeof v !== 'boolean') throw new SandboxBadRequest(`${k} must be a boolean`);
    if (kind === 'count' && (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)) throw new SandboxBadRequest(`${k} must be a non-negative integer`);
  }
  Object.assign(target, patch);
}
