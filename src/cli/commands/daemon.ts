import { isIP } from 'node:net';
import type { Command } from 'commander';
import { startAlerts } from '../../controller/alerts.ts';
import { FlotillaError, UsageError } from '../../domain/errors.ts';
import { buildController, startEmbeddedServers } from '../runtime.ts';
import { specFrom, stackOptions, type StackOpts } from '../common.ts';
import { listenFailure } from '../listen-failure.ts';

export function registerDaemon(program: Command): void {
  stackOptions(program.command('daemon'))
    .description('Run the controller: probe, decide, rewrite every DNS provider, verify. SIGTERM stops cleanly; SIGHUP reloads the stack file.')
    .option('--no-http', 'do not start the status page / API / metrics server')
    .option('--vantage <name>', 'this controller\'s point of view among several on one etcd (default: the host name)')
    .option('--probe-from <address>', 'source address of the http and tcp probes (this vantage\'s own path to the mirrors)')
    .addHelpText('after', '\nExamples:\n  flotilla daemon --stack local\n  kill -HUP <pid>    # reload the stack file (a bad file is rejected, the old spec kept)\n')
    .action(async (o: StackOpts & { http: boolean; vantage?: string; probeFrom?: string }) => {
      if (o.vantage !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(o.vantage)) throw new UsageError(`--vantage: expected 1-64 letters, digits, _ . - (it names an etcd key), found ${JSON.stringify(o.vantage)}`);
      if (o.probeFrom !== undefined && isIP(o.probeFrom) === 0) throw new UsageError(`--probe-from: expected an IP address of this host, found ${JSON.stringify(o.probeFrom)}`);
      const spec = await specFrom(o);
      const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
      const dns = await startEmbeddedServers(spec, spec.file);
      for (const s of dns) log(`embedded DNS server on ${s.address}`);
      const controller = await buildController(spec, { log, vantage: o.vantage, probeFrom: o.probeFrom });
      controller.on('audit', (e) => log(`${e.kind}: ${e.message}`));
      // alerts that must be seen even when the audit log cannot take them (a failing state store)
      controller.on('alert', (e) => log(`alert ${e.kind}: ${e.message}`));
      let http: Awaited<ReturnType<typeof import('../../server/http-server.ts').startHttpServer>> | undefined;
      await controller.start();
      if (o.http) {
        const { startHttpServer } = await import('../../server/http-server.ts');
        try {
          http = await startHttpServer({ controller, listen: spec.server.listen, port: spec.server.port, token: process.env[spec.server.tokenEnv], log });
        } catch (e) {
          // a port taken or an address not on this host: undo what started, then say which setting to change
          await controller.stop();
          await Promise.all(dns.map((s) => s.close()));
          throw listenFailure(e, { file: spec.file, setting: 'server', what: 'the status page / API', listen: spec.server.listen, port: spec.server.port }) ?? e;
        }
        log(`status page ${http.url}/`);
      }
      const hooks = spec.alerts?.webhooks ?? [];
      const alerts = hooks.length > 0
        ? startAlerts({ controller, webhooks: hooks.map((w) => ({ name: w.name, url: w.url, kind: w.kind, secret: w.secretEnv ? process.env[w.secretEnv] : undefined })), registry: http?.registry, log })
        : undefined;
      if (alerts) log(`alerts to ${hooks.length} webhook(s)`);
      const { startGuardLoop } = await import('../../delegation/guard-loop.ts');
      const guard = await startGuardLoop(spec, {
        drivers: controller.drivers,
        env: process.env,
        onEvent: async (e) => { await controller.audit({ kind: 'delegation', message: e.message, data: { ...e.data, event: e.kind, zone: e.zone } }); },
      });
      if (guard) log(`watching the delegation of ${spec.domain} every ${spec.delegation!.intervalMs / 1000}s`);
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = async (sig: string) => {
          if (stopping) return;
          stopping = true;
          log(`${sig}: finishing the current apply and stopping`);
          await guard?.stop();
          await controller.stop();
          await alerts?.stop();
          await http?.close();
          await Promise.all(dns.map((s) => s.close()));
          resolve();
        };
        process.once('SIGTERM', () => void stop('SIGTERM'));
        process.once('SIGINT', () => void stop('SIGINT'));
        process.on('SIGHUP', async () => {
          try {
            const next = await specFrom(o);
            await controller.reload(next);
            log('SIGHUP: stack file reloaded');
          } catch (e) {
            const msg = e instanceof FlotillaError ? e.message : String(e);
            await controller.audit({ kind: 'error', message: `SIGHUP: the stack file was rejected, keeping the running spec: ${msg}` });
          }
        });
      });
      process.exitCode = 0;
    });
}
