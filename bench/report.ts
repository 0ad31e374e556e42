import type { CpuShares } from './processes.ts';
import type { Ceilings } from './ceilings.ts';
import { type OpenLoopResult, type SaturationResult, percentile } from './load.ts';

/**
 * The report: a table, the CPU use of each phase, the ceiling formula, and one closing line per
 * figure — `name: value unit (ratio to ceiling: x.xx)`.
 */

/** What one operation costs the machine, in the units the ceilings are measured in. */
export const PER_ORDER = { signs: 2, verifies: 2, commits: 2, hops: 2 }; // gateway signs the request, simulator signs its answer; each verifies the other; INSERT + INIT→PAYING; client→gateway→simulator
export const PER_CALLBACK = { signs: 0, verifies: 1, commits: 1, hops: 1 }; // verify; PAYING→SUCCESS + outbox row in one transaction; simulator→gateway
export const PER_NOTIFICATION = { signs: 0, verifies: 0, commits: 1, hops: 1 }; // the delivery's result (the claim is batched); gateway→merchant
export const TARGETS = { createOrderRatio: 0.6, addedP50Ms: 2, addedP99Ms: 10, callbacksPerSecond: 2000, rssMb: 250 };

type Cost = typeof PER_ORDER;

/**
 * Every ceiling was measured on the whole machine (both cores), and all of them burn the same two
 * cores, so the costs of one operation add up: ceiling = 1 / Σ (units ÷ rate). The looser
 * min(rate ÷ units) — as if each resource had its own machine — is printed beside it.
 */
export function ceilingOf(c: Ceilings, cores: number, cost: Cost): { shared: number; independent: number } {
  const terms: Array<[number, number]> = [
    [cost.signs, c.signsPerCore * cores],
    [cost.verifies, c.verifiesPerCore * cores],
    [cost.commits, c.commitsPerSecond],
    [cost.hops, c.bareReqPerSecond],
  ];
  const used = terms.filter(([units]) => units > 0);
  const shared = 1 / used.reduce((sum, [units, rate]) => sum + units / rate, 0);
  const independent = Math.min(...used.map(([units, rate]) => rate / units));
  return { shared, independent };
}

export interface LatencySummary {
  n: number;
  failed: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export function summarize(r: OpenLoopResult): LatencySummary {
  return { n: r.sorted.length, failed: r.failed, p50: percentile(r.sorted, 50), p90: percentile(r.sorted, 90), p99: percentile(r.sorted, 99), max: r.sorted.at(-1) ?? NaN };
}

export interface Figures {
  date: string;
  command: string;
  machine: { cores: number; cpuModel: string; memGiB: number; node: string; database: string; loadavgBefore: string };
  options: { quick: boolean; pglite: boolean; prefill: number; connections: number; pool: number; phaseSeconds: number };
  ceilings: Ceilings;
  create: { saturation: SaturationResult; rate: number; half: LatencySummary };
  direct: { saturation: SaturationResult; half: LatencySummary };
  added: { p50: number; p99: number };
  callbacks: SaturationResult & { n: number };
  notifications: { count: number; distinct: number; badSign: number; perSecond: number; seconds: number };
  rss: { peakMb: number; peakSampledMb: number };
  prefill?: { rows: number; seconds: number; saturation: SaturationResult; half: LatencySummary; direct: LatencySummary; added: { p50: number; p99: number } };
  cpu: Record<string, CpuShares>;
  derived: { order: { shared: number; independent: number }; callback: { shared: number; independent: number }; notification: { shared: number; independent: number } };
}

const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : 'n/a');
const r2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');
const lat = (s: LatencySummary) => `${f(s.p50, 2)} / ${f(s.p90, 2)} / ${f(s.p99, 2)} ms (n ${f(s.n)}, ${s.failed} failed)`;

/** The closing lines, in the format. */
export function figureLines(x: Figures): string[] {
  return [
    `create-order: ${f(x.create.saturation.perSecond)} orders/s (ratio to ceiling: ${r2(x.create.saturation.perSecond / x.derived.order.shared)})`,
    `added-latency-p50: ${f(x.added.p50, 2)} ms (ratio to ceiling: ${r2(x.added.p50 / TARGETS.addedP50Ms)})`,
    `added-latency-p99: ${f(x.added.p99, 2)} ms (ratio to ceiling: ${r2(x.added.p99 / TARGETS.addedP99Ms)})`,
    `callbacks: ${f(x.callbacks.perSecond)} callbacks/s (ratio to ceiling: ${r2(x.callbacks.perSecond / x.derived.callback.shared)})`,
    `notifications: ${f(x.notifications.perSecond)} notifications/s (ratio to ceiling: ${r2(x.notifications.perSecond / x.derived.notification.shared)})`,
    `rss: ${f(x.rss.peakMb)} MB (ratio to ceiling: ${r2(x.rss.peakMb / TARGETS.rssMb)})`,
  ];
}

export function formulaText(x: Figures): string {
  const c = x.ceilings;
  const cores = x.machine.cores;
  return [
    `ceiling formula: the measured rates all share the same ${cores} cores, so the costs of one operation add up:`,
    `  ceiling = 1 / (signs ÷ (signs/s × cores) + verifies ÷ (verifies/s × cores) + commits ÷ commits/s + hops ÷ bare req/s)`,
    `  create-order: ${PER_ORDER.signs} signs (gateway request, simulator answer), ${PER_ORDER.verifies} verifies, ${PER_ORDER.commits} commits (insert, INIT→PAYING), ${PER_ORDER.hops} hops (client→gateway→simulator) = ${f(x.derived.order.shared)}/s`,
    `  callbacks: ${PER_CALLBACK.verifies} verify, ${PER_CALLBACK.commits} commit (PAYING→SUCCESS + outbox), ${PER_CALLBACK.hops} hop = ${f(x.derived.callback.shared)}/s`,
    `  notifications: ${PER_NOTIFICATION.commits} commit (attempt result; claims are batched), ${PER_NOTIFICATION.hops} hop = ${f(x.derived.notification.shared)}/s`,
    `  (as if each resource had a machine of its own, min(signs/s × cores ÷ ${PER_ORDER.signs}, commits/s ÷ ${PER_ORDER.commits}, bare req/s ÷ ${PER_ORDER.hops}) = ${f(Math.min(c.signsPerCore * cores / PER_ORDER.signs, c.commitsPerSecond / PER_ORDER.commits, c.bareReqPerSecond / PER_ORDER.hops))}/s for create-order: ratio ${r2(x.create.saturation.perSecond / x.derived.order.independent)})`,
    `  latency and RSS: the "ceiling" is the target (added latency ${TARGETS.addedP50Ms} ms p50 and ${TARGETS.addedP99Ms} ms p99 at half load, RSS ${TARGETS.rssMb} MB), so ≤ 1.00 meets it;`,
    `  targets: create-order ≥ ${TARGETS.createOrderRatio.toFixed(2)} of its ceiling, callbacks ≥ ${f(TARGETS.callbacksPerSecond)}/s.`,
  ].join('\n');
}

export function renderReport(x: Figures): string {
  const c = x.ceilings;
  const rows: Array<[string, string]> = [
    ['RSA-2048 SHA-256 signs/s per core (Node, KeyObject, sync)', f(c.signsPerCore)],
    ['RSA-2048 SHA-256 verifies/s per core', f(c.verifiesPerCore)],
    [`bare Fastify route req/s (own process, autocannon -c ${x.options.connections})`, f(c.bareReqPerSecond)],
    [`${x.options.pglite ? 'PGlite' : 'PostgreSQL'} single-row INSERT+COMMIT/s (pool ${x.options.pglite ? 1 : x.options.pool}, ${x.options.connections} callers)`, f(c.commitsPerSecond)],
    [`create-order at saturation (autocannon -c ${x.options.connections}, ${f(x.create.saturation.seconds, 1)} s)`, `${f(x.create.saturation.perSecond)} orders/s (${f(x.create.saturation.ok)} ok, ${x.create.saturation.failed + x.create.saturation.errors} failed)`],
    ['create-order ceiling (shared cores / independent)', `${f(x.derived.order.shared)} / ${f(x.derived.order.independent)} orders/s`],
    [`create-order latency at ${x.create.rate}/s, p50 / p90 / p99`, lat(x.create.half)],
    ['direct to the simulator at saturation', `${f(x.direct.saturation.perSecond)} orders/s (${x.direct.saturation.failed + x.direct.saturation.errors} failed)`],
    [`direct latency at ${x.create.rate}/s, p50 / p90 / p99`, lat(x.direct.half)],
    ['gateway ÷ direct throughput', r2(x.create.saturation.perSecond / x.direct.saturation.perSecond)],
    ['gateway-added latency p50 / p99', `${f(x.added.p50, 2)} / ${f(x.added.p99, 2)} ms`],
    [`callbacks (${f(x.callbacks.n)} pre-signed, -c ${x.options.connections})`, `${f(x.callbacks.perSecond)}/s (${f(x.callbacks.ok)} accepted, ${x.callbacks.failed + x.callbacks.errors} refused or failed, ${f(x.callbacks.seconds, 2)} s)`],
    ['callback ceiling (shared / independent)', `${f(x.derived.callback.shared)} / ${f(x.derived.callback.independent)}/s`],
    ['merchant notifications delivered', `${f(x.notifications.perSecond)}/s (${f(x.notifications.count)} in ${f(x.notifications.seconds, 2)} s, ${f(x.notifications.distinct)} distinct orders, ${x.notifications.badSign} bad signs)`],
    ['notification ceiling (shared / independent)', `${f(x.derived.notification.shared)} / ${f(x.derived.notification.independent)}/s`],
    ['gateway peak RSS (VmHWM; highest sampled VmRSS)', `${f(x.rss.peakMb)} MB (${f(x.rss.peakSampledMb)} MB)`],
  ];
  if (x.prefill) {
    const p = x.prefill;
    rows.push(
      [`prefill: ${f(p.rows)} orders inserted`, `${f(p.seconds, 1)} s`],
      ['create-order at saturation after prefill', `${f(p.saturation.perSecond)} orders/s (${p.saturation.failed + p.saturation.errors} failed)`],
      [`create-order latency at ${x.create.rate}/s after prefill`, lat(p.half)],
      [`direct latency at ${x.create.rate}/s after prefill`, lat(p.direct)],
      ['gateway p99 after ÷ before prefill', r2(p.half.p99 / x.create.half.p99)],
      ['gateway-added latency after prefill p50 / p99', `${f(p.added.p50, 2)} / ${f(p.added.p99, 2)} ms`],
    );
  }
  const out: string[] = [];
  out.push('');
  out.push(`${x.date} — ${x.machine.cores} × ${x.machine.cpuModel}, ${x.machine.memGiB} GiB, Node ${x.machine.node}, ${x.machine.database}; load average before the run: ${x.machine.loadavgBefore}`);
  out.push(`command: ${x.command}`);
  out.push('');
  out.push('| figure | value |');
  out.push('|---|---|');
  for (const [k, v] of rows) out.push(`| ${k} | ${v} |`);
  out.push('');
  const groups = [...new Set(Object.values(x.cpu).flatMap((s) => Object.keys(s.byGroup)))];
  out.push(`CPU use per phase, in cores (the machine has ${x.machine.cores}); "others" is everything on the machine that is not this run:`);
  out.push('');
  out.push(`| phase | s | machine | ${groups.join(' | ')} | others |`);
  out.push(`|---|---|---|${groups.map(() => '---|').join('')}---|`);
  for (const [phase, s] of Object.entries(x.cpu)) out.push(`| ${phase} | ${f(s.seconds, 1)} | ${r2(s.machine)} | ${groups.map((g) => r2(s.byGroup[g] ?? 0)).join(' | ')} | ${r2(s.others)} |`);
  out.push('');
  out.push(formulaText(x));
  out.push('');
  out.push(...figureLines(x));
  return out.join('\n');
}
