#!/usr/bin/env node
// The README's test command. Runs every *.test.ts (unit tests beside the code in src/, end-to-end
// tests in test/) in one `node --test` invocation, so the closing `# pass N / # fail N` summary
// covers the whole suite. End-to-end tests run each scenario on embedded PGlite and on the
// PostgreSQL server named by DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test).
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const filters = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--only');

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

let files = [...find('src'), ...(only === 'unit' ? [] : find('test'))].sort();
if (filters.length > 0) files = files.filter((f) => filters.some((x) => f.includes(x)));

const env = { ...process.env };
env.DATABASE_URL_TEST = env.DATABASE_URL_TEST ?? env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
delete env.DATABASE_URL; // tests choose their database leg explicitly
if (only !== 'unit' && env.POLYPAY_TEST_SKIP_PG !== '1') {
  const client = new pg.Client({ connectionString: env.DATABASE_URL_TEST, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.end();
  } catch (err) {
    console.error(`PostgreSQL is not reachable at ${env.DATABASE_URL_TEST} (${err.message}).\n` +
      'Start it (see README "Running the tests") or set POLYPAY_TEST_SKIP_PG=1 to run the embedded-database leg only.');
    process.exit(1);
  }
}

// The console pages are served from their Vite build (browser tests open them): build it if missing or stale.
if (only !== 'unit') await (await import('./build-web.mjs')).buildWeb();

console.log(`running ${files.length} test files${env.POLYPAY_TEST_SKIP_PG === '1' ? ' (PostgreSQL leg skipped)' : ''}`);
// A test that hangs must fail, not hold CI until its deadline: no single test (or suite hook) may
// take more than 20 minutes (the longest, the fault suite's crash scenario, takes about 2 in CI).
const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-timeout=1200000', ...files], { stdio: 'inherit', env });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
