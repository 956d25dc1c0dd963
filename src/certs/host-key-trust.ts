import type { AuditEvent } from '../domain/audit.ts';
import { UsageError } from '../domain/errors.ts';
import type { FleetSpec } from '../domain/fleet-spec.ts';
import type { Inventory } from '../domain/inventory.ts';
import type { SecretStore } from '../state/secret-store.ts';
import { CertError } from './cert-error.ts';
import { deployTargets } from './deploy-targets.ts';
import { HostKeyPins } from './host-key-pins.ts';
import { fingerprint, type HostKey } from './known-hosts.ts';
import { scanHostKeys } from './pinned-ssh.ts';

export interface TrustOptions {
  spec: Pick<FleetSpec, 'mirrors' | 'deploy'>;
  mirror: string;
  /** The fingerprint the operator checked on the host (`SHA256:…`); without it nothing is pinned. */
  fingerprint?: string;
  secrets: SecretStore;
  inventory?: Inventory;
  actor: string;
  audit: (e: Omit<AuditEvent, 'at'>) => Promise<unknown>;
  /** Reads the keys the host presents (ssh-keyscan; tests may replace it). */
  scan?: (host: string, port: number) => Promise<HostKey[]>;
}

export type TrustResult =
  | { action: 'need-fingerprint'; address: string; pinned: string[]; presented: string[] }
  | { action: 'already-pinned'; address: string; fingerprint: string }
  | { action: 'trusted'; address: string; previous: string[]; fingerprint: string };

/**
 * `flotilla certs trust MIRROR --fingerprint FP`: accept a mirror's new SSH host key on purpose. The key the host
 * presents now is read; only when one of its fingerprints is the one given is it pinned in place of the old ones
 * (audited as kind `cert` with the actor, the old and the new fingerprint). Without a fingerprint it only reports
 * what is pinned and what is presented. A mirror that is no deploy target is a UsageError; a host that presents no
 * key, or not the given one, is CertError CERT_HOST_KEY and nothing is pinned.
 */
export async function trustHostKey(o: TrustOptions): Promise<TrustResult> {
  const { targets, skipped } = deployTargets(o.spec, o.inventory);
  const t = targets.find((x) => x.mirror === o.mirror);
  if (!t) {
    const why = skipped.find((s) => s.mirror === o.mirror)?.reason;
    throw new UsageError(why ? `mirror ${o.mirror} gets no certificate over SSH: ${why}` : `no mirror ${o.mirror} in the stack (certificate deploy targets: ${targets.map((x) => x.mirror).join(', ') || 'none'})`);
  }
  const address = `${t.host}:${t.port}`;
  const pins = new HostKeyPins(o.secrets);
  const pinned = (await pins.pinned(t.host, t.port)).map(fingerprint);
  const presentedKeys = await (o.scan ?? scanHostKeys)(t.host, t.port);
  const presented = presentedKeys.map(fingerprint);
  if (presented.length === 0) throw new CertError('CERT_HOST_KEY', `mirror ${o.mirror} at ${address} presented no SSH host key (ssh-keyscan got none): nothing pinned`);
  if (!o.fingerprint) return { action: 'need-fingerprint', address, pinned, presented };
  const want = o.fingerprint.trim().replace(/^(?!SHA256:)/, 'SHA256:').replace(/=+$/, '');
  const key = presentedKeys.find((k) => fingerprint(k) === want);
  if (!key) throw new CertError('CERT_HOST_KEY', `mirror ${o.mirror} at ${address} presents ${presented.join(', ')}, not ${want}: nothing pinned`);
  if (pinned.length === 1 && pinned[0] === want) return { action: 'already-pinned', address, fingerprint: want };
  await pins.replace(t.host, t.port, [key], `flotilla:${o.mirror}:trusted-by-${o.actor}:${new Date().toISOString()}`);
  await o.audit({ kind: 'cert', actor: o.actor, message: `SSH host key of mirror ${o.mirror} at ${address} trusted by ${o.actor}: ${pinned.join(', ') || 'none'} → ${want}`, data: { code: 'CERT_HOST_KEY_TRUSTED', mirror: o.mirror, address, previous: pinned, fingerprint: want } });
  return { action: 'trusted', address, previous: pinned, fingerprint: want };
}
