import { openDb } from '../../src/db/db.ts';
import { PREFILL_COLUMNS, prefillSelect } from '../phases.ts';

/** --prefill on the embedded database: INSERT … SELECT generate_series in batches of 50,000 rows. */
const rows = Number(process.env.BENCH_ROWS);
const db = await openDb({ dataDir: process.env.BENCH_DATA_DIR as string });
const BATCH = 50_000;
for (let from = 1; from <= rows; from += BATCH) {
  const to = Math.min(rows, from + BATCH - 1);
  await db.query(`INSERT INTO pay_orders (${PREFILL_COLUMNS}) ${prefillSelect(String(from), String(to))}`);
}
await db.query('ANALYZE pay_orders');
await db.close();
process.stdout.write('done\n');
