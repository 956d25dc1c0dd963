import { isIP } from 'node:net';
import type { Command } from 'commander';
import { startAlerts } from '../../controller/alerts.ts';
import type { GuardMemory } from '../../delegation/delegation-guard.ts';
import { FlotillaError, UsageError } from '../../domain/errors.ts';
import { redactText } from '../../domain/redact-url.ts';
import type { FleetSpec } from '../../domain/fleet-spec.ts';
import type { MetricRegistry } from '../../domain/metric-registry.ts';
import type { Controller } from '../../controller/controller.ts';
import { buildController, startEmbeddedServers } from '../runtime.ts';
import { specFrom, stackOptions, type StackOpts } from '../common.ts';
import { listenFailure } from '../listen-failure.ts';
import { packageVersion } from '../package-version.ts';

/**
 * The certificate renew loop inside the daemon: audited through the controller (so alerts see it), gauges on
 * /metrics. `reload` restarts the loop with a reloaded stack (SIGHUP); without `certs:` there it stops.
 * On etcd only the leader runs it, and its TXT writes and store saves carry the leader's fence.
 */
async function startDaemonCerts(first: FleetSpec, controller: Controller, registry: MetricRegistry | undefined, log: (l: string) => void) {
  const [{ CertStore }, { startRenewLoop }, { registerCertMetrics }, { openSecretStore }, { directQuery }, { leaderGuard }] = await Promise.all([
    import('../../certs/cert-store.ts'),
    import('../../certs/renew-loop.ts'),
    import('../../certs/cert-metrics.ts'),
    import('../../state/secret-store.ts'),
    import('../../controller/dns-query.ts'),
    import('../../certs/leader-guard.ts'),
  ]);
  const store = new CertStore(openSecretStore(first));
  let latest = await store.status().catch(() => undefined);
  const cluster = controller.cluster;
  let loop: ReturnType<typeof startRenewLoop> | undefined;
  if (registry) registerCertMetrics(registry, () => latest, () => loop?.active() ?? false);
  const guard = leaderGuard(cluster);
  const start = (spec: FleetSpec) => {
    if (!spec.certs) return undefined;
    log(`certificates: checking every ${spec.certs.checkIntervalMs / 1000}s (renew at ${Math.round(spec.certs.renewAt * 100)}% of the lifetime)${cluster.kind === 'etcd' ? ' while this daemon leads' : ''}`);
    return startRenewLoop({
      spec: { ...spec, certs: spec.certs },
      drivers: controller.drivers,
      query: directQuery,
      store,
      intervalMs: spec.certs.checkIntervalMs,
      audit: (e) => controller.audit(e),
      inventory: async () => controller.inventory,
      log: (l) => log(`certs: ${l}`),
      role: cluster.kind === 'etcd' ? cluster : undefined,
      guard,
      onRole: (l) => {
        log(`certs: ${l}`);
        void store.status().then((s) => (latest = s ?? latest), () => undefined);
      },
      onResult: (r) => {
        latest = r.status;
      },
    });
  };
  loop = start(first);
  // a follower's gauges follow what the leader saved
  const refresh = setInterval(() => {
    if (loop && !loop.active()) void store.status().then((s) => (latest = s ?? latest), () => undefined);
  }, 60_000);
  refresh.unref();
  return {
    async reload(spec: FleetSpec) {
      await loop?.stop();
      loop = start(spec);
    },
    async stop() {
      clearInterval(refresh);
      await loop?.stop();
    },
  };
}

export function registerDaemon(program: Command): void {
  stackOptions(program.command('daemon'))
    .description('Run the controller: probe, decide, rewrite every DNS provider, verify. SIGTERM stops cleanly; SIGHUP reloads the stack file.')
    .option('--no-http', 'do not start the status page / API / metrics server')
    .option('--vantage <name>', 'this controller\'s point of view among several on one etcd (default: the host name)')
    .option('--probe-from <address>', 'source address of the http and tcp probes (this vantage\'s own path to the mirrors)')
    .addHelpText('after', '\nHTTP API (server.listen:server.port): status page /, /api/status, /api/history, POST /api/drain|failover|undrain|clear\n(bearer token from the env var server.tokenEnv names), /metrics, /healthz; the OpenAPI document at /api/openapi.json,\nin words in docs/api.md. Run the installed bin directly (not through npx) under a supervisor: deploy/flotilla.service.\n\nExamples:\n  flotilla daemon --stack local\n  kill -HUP <pid>    # reload the stack file (a bad file is rejected, the old spec kept)\n')
    .action(async (o: StackOpts & { http: boolean; vantage?: string; probeFrom?: string }) => {
      if (o.vantage !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(o.vantage)) throw new UsageError(`--vantage: expected 1-64 letters, digits, _ . - (it names an etcd key), found ${JSON.stringify(o.vantage)}`);
      if (o.probeFrom !== undefined && isIP(o.probeFrom) === 0) throw new UsageError(`--probe-from: expected an IP address of this host, found ${JSON.stringify(o.probeFrom)}`);
      // signals first: a supervisor's SIGTERM (or a SIGHUP) during start-up must never kill the daemon unsaved
      let stopRequested: string | undefined;
      let onStop: ((sig: string) => void) | undefined;
      const requestStop = (sig: string) => {
        stopRequested ??= sig;
        onStop?.(sig);
      };
      let reload: (() => Promise<void>) | undefined;
      process.once('SIGTERM', () => requestStop('SIGTERM'));
      process.once('SIGINT', () => requestStop('SIGINT'));
      process.on('SIGHUP', () => void (reload ? reload() : undefined));

      const spec = await specFrom(o);
      // every line redacted: an SDK or fetch error may quote a URL with its userinfo or token
      const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${redactText(line)}\n`);
      if (stopRequested) return;
      const dns = await startEmbeddedServers(spec, spec.file);
      for (const s of dns) log(`embedded DNS server on ${s.address}`);
      const controller = await buildController(spec, { log, vantage: o.vantage, probeFrom: o.probeFrom });
      controller.on('audit', (e) => log(`${e.kind}: ${e.message}`));
      // alerts that must be seen even when the audit log cannot take them (a failing state store)
      controller.on('alert', (e) => log(`alert ${e.kind}: ${e.message}`));
      let http: Awaited<ReturnType<typeof import('../../server/http-server.ts').startHttpServer>> | undefined;
      if (o.http) {
        // bound before the controller starts: a taken port ends the start before any probe or DNS write
        const { startHttpServer } = await import('../../server/http-server.ts');
        try {
          http = await startHttpServer({ controller, commands: controller, listen: spec.server.listen, port: spec.server.port, token: process.env[spec.server.tokenEnv], log, version: packageVersion(), dnsServers: () => dns });
        } catch (e) {
          // a port taken or an address not on this host: undo what started, then say which setting to change
          await Promise.all(dns.map((s) => s.close()));
          throw listenFailure(e, { file: spec.file, setting: 'server', what: 'the status page / API', listen: spec.server.listen, port: spec.server.port }) ?? e;
        }
      }
      await controller.start();
      if (http) log(`status page ${http.url}/`);
      const hooks = spec.alerts?.webhooks ?? [];
      const alerts = hooks.length > 0
        ? startAlerts({ controller, webhooks: hooks.map((w) => ({ name: w.name, url: w.url, kind: w.kind, secret: w.secretEnv ? process.env[w.secretEnv] : undefined })), registry: http?.registry, log })
        : undefined;
      if (alerts) log(`alerts to ${hooks.length} webhook(s)`);
      const { startDelegationDuty } = await import('../delegation-duty.ts');
      const startDuty = async (from: typeof spec, resume?: GuardMemory) => {
        const cluster = controller.cluster;
        const duty = await startDelegationDuty(from, { store: controller.store, drivers: controller.drivers, env: process.env, audit: (e) => controller.audit(e), resume, role: cluster.kind === 'etcd' ? cluster : undefined });
        if (duty) log(`watching the delegation of ${from.domain} every ${from.delegation!.intervalMs / 1000}s (parents: ${from.delegation!.parents.join(', ') || 'from the root'})${cluster.kind === 'etcd' ? ' while this daemon leads' : ''}`);
        return duty;
      };
      let running = spec;
      let guard = await startDuty(spec);
      const certs = spec.certs ? await startDaemonCerts(spec, controller, http?.registry, log) : undefined;
      // one reload at a time: two quick SIGHUPs must not leave two guards running
      let reloading: Promise<void> = Promise.resolve();
      const reloadOnce = async () => {
        let next: typeof spec;
        try {
          next = await specFrom(o);
          await controller.reload(next);
          await certs?.reload(next);
          log('SIGHUP: stack file reloaded');
        } catch (e) {
          const msg = e instanceof FlotillaError ? e.message : String(e);
          await controller.audit({ kind: 'error', message: `SIGHUP: the stack file was rejected, keeping the running spec: ${msg}` });
          return;
        }
        // the guard and the manifest publisher hold the spec they started with: restart them from the new one
        if (stopRequested) return;
        await guard?.stop();
        // streaks go on and a domain already lost is not alerted again
        const memory = guard?.memory();
        guard = undefined;
        try {
          guard = await startDuty(next, memory);
          running = next;
        } catch (e) {
          const msg = e instanceof FlotillaError ? e.message : String(e);
          await controller.audit({ kind: 'error', message: `SIGHUP: the delegation guard did not start from the new spec, keeping the previous delegation settings: ${msg}` });
          guard = await startDuty(running, memory).catch(() => undefined);
        }
        if (!guard) log('SIGHUP: no delegation guard runs now (delegation.interval 0s, or it did not start: see the audit)');
      };
      reload = () => (reloading = reloading.then(reloadOnce, reloadOnce));
      await new Promise<void>((resolve) => {
        let stopping = false;
        onStop = (sig: string) => {
          if (stopping) return;
          stopping = true;
          log(`${sig}: finishing the current apply and stopping`);
          void (async () => {
            await reloading.catch(() => undefined);
            await guard?.stop();
            await certs?.stop();
            await controller.stop();
            await alerts?.stop();
            await http?.close();
            await Promise.all(dns.map((s) => s.close()));
            resolve();
          })();
        };
        if (stopRequested) onStop(stopRequested);
      });
      process.exitCode = 0;
    });
}
