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
  /** Digests of configuration objects already seen: tenancy hands out the same object until it changes, so the hot path skips hashing. */
  readonly #digests = new WeakMap<ChannelConfig, string>();
  readonly #build: (config: ChannelConfig) => T;
  readonly #max: number;

  constructor(build: (config: ChannelConfig) => T, max = 1000) {
    this.#build = build;
    this.#max = max;
  }

  get(config: ChannelConfig): T {
    let key = this.#digests.get(config);
    if (key === undefined) {
      const sorted = (r: Record<string, string>): [string, string][] => Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      key = createHash('sha256').update(JSON.stringify([sorted(config.params), sorted(config.secrets)])).digest('hex');
      this.#digests.set(config, key);
    }
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

/**
 * What every channel built on per-configuration clients shares: the client cache and a clock
 * that tests can set (request timestamps, order dates).
 */
export abstract class CachedClientChannel<C> {
  readonly #clients: ClientCache<C>;
  protected readonly now: () => number;

  constructor(build: (config: ChannelConfig) => C, now: () => number = Date.now, maxClients = 1000) {
    this.#clients = new ClientCache(build, maxClients);
    this.now = now;
  }

  client(config: ChannelConfig): C {
    return this.#clients.get(config);
  }
}
