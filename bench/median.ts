import { readFileSync } from 'node:fs';
import { TARGETS, type Figures } from './report.ts';

/**
 * Medians over several runs (`npm run bench -- --json runN.json`, then
 * `node --import tsx bench/median.ts run1.json run2.json run3.json`): this machine is noisy, so
 * docs/benchmarks.md quotes medians. Each ratio is taken within its own run (against the ceilings
 * measured in that run) before the median, never against another run's ceilings.
 */

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write('usage: node --import tsx bench/median.ts run1.json run2.json …\n');
  process.exit(2);
}
const runs = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as Figures);

const median = (xs: number[]): number => {
  const s = xs.slice().sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const figures: Array<[name: string, unit: string, value: (x: Figures) => number, ceiling: (x: Figures) => number, digits: number]> = [
  ['create-order', 'orders/s', (x) => x.create.saturation.perSecond, (x) => x.derived.order.shared, 0],
  ['added-latency-p50', 'ms', (x) => x.added.p50, () => TARGETS.addedP50Ms, 2],
  ['added-latency-p99', 'ms', (x) => x.added.p99, () => TARGETS.addedP99Ms, 2],
  ['callbacks', 'callbacks/s', (x) => x.callbacks.perSecond, (x) => x.derived.callback.shared, 0],
  ['notifications', 'notifications/s', (x) => x.notifications.perSecond, (x) => x.derived.notification.shared, 0],
  ['rss', 'MB', (x) => x.rss.peakMb, () => TARGETS.rssMb, 0],
];

process.stdout.write(`medians of ${runs.length} runs (${runs.map((r) => r.date).join(', ')})\n`);
for (const [name, unit, value, ceiling, digits] of figures) {
  const values = runs.map(value);
  const ratios = runs.map((r) => value(r) / ceiling(r));
  process.stdout.write(`${name}: ${median(values).toFixed(digits)} ${unit} (ratio to ceiling: ${median(ratios).toFixed(2)}; runs: ${values.map((v) => v.toFixed(digits)).join(', ')})\n`);
}
