#!/usr/bin/env node
// Builds the consoles (web/ → dist/web) with Vite when the build is missing or older than its
// sources. `npm start` and `npm test` run it first, so a fresh clone needs no extra step; the
// build output is never committed. `--force` rebuilds anyway.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const web = join(root, 'web');
const out = join(root, 'dist/web');
const stamp = join(out, '.source-hash');

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

/** Sources, the Vite config and the installed dependency versions decide whether the build is current. */
export function sourceHash() {
  const h = createHash('sha256');
  for (const f of files(web).sort()) h.update(f.slice(root.length)).update(readFileSync(f));
  h.update(readFileSync(join(root, 'package-lock.json')));
  return h.digest('hex');
}

export async function buildWeb({ force = false, quiet = false } = {}) {
  const hash = sourceHash();
  const current = existsSync(stamp) && readFileSync(stamp, 'utf8') === hash && existsSync(join(out, 'console/index.html')) && existsSync(join(out, 'merchant/index.html'));
  if (current && !force) return false;
  if (!quiet) console.log('building the consoles (web/ → dist/web) …');
  const started = Date.now();
  const { build } = await import('vite');
  await build({ configFile: join(web, 'vite.config.ts'), logLevel: 'warn' });
  writeFileSync(stamp, hash);
  if (!quiet) console.log(`consoles built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  buildWeb({ force: process.argv.includes('--force') }).catch((err) => {
    console.error(`console build failed: ${err.stack ?? err}`);
    process.exit(1);
  });
}
