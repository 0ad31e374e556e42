import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../../helpers/stack.ts';

/**
 * A throwaway PostgreSQL cluster for the database-loss scenario, so that the machine's shared
 * server (127.0.0.1:5432, used by other test runs) is never restarted. initdb refuses to run as
 * root, so the cluster belongs to the `postgres` user (runuser); it listens on 127.0.0.1 and a
 * socket in its own temporary directory, and is deleted afterwards.
 */
export interface ThrowawayCluster {
  port: number;
  url: string;
  /** `pg_ctl stop -m immediate`: the server dies without a checkpoint, like a crash. */
  kill(): void;
  start(): void;
  destroy(): void;
}

function binDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : null;
}

/** Why the cluster cannot be made here, or null when it can. */
export function clusterUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (to run initdb as the postgres user)';
  if (!binDir()) return 'no PostgreSQL server binaries under /usr/lib/postgresql';
  try {
    execFileSync('id', ['postgres'], { stdio: 'ignore' });
  } catch {
    return 'no postgres user';
  }
  return null;
}

export async function startThrowawayCluster(): Promise<ThrowawayCluster> {
  const bin = binDir() as string;
  const dir = mkdtempSync(join(tmpdir(), 'polypay-faults-pg-'));
  const data = join(dir, 'data');
  const port = await freePort();
  execFileSync('chown', ['postgres:postgres', dir]);
  const asPostgres = (cmd: string, args: string[]) => execFileSync('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  asPostgres('initdb', ['-D', data, '--auth=trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync']);
  const cluster: ThrowawayCluster = {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/polypay`,
    start() {
      asPostgres('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=60`, 'start']);
    },
    kill() {
      asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    },
    destroy() {
      try {
        asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  cluster.start();
  const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
  await admin.connect();
  await admin.query('CREATE DATABASE polypay');
  await admin.end();
  return cluster;
}
