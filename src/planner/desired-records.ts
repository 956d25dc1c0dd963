import type { FleetSpec, MirrorSpec } from '../domain/fleet-spec.ts';
import { zoneOf, zonesOf } from '../domain/fleet-spec.ts';
import type { Health } from '../domain/health.ts';
import { isProvisioned, notProvisionedReason, withInventory, type Inventory } from '../domain/inventory.ts';
import { activeOverrides, type Override } from '../domain/override.ts';
import { normalizeValue, type RecordSet } from '../domain/records.ts';
import { markerRecord } from './ownership.ts';

export interface DesiredOptions {
  /** Clock for override expiry (ms since epoch). */
  now: number;
  /** Mirrors that were serving in the last published answer: used when every mirror looks down (fail open). */
  lastGood?: readonly string[];
  /**
   * When a mirror has no known address (a cloud host not yet deployed), emit a placeholder
   * `${mirror:NAME:ipv4}` that the Pulumi program resolves, instead of leaving the mirror out.
   */
  placeholders?: boolean;
  /** Addresses of the hosts Pulumi created (the stored inventory); a stack-file address wins where one is given. */
  inventory?: Inventory;
}

export interface DesiredState {
  /** Mirrors in the answer, in spec order. Never empty while the spec has a mirror. */
  serving: string[];
  /** Every mirror looked down; the last good set (or all) is published instead of nothing. */
  failOpen: boolean;
  /** Fewer mirrors serve than policy.minHealthy, or none is healthy (fail open): alert. */
  degraded: boolean;
  /** Human-readable notes on why the answer is what it is. */
  notes: string[];
  /** Records per zone (markers included). */
  zones: Record<string, RecordSet[]>;
  /** Mirrors with no known address that may have a host (not probed, not published; none after a destroy). */
  unprovisioned: string[];
  /** Mirrors at a new address that have not yet passed `rise` probes there (not published). */
  awaitingRise: string[];
  /** Every address of a mirror with a known address (canonical): what the controller can attribute. */
  knownAddresses: string[];
}

export function placeholder(mirror: string, family: 'ipv4' | 'ipv6'): string {
  return `\${mirror:${mirror}:${family}}`;
}

/** Which mirrors should be in the answer. Pure: same inputs, same answer. */
export function servingMirrors(
  spec: Pick<FleetSpec, 'mirrors' | 'policy'>,
  health: Health,
  overrides: readonly Override[],
  opts: Pick<DesiredOptions, 'now' | 'lastGood' | 'placeholders'>,
): Omit<DesiredState, 'zones' | 'unprovisioned' | 'awaitingRise' | 'knownAddresses'> {
  const notes: string[] = [];
  // a mirror without an address is never served (the Pulumi program's placeholders stand in for a host it creates)
  // Linear in the number of mirrors (Set lookups, never Array.includes per mirror): the controller decides again on
  // every turn of flips, and with the quadratic lookups one decision at 5,000 mirrors took 65 ms (28 ms without).
  let names = spec.mirrors.filter((m) => opts.placeholders || isProvisioned(m)).map((m) => m.name);
  const listed = new Set(names);
  for (const m of spec.mirrors) if (!listed.has(m.name)) notes.push(notProvisionedReason(m.name));
  // a mirror at a new address serves only after `rise` good probes there (not even when failing open)
  const moved = names.filter((n) => health[n]?.awaitingRise);
  for (const n of moved) notes.push(`${n} has a new address: not served until it passes rise probes there`);
  if (moved.length > 0) {
    const movedSet = new Set(moved);
    names = names.filter((n) => !movedSet.has(n));
  }
  const known = new Set(names);
  const active = activeOverrides(overrides, opts.now).filter((o) => known.has(o.mirror));

  const failovers = active.filter((o) => o.kind === 'failover').sort((a, b) => b.createdAt - a.createdAt);
  if (failovers.length > 0) {
    const f = failovers[0];
    notes.push(`forced failover to ${f.mirror} by ${f.author}: ${f.reason}`);
    return { serving: [f.mirror], failOpen: false, degraded: 1 < spec.policy.minHealthy, notes };
  }

  const up = names.filter((n) => (health[n]?.state ?? 'unknown') !== 'down');
  const drained = new Set(active.filter((o) => o.kind === 'drain').map((o) => o.mirror));
  let serving = up.filter((n) => !drained.has(n));
  for (const n of names) if (health[n]?.state === 'down') notes.push(`${n} is down`);
  for (const n of drained) notes.push(`${n} is drained`);

  if (serving.length === 0 && up.length > 0) {
    // Draining every mirror that is up would empty the answer: the drain yields.
    serving = up;
    notes.push(`drain ignored for ${up.join(', ')}: no other mirror is up`);
  }
  let failOpen = false;
  if (serving.length === 0 && names.length > 0) {
    failOpen = true;
    const last = new Set((opts.lastGood ?? []).filter((n) => known.has(n)));
    serving = last.size > 0 ? names.filter((n) => last.has(n)) : names;
    notes.push(`every mirror looks down: failing open to ${last.size > 0 ? 'the last good set' : 'all mirrors'} (${serving.join(', ')})`);
  }
  // failing open, nothing serves that we know to be healthy: always degraded, whatever the count
  const degraded = failOpen || serving.length < spec.policy.minHealthy;
  if (degraded && !failOpen) notes.push(`only ${serving.length} mirror(s) serving, policy wants ${spec.policy.minHealthy}`);
  return { serving, failOpen, degraded, notes };
}

/**
 * THE desired records. The Pulumi program, `flotilla plan` and the controller all call this, so `pulumi up`
 * after a failover computes the same answer and never re-adds a mirror that is down.
 */
export function desiredRecords(
  spec: FleetSpec,
  health: Health,
  overrides: readonly Override[],
  opts: DesiredOptions,
): DesiredState {
  spec = withInventory(spec, opts.inventory);
  const decision = servingMirrors(spec, health, overrides, opts);
  const byName = new Map(spec.mirrors.map((m) => [m.name, m] as const));
  const mirrors = decision.serving.map((n) => byName.get(n)!) as MirrorSpec[];
  const v4 = addresses(mirrors, 'ipv4', opts.placeholders ?? false);
  const v6 = addresses(mirrors, 'ipv6', false);
  const anyV6 = spec.mirrors.some((m) => m.ipv6);
  const ttl = spec.policy.ttl;

  const zones: Record<string, RecordSet[]> = {};
  for (const z of zonesOf(spec)) zones[z] = [];
  for (const name of [spec.domain, ...spec.alternateDomains]) {
    const out = zones[zoneOf(spec, name)];
    out.push(markerRecord(name, 'A', spec.policy.ownerId, ttl));
    if (v4.length > 0) out.push({ name, type: 'A', ttl, values: v4 });
    if (anyV6) {
      out.push(markerRecord(name, 'AAAA', spec.policy.ownerId, ttl));
      if (v6.length > 0) out.push({ name, type: 'AAAA', ttl, values: v6 });
    }
  }
  for (const z of Object.keys(zones)) zones[z].sort((a, b) => (a.name + a.type < b.name + b.type ? -1 : 1));
  // after a destroy a mirror without an address has no host: nothing unattributed may be its
  const unprovisioned = opts.inventory?.destroyedAt ? [] : spec.mirrors.filter((m) => !isProvisioned(m)).map((m) => m.name);
  const awaitingRise = spec.mirrors.filter((m) => isProvisioned(m) && health[m.name]?.awaitingRise).map((m) => m.name);
  // what the controller can vouch for: addresses of provisioned mirrors not waiting at a new address
  const waiting = new Set(awaitingRise);
  const knownAddresses = [...new Set(spec.mirrors.filter((m) => !waiting.has(m.name)).flatMap((m) => [m.ipv4 && normalizeValue('A', m.ipv4), m.ipv6 && normalizeValue('AAAA', m.ipv6)]).filter((a): a is string => !!a))].sort();
  return { ...decision, zones, unprovisioned, awaitingRise, knownAddresses };
}

function addresses(mirrors: MirrorSpec[], family: 'ipv4' | 'ipv6', placeholders: boolean): string[] {
  const out: string[] = [];
  for (const m of mirrors) {
    const a = m[family];
    if (a) out.push(a);
    else if (placeholders) out.push(placeholder(m.name, family));
  }
  return [...new Set(out)].sort();
}
