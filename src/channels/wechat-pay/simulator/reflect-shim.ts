/**
 * @peculiar/x509 2.x resolves its algorithms through tsyringe, which refuses to load unless a
 * Reflect metadata polyfill is present (see the x509 README, "Reflect Polyfill Required"). The
 * project has no such package, so this installs the three functions tsyringe calls, and only when
 * nothing else did. Replace with `import 'reflect-metadata'` once that package is a dependency.
 */

type MetaMap = Map<unknown, unknown>;
const store = new WeakMap<object, MetaMap>();

function own(target: object, create: boolean): MetaMap | undefined {
  let map = store.get(target);
  if (!map && create) {
    map = new Map();
    store.set(target, map);
  }
  return map;
}

const R = Reflect as unknown as Record<string, unknown>;
if (typeof R.getMetadata !== 'function') {
  Object.assign(R, {
    defineMetadata(key: unknown, value: unknown, target: object): void {
      own(target, true)?.set(key, value);
    },
    getOwnMetadata(key: unknown, target: object): unknown {
      return own(target, false)?.get(key);
    },
    getMetadata(key: unknown, target: object): unknown {
      for (let o: object | null = target; o; o = Object.getPrototypeOf(o) as object | null) {
        const map = own(o, false);
        if (map?.has(key)) return map.get(key);
      }
      return undefined;
    },
  });
}
