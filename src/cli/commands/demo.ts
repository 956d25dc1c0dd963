import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Controller } from '../../controller/controller.ts';
import { directQuery } from '../../controller/dns-query.ts';
import { runOverrideCommand, type OverrideCommand } from '../../controller/overrides.ts';
import { loadStack, findProjectDir } from '../../config/load-stack.ts';
import { formatDuration } from '../../domain/duration.ts';
import { UsageError } from '../../domain/errors.ts';
import type { FleetSpec } from '../../domain/fleet-spec.ts';
import { activeOverrides } from '../../domain/override.ts';
import { runningController } from '../running-controller.ts';
import { startEmbeddedDnsServer, type EmbeddedDnsServer } from '../../drivers/local/embedded-dns-server.ts';
import { openZoneStore } from '../../drivers/local/zone-store.ts';
import { createDrivers } from '../../drivers/registry.ts';
import { queryDns } from '../../dns/dns-client.ts';
import { FileStateStore } from '../../state/file-state-store.ts';
import { siteServer, type SiteServer } from '../demo/site-server.ts';
import { STEP_TITLES } from '../demo/demo-timeline.ts';

const ADDRS = ['127.0.0.11', '127.0.0.12', '127.0.0.13'];
const SPIN = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('Watch flotilla save a site, on this machine only: three local mirrors, the embedded DNS server, a failover, a digest catch, a drain.')
    .option('--keep', "leave everything running after the timeline: ask the DNS server, open the status page, drain and undrain with `flotilla drain local-b --stack local` (the demo then works on the stack's own state); Ctrl-C stops")
    .option('--stack <name>', 'stack whose site and domain the demo uses', 'local')
    .addHelpText('after', '\nExamples:\n  npx flotilla demo\n  npx flotilla demo --keep\n')
    .action(async (o: { keep?: boolean; stack: string }) => {
      process.exitCode = await runDemo(o);
    });
}

async function runDemo(o: { keep?: boolean; stack: string }): Promise<number> {
  const tty = process.stdout.isTTY === true;
  const t0 = Date.now();
  const stamp = () => `+${((Date.now() - t0) / 1000).toFixed(2).padStart(6)}s`;
  const say = (line: string) => process.stdout.write(`${tty ? '\r\x1b[K' : ''}${stamp()}  ${line}\n`);
  const base = await loadStack({ stack: o.stack, cwd: findProjectDir() });
  const workDir = mkdtempSync(join(tmpdir(), 'flotilla-demo-'));
  // with --keep the responder's CLI must reach this demo: it works on the stack's own state, so
  // `flotilla drain NAME --stack <stack>` takes effect; without --keep nothing of the stack is touched
  const shared = o.keep === true && base.state.kind === 'file';
  const stateDir = shared ? base.state.path : workDir;
  if (shared) await refuseBusyState(stateDir, base.stack);
  const mirrors: SiteServer[] = [];
  let dns: EmbeddedDnsServer | undefined;
  let controller: Controller | undefined;
  let http: { url: string; close(): Promise<void> } | undefined;
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await controller?.stop().catch(() => undefined);
    await http?.close().catch(() => undefined);
    await dns?.close().catch(() => undefined);
    await Promise.all(mirrors.map((m) => m.kill()));
    rmSync(workDir, { recursive: true, force: true });
  };
  const onSigint = () => {
    say('interrupted: stopping everything the demo started');
    void cleanup().then(() => process.exit(130));
  };
  process.once('SIGINT', onSigint);
  process.once('SIGTERM', onSigint);

  try {
    // mirrors on three loopback addresses sharing one port (DNS carries addresses, not ports)
    const port = await commonPort();
    for (const host of ADDRS) {
      const m = siteServer({ host, port, contentDir: base.site.contentDir });
      await m.start();
      mirrors.push(m);
    }
    const zones = openZoneStore(join(workDir, 'zones'));
    await zones.ensureZone(base.domain);
    dns = await listenFirst([5353, 0], (p) => startEmbeddedDnsServer({ listen: '127.0.0.1', port: p, store: zones }));
    const spec: FleetSpec = {
      ...base,
      mirrors: base.mirrors.slice(0, 3).map((m, i) => ({ ...m, ipv4: ADDRS[i], ipv6: undefined, health: { ...(m.health ?? {}), port } })),
      dnsProviders: [{ name: 'embedded', kind: 'local', settings: { listen: '127.0.0.1', port: dns.port, zoneDir: join(workDir, 'zones') } }],
      health: { ...base.health, intervalMs: 250, timeoutMs: 200, fall: 3, rise: 2 },
      canaries: [{ target: dns.address }],
      state: { kind: 'file', path: stateDir, endpoints: [] },
    };
    const a = spec.mirrors[0].name;
    const store = new FileStateStore(stateDir);
    controller = new Controller({ spec, store, drivers: await createDrivers(spec.dnsProviders, { env: process.env, stateDir: workDir }), query: directQuery, overridePollMs: 100, resyncMs: 2000 });
    // the banner first: the controller's lines belong under the steps
    say(`flotilla demo: site "${spec.site.name}" as ${spec.domain}, mirrors ${spec.mirrors.map((m, i) => `${m.name}=${ADDRS[i]}:${port}`).join(', ')}`);
    say(`embedded DNS server on ${dns.address}; ask it yourself:  dig @127.0.0.1 -p ${dns.port} ${spec.domain} A +short`);
    say(`health: every ${formatDuration(spec.health.intervalMs)}, timeout ${formatDuration(spec.health.timeoutMs)}, fall ${spec.health.fall}, rise ${spec.health.rise}`);
    say(digestLine(spec));
    if (shared) say(`state: ${stateDir} (the ${spec.stack} stack's own, so \`flotilla drain|undrain|status --stack ${spec.stack}\` act on this demo)`);
    let verifiedAt = 0;
    controller.on('audit', (e) => {
      if (e.kind === 'verify') verifiedAt = e.at;
      if (['flip', 'decision', 'verify', 'override', 'override-expired', 'fail-open', 'fail-static', 'apply-error'].includes(e.kind)) say(`  · ${e.kind}: ${e.message}`);
    });
    try {
      const { startHttpServer } = await import('../../server/http-server.ts');
      http = await listenFirst([spec.server.port, 0], (p) => startHttpServer({ controller: controller!, commands: controller!, listen: '127.0.0.1', port: p, token: process.env[spec.server.tokenEnv] ?? 'demo-token' }));
      say(`status page: ${http.url}/${process.env[spec.server.tokenEnv] ? '' : '  (API token for the drain buttons: demo-token)'}`);
    } catch (e) {
      say(`(status page not started: ${(e as Error).message})`);
    }
    await controller.start();

    const answer = async () => {
      const r = await queryDns({ server: dns!.address, name: spec.domain, type: 'A', timeoutMs: 300 });
      return r.ok ? r.answers.filter((x) => x.type === 'A').map((x) => x.value).sort() : [];
    };
    const step = async (n: number, act: () => Promise<void> | void, want: (v: string[]) => boolean, timeoutMs: number) => {
      say(`step ${n}/${STEP_TITLES.length}: ${STEP_TITLES[n - 1]}`);
      const s0 = performance.now();
      const actedAt = Date.now();
      await act();
      let i = 0;
      for (;;) {
        const v = await answer();
        // done when the answer is right AND the controller verified it, so its verify line prints under this step
        if (want(v) && verifiedAt >= actedAt) {
          say(`  ✓ ${spec.domain} A → ${v.join(', ')}   (${Math.round(performance.now() - s0)}ms, by a real DNS query)`);
          return;
        }
        if (performance.now() - s0 > timeoutMs) throw new StepFailed(n, `after ${formatDuration(timeoutMs)} the DNS answer is still ${v.join(', ') || '(empty)'}`);
        if (tty && i++ % 3 === 0) process.stdout.write(`\r\x1b[K${SPIN[i % SPIN.length]} waiting… answer now ${v.join(', ')}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const has = (ips: string[]) => (v: string[]) => v.join(',') === [...ips].sort().join(',');
    // the responders' one override path (audit first, then the version-checked save), as `flotilla drain` runs it
    const override = async (cmd: OverrideCommand) => {
      const r = await runOverrideCommand({ store, spec, audit: (e) => store.append(e), live: () => ({ health: controller!.health, lastGood: controller!.lastGood }) }, cmd);
      say(`  · override: ${r.message}`);
    };

    const allUp = () => spec.mirrors.every((m) => controller!.health[m.name]?.state === 'up');
    await step(1, () => {}, (v) => has(ADDRS)(v) && allUp(), 10_000);
    await step(2, () => mirrors[1].kill(), has([ADDRS[0], ADDRS[2]]), 5_000);
    await step(3, () => mirrors[2].tamper(true), has([ADDRS[0]]), 5_000);
    await step(4, async () => { await mirrors[1].start(); mirrors[2].tamper(false); }, has(ADDRS), 10_000);
    await step(5, () => override({ kind: 'drain', mirror: a, reason: 'demo: maintenance', author: 'demo', for: '10m' }), has([ADDRS[1], ADDRS[2]]), 5_000);
    await step(6, () => override({ kind: 'undrain', mirror: a, author: 'demo' }), has(ADDRS), 5_000);
    say('every step behaved as expected.');
    await httpsStep(spec, controller, say, workDir);
    if (o.keep) {
      say(`still running (--keep). Try: dig @127.0.0.1 -p ${dns.port} ${spec.domain} A +short${http ? `, open ${http.url}/` : ''}`);
      if (shared) say(`drain by hand: npx flotilla drain ${spec.mirrors[1].name} --stack ${spec.stack} --reason "trying it"  (undrain: npx flotilla undrain ${spec.mirrors[1].name} --stack ${spec.stack})`);
      say(`stop: Ctrl-C, or kill ${process.pid}`);
      await new Promise(() => {});
    }
    return 0;
  } catch (e) {
    if (e instanceof StepFailed) {
      say(`✗ step ${e.step} (${STEP_TITLES[e.step - 1]}) failed: ${e.message}`);
      return 1;
    }
    say(`✗ the demo could not run: ${(e as Error).message}`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    await cleanup();
  }
}

/** The two digests the demo talks about, named apart: the site's identity, and what a probe of one path compares. */
function digestLine(spec: FleetSpec): string {
  const path = spec.health.path.split(/[?#]/)[0];
  const file = spec.site.files[path];
  const probed = file === undefined ? `no file at ${path}, so probes check no digest` : `probes compare the body of ${path} with that file's sha256 ${file.slice(0, 8)}..`;
  return `site digest ${spec.site.digest.slice(0, 12)}… (every file of ${spec.site.contentDir}); ${probed}`;
}

/**
 * The demo may share a stack's state only when nothing else uses it: no controller running on it (it would fight
 * the demo's) and no open override (the demo's steps would not show what they say). Nothing is changed or removed.
 */
async function refuseBusyState(stateDir: string, stack: string): Promise<void> {
  const st = await new FileStateStore(stateDir).load();
  const now = Date.now();
  const c = runningController(st, now);
  if (c) {
    throw new UsageError(`a flotilla controller (pid ${c.pid} on ${c.host}) is running on the ${stack} stack's state in ${stateDir}; stop it, or run the demo without --keep`);
  }
  const open = activeOverrides(st.overrides, now);
  if (open.length > 0) {
    throw new UsageError(`the ${stack} stack's state in ${stateDir} has open overrides (${open.map((x) => `${x.kind} ${x.mirror} by ${x.author}`).join('; ')}); clear them with \`flotilla clear MIRROR --stack ${stack}\`, or run the demo without --keep`);
  }
}

/** HTTPS: a certificate for the site from a local pebble over DNS-01 at the embedded server (skipped without pebble). */
async function httpsStep(spec: FleetSpec, controller: Controller, say: (line: string) => void, secretsDir: string): Promise<void> {
  const { startLocalPebble } = await import('../../certs/local-pebble.ts');
  const dns = spec.dnsProviders[0].settings;
  const pebble = await startLocalPebble(`127.0.0.1:${dns.port}`);
  if (!pebble) {
    say('https: skipped: pebble (the test ACME CA) is not installed (apt-get install pebble)');
    return;
  }
  try {
    const [{ runCertJob }, { CertStore }, { FileSecretStore }] = await Promise.all([import('../../certs/cert-job.ts'), import('../../certs/cert-store.ts'), import('../../state/secret-store.ts')]);
    say(`https: a certificate for ${[spec.domain, ...spec.alternateDomains].join(', ')} from a local pebble, DNS-01 at the embedded server`);
    const certs = { directory: pebble.directoryUrl, renewAt: 2 / 3, verifyTimeoutMs: 10_000, checkIntervalMs: 3_600_000, deploy: { dir: '/', nginxConf: '/', webRoot: '/', nginx: 'nginx' } };
    const r = await runCertJob('issue', {
      spec: { ...spec, certs },
      drivers: controller.drivers,
      query: directQuery,
      // the demo's own work dir: a demo certificate never lands in a stack's secrets area
      store: new CertStore(new FileSecretStore(secretsDir)),
      audit: (e) => controller.audit(e),
      directoryCa: pebble.listenerCa,
      deploy: async () => [],
      log: (l) => say(`  · ${l}`),
    });
    if (r.action === 'issued') say(`  ✓ issued: serial ${r.issued.serial}, expires ${new Date(r.issued.notAfter).toISOString()}; key and chain kept in the secrets area (0600 files)`);
    else say(`  ✗ https: no certificate: ${r.action === 'failed' ? r.reason : r.action}`);
  } finally {
    await pebble.stop();
  }
}

class StepFailed extends Error {
  constructor(readonly step: number, message: string) {
    super(message);
  }
}

/** A port free on all three mirror addresses: 18080 when free, else one the kernel picks. */
async function commonPort(): Promise<number> {
  for (const candidate of [18080, 0, 0, 0, 0]) {
    const started: SiteServer[] = [];
    try {
      let port = candidate;
      for (const host of ADDRS) {
        const s = siteServer({ host, port, contentDir: '/' });
        await s.start();
        started.push(s);
        port = s.port;
      }
      return port;
    } catch {
      /* taken on one address: try another */
    } finally {
      await Promise.all(started.map((s) => s.kill()));
    }
  }
  throw new Error('no port free on all of 127.0.0.11-13');
}

async function listenFirst<T>(ports: number[], start: (port: number) => Promise<T>): Promise<T> {
  let last: unknown;
  for (const p of ports) {
    try {
      return await start(p);
    } catch (e) {
      last = e;
    }
  }
  throw last;
}
