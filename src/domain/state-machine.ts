/**
 * A transition table: for each state, the states it may move to. Every order and refund
 * state change in the gateway is checked against one of these tables before the
 * compare-and-set UPDATE that performs it.
 */
export type TransitionTable<S extends number> = Readonly<Record<S, readonly S[]>>;

export type TransitionCheck = 'allowed' | 'duplicate' | 'illegal';

export function checkTransition<S extends number>(table: TransitionTable<S>, from: S, to: S): TransitionCheck {
  if (from === to) return 'duplicate';
  return table[from].includes(to) ? 'allowed' : 'illegal';
}

export function isTerminal<S extends number>(table: TransitionTable<S>, state: S): boolean {
  return table[state].length === 0;
}

/** States reachable from `start` — used by tests to prove every state is reachable. */
export function reachableFrom<S extends number>(table: TransitionTable<S>, start: S): Set<S> {
  const seen = new Set<S>([start]);
  const queue: S[] = [start];
  while (queue.length > 0) {
    const s = queue.shift() as S;
    for (const next of table[s]) {
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return seen;
}
