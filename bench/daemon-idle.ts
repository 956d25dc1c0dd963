/**
 * `node --import tsx bench/daemon-idle.ts [--before REF] [--runs N] [--settle S] [--mirror up|down]`: the resident
 * memory of an idle `flotilla daemon` (issue #14: ≤ 70 MB), this tree against REF in one run, as a ratio.
 *
 * The daemon is the one a small site runs: one mirror, file state, the embedded DNS server, the status page / API /
 * metrics server on, probing every 2 s. Each run starts it with `node bin/flotilla.mjs daemon -c <stack file>` from a
 * fresh state directory, reads /proc/<pid>/status S seconds (default 15) after the spawn (VmRSS; RssAnon, the heap and
 * malloc; RssFile, the pages of the node binary and libraries it touched; VmHWM, the peak), then stops it (SIGTERM).
 * Nothing scrapes /metrics meanwhile. The ways run in turn (before, now, bare node; the next run in another order) so
 * drift of a shared machine hits all alike:
 * - now: this tree's bin/flotilla.mjs running its bundle (dist/bundle/, `npm run build` first);
 * - before: REF (default ab8ac4c: main before prom-client was replaced), built here with its own bin/build-dist.mjs;
 * - bare node: `node -e 'setInterval(() => {}, 1000)'`, the floor any node daemon starts from.
 * The mirror (the sample site's index.html, served by this process on 127.0.0.11) answers the probes with `--mirror
 * up` (default), refuses them with `--mirror down`. Prints every run, the min / median / max of each way, the median
 * of the pairwise ratios now / before, and the load average (the machine is shared).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/support/ports.ts';
import { buildRef } from './lib/build-ref.ts';

const REPO = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const ref = opt('--before', 'ab8ac4c');
const runs = Number(opt('--runs', '3'));
const settleMs = Number(opt('--settle', '15')) * 1000;
const mirrorUp = opt('--mirror', 'up') === 'up';
const MIRROR_IP = '127.0.0.11';

const newestMtime = (dir: string): number => Math.max(statSync(dir).mtimeMs, ...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newestMtime(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs)));
const bundle = join(REPO, 'dist', 'bundle', 'main.cjs');
if (!existsSync(bundle) || newestMtime(join(REPO, 'src')) > statSync(bundle).mtimeMs) throw new Error('dist/bundle/ is missing or older than src/: run `npm run build` first');
const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');

/** VmRSS, RssAnon, RssFile and VmHWM of a /proc/<pid>/status text, in MiB. Pure. */
function statusMiB(status: string): { rss: number; anon: number; file: number; peak: number } {
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) / 1024;
  return { rss: kib('VmRSS'), anon: kib('RssAnon'), file: kib('RssFile'), peak: kib('VmHWM') };
}

const work = mkdtempSync(join(tmpdir(), 'flotilla-daemon-idle-'));
const before = buildRef(REPO, ref, join(work, 'before'));

const project = join(work, 'project');
mkdirSync(join(project, 'stacks'), { recursive: true });
copyFileSync(join(REPO, 'Pulumi.yaml'), join(project, 'Pulumi.yaml'));
symlinkSync(join(REPO, 'site'), join(project, 'site'));
const body = readFileSync(join(REPO, 'site', 'index.html'));
const mirror = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html', 'content-length': body.length }).end(body));
const mirrorPort = await freePort(MIRROR_IP);
if (mirrorUp) await new Promise<void>((resolve) => mirror.listen(mirrorPort, MIRROR_IP, resolve));

/** The idle stack on fresh ports, state in a fresh directory. */
async function stackFile(): Promise<string> {
  rmSync(join(project, '.flotilla'), { recursive: true, force: true });
  const file = join(project, 'stacks', 'Pulumi.idle.yaml');
  writeFileSync(file, `config:
  flotilla:fleet:
    site: { name: idle, contentDir: site }
    domain: idle.test
    mirrors:
      - { name: m1, provider: local, ipv4: ${MIRROR_IP} }
    dnsProviders:
      - { name: embedded, kind: local, settings: { listen: 127.0.0.1, port: ${await freePort()} } }
    health: { interval: 2s, timeout: 1s, port: ${mirrorPort} }
    state: { kind: file, path: .flotilla/idle }
    server: { listen: 127.0.0.1, port: ${await freePort()} }
`);
  return file;
}

const WAYS = {
  before: (file: string) => [join(before, 'bin', 'flotilla.mjs'), 'daemon', '-c', file],
  now: (file: string) => [join(REPO, 'bin', 'flotilla.mjs'), 'daemon', '-c', file],
  'bare node': () => ['-e', 'setInterval(() => {}, 1000)'],
};
type Way = keyof typeof WAYS;
type Mem = ReturnType<typeof statusMiB>;

const exited = (c: ChildProcess) => new Promise<void>((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve() : c.once('exit', () => resolve())));

async function once(way: Way): Promise<Mem> {
  const file = await stackFile();
  const log = join(work, `${way.replace(' ', '-')}.log`);
  const out = openSync(log, 'w');
  const t0 = Date.now();
  const child = spawn(process.execPath, WAYS[way](file), { cwd: project, stdio: ['ignore', out, out], env: { ...process.env, FLOTILLA_FROM_SOURCE: '' } });
  try {
    await new Promise((r) => setTimeout(r, settleMs - (Date.now() - t0)));
    if (child.exitCode !== null) throw new Error(`${way} exited (${child.exitCode}) before it was measured:\n${readFileSync(log, 'utf8')}`);
    if (way !== 'bare node' && !readFileSync(log, 'utf8').includes('status page')) throw new Error(`${way} did not start its status page within ${settleMs} ms:\n${readFileSync(log, 'utf8')}`);
    return statusMiB(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
  } finally {
    child.kill('SIGTERM');
    await exited(child);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const loadAtStart = load();
const startedAt = new Date().toISOString();
const r: Record<Way, Mem[]> = { before: [], now: [], 'bare node': [] };
try {
  const order = Object.keys(WAYS) as Way[];
  for (let i = 0; i < runs; i++) {
    for (const way of i % 2 === 0 ? order : [...order].reverse()) {
      const m = await once(way);
      r[way].push(m);
      process.stderr.write(`run ${i + 1} ${way}: VmRSS ${m.rss.toFixed(1)} MiB (anon ${m.anon.toFixed(1)}, file ${m.file.toFixed(1)}; peak ${m.peak.toFixed(1)}); load ${load()}\n`);
    }
  }
} finally {
  mirror.close();
  rmSync(work, { recursive: true, force: true });
}
const f = (x: number) => x.toFixed(1);
console.log(`${startedAt}, node ${process.version}, ${runs} runs of each, VmRSS ${settleMs / 1000} s after the spawn, mirror ${mirrorUp ? 'up' : 'down'}, load average (1/5/15 min) ${loadAtStart} at the start, ${load()} at the end`);
console.log('');
console.log('| process | VmRSS MiB, each run | min / median / max | RssAnon median | RssFile median | VmHWM median | now / this (median of pairs) |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const way of Object.keys(WAYS) as Way[]) {
  const rss = r[way].map((m) => m.rss);
  const label = way === 'before' ? `daemon, ${ref}` : way === 'now' ? 'daemon, this tree' : 'bare node';
  const ratio = way === 'now' ? '–' : `${median(r.now.map((m, i) => m.rss / r[way][i].rss)).toFixed(2)}×`;
  console.log(`| ${label} | ${rss.map(f).join(', ')} | ${f(Math.min(...rss))} / ${f(median(rss))} / ${f(Math.max(...rss))} | ${f(median(r[way].map((m) => m.anon)))} | ${f(median(r[way].map((m) => m.file)))} | ${f(median(r[way].map((m) => m.peak)))} | ${ratio} |`);
}
console.log('');
console.log(`70 MB = ${f(70e6 / 2 ** 20)} MiB: median now ${f(median(r.now.map((m) => m.rss)))} MiB, max ${f(Math.max(...r.now.map((m) => m.rss)))} MiB.`);
