import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CertsSpec, FleetSpec, MirrorSpec } from '../domain/fleet-spec.ts';
import { certNames } from './cert-plan.ts';
import { deployScript } from './deploy-script.ts';
import { nginxTlsConfig } from './nginx-tls.ts';

/** Runs a deploy script on one mirror: the script on stdin, never in argv (it carries the private key). */
export type ScriptRunner = (script: string, signal?: AbortSignal) => Promise<{ code: number; stdout: string; stderr: string }>;

/** `sh -s` on this machine (a mirror that is this host, and the tests' nginx prefix). */
export const localRunner: ScriptRunner = (script, signal) => runWithStdin('sh', ['-s'], script, signal);

/**
 * `ssh user@host sh -s` with the private key from the environment (written to a 0600 temp file for the call and
 * removed after). BatchMode: never waits for a password; the host key is pinned on first use.
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

/** The runner for a mirror, or why it cannot be deployed to. ssh mirrors (and cloud hosts with a known address) over SSH. */
export function runnerFor(m: MirrorSpec, env: NodeJS.ProcessEnv): { run: ScriptRunner } | { skip: string } {
  if (m.provider === 'local') return { skip: 'a local mirror (a process on this machine) has no nginx to deploy to' };
  const host = m.ipv4 ?? m.ipv6;
  if (!host) return { skip: 'no address known' };
  const keyEnv = String(m.settings.sshKeyEnv ?? '');
  const key = keyEnv ? env[keyEnv] : undefined;
  if (!key) return { skip: keyEnv ? `the environment variable ${keyEnv} (its SSH key) is not set` : 'no sshKeyEnv' };
  return { run: sshRunner({ host, user: String(m.settings.sshUser ?? 'root'), key }) };
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

/** Deploys to every mirror at once. */
export async function deployAll(spec: Pick<FleetSpec, 'domain' | 'alternateDomains' | 'mirrors'> & { certs: CertsSpec }, pair: { cert: string; key: string }, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<DeployOutcome[]> {
  const script = siteDeployScript(spec, spec.certs.deploy, pair);
  return Promise.all(
    spec.mirrors.map(async (m) => {
      const r = runnerFor(m, env);
      if ('skip' in r) return { mirror: m.name, ok: true, skipped: true, error: r.skip };
      return deployTo(m.name, r.run, script, signal);
    }),
  );
}
