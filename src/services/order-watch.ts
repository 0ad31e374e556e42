import { EventEmitter } from 'node:events';

/**
 * Wakes whoever waits on an order (Server-Sent Events) after a change has committed. In-process
 * only: a watcher also re-reads the order on a short timer, so a change committed by another
 * gateway process reaches it too, just a little later.
 */
export class OrderWatch {
  readonly #emitter = new EventEmitter();
  constructor() {
    this.#emitter.setMaxListeners(0);
  }

  changed(payOrderId: string): void {
    this.#emitter.emit(payOrderId);
  }

  subscribe(payOrderId: string, listener: () => void): () => void {
    this.#emitter.on(payOrderId, listener);
    return () => this.#emitter.off(payOrderId, listener);
  }
}
