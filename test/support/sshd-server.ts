/**
 * A real OpenSSH server on 127.0.0.1 with a port, host key and authorized key of its own (in a temp dir), in the
 * foreground (-D), SFTP included. Logs in the user running the test (root here) with the returned private key only.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { spawnTracked, stopChild } from './child-processes.ts';
import { ensurePackages } from './ensure-packages.ts';
import { freePort } from './ports.ts';

export interface SshdServer {
  port: number;
  user: string;
  /** OpenSSH private key (PEM text) authorized to log in. */
  clientKey: string;
  log(): string;
  /** The fingerprint (`SHA256:…`) of the host key sshd presents now. */
  hostKeyFingerprint(): string;
  /** Replaces the host key with a new one (of `type`, ed25519 by default) and waits until sshd presents it. */
  rotateHostKey(type?: 'ed25519' | 'ecdsa' | 'rsa'): Promise<void>;
  stop(): Promise<void>;
}

export async function startSshd(): Promise<SshdServer> {
  ensurePackages({ '/usr/sbin/sshd': 'openssh-server', ssh: 'openssh-client', sftp: 'openssh-client' });
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // privilege separation directory sshd insists on
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-sshd-'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'client_key')]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_key.pub')), { mode: 0o600 });
  const port = await freePort();
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_key')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      // what pulumi-command's CopyToRemote speaks
      'Subsystem sftp internal-sftp',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  const child = spawnTracked('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (b) => (out += b));
  child.stderr!.on('data', (b) => (out += b));
  for (let i = 0; ; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (up) break;
    if (child.exitCode !== null || i > 200) throw new Error(`sshd did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  const hostKeyFingerprint = () => fingerprintOf(readFileSync(join(dir, 'host_key.pub'), 'utf8'));
  return {
    port,
    user: userInfo().username,
    clientKey: readFileSync(join(dir, 'client_key'), 'utf8'),
    log: () => out,
    hostKeyFingerprint,
    async rotateHostKey(type = 'ed25519') {
      const before = hostKeyFingerprint();
      rmSync(join(dir, 'host_key'), { force: true });
      rmSync(join(dir, 'host_key.pub'), { force: true });
      execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', join(dir, 'host_key')]);
      const want = hostKeyFingerprint();
      if (want === before) throw new Error('ssh-keygen made the same host key');
      child.kill('SIGHUP'); // sshd -D re-executes itself and reads its host key again
      for (let i = 0; ; i++) {
        const seen = spawnSync('ssh-keyscan', ['-p', String(port), '127.0.0.1'], { encoding: 'utf8' }).stdout;
        const line = seen.split('\n').find((l) => l.trim() && !l.startsWith('#'));
        if (line && fingerprintOf(line) === want) return;
        if (child.exitCode !== null || i > 400) throw new Error(`sshd did not present the new host key: ${out}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async stop() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `SHA256:…` of the key in a public key or known_hosts line (`[host] type base64`). */
function fingerprintOf(line: string): string {
  const blob = line.trim().split(/\s+/).find((f) => f.startsWith('AAAA'))!;
  return `SHA256:${createHash('sha256').update(Buffer.from(blob, 'base64')).digest('base64').replace(/=+$/, '')}`;
}
