import { createHash } from 'node:crypto';
import type { ChannelConfig } from './types.ts';

/**
 * One channel client per distinct configuration, least recently used first out. Parsing keys
 * (PEM → KeyObject) costs about three RSA signatures, and clients hold per-merchant state such
 * as downloaded certificates, so they are built once per merchant app, not per call. Keyed by a
 * digest of the configuration: secrets are never map keys, and a changed configuration simply
 * gets a new client.
 */
export class ClientCache<T> {
  readonly #clients = new Map<string, T>();
  readonly #build: (config: ChannelConfig) => T;
  readonly #max: number;

  constructor(build: (config: ChannelConfig) => T, max = 1000) {
    this.#build = build;
    this.#max = max;
  }

  get(config: ChannelConfig): T {
    const sorted = (r: Record<string, string>): [string, string][] => Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const key = createHash('sha256').update(JSON.stringify([sorted(config.params), sorted(config.secrets)])).digest('hex');
    const cached = this.#clients.get(key);
    if (cached !== undefined) {
      this.#clients.delete(key);
      this.#clients.set(key, cached);
      return cached;
    }
    const client = this.#build(config);
    this.#clients.set(key, client);
    while (this.#clients.size > this.#max) {
      const oldest = this.#clients.keys().next().value;
      if (oldest === undefined) break;
      this.#clients.delete(oldest);
    }
    return client;
  }
}
