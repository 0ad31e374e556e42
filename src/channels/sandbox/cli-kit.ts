import { type Command, InvalidArgumentError } from 'commander';

/**
 * Building blocks of the `sandbox <channel> …` commands and the simulators' standalone entries:
 * option parsers, the admin/payer HTTP call against a running simulator, JSON output.
 */

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer');
  return n;
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError('must be a positive number');
  return n;
}

export interface SandboxConn {
  url: string;
  token?: string;
}

/** One JSON call to a running simulator's /sandbox API; a non-2xx answer is an error naming the route. */
export async function sandboxCall(conn: SandboxConn, method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${conn.url.replace(/\/+$/, '')}${path}`, {
    method,
    headers: { accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(conn.token ? { authorization: `Bearer ${conn.token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

export const printJson = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

/** `--url` (default from `envVar`, then `defaultUrl`) and `--token` (SIM_ADMIN_TOKEN) on a command. */
export function withConn(cmd: Command, envVar: string, defaultUrl: string): Command {
  return cmd.option('--url <url>', 'simulator base URL', process.env[envVar] ?? defaultUrl).option('--token <token>', 'admin bearer token (or SIM_ADMIN_TOKEN)', process.env.SIM_ADMIN_TOKEN);
}

/** The `sandbox` command group: the program itself when it is `sandbox`, else found or created under it. */
export function sandboxGroup(program: Command): Command {
  return program.name() === 'sandbox' ? program : (program.commands.find((c) => c.name() === 'sandbox') ?? program.command('sandbox').description('channel simulators (the sandbox)'));
}

/** A numeric environment variable of a standalone simulator entry. */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got ${raw}`);
  return n;
}
