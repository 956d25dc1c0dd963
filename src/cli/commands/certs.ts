import type { Command } from 'commander';
import { CertStore, type CertStatus } from '../../certs/cert-store.ts';
import { certSummary, plaintextWarning } from '../../certs/cert-summary.ts';
import { directQuery } from '../../controller/dns-query.ts';
import { UsageError } from '../../domain/errors.ts';
import type { FleetSpec } from '../../domain/fleet-spec.ts';
import { formatDuration } from '../../domain/duration.ts';
import { createDrivers } from '../../drivers/registry.ts';
import { openSecretStore } from '../../state/secret-store.ts';
import { openStateStore, specFrom, stackOptions, whoami, type StackOpts } from '../common.ts';
import { escapeControl, makeOut, table, type Out } from '../output.ts';
import { ensureLocalZones } from '../runtime.ts';

function needCerts(spec: FleetSpec & { file?: string }) {
  if (!spec.certs) throw new UsageError(`${spec.file ?? 'the stack file'} has no \`certs:\` section: add e.g. \`certs: { directory: letsencrypt, email: ops@${spec.domain} }\` under flotilla:fleet`);
  return { ...spec, certs: spec.certs };
}

function printStatus(out: Out, s: ReturnType<typeof certSummary>, now: number) {
  if (s.state === 'none') out.log(`no certificate yet for ${s.names.join(', ') || '(the site)'}`);
  else out.log(table(['names', 'state', 'expires', 'renews', 'serial'], [[s.names.join(' '), s.state, `${new Date(s.notAfter!).toISOString()} (${s.daysLeft} days)`, s.renewsAt! <= now ? 'now' : `in ${formatDuration(s.renewsAt! - now)}`, s.serial ?? '']]));
  if (s.lastError) out.log(escapeControl(`last attempt failed${s.nextAttemptAt ? ` (next attempt in ${formatDuration(Math.max(0, s.nextAttemptAt - now))})` : ''}: ${s.lastError}`));
  const dep = Object.entries(('deployed' in s && s.deployed) || {});
  if (dep.length > 0) out.log(table(['mirror', 'deployed', 'result'], dep.map(([m, d]) => [m, new Date(d.at).toISOString(), d.skipped ? `skipped: ${d.error ?? ''}` : d.error ?? `serial ${d.serial ?? '?'}`])));
  if ('deploySummary' in s && s.deploySummary) out.log(escapeControl(`certificate ${s.deploySummary}`));
}

export function registerCerts(program: Command): void {
  const certs = program.command('certs').description("HTTPS certificates over ACME DNS-01 at every DNS provider: `issue` now, `renew` when due, `status`.");

  const job = (mode: 'issue' | 'renew') => async (o: StackOpts) => {
    const out = makeOut(!!o.json);
    const spec = needCerts(await specFrom(o));
    await ensureLocalZones(spec);
    const drivers = await createDrivers(spec.dnsProviders, { env: process.env, stateDir: spec.state.path });
    const store = openStateStore(spec);
    const actor = whoami();
    const { runCertJob } = await import('../../certs/cert-job.ts');
    const r = await runCertJob(mode, {
      spec,
      drivers,
      query: directQuery,
      store: new CertStore(openSecretStore(spec)),
      audit: (e) => store.append({ at: Date.now(), actor, ...e }),
      inventory: async () => (await store.load()).inventory,
      log: (l) => out.log(escapeControl(l)),
    });
    await store.close?.();
    const now = Date.now();
    out.data({ action: r.action, reason: 'reason' in r ? r.reason : undefined, code: r.action === 'failed' ? r.code : undefined, deployed: r.action === 'issued' ? r.deployed : undefined, certificate: certSummary(r.status, now, spec.certs.renewAt) });
    if (r.action === 'issued') {
      for (const d of r.deployed) out.log(d.skipped ? `deploy to ${d.mirror}: skipped (${d.error})` : d.ok ? `deploy to ${d.mirror}: done` : `deploy to ${d.mirror}: FAILED, it keeps its old certificate: ${d.error}`);
      if (r.status.deploySummary) out.log(escapeControl(`certificate ${r.status.deploySummary}`));
      process.exitCode = r.deployed.some((d) => !d.ok) ? 1 : 0;
    } else if (r.action === 'not-due') {
      out.log(escapeControl(`not due: ${r.reason}`));
      process.exitCode = 0;
    } else if (r.action !== 'failed') {
      out.log(escapeControl(`due, but waiting after failures: ${r.reason}`));
      process.exitCode = 1;
    } else {
      out.err(escapeControl(`flotilla: certificate not issued (${r.code}): ${r.reason}`));
      process.exitCode = 1;
    }
  };

  stackOptions(certs.command('issue'))
    .description('Order a certificate for the domain and every alternate domain now, then deploy it to every mirror.')
    .addHelpText('after', '\nExample:\n  flotilla certs issue --stack prod\n')
    .action(job('issue'));
  stackOptions(certs.command('renew'))
    .description('Renew when due (2/3 of the lifetime by default) and not backing off after a failure; deploy it. Exit 0 when nothing is due.')
    .addHelpText('after', '\nExample:\n  flotilla certs renew --stack prod    # from cron, or let the daemon do it\n')
    .action(job('renew'));
  stackOptions(certs.command('status'))
    .description("The certificate's names, expiry, next renewal, last failure and deploys. Exit 1 when there is none or it has expired.")
    .addHelpText('after', '\nExamples:\n  flotilla certs status --stack prod\n  flotilla certs status --stack prod --json\n')
    .action(async (o: StackOpts) => {
      const out = makeOut(!!o.json);
      const spec = needCerts(await specFrom(o));
      const now = Date.now();
      const secrets = openSecretStore(spec);
      const s = certSummary(await new CertStore(secrets).status(), now, spec.certs.renewAt);
      // etcd: secrets stored in plaintext are named (never shown), so they get sealed
      const plaintext = (await secrets.plaintextNames?.()) ?? [];
      out.data(spec.state.kind === 'etcd' ? { ...s, plaintextSecrets: plaintext } : s);
      printStatus(out, s, now);
      if (plaintext.length > 0) out.err(plaintextWarning(plaintext));
      process.exitCode = s.state === 'none' || s.state === 'expired' ? 1 : 0;
    });
}
