/**
 * `node --import tsx bench/cli-start.ts [--before REF] [--runs N]`: how long `flotilla --help`, `status`, `drain` and
 * `failover` take from exec to exit, now (bin/flotilla.mjs running dist/) against REF (default 6e42463, the last
 * commit that compiled every start through tsx and imported every command), run in turn (before, after, before, ...)
 * so drift of a shared machine hits both alike. Prints median wall ms of each and the median of the pairwise ratios,
 * plus user+sys CPU and peak RSS from /usr/bin/time. Both run in one temp project (the local stack, its own state).
 */
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPO = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const ref = opt('--before', '6e42463');
const runs = Number(opt('--runs', '5'));

if (!existsSync(join(REPO, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is not built: run `npm run build` first');
const work = mkdtempSync(join(tmpdir(), 'flotilla-cli-start-'));
const before = join(work, 'before');
mkdirSync(before);
execFileSync('sh', ['-c', `git -C "${REPO}" archive ${ref} | tar -x -C "${before}"`]);
symlinkSync(realpathSync(join(REPO, 'node_modules')), join(before, 'node_modules'));
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

interface Run { ms: number; cpuS: number; rssMiB: number; code: number }
function once(bin: string, argv: string[]): Promise<Run> {
  const out = join(work, 'time.txt');
  const cmd = hasTime ? ['/usr/bin/time', '-f', '%U %S %M', '-o', out, process.execPath, bin, ...argv] : [process.execPath, bin, ...argv];
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd[0], cmd.slice(1), { cwd: project, stdio: 'ignore', env: { ...process.env, FLOTILLA_FROM_SOURCE: '' } });
    child.once('error', reject);
    child.once('exit', (code) => {
      const ms = performance.now() - t0;
      const [u, s, kb] = hasTime ? readFileSync(out, 'utf8').trim().split('\n').pop()!.split(' ').map(Number) : [NaN, NaN, NaN];
      resolve({ ms, cpuS: u + s, rssMiB: kb / 1024, code: code ?? -1 });
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const rows: string[][] = [];
try {
  for (const argv of commands) {
    const a: Run[] = [];
    const b: Run[] = [];
    await once(join(before, 'bin', 'flotilla.mjs'), argv); // warm-up: file cache, tsx's cache
    await once(join(REPO, 'bin', 'flotilla.mjs'), argv);
    for (let i = 0; i < runs; i++) {
      b.push(await once(join(before, 'bin', 'flotilla.mjs'), argv));
      a.push(await once(join(REPO, 'bin', 'flotilla.mjs'), argv));
    }
    // the same work is timed only when it ends the same way each run; a behaviour change between the versions is said
    const codes = (rs: Run[]) => [...new Set(rs.map((r) => r.code))];
    if (codes(a).length > 1 || codes(b).length > 1) throw new Error(`flotilla ${argv.join(' ')}: exit codes vary between runs`);
    if (codes(a)[0] !== codes(b)[0]) process.stderr.write(`note: flotilla ${argv.join(' ')} exits ${codes(b)[0]} before, ${codes(a)[0]} now\n`);
    const ratio = median(a.map((r, i) => r.ms / b[i].ms));
    rows.push([`flotilla ${argv[0]}`, median(b.map((r) => r.ms)).toFixed(0), median(a.map((r) => r.ms)).toFixed(0), `${ratio.toFixed(2)}×`,
      `${median(b.map((r) => r.cpuS)).toFixed(2)} / ${median(a.map((r) => r.cpuS)).toFixed(2)}`, `${median(b.map((r) => r.rssMiB)).toFixed(0)} / ${median(a.map((r) => r.rssMiB)).toFixed(0)}`]);
    process.stderr.write(`${rows.at(-1)!.join('  ')}\n`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(`| command | before (${ref}) wall ms | now wall ms | now / before (median of ${runs} pairs) | CPU s before / now | peak RSS MiB before / now |`);
console.log('| --- | --- | --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
