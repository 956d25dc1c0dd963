/**
 * `node --import tsx bench/cli-start.ts [--before REF] [--runs N]`: how long `flotilla --help`, `status`, `drain` and
 * `failover` take from exec to exit, in three ways run in turn (source, before, now, source, ...) so drift of a shared
 * machine hits all alike:
 * - now: this tree's bin/flotilla.mjs running its bundle (dist/bundle/main.cjs with its V8 code cache, `npm run build`;
 *   the warm-up run writes the cache, as a user's first run of each command does);
 * - before: REF (default 4700ec6, the last commit that ran dist/cli/ module by module, etcd3 loaded for every stack),
 *   built here with its own bin/build-dist.mjs;
 * - sources: this tree through tsx (FLOTILLA_FROM_SOURCE=1), what every start cost before dist/ existed;
 * - bare node: `node -e 0`, the floor no Node command goes below on this machine (its own row, and now / bare node).
 * Prints min and median wall ms of each, the median of the pairwise ratios now / before, now / sources and now / bare
 * node, user+sys
 * CPU and peak RSS from /usr/bin/time, and the load average (the machine is shared). All run in one temp project
 * (the local stack, its own state).
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRef } from './lib/build-ref.ts';

const REPO = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const ref = opt('--before', '4700ec6');
const runs = Number(opt('--runs', '5'));

const newestMtime = (dir: string): number => Math.max(statSync(dir).mtimeMs, ...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newestMtime(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs)));
const bundle = join(REPO, 'dist', 'bundle', 'main.cjs');
if (!existsSync(bundle) || newestMtime(join(REPO, 'src')) > statSync(bundle).mtimeMs) throw new Error('dist/bundle/ is missing or older than src/: run `npm run build` first');
const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');
const loadAtStart = load();

const work = mkdtempSync(join(tmpdir(), 'flotilla-cli-start-'));
const before = buildRef(REPO, ref, join(work, 'before'));
const project = join(work, 'project');
mkdirSync(join(project, 'stacks'), { recursive: true });
copyFileSync(join(REPO, 'Pulumi.yaml'), join(project, 'Pulumi.yaml'));
copyFileSync(join(REPO, 'stacks', 'Pulumi.local.yaml'), join(project, 'stacks', 'Pulumi.local.yaml'));
symlinkSync(join(REPO, 'site'), join(project, 'site'));

const commands = [
  ['--help'],
  ['status', '--stack', 'local'],
  ['drain', 'local-b', '--stack', 'local', '--reason', 'bench', '--for', '10m'],
  ['failover', '--to', 'local-a', '--stack', 'local', '--reason', 'bench', '--for', '10m'],
];
const hasTime = existsSync('/usr/bin/time');
const WAYS = {
  sources: { argv: [join(REPO, 'bin', 'flotilla.mjs')], env: { FLOTILLA_FROM_SOURCE: '1' } },
  before: { argv: [join(before, 'bin', 'flotilla.mjs')], env: { FLOTILLA_FROM_SOURCE: '' } },
  now: { argv: [join(REPO, 'bin', 'flotilla.mjs')], env: { FLOTILLA_FROM_SOURCE: '' } },
  bare: { argv: ['-e', '0'], env: {} },
};
type Way = keyof typeof WAYS;

interface Run { ms: number; cpuS: number; rssMiB: number; code: number }
function once(way: Way, argv: string[]): Promise<Run> {
  const out = join(work, 'time.txt');
  const { env } = WAYS[way];
  const nodeArgs = way === 'bare' ? WAYS.bare.argv : [...WAYS[way].argv, ...argv];
  const cmd = hasTime ? ['/usr/bin/time', '-f', '%U %S %M', '-o', out, process.execPath, ...nodeArgs] : [process.execPath, ...nodeArgs];
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd[0], cmd.slice(1), { cwd: project, stdio: 'ignore', env: { ...process.env, ...env } });
    child.once('error', reject);
    child.once('exit', (code) => {
      const ms = performance.now() - t0;
      const [u, s, kb] = hasTime ? readFileSync(out, 'utf8').trim().split('\n').pop()!.split(' ').map(Number) : [NaN, NaN, NaN];
      resolve({ ms, cpuS: u + s, rssMiB: kb / 1024, code: code ?? -1 });
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const min = (xs: number[]) => Math.min(...xs);
const rows: string[][] = [];
const bareRuns: Run[] = [];
try {
  for (const argv of commands) {
    const r: Record<Way, Run[]> = { sources: [], before: [], now: [], bare: [] };
    for (const way of Object.keys(WAYS) as Way[]) await once(way, argv); // warm-up: file cache, tsx's cache
    for (let i = 0; i < runs; i++) for (const way of Object.keys(WAYS) as Way[]) r[way].push(await once(way, argv));
    // the same work is timed only when it ends the same way each run; a behaviour change between the versions is said
    const codes = (rs: Run[]) => [...new Set(rs.map((x) => x.code))];
    for (const way of Object.keys(WAYS) as Way[]) if (codes(r[way]).length > 1) throw new Error(`flotilla ${argv.join(' ')} (${way}): exit codes vary between runs`);
    if (codes(r.now)[0] !== codes(r.before)[0]) process.stderr.write(`note: flotilla ${argv.join(' ')} exits ${codes(r.before)[0]} before, ${codes(r.now)[0]} now\n`);
    const ms = (way: Way) => `${min(r[way].map((x) => x.ms)).toFixed(0)} / ${median(r[way].map((x) => x.ms)).toFixed(0)}`;
    const ratio = (way: Way) => `${median(r.now.map((x, i) => x.ms / r[way][i].ms)).toFixed(2)}×`;
    const each = (f: (x: Run[]) => string) => (['sources', 'before', 'now'] as Way[]).map((w) => f(r[w])).join(' / ');
    bareRuns.push(...r.bare);
    rows.push([`flotilla ${argv[0]}`, ms('sources'), ms('before'), ms('now'), ms('bare'), ratio('before'), ratio('sources'), ratio('bare'),
      each((x) => median(x.map((y) => y.cpuS)).toFixed(2)), each((x) => median(x.map((y) => y.rssMiB)).toFixed(0))]);
    process.stderr.write(`${rows.at(-1)!.join('  ')}\n`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(`node ${process.version}, ${runs} runs of each, load average (1/5/15 min) ${loadAtStart} at the start, ${load()} at the end`);
console.log('');
console.log(`| command | sources via tsx wall ms min / median | before (${ref}) min / median | now (dist/bundle/) min / median | bare \`node -e 0\` in the same rounds min / median | now / before (median of pairs) | now / sources | now / bare node | CPU s sources / before / now | peak RSS MiB sources / before / now |`);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
const bareMs = bareRuns.map((x) => x.ms);
console.log(`| bare node (\`node -e 0\`, all rounds) | | | | ${min(bareMs).toFixed(0)} / ${median(bareMs).toFixed(0)} | | | 1× | ${median(bareRuns.map((x) => x.cpuS)).toFixed(2)} | ${median(bareRuns.map((x) => x.rssMiB)).toFixed(0)} |`);
