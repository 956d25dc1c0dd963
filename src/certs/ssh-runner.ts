import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What a deploy learned of a mirror's SSH host key. */
export interface HostKeyCheck {
  /**
   * first-use: nothing was pinned for the address; the key it presented is pinned now (trust on first use).
   * matched: it presented the pinned key. changed: it presented another key; ssh refused before logging in, so
   * nothing ran on it.
   */
  status: 'first-use' | 'matched' | 'changed';
  mirror: string;
  /** `host:port` as ssh was given it. */
  address: string;
  /** Fingerprints pinned before the call (`SHA256:…`). */
  pinned: string[];
  /** The fingerprint the host presented, when known. */
  presented?: string;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Set by a runner that checks the host's SSH key against its pin (pinned-ssh.ts). */
  hostKey?: HostKeyCheck;
}

/** Runs a deploy script on one mirror: the script on stdin, never in argv (it carries the private key). */
export type ScriptRunner = (script: string, signal?: AbortSignal) => Promise<RunResult>;

/** `sh -s` on this machine (a mirror that is this host, and the tests' nginx prefix). */
export const localRunner: ScriptRunner = (script, signal) => runWithStdin('sh', ['-s'], script, signal);

/**
 * `ssh user@host sh -s` with the private key from the environment (written to a 0600 temp file for the call and
 * removed after). BatchMode: never waits for a password. Host keys are looked up in `knownHosts` only (never the
 * user's or the system's files): `strict` refuses any key not in it (a pinned host); otherwise a host with no key
 * in it is accepted and its key appended (first use). A host whose key differs from the file's is refused either way.
 */
export function sshRunner(o: { host: string; user: string; key: string; port?: number; knownHosts: string; strict: boolean }): ScriptRunner {
  return async (script, signal) => {
    const dir = await mkdtemp(join(tmpdir(), 'flotilla-ssh-'));
    try {
      const keyFile = join(dir, 'id');
      await writeFile(keyFile, o.key.endsWith('\n') ? o.key : `${o.key}\n`, { mode: 0o600 });
      const opts = {
        BatchMode: 'yes',
        IdentitiesOnly: 'yes',
        StrictHostKeyChecking: o.strict ? 'yes' : 'accept-new',
        UserKnownHostsFile: o.knownHosts,
        GlobalKnownHostsFile: '/dev/null',
        // plain names so the pin can be read back; no key rotation behind the pin's back
        HashKnownHosts: 'no',
        UpdateHostKeys: 'no',
        CheckHostIP: 'no',
        ConnectTimeout: '10',
      };
      const args = ['-i', keyFile, ...Object.entries(opts).flatMap(([k, v]) => ['-o', `${k}=${v}`]), '-p', String(o.port ?? 22), `${o.user}@${o.host}`, 'if [ "$(id -u)" -eq 0 ]; then sh -s; else sudo -n sh -s; fi'];
      return await runWithStdin('ssh', args, script, signal);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
}

export function runWithStdin(cmd: string, args: string[], input: string, signal?: AbortSignal): Promise<RunResult> {
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
