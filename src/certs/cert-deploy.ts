import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CertsSpec, FleetSpec } from '../domain/fleet-spec.ts';
import type { Inventory } from '../domain/inventory.ts';
import { certNames } from './cert-plan.ts';
import { deployScript } from './deploy-script.ts';
import { deployTargets, type DeployTarget } from './deploy-targets.ts';
import { nginxTlsConfig } from './nginx-tls.ts';

/** Runs a deploy script on one mirror: the script on stdin, never in argv (it carries the private key). */
export type ScriptRunner = (script: string, signal?: AbortSignal) => Promise<{ code: number; stdout: string; stderr: string }>;

/** `sh -s` on this machine (a mirror that is this host, and the tests' nginx prefix). */
export const localRunner: ScriptRunner = (script, signal) => runWithStdin('sh', ['-s'], script, signal);

/**
 * `ssh user@host sh -s` with the private key from the environment (written to a 0600 temp file for the call and
 * removed after). BatchMode: never waits for a password. The host key is pinned only when `knownHosts` names a file
 * that is kept between calls; without it (today's deploy path) each call accepts the key it meets (issue 10 note).
 */
export function sshRunner(o: { host: string; user: string; key: string; port?: number; knownHosts?: string }): ScriptRunner {
  return async (script, signal) => {
    const dir = await mkdtemp(join(tmpdir(), 'flotilla-ssh-'));
    try {
      const keyFile = join(dir, 'id');
      await writeFile(keyFile, o.key.endsWith('\n') ? o.key : `${o.key}\n`, { mode: 0o600 });
      const args = ['-i', keyFile, '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'StrictHostKeyChecking=accept-new', '-o', `UserKnownHostsFile=${o.knownHosts ?? join(dir, 'known_hosts')}`, '-o', 'ConnectTimeout=10', '-p', String(o.port ?? 22), `${o.user}@${o.host}`, 'if [ "$(id -u)" -eq 0 ]; then sh -s; else sudo -n sh -s; fi'];
      return await runWithStdin('ssh', args, script, signal);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
}

function runWithStdin(cmd: string, args: string[], input: string, signal?: AbortSignal): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], signal });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('error', (e) => resolve({ code: 127, stdout, stderr: `${stderr}${e.message}` }));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/** The runner for a target, or why it cannot be deployed to (its key's variable is not set). */
export function runnerFor(t: DeployTarget, env: NodeJS.ProcessEnv): { run: ScriptRunner } | { skip: string } {
  const key = env[t.keyEnv];
  if (!key) return { skip: `the environment variable ${t.keyEnv} (its SSH key) is not set` };
  return { run: sshRunner({ host: t.host, port: t.port, user: t.user, key }) };
}

export interface DeployOutcome {
  mirror: string;
  ok: boolean;
  /** Set when not ok: the script's own words (nginx -t output), or why the mirror was skipped. */
  error?: string;
  skipped?: boolean;
}

/** The script for one deploy of the site's certificate (what every mirror runs). */
export function siteDeployScript(spec: Pick<FleetSpec, 'domain' | 'alternateDomains'>, d: CertsSpec['deploy'], pair: { cert: string; key: string }, listen?: { https?: string[]; http?: string[] }): string {
  const config = nginxTlsConfig({ names: certNames(spec), certPath: `${d.dir}/site.crt`, keyPath: `${d.dir}/site.key`, webRoot: d.webRoot, httpsListen: listen?.https, httpListen: listen?.http });
  return deployScript({ dir: d.dir, nginxConf: d.nginxConf, nginx: d.nginx, cert: pair.cert, key: pair.key, config });
}

/** Runs the deploy script on one mirror. A failure is a value (the mirror keeps what it had). */
export async function deployTo(mirror: string, run: ScriptRunner, script: string, signal?: AbortSignal): Promise<DeployOutcome> {
  const r = await run(script, signal);
  if (r.code === 0 && r.stdout.includes('deployed')) return { mirror, ok: true };
  const why = (r.stderr.trim() || r.stdout.trim() || `exit ${r.code}`).split('\n').slice(-5).join(' | ');
  return { mirror, ok: false, error: `exit ${r.code}: ${why}` };
}

export interface DeployAllOptions {
  /** Where the SSH keys' environment variables are read. */
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** The stored mirror inventory: the addresses of the hosts Pulumi created (without it they are not provisioned). */
  inventory?: Inventory;
  /** nginx listen addresses instead of 443/80 (tests on loopback). */
  listen?: { https?: string[]; http?: string[] };
}

/** Deploys to every target (deploy-targets.ts) at once; the mirrors that are not targets come back skipped with why. */
export async function deployAll(spec: Pick<FleetSpec, 'domain' | 'alternateDomains' | 'mirrors' | 'deploy'> & { certs: CertsSpec }, pair: { cert: string; key: string }, o: DeployAllOptions): Promise<DeployOutcome[]> {
  const { env, signal } = o;
  const script = siteDeployScript(spec, spec.certs.deploy, pair, o.listen);
  const { targets, skipped } = deployTargets(spec, o.inventory);
  const done = await Promise.all(
    targets.map(async (t): Promise<DeployOutcome> => {
      const r = runnerFor(t, env);
      if ('skip' in r) return { mirror: t.mirror, ok: true, skipped: true, error: r.skip };
      return deployTo(t.mirror, r.run, script, signal);
    }),
  );
  return [...done, ...skipped.map((s): DeployOutcome => ({ mirror: s.mirror, ok: true, skipped: true, error: s.reason }))];
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
