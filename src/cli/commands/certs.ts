import type { Command } from 'commander';
import { missedMirrors, type DeployOutcome } from '../../certs/cert-deploy.ts';
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

/** The stderr line naming every mirror that should hold the certificate and does not (the reason for exit 1). */
function missedLine(spec: FleetSpec, serial: string | undefined, deployed: Parameters<typeof missedMirrors>[2]): string | undefined {
  const missed = missedMirrors(spec.mirrors, serial, deployed);
  return missed.length ? `flotilla: certificate not on every mirror: ${missed.map((m) => `${m.mirror} (${m.why})`).join('; ')}` : undefined;
}

function printDeploys(out: Out, deployed: readonly DeployOutcome[]) {
  for (const d of deployed) out.log(escapeControl(d.skipped ? `deploy to ${d.mirror}: skipped (${d.error})` : d.ok ? `deploy to ${d.mirror}: done` : `deploy to ${d.mirror}: FAILED, it keeps its old certificate: ${d.error}`));
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
    const notOn = r.status.serial ? missedMirrors(spec.mirrors, r.status.serial, r.status.deployed ?? {}) : [];
    out.data({ action: r.action, reason: 'reason' in r ? r.reason : undefined, code: r.action === 'failed' ? r.code : undefined, deployed: r.action === 'issued' ? r.deployed : undefined, missed: notOn, certificate: certSummary(r.status, now, spec.certs.renewAt) });
    if (r.action === 'issued') {
      printDeploys(out, r.deployed);
      if (r.status.deploySummary) out.log(escapeControl(`certificate ${r.status.deploySummary}`));
      const missed = missedLine(spec, r.status.serial, r.status.deployed ?? {});
      if (missed) out.err(escapeControl(missed));
      process.exitCode = missed ? 1 : 0;
    } else if (r.action === 'not-due') {
      out.log(escapeControl(`not due: ${r.reason}`));
      // nothing ordered, but a mirror still without the held certificate is a failure to report (`certs deploy` fixes it)
      const missed = missedLine(spec, r.status.serial, r.status.deployed ?? {});
      if (missed) out.err(escapeControl(`${missed}; run flotilla certs deploy --stack ${spec.stack}`));
      process.exitCode = missed ? 1 : 0;
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
    .description('Renew when due (2/3 of the lifetime by default) and not backing off after a failure; deploy it. Nothing due: exit 0, or 1 while a mirror that should hold the certificate does not.')
    .addHelpText('after', '\nExample:\n  flotilla certs renew --stack prod    # from cron, or let the daemon do it\n')
    .action(job('renew'));
  stackOptions(certs.command('status'))
    .description("The certificate's names, expiry, next renewal, last failure and deploys. Exit 1 when there is none, it has expired, or a mirror that should hold it does not.")
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
      const missed = s.state === 'none' ? undefined : missedLine(spec, s.serial, ('deployed' in s && s.deployed) || {});
      if (missed) out.err(escapeControl(missed));
      if (plaintext.length > 0) out.err(plaintextWarning(plaintext));
      process.exitCode = s.state === 'none' || s.state === 'expired' || missed ? 1 : 0;
    });

  const held = async (o: StackOpts, only?: string[]) => {
    const spec = needCerts(await specFrom(o));
    for (const m of only ?? []) if (!spec.mirrors.some((x) => x.name === m)) throw new UsageError(`no mirror ${m} in ${spec.file ?? 'the stack file'}`);
    const store = openStateStore(spec);
    const actor = whoami();
    const { deployHeld } = await import('../../certs/deploy-held.ts');
    try {
      return { spec, r: await deployHeld({ spec, store: new CertStore(openSecretStore(spec)), env: process.env, inventory: (await store.load()).inventory, only, audit: (e) => store.append({ at: Date.now(), actor, ...e }) }) };
    } finally {
      await store.close?.();
    }
  };
  const report = (out: Out, spec: FleetSpec, r: Awaited<ReturnType<typeof held>>['r'], only?: string[]) => {
    if (!r) {
      out.err('flotilla: no certificate held yet: run `flotilla certs issue` first');
      process.exitCode = 1;
      return;
    }
    printDeploys(out, r.outcomes);
    if (r.status.deploySummary) out.log(escapeControl(`certificate ${r.status.deploySummary}`));
    const mirrors = only ? spec.mirrors.filter((m) => only.includes(m.name)) : spec.mirrors;
    const missed = missedLine({ ...spec, mirrors }, r.status.serial, r.status.deployed ?? {});
    if (missed) out.err(escapeControl(missed));
    process.exitCode = missed ? 1 : 0;
  };

  stackOptions(certs.command('deploy'))
    .description('Deploy the certificate already held to every mirror (or --mirror NAME) without ordering a new one. Exit 1 when a mirror that should hold it does not.')
    .option('--mirror <name>', 'only this mirror')
    .addHelpText('after', '\nExample:\n  flotilla certs deploy --stack prod --mirror fra\n')
    .action(async (o: StackOpts & { mirror?: string }) => {
      const out = makeOut(!!o.json);
      const only = o.mirror ? [o.mirror] : undefined;
      const { spec, r } = await held(o, only);
      out.data({ deployed: r?.outcomes, deploySummary: r?.status.deploySummary });
      report(out, spec, r, only);
    });

  stackOptions(certs.command('trust').argument('<mirror>', 'mirror name'))
    .description("Accept a mirror's new SSH host key on purpose (after a rebuild): pins the key it presents when its fingerprint is the one given (check it on the host's console), audits it, then deploys the held certificate there. Without --fingerprint: shows the pinned and the presented keys, exit 1.")
    .option('--fingerprint <sha256>', "the host key's fingerprint as `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` prints it on the host (SHA256:…)")
    .option('--no-deploy', 'only pin the key; the next issue, renewal or `certs deploy` deploys')
    .addHelpText('after', '\nExample:\n  flotilla certs trust fra --stack prod --fingerprint SHA256:8CzL81zbqbXzJpBRYlHbvjYWp3JwKOdao9uJKNzZp4g\n')
    .action(async (mirror: string, o: StackOpts & { fingerprint?: string; deploy: boolean }) => {
      const out = makeOut(!!o.json);
      const spec = needCerts(await specFrom(o));
      const store = openStateStore(spec);
      const actor = whoami();
      const { trustHostKey } = await import('../../certs/host-key-trust.ts');
      let t;
      try {
        t = await trustHostKey({ spec, mirror, fingerprint: o.fingerprint, secrets: openSecretStore(spec), inventory: (await store.load()).inventory, actor, audit: (e) => store.append({ at: Date.now(), actor, ...e }) });
      } finally {
        await store.close?.();
      }
      out.data(t);
      if (t.action === 'need-fingerprint') {
        out.log(`mirror ${mirror} at ${t.address}: pinned ${t.pinned.join(', ') || 'nothing yet'}; presents ${t.presented.join(', ')}`);
        out.err(`flotilla: nothing pinned: check the key on the host's console (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then run: flotilla certs trust ${mirror} --stack ${spec.stack} --fingerprint SHA256:…`);
        process.exitCode = 1;
        return;
      }
      out.log(t.action === 'trusted' ? `mirror ${mirror} at ${t.address}: host key ${t.fingerprint} pinned (was ${t.previous.join(', ') || 'none'}); audited` : `mirror ${mirror} at ${t.address}: ${t.fingerprint} is already the pinned key`);
      process.exitCode = 0;
      if (!o.deploy) return;
      const { r } = await held(o, [mirror]);
      report(out, spec, r, [mirror]);
    });
}
