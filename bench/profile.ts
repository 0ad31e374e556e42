import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Summarises a V8 CPU profile (`npm run bench -- --cpu-prof dir` writes one for the gateway, and
 * dir/phases.json with each phase's window on the same monotonic clock): self time by function and
 * by package/source file, over the whole run or over one phase.
 *
 *   node --import tsx bench/profile.ts dir/CPU.….cpuprofile [--phase 'create-order saturation'] [--top 30]
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const args = process.argv.slice(2);
const opt = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const file = args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
const top = Number(opt('--top') ?? 30);
const phase = opt('--phase');
if (!file) {
  process.stderr.write('usage: node --import tsx bench/profile.ts <file.cpuprofile> [--phase name] [--top n]\n');
  process.exit(2);
}
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
let window: { startUs: number; endUs: number } = { startUs: -Infinity, endUs: Infinity };
if (phase) {
  const phases = JSON.parse(readFileSync(join(dirname(file), 'phases.json'), 'utf8')) as Array<{ phase: string; startUs: number; endUs: number }>;
  const w = phases.find((x) => x.phase.startsWith(phase));
  if (!w) throw new Error(`no phase ${phase} in phases.json: ${phases.map((x) => x.phase).join(', ')}`);
  window = w;
}
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
let t = p.startTime;
p.samples.forEach((id, i) => {
  const dt = p.timeDeltas[i] ?? 0;
  t += dt;
  if (t >= window.startUs && t <= window.endUs) self.set(id, (self.get(id) ?? 0) + dt);
});
const total = [...self.values()].reduce((a, b) => a + b, 0);

/** node_modules/<package>, src/<path>, node:<module>, or V8's pseudo-frames ((idle), (garbage collector), (program)). */
function area(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1] as string;
  const src = /\/(src|bench|test)\/(.+)$/.exec(url);
  if (src) return `${src[1]}/${src[2]}`;
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  return url;
}

const fns = new Map<string, number>();
const areas = new Map<string, number>();
for (const [id, us] of self) {
  const n = byId.get(id) as ProfileNode;
  const { functionName, url, lineNumber } = n.callFrame;
  const key = `${functionName || '(anonymous)'}  ${url ? `${url.replace(/^.*\/(node_modules|src|bench)\//, '$1/')}:${lineNumber + 1}` : ''}`;
  fns.set(key, (fns.get(key) ?? 0) + us);
  const a = area(url, functionName);
  areas.set(a, (areas.get(a) ?? 0) + us);
}
// Native and node-internal frames (writev, signOneShot, …) charged to the nearest package or source
// file up their stack: "who caused this work".
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const owners = new Map<string, number>();
for (const [id, us] of self) {
  let cur: number | undefined = id;
  let owner = area(byId.get(id)?.callFrame.url ?? '', byId.get(id)?.callFrame.functionName ?? '');
  while (cur !== undefined) {
    const url = byId.get(cur)?.callFrame.url ?? '';
    if (/node_modules\/|\/(src|bench|test)\//.test(url)) {
      owner = area(url, '');
      break;
    }
    cur = parent.get(cur);
  }
  owners.set(owner, (owners.get(owner) ?? 0) + us);
}

const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)} %`;
const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
process.stdout.write(`${file}${phase ? ` (phase ${phase})` : ''}: ${(total / 1e6).toFixed(1)} s sampled\n\nself time by area:\n`);
for (const [a, us] of [...areas].sort((x, y) => y[1] - x[1]).slice(0, top)) process.stdout.write(`${pct(us)} ${ms(us)}  ${a}\n`);
process.stdout.write(`\nself time charged to the nearest package or source file up the stack:\n`);
for (const [a, us] of [...owners].sort((x, y) => y[1] - x[1]).slice(0, top)) process.stdout.write(`${pct(us)} ${ms(us)}  ${a}\n`);
process.stdout.write(`\nself time by function:\n`);
for (const [k, us] of [...fns].sort((x, y) => y[1] - x[1]).slice(0, top)) process.stdout.write(`${pct(us)} ${ms(us)}  ${k}\n`);
