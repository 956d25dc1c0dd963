import type { FleetSpec, MirrorProvider, MirrorSpec } from './fleet-spec.ts';

/**
 * The mirror inventory: what is known to exist where. Pulumi creates the cloud hosts, so their addresses are known
 * only from its stack outputs (written to the state store by `flotilla up` / `flotilla inventory refresh`); boxes
 * you run yourself are given with an address in the stack file. A mirror with no known address is "not
 * provisioned": never probed, never published, and never a reason to delete an address it may own.
 */

/** Where an inventory entry came from. */
export type InventorySource = 'pulumi' | 'stack-file';

export interface InventoryEntry {
  /** The host kind (aws, hcloud, ssh, local). */
  provider: MirrorProvider;
  ipv4?: string;
  ipv6?: string;
  /** The provider's id of the host (EC2 instance id, Hetzner server id), when it has one. */
  resourceId?: string;
  /** sha256 of the site content deployed on it. */
  digest?: string;
  /** When this entry was written (ms since the epoch). */
  at: number;
  source: InventorySource;
}

/** Stored in State: written whole from one read of the stack outputs. */
export interface Inventory {
  /** When it was last read from the stack outputs (0 = never). */
  updatedAt: number;
  /** The Pulumi stack the outputs came from. */
  stack?: string;
  mirrors: Record<string, InventoryEntry>;
  /**
   * Set by a successful `flotilla destroy` (the stack then has no outputs): a mirror absent from the inventory is
   * gone, not unknown, so an address nobody known has is no longer kept on the guess that it is that mirror's (its
   * cloud address is released and may be someone else's). The next `up` or `inventory refresh` writes it without.
   */
  destroyedAt?: number;
}

export function emptyInventory(): Inventory {
  return { updatedAt: 0, mirrors: {} };
}

/**
 * THE CONTRACT between the Pulumi program (src/infra/fleet-program.ts) and the inventory reader: the stack output
 * `mirrors` maps each mirror name to these fields. Missing or null addresses mean "not known (yet)".
 */
export const MIRRORS_OUTPUT = 'mirrors';
export const SITE_DIGEST_OUTPUT = 'siteDigest';
export interface MirrorStackOutput {
  provider: MirrorProvider;
  ipv4?: string | null;
  ipv6?: string | null;
  /** The host's resource id at its provider (EC2 instance id, Hetzner server id, `ssh:<address>`...). */
  resourceId?: string | null;
  /** sha256 of the site content the host was deployed with. */
  digest?: string | null;
}

/** A mirror's addresses as the controller knows them, and where they came from. */
export interface KnownMirror {
  name: string;
  provider: MirrorProvider;
  ipv4?: string;
  ipv6?: string;
  /** False when no address is known: not probed, not published. */
  provisioned: boolean;
  source?: InventorySource;
  resourceId?: string;
  digest?: string;
  at?: number;
}

/**
 * Every mirror of the spec with its known addresses: the stack file's address when it gives one (boxes you run
 * yourself), else the stored inventory's (hosts Pulumi created), else none (not provisioned). Pure.
 */
export function knownMirrors(spec: Pick<FleetSpec, 'mirrors'>, inv: Inventory | undefined): KnownMirror[] {
  return spec.mirrors.map((m) => {
    const e = inv?.mirrors[m.name];
    const deployed = { resourceId: e?.resourceId, digest: e?.digest, at: e?.at };
    // a box you run yourself: the stack file names its address (Pulumi's output only echoes it, and may be older)
    if (m.ipv4 || m.ipv6) return { name: m.name, provider: m.provider, ipv4: m.ipv4, ipv6: m.ipv6, provisioned: true, source: 'stack-file', ...deployed };
    if (e && (e.ipv4 || e.ipv6)) return { name: m.name, provider: m.provider, ipv4: e.ipv4, ipv6: e.ipv6, provisioned: true, source: e.source, ...deployed };
    return { name: m.name, provider: m.provider, provisioned: false, resourceId: e?.resourceId, digest: e?.digest, at: e?.at };
  });
}

/**
 * The spec with every mirror's addresses resolved from the inventory (a new value; the spec is not changed).
 * Mirrors without a known address keep none.
 */
export function withInventory<S extends Pick<FleetSpec, 'mirrors'>>(spec: S, inv: Inventory | undefined): S {
  if (!inv || Object.keys(inv.mirrors).length === 0) return spec;
  const known = new Map(knownMirrors(spec, inv).map((k) => [k.name, k]));
  const mirrors = spec.mirrors.map((m): MirrorSpec => {
    const k = known.get(m.name)!;
    const { ipv4: _4, ipv6: _6, ...rest } = m;
    return { ...rest, ...(k.ipv4 ? { ipv4: k.ipv4 } : {}), ...(k.ipv6 ? { ipv6: k.ipv6 } : {}) };
  });
  return { ...spec, mirrors };
}

/** Whether a mirror spec (addresses resolved) has an address to probe and publish. */
export function isProvisioned(m: Pick<MirrorSpec, 'ipv4' | 'ipv6'>): boolean {
  return !!(m.ipv4 || m.ipv6);
}

/** Mirrors whose addresses differ between two inventories as resolved for `spec` (a replacement host, a new address). */
export function changedAddresses(spec: Pick<FleetSpec, 'mirrors'>, before: Inventory | undefined, after: Inventory | undefined): string[] {
  const a = new Map(knownMirrors(spec, before).map((k) => [k.name, `${k.ipv4 ?? ''}|${k.ipv6 ?? ''}`]));
  return knownMirrors(spec, after).filter((k) => a.get(k.name) !== `${k.ipv4 ?? ''}|${k.ipv6 ?? ''}`).map((k) => k.name);
}

/** "not provisioned" as one phrase, the same in plan, status, check and audit. */
export function notProvisionedReason(name: string): string {
  return `${name} is not provisioned (no known address: run \`flotilla up\` or \`flotilla inventory refresh\`): not probed, not published`;
}

/** `192.0.2.1 2001:db8::1`, or `not provisioned` (the same words in plan, status, check and inventory). */
export function describeAddresses(m: Pick<KnownMirror, 'provisioned' | 'ipv4' | 'ipv6'>): string {
  return m.provisioned ? [m.ipv4, m.ipv6].filter(Boolean).join(' ') : 'not provisioned';
}
