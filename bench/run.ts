/**
 * `npm run bench [-- --quick] [-- --only failover,flaky,packet-loss,probes,scale,cluster]`: flotilla side by side with its peers
 * (gdnsd, PowerDNS LUA records, prometheus-blackbox-exporter) in one run on this machine, loopback only.
 * Prints each table, writes bench/results/<name>.json and refreshes the tables in bench/README.md.
 */
import { execFileSync } from 'node:child_process';
import { machineInfo, SITE_DIR, type BenchContext, type BenchOutput } from './lib/context.ts';
import { installCleanup } from './lib/procs.ts';
import { updateReadme, writeResult, type RunMeta } from './lib/report.ts';

const ALL = ['failover', 'flaky', 'packet-loss', 'probes', 'scale', 'cluster'] as const;
type BenchName = (typeof ALL)[number];

function parseArgs(argv: string[]): { quick: boolean; only: BenchName[] } {
  let quick = false;
  let only: BenchName[] = [...ALL];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') quick = true;
    else if (a === '--only' || a.startsWith('--only=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      const names = (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      const bad = names.filter((n) => !(ALL as readonly string[]).includes(n));
      if (bad.length > 0 || names.length === 0) throw new Error(`--only takes a comma-separated list of ${ALL.join(', ')}; got "${v ?? ''}"`);
      only = names as BenchName[];
    } else if (a === '--help' || a === '-h') {
      console.log(`usage: npm run bench -- [--quick] [--only ${ALL.join(',')}]`);
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (try --help)`);
  }
  return { quick, only };
}

async function load(name: BenchName): Promise<(ctx: BenchContext) => Promise<BenchOutput>> {
  switch (name) {
    case 'failover': return (await import('./failover.ts')).runFailover;
    case 'flaky': return (await import('./flaky.ts')).runFlaky;
    case 'packet-loss': return (await import('./flaky.ts')).runPacketLoss;
    case 'probes': return (await import('./probes.ts')).runProbes;
    case 'scale': return (await import('./scale.ts')).runScale;
    case 'cluster': return (await import('./cluster.ts')).runCluster;
  }
}

function version(cmd: string, args: string[], re: RegExp): string {
  try {
    const out = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
    return re.exec(out)?.[1] ?? out.split('\n')[0];
  } catch (e) {
    const out = `${(e as { stdout?: string }).stdout ?? ''}${(e as { stderr?: string }).stderr ?? ''}`;
    return re.exec(out)?.[1] ?? 'not installed';
  }
}

async function main(): Promise<void> {
  installCleanup();
  const { quick, only } = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const t0 = performance.now();
  const log = (line: string) => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
  const ctx: BenchContext = { quick, contentDir: SITE_DIR, log };
  const machine = machineInfo();
  log(`bench: ${only.join(', ')}${quick ? ' (quick)' : ''} on ${machine.nproc} × ${machine.model}`);
  const outputs: BenchOutput[] = [];
  for (const name of only) {
    const b0 = performance.now();
    log(`── ${name} ──`);
    const out = await (await load(name))(ctx);
    const peers = {
      gdnsd: version('gdnsd', ['-h'], /gdnsd version (\S+)/),
      'pdns-server': version('pdns_server', ['--version'], /Authoritative Server (\S+)/),
      'prometheus-blackbox-exporter': version('prometheus-blackbox-exporter', ['--version'], /version (\S+)/),
      bind9: version('named', ['-v'], /BIND (\S+)/),
      nginx: version('nginx', ['-v'], /nginx\/(\S+)/),
      etcd: version('etcd', ['--version'], /etcd Version: (\S+)/),
    };
    const meta: RunMeta = {
      command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.replace(/ -- $/, ''),
      date: new Date(started).toISOString().replace(/\.\d+Z$/, 'Z'),
      quick,
      machine,
      durationS: Math.round((performance.now() - b0) / 1000),
      peers,
    };
    const file = writeResult(out, meta);
    updateReadme([out], meta);
    outputs.push(out);
    console.log(`\n## ${name}\n\n${out.markdown}\n`);
    log(`${name} done in ${meta.durationS} s → ${file}`);
  }
  console.log('\n## flotilla / peer\n');
  for (const o of outputs) for (const r of o.ratios) console.log(`${r.behind ? 'BEHIND' : '      '}  ${r.value === undefined ? '–' : r.value.toFixed(2) + '×'}  ${r.what}`);
  log(`bench finished in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  process.exit(0);
}

await main();
