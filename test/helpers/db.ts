import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { type Db, openDb } from '../../src/db/db.ts';
import { migrate } from '../../src/db/migrate.ts';

export type DbLeg = 'pglite' | 'postgres';

/** The legs every end-to-end scenario runs on. */
export function dbLegs(): DbLeg[] {
  return process.env.POLYPAY_TEST_SKIP_PG === '1' ? ['pglite'] : ['pglite', 'postgres'];
}

const PG_URL = process.env.DATABASE_URL_TEST ?? 'postgres://postgres@127.0.0.1:5432/test';
const TMP = join(process.cwd(), '.tmp');

/**
 * PGlite's initdb costs ~4 s and ~800 MB per instance (stack.md); tests start from a dump of
 * a migrated database instead, made once per migration set and shared by all test files.
 */
async function pgliteTemplate(): Promise<string> {
  const dir = join(process.cwd(), 'src/db/migrations');
  const hash = createHash('sha256');
  for (const f of readdirSync(dir).sort()) hash.update(f).update(readFileSync(join(dir, f)));
  const path = join(TMP, `pglite-template-${hash.digest('hex').slice(0, 12)}.tar`);
  if (existsSync(path)) return path;
  mkdirSync(TMP, { recursive: true });
  const db = await openDb({ dataDir: 'memory://' });
  await migrate(db);
  const dump = await db.dump?.();
  await db.close();
  if (!dump) throw new Error('PGlite dump unavailable');
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, Buffer.from(await dump.arrayBuffer()));
  renameSync(tmp, path); // atomic: concurrent test files may race to create it
  return path;
}

export interface TestDb {
  db: Db;
  /** For a second gateway process/instance on the same data (restart tests). */
  url?: string;
  dataDir?: string;
  drop(): Promise<void>;
}

/** A fresh, migrated database for one test file. */
export async function openTestDb(leg: DbLeg, opts: { dataDir?: string } = {}): Promise<TestDb> {
  if (leg === 'pglite') {
    const template = await pgliteTemplate();
    const db = await openDb({ dataDir: opts.dataDir ?? 'memory://', templateDumpPath: opts.dataDir && existsSync(join(opts.dataDir, 'PG_VERSION')) ? undefined : template });
    await migrate(db);
    return { db, dataDir: opts.dataDir, drop: () => db.close() };
  }
  const name = `polypay_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = PG_URL.replace(/\/[^/?]*(\?|$)/, `/${name}$1`);
  const db = await openDb({ databaseUrl: url, poolSize: 10 });
  await migrate(db);
  return {
    db,
    url,
    async drop() {
      await db.close().catch(() => {});
      const a = new pg.Client({ connectionString: PG_URL });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}
