import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent } from '../domain/audit.ts';
import type { HostKeyPins } from './host-key-pins.ts';
import { fingerprint, hostKeyRefusal, keysFor, withKeys, type HostKey } from './known-hosts.ts';
import { runWithStdin, sshRunner, type HostKeyCheck, type ScriptRunner } from './ssh-runner.ts';

/**
 * `sshRunner` with the host key pinned in `pins`: the address's pinned keys are written to a 0600 known_hosts in a
 * temp directory for the call (removed after); with a pin ssh checks strictly, without one it accepts and records the
 * key it meets, which is read back and pinned. The result carries `hostKey` whenever ssh got as far as a host key.
 */
export function pinnedSshRunner(o: { mirror: string; host: string; port: number; user: string; key: string; pins: HostKeyPins }): ScriptRunner {
  return async (script, signal) => {
    const before = await o.pins.pinned(o.host, o.port);
    const base = { mirror: o.mirror, address: `${o.host}:${o.port}`, pinned: before.map(fingerprint) };
    const dir = await mkdtemp(join(tmpdir(), 'flotilla-known-hosts-'));
    try {
      const file = join(dir, 'known_hosts');
      await writeFile(file, withKeys('', o.host, o.port, before), { mode: 0o600 });
      const r = await sshRunner({ host: o.host, port: o.port, user: o.user, key: o.key, knownHosts: file, strict: before.length > 0 })(script, signal);
      if (before.length > 0) {
        const refusal = hostKeyRefusal(r.stderr);
        if (r.code === 255 && refusal.refused) {
          const presented = refusal.presented ?? (await scanHostKeys(o.host, o.port, signal)).map(fingerprint).find((f) => !base.pinned.includes(f));
          return { ...r, hostKey: { ...base, status: 'changed', presented } };
        }
        return r.code === 255 ? r : { ...r, hostKey: { ...base, status: 'matched', presented: base.pinned[0] } };
      }
      const seen = keysFor(await readFile(file, 'utf8'), o.host, o.port);
      if (seen.length === 0) return r; // never got to a host key (refused connection, timeout)
      const pin = await o.pins.pinIfNew(o.host, o.port, seen, `flotilla:${o.mirror}:first-use:${new Date().toISOString()}`);
      if (!pin.added && pin.keys.map(fingerprint).join() !== seen.map(fingerprint).join()) {
        // another controller pinned another key for the address between our read and this call
        return { ...r, hostKey: { ...base, status: 'changed', pinned: pin.keys.map(fingerprint), presented: fingerprint(seen[0]) } };
      }
      return { ...r, hostKey: { ...base, status: pin.added ? 'first-use' : 'matched', presented: fingerprint(seen[0]) } };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
}

/** The host keys `host:port` presents now (`ssh-keyscan`, every key type); [] when it cannot be reached. */
export async function scanHostKeys(host: string, port: number, signal?: AbortSignal): Promise<HostKey[]> {
  const r = await runWithStdin('ssh-keyscan', ['-T', '10', '-p', String(port), host], '', signal);
  return r.stdout.split('\n').flatMap((l) => {
    const f = l.trim().split(/\s+/);
    return f.length >= 3 && !f[0].startsWith('#') ? [{ type: f[1], key: f[2] }] : [];
  });
}

/** The trust command an operator runs to accept a changed key on purpose. */
export function trustCommand(mirror: string, stack: string | undefined, presented: string | undefined): string {
  return `flotilla certs trust ${mirror} --stack ${stack ?? 'NAME'} --fingerprint ${presented ?? 'SHA256:…'}`;
}

/** Why a deploy was refused for a changed host key, with what to do. Pure. */
export function hostKeyChangedMessage(c: HostKeyCheck, stack?: string): string {
  return (
    `SSH host key of mirror ${c.mirror} at ${c.address} changed: pinned ${c.pinned.join(', ') || 'none'}, presented ${c.presented ?? 'unknown'}; ` +
    `nothing was written to it (it keeps its old certificate). If the host was rebuilt, compare the new key on its console ` +
    `(ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and accept it with: ${trustCommand(c.mirror, stack, c.presented)}`
  );
}

/** The audit entry of a key pinned on first use (kind `cert`), or none. Pure. */
export function firstUseAudit(c: HostKeyCheck | undefined): Omit<AuditEvent, 'at'> | undefined {
  if (c?.status !== 'first-use') return undefined;
  return { kind: 'cert', message: `SSH host key of mirror ${c.mirror} at ${c.address} pinned on first use: ${c.presented}`, data: { code: 'CERT_HOST_KEY_PINNED', mirror: c.mirror, address: c.address, fingerprint: c.presented } };
}
