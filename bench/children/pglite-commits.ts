import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../../src/db/db.ts';

/**
 * The embedded database's commit ceiling (--pglite): single-row INSERT + COMMIT transactions with
 * BENCH_CONCURRENCY callers, on a fresh PGlite data dir. Prints one JSON line: {"perSecond": n}.
 */
const ms = Number(process.env.BENCH_MS ?? 5000);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 10);
const dir = mkdtempSync(join(tmpdir(), 'polypay-bench-pglite-'));
const db = await openDb({ dataDir: join(dir, 'db') });
await db.query(`CREATE TABLE bench_commit (id bigserial PRIMARY KEY, a text NOT NULL, b int8 NOT NULL, c timestamptz NOT NULL DEFAULT now())`);
let i = 0;
const insert = () => db.transaction((tx) => tx.query(`INSERT INTO bench_commit (a, b) VALUES ($1, $2)`, [`row-${++i}-${'x'.repeat(200)}`, i]));
for (let w = 0; w < 200; w++) await insert(); // warm-up
const end = performance.now() + ms;
let n = 0;
const started = performance.now();
await Promise.all(Array.from({ length: concurrency }, async () => {
  while (performance.now() < end) {
    await insert();
    n += 1;
  }
}));
const perSecond = n / ((performance.now() - started) / 1000);
await db.close();
rmSync(dir, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify({ perSecond })}\n`);
