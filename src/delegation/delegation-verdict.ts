/**
 * What the parent zone and the delegated nameservers say about one of the site's domains, and what that means.
 * Pure: the watch (delegation-watch.ts) gathers the observation, this decides. Tested without any network.
 */

/** What one parent server answered for the zone's NS and DS. */
export type ParentAnswer =
  | { server: string; ok: true; rcode: string; ns: string[]; ds: string[] }
  | { server: string; ok: false; error: string };

/** What one nameserver answered for the zone's SOA. */
export interface SoaAnswer {
  nameserver: string;
  /** Where it was asked (`host` or `host:port`); absent when no address could be found for the name. */
  address?: string;
  ok: boolean;
  rcode?: string;
  authoritative?: boolean;
  serial?: number;
  error?: string;
}

export interface DelegationObservation {
  zone: string;
  /**
   * Our providers: the NS names each one should be delegated with (its delegated subset), and its other names (ours,
   * so never foreign when the parent lists them, but not expected there).
   */
  expected: { provider: string; nameservers: string[]; others?: string[] }[];
  parent: ParentAnswer[];
  /** DS the parent must hold (from the zone's signing set); undefined = DNSSEC not managed, DS not checked. */
  expectedDs?: string[];
  soa: SoaAnswer[];
}

/** Worst first: the order in which states win when several hold. */
export const DELEGATION_STATES = ['parent-unreachable', 'delegation-gone', 'delegation-changed', 'ds-mismatch', 'lame-provider', 'healthy'] as const;
export type DelegationState = (typeof DELEGATION_STATES)[number];

export interface NameserverVerdict {
  name: string;
  address?: string;
  provider?: string;
  /** Listed at the parent. */
  delegated: boolean;
  answering: boolean;
  reason: string;
  serial?: number;
}

export interface ProviderVerdict {
  provider: string;
  /** answering: at least one of its delegated nameservers answers for the zone; lame: none does; not-delegated: none listed at the parent. */
  state: 'answering' | 'lame' | 'not-delegated';
  nameservers: NameserverVerdict[];
}

export interface DelegationVerdict {
  zone: string;
  state: DelegationState;
  /** The domain no longer reaches the site through our providers (gone at the parent, or taken over). */
  lost: boolean;
  reasons: string[];
  parentNs: string[];
  foreignNs: string[];
  /** Our nameservers the parent does not list. */
  missingNs: string[];
  providers: ProviderVerdict[];
}

const LAME_RCODES = new Set(['REFUSED', 'SERVFAIL', 'NOTAUTH', 'NOTIMP', 'NXDOMAIN']);

const norm = (n: string) => n.toLowerCase().replace(/\.$/, '');

export function classifyDelegation(o: DelegationObservation): DelegationVerdict {
  const reasons: string[] = [];
  const wanted = new Set(o.expected.flatMap((p) => p.nameservers.map(norm)));
  const ours = new Set([...wanted, ...o.expected.flatMap((p) => (p.others ?? []).map(norm))]);
  const answered = o.parent.filter((a): a is Extract<ParentAnswer, { ok: true }> => a.ok);
  const parentNs = [...new Set(answered.flatMap((a) => a.ns.map(norm)))].sort();
  const foreignNs = parentNs.filter((n) => !ours.has(n));
  const missingNs = [...wanted].filter((n) => !parentNs.includes(n)).sort();
  const nsVerdicts = nameserverVerdicts(o, new Set(parentNs));
  const providers: ProviderVerdict[] = o.expected.map((p) => {
    const mine = nsVerdicts.filter((v) => v.provider === p.provider);
    const delegated = mine.filter((v) => v.delegated);
    const state = delegated.length === 0 ? 'not-delegated' : delegated.some((v) => v.answering) ? 'answering' : 'lame';
    return { provider: p.provider, state, nameservers: mine };
  });
  const foreign = nsVerdicts.filter((v) => v.provider === undefined);

  const states = new Set<DelegationState>();
  let lost = false;
  if (answered.length === 0) {
    states.add('parent-unreachable');
    reasons.push(`no parent server answered (${o.parent.map((a) => `${a.server}: ${a.ok ? '' : a.error}`).join('; ')}): nothing is concluded`);
  } else if (answered.every((a) => a.rcode === 'NXDOMAIN' || a.ns.length === 0)) {
    states.add('delegation-gone');
    lost = true;
    reasons.push(`the parent has no delegation for ${o.zone} (${answered.map((a) => `${a.server}: ${a.rcode === 'NXDOMAIN' ? 'NXDOMAIN' : 'no NS'}`).join('; ')})`);
  } else {
    if (foreignNs.length > 0) {
      states.add('delegation-changed');
      const noneOurs = parentNs.every((n) => !ours.has(n));
      if (noneOurs) lost = true;
      reasons.push(`the parent lists nameservers that are not ours: ${foreignNs.join(', ')}${noneOurs ? ' and none of ours: the domain is taken' : ''}`);
    }
    if (o.expectedDs !== undefined) {
      const want = new Set(o.expectedDs.map((d) => d.toUpperCase()));
      const got = new Set(answered.flatMap((a) => a.ds.map((d) => d.toUpperCase())));
      if (want.size !== got.size || [...want].some((d) => !got.has(d))) {
        states.add('ds-mismatch');
        reasons.push(`the parent's DS (${[...got].join(', ') || 'none'}) differs from the zone's (${[...want].join(', ') || 'none'})`);
      }
    }
    for (const p of providers) {
      if (p.state === 'lame') {
        states.add('lame-provider');
        reasons.push(`${p.provider}: no delegated nameserver answers for ${o.zone} (${p.nameservers.filter((v) => v.delegated).map((v) => `${v.name}: ${v.reason}`).join('; ')})`);
      }
    }
    if (!lost && providers.every((p) => p.state !== 'answering') && foreign.every((v) => !v.answering)) {
      // every provider of ours is lame or not delegated: nothing serves the zone
      lost = true;
      reasons.push(`no delegated nameserver answers for ${o.zone}`);
    }
  }
  const state = DELEGATION_STATES.find((s) => states.has(s)) ?? 'healthy';
  return { zone: norm(o.zone), state, lost, reasons, parentNs, foreignNs, missingNs, providers };
}

function nameserverVerdicts(o: DelegationObservation, delegated: Set<string>): NameserverVerdict[] {
  const byName = new Map(o.soa.map((s) => [norm(s.nameserver), s]));
  const verdict = (name: string, provider: string | undefined, best: number | undefined): NameserverVerdict => {
    const s = byName.get(name);
    const base = { name, provider, delegated: delegated.has(name), address: s?.address, serial: s?.serial };
    if (!s) return { ...base, answering: false, reason: 'not asked' };
    if (!s.ok) return { ...base, answering: false, reason: s.error ?? 'no answer' };
    if (s.rcode !== undefined && LAME_RCODES.has(s.rcode)) return { ...base, answering: false, reason: `answers ${s.rcode}` };
    if (s.authoritative === false) return { ...base, answering: false, reason: 'not authoritative for the zone' };
    if (s.serial === undefined) return { ...base, answering: false, reason: 'no SOA in the answer' };
    // a nameserver behind the others of its provider (a secondary that missed a NOTIFY) is lame too
    if (best !== undefined && serialBehind(s.serial, best)) return { ...base, answering: false, reason: `stale: serial ${s.serial}, its provider's other servers have ${best}` };
    return { ...base, answering: true, reason: `serial ${s.serial}` };
  };
  const out: NameserverVerdict[] = [];
  const ours = new Set<string>();
  for (const p of o.expected) {
    // its delegated names, and its other names only where the parent lists them
    for (const n of p.others ?? []) ours.add(norm(n));
    const names = [...new Set([...p.nameservers, ...(p.others ?? []).filter((n) => delegated.has(norm(n)))].map(norm))].sort();
    let best: number | undefined;
    for (const n of names) {
      ours.add(n);
      const s = byName.get(n);
      if (s?.ok && s.serial !== undefined && (best === undefined || serialBehind(best, s.serial))) best = s.serial;
    }
    for (const n of names) out.push(verdict(n, p.provider, best));
  }
  for (const n of [...delegated].sort()) if (!ours.has(n)) out.push(verdict(n, undefined, undefined));
  return out;
}

/** RFC 1982 serial arithmetic: a is behind b. */
function serialBehind(a: number, b: number): boolean {
  if (a === b) return false;
  return (a < b && b - a < 2 ** 31) || (a > b && a - b > 2 ** 31);
}
