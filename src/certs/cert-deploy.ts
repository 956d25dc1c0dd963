import type { CertsSpec, FleetSpec, MirrorSpec } from '../domain/fleet-spec.ts';
import type { Inventory } from '../domain/inventory.ts';
import type { SecretStore } from '../state/secret-store.ts';
import { certNames } from './cert-plan.ts';
import { deployScript } from './deploy-script.ts';
import { deployTargets, type DeployTarget } from './deploy-targets.ts';
import { HostKeyPins } from './host-key-pins.ts';
import { nginxTlsConfig } from './nginx-tls.ts';
import { hostKeyChangedMessage, pinnedSshRunner } from './pinned-ssh.ts';
import type { HostKeyCheck, ScriptRunner } from './ssh-runner.ts';

export { localRunner, sshRunner, type ScriptRunner } from './ssh-runner.ts';

/** The runner for a target (SSH with the host key pinned in `pins`), or why it cannot be deployed to (its key's variable is not set). */
export function runnerFor(t: DeployTarget, env: NodeJS.ProcessEnv, pins: HostKeyPins): { run: ScriptRunner } | { skip: string } {
  const key = env[t.keyEnv];
  if (!key) return { skip: `the environment variable ${t.keyEnv} (its SSH key) is not set` };
  return { run: pinnedSshRunner({ mirror: t.mirror, host: t.host, port: t.port, user: t.user, key, pins }) };
}

export interface DeployOutcome {
  mirror: string;
  ok: boolean;
  /** Set when not ok: the script's own words (nginx -t output), or why the mirror was skipped. */
  error?: string;
  skipped?: boolean;
  /** When not ok: CERT_HOST_KEY (its SSH host key is not the pinned one: nothing ran on it) or CERT_DEPLOY. */
  code?: 'CERT_DEPLOY' | 'CERT_HOST_KEY';
  /** What the deploy learned of its SSH host key (pinned on first use, matched, changed). */
  hostKey?: HostKeyCheck;
}

/** The script for one deploy of the site's certificate (what every mirror runs). */
export function siteDeployScript(spec: Pick<FleetSpec, 'domain' | 'alternateDomains'>, d: CertsSpec['deploy'], pair: { cert: string; key: string }, listen?: { https?: string[]; http?: string[] }): string {
  const config = nginxTlsConfig({ names: certNames(spec), certPath: `${d.dir}/site.crt`, keyPath: `${d.dir}/site.key`, webRoot: d.webRoot, httpsListen: listen?.https, httpListen: listen?.http });
  return deployScript({ dir: d.dir, nginxConf: d.nginxConf, nginx: d.nginx, cert: pair.cert, key: pair.key, config });
}

/**
 * Runs the deploy script on one mirror. A failure is a value (the mirror keeps what it had); a changed host key is
 * CERT_HOST_KEY with the trust command for `stack`.
 */
export async function deployTo(mirror: string, run: ScriptRunner, script: string, signal?: AbortSignal, stack?: string): Promise<DeployOutcome> {
  const r = await run(script, signal);
  const hk = r.hostKey ? { hostKey: r.hostKey } : {};
  if (r.hostKey?.status === 'changed') return { mirror, ok: false, code: 'CERT_HOST_KEY', error: hostKeyChangedMessage(r.hostKey, stack), ...hk };
  if (r.code === 0 && r.stdout.includes('deployed')) return { mirror, ok: true, ...hk };
  const why = (r.stderr.trim() || r.stdout.trim() || `exit ${r.code}`).split('\n').slice(-5).join(' | ');
  return { mirror, ok: false, code: 'CERT_DEPLOY', error: `exit ${r.code}: ${why}`, ...hk };
}

export interface DeployAllOptions {
  /** Where the SSH keys' environment variables are read. */
  env: NodeJS.ProcessEnv;
  /** The state store's secrets area: the mirrors' pinned SSH host keys (host-key-pins.ts). */
  secrets: SecretStore;
  /** Only these mirrors (`certs trust` redeploys one); the others are left out of the result. */
  only?: readonly string[];
  signal?: AbortSignal;
  /** The stored mirror inventory: the addresses of the hosts Pulumi created (without it they are not provisioned). */
  inventory?: Inventory;
  /** nginx listen addresses instead of 443/80 (tests on loopback). */
  listen?: { https?: string[]; http?: string[] };
}

/** Deploys to every target (deploy-targets.ts) at once; the mirrors that are not targets come back skipped with why. */
export async function deployAll(spec: Pick<FleetSpec, 'domain' | 'alternateDomains' | 'mirrors' | 'deploy'> & Partial<Pick<FleetSpec, 'stack'>> & { certs: CertsSpec }, pair: { cert: string; key: string }, o: DeployAllOptions): Promise<DeployOutcome[]> {
  const { env, signal } = o;
  const script = siteDeployScript(spec, spec.certs.deploy, pair, o.listen);
  const pins = new HostKeyPins(o.secrets);
  const wanted = (m: string) => !o.only || o.only.includes(m);
  const { targets, skipped } = deployTargets(spec, o.inventory);
  const done = await Promise.all(
    targets.filter((t) => wanted(t.mirror)).map(async (t): Promise<DeployOutcome> => {
      const r = runnerFor(t, env, pins);
      if ('skip' in r) return { mirror: t.mirror, ok: true, skipped: true, error: r.skip };
      return deployTo(t.mirror, r.run, script, signal, spec.stack);
    }),
  );
  return [...done, ...skipped.filter((s) => wanted(s.mirror)).map((s): DeployOutcome => ({ mirror: s.mirror, ok: true, skipped: true, error: s.reason }))];
}

/** One line on where a certificate went: "every mirror" only when no mirror was skipped or failed. Pure. */
export function deploySummary(outcomes: readonly DeployOutcome[]): string {
  const done = outcomes.filter((o) => o.ok && !o.skipped).map((o) => o.mirror);
  const skipped = outcomes.filter((o) => o.skipped);
  const failed = outcomes.filter((o) => !o.ok);
  if (outcomes.length === 0) return 'no mirror to deploy to';
  if (skipped.length === 0 && failed.length === 0) return `deployed to every mirror (${done.join(', ') || 'none'})`;
  const parts = [`deployed to ${done.length} of ${outcomes.length} mirrors${done.length ? ` (${done.join(', ')})` : ''}`];
  if (skipped.length) parts.push(`skipped: ${skipped.map((o) => `${o.mirror} (${o.error})`).join('; ')}`);
  if (failed.length) parts.push(`failed: ${failed.map((o) => o.mirror).join(', ')}`);
  return parts.join('; ');
}

/** A mirror's last deploy as the certificate status keeps it (cert-store.ts `deployed`). */
export type DeployRecord = { at: number; serial?: string; error?: string; skipped?: boolean };

/**
 * The mirrors that should hold the certificate `serial` but do not: failed, skipped for a reason the operator can fix
 * (not provisioned, key variable unset), holding an older serial, or never deployed to. A `local` mirror (a process
 * on this machine, no nginx of ours) never counts. `certs issue|renew|status` exit 1 when this is not empty. Pure.
 */
export function missedMirrors(mirrors: readonly Pick<MirrorSpec, 'name' | 'provider'>[], serial: string | undefined, deployed: Readonly<Record<string, DeployRecord>>): { mirror: string; why: string }[] {
  return mirrors.flatMap((m) => {
    if (m.provider === 'local') return [];
    const d = deployed[m.name];
    if (!d) return [{ mirror: m.name, why: 'never deployed to' }];
    if (d.skipped) return [{ mirror: m.name, why: `skipped: ${d.error ?? 'unknown'}` }];
    if (d.error) return [{ mirror: m.name, why: `failed: ${d.error}` }];
    if (serial !== undefined && d.serial !== serial) return [{ mirror: m.name, why: `holds serial ${d.serial ?? 'unknown'}` }];
    return [];
  });
}
