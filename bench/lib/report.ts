/**
 * Writes bench/results/{quick,full}/<name>.json and refreshes the generated parts of bench/README.md: the text
 * between `<!-- bench:NAME-MODE:start -->` and `<!-- bench:NAME-MODE:end -->` is replaced, everything else is left
 * as written.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { BenchOutput, MachineInfo } from './context.ts';
import { BENCH_DIR } from './procs.ts';
import { mdTable } from './stats.ts';

export interface RunMeta {
  command: string;
  date: string;
  quick: boolean;
  machine: MachineInfo;
  durationS: number;
  peers: Record<string, string>;
  /** How loaded the machine was: load averages (1/5/15 min) when the benchmark ended; set by writeResult. */
  load?: string;
}

/** The load averages now, as `1.2 / 3.4 / 5.6`. */
function loadNow(): string {
  return loadavg().map((l) => l.toFixed(1)).join(' / ');
}

const RESULTS = join(BENCH_DIR, 'results');
const README = join(BENCH_DIR, 'README.md');

const mode = (quick: boolean) => (quick ? 'quick' : 'full');

export function writeResult(out: BenchOutput, meta: RunMeta): string {
  const dir = join(RESULTS, mode(meta.quick));
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${out.name}.json`);
  meta.load ??= loadNow();
  writeFileSync(file, JSON.stringify({ meta, ratios: out.ratios, markdown: out.markdown, data: out.data }, null, 2) + '\n');
  return file;
}

/** Every stored result (the latest run of each benchmark). */
function storedResults(): { name: string; meta: RunMeta; ratios: BenchOutput['ratios'] }[] {
  const order = ['failover', 'flaky', 'packet-loss', 'probes', 'scale', 'cluster'];
  return ['full', 'quick'].flatMap((m) => {
    const dir = join(RESULTS, m);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => ({ name: f.replace(/\.json$/, ''), ...(JSON.parse(readFileSync(join(dir, f), 'utf8')) as { meta: RunMeta; ratios: BenchOutput['ratios'] }) }))
      .sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
  });
}

function replaceSection(text: string, name: string, body: string): string {
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const block = `${start}\n${body.trim()}\n${end}`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i >= 0 && j > i) return text.slice(0, i) + block + text.slice(j + end.length);
  return `${text.trimEnd()}\n\n${block}\n`;
}

export function updateReadme(outputs: BenchOutput[], meta: RunMeta): void {
  let text = existsSync(README) ? readFileSync(README, 'utf8') : '# flotilla benchmarks\n';
  for (const out of outputs) {
    const header = `_Latest run: \`${meta.command}\` on ${meta.date} (${meta.quick ? 'quick' : 'full'}), ` +
      `${meta.machine.nproc} × ${meta.machine.model}, ${meta.machine.memoryGiB} GiB, node ${meta.machine.node}, Linux ${meta.machine.kernel}, ` +
      `${meta.durationS} s, load average ${meta.load ?? loadNow()} (1/5/15 min) at the end._\n`;
    text = replaceSection(text, `${out.name}-${mode(meta.quick)}`, `${header}\n${out.markdown}`);
  }
  const all = storedResults();
  const parts: string[] = [
    'Ratios are flotilla / peer, from the stored results of each mode. For times, missing shares and memory, below 1× means flotilla ' +
      'is better; for probes per CPU-second, above 1× (each row says which). Within ±5% counts as equal: failover times are ' +
      'sampled every 20 ms.\n',
  ];
  for (const m of ['full', 'quick']) {
    const results = all.filter((r) => mode(r.meta.quick) === m);
    if (results.length === 0) continue;
    const runs = [...new Set(results.map((r) => `\`${r.meta.command}\` ${r.meta.date}`))];
    parts.push(`**${m === 'full' ? 'Full run' : 'Quick run'}** (${runs.join('; ')})\n`);
    parts.push(mdTable(['comparison', 'ratio', 'verdict'], results.flatMap((r) => r.ratios.map((x) => {
      const known = x.value !== undefined && x.value !== null;
      const equal = known && Math.abs(x.value! - 1) <= 0.05;
      // a ratio within ±5% is a tie whatever the run flagged (failover answers are sampled every 20 ms)
      const verdict = x.verdict ?? (x.behind && !equal ? '**flotilla behind**' : !known ? 'no ratio' : equal ? 'about equal (±5%)' : 'flotilla ahead');
      return [x.what, known ? `${x.value!.toFixed(2)}×` : x.behind ? '∞' : '–', verdict];
    }))));
    parts.push('');
  }
  text = replaceSection(text, 'summary', parts.join('\n'));
  writeFileSync(README, text);
}
