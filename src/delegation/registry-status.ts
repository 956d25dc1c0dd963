/**
 * A domain's standing at its registry, from an RDAP domain object (RFC 9083). Pure: rdap-client.ts fetches.
 * RDAP spells EPP statuses as lower-case words ("server hold", RFC 8056); they are mapped back to EPP's names.
 */
export interface RegistryStatus {
  domain: string;
  /** EPP status names, e.g. `clientTransferProhibited`, `serverHold`. */
  statuses: string[];
  /** ms since the epoch, when the registration expires. */
  expiresAt?: number;
  /** The registry stops publishing the domain (hold), or is deleting it. */
  problems: string[];
  /** Days until expiry, rounded down; undefined without an expiry event. */
  daysLeft?: number;
  expiringSoon: boolean;
}

/** Statuses that take the domain out of the DNS now or soon. */
const HARMFUL: Record<string, string> = {
  clientHold: 'the registrar put the domain on hold (clientHold): the registry no longer publishes its delegation',
  serverHold: 'the registry put the domain on hold (serverHold): its delegation is no longer published',
  pendingDelete: 'the domain is being deleted (pendingDelete)',
  redemptionPeriod: 'the domain expired and is in its redemption period',
  inactive: 'the domain has no delegation at the registry (inactive)',
};

export function eppStatusName(rdap: string): string {
  const words = rdap.trim().toLowerCase().split(/\s+/);
  return words.map((w, i) => (i === 0 ? w : w.charAt(0).toUpperCase() + w.slice(1))).join('');
}

/** Never throws: a document that is not an RDAP domain object is reported as one problem. */
export function registryStatusOf(domain: string, doc: unknown, now: number, warnDays: number): RegistryStatus {
  const d = (typeof doc === 'object' && doc !== null ? doc : {}) as { objectClassName?: unknown; status?: unknown; events?: unknown };
  if (d.objectClassName !== 'domain') return { domain, statuses: [], problems: ['the RDAP answer is not a domain object'], expiringSoon: false };
  const statuses = Array.isArray(d.status) ? d.status.filter((s): s is string => typeof s === 'string').map(eppStatusName) : [];
  const events = Array.isArray(d.events) ? (d.events as { eventAction?: unknown; eventDate?: unknown }[]) : [];
  const exp = events.find((e) => e && e.eventAction === 'expiration' && typeof e.eventDate === 'string');
  const expiresAt = exp ? Date.parse(exp.eventDate as string) : NaN;
  const problems = statuses.filter((s) => s in HARMFUL).map((s) => HARMFUL[s]);
  const out: RegistryStatus = { domain, statuses, problems, expiringSoon: false };
  if (Number.isFinite(expiresAt)) {
    out.expiresAt = expiresAt;
    out.daysLeft = Math.floor((expiresAt - now) / 86_400_000);
    out.expiringSoon = out.daysLeft <= warnDays;
    if (out.daysLeft < 0) problems.push(`the registration expired ${-out.daysLeft} day(s) ago`);
  }
  return out;
}

/** RDAP base URLs for a domain from an IANA bootstrap file (RFC 9224): the longest matching label suffix wins. */
export function rdapBaseFor(domain: string, bootstrap: unknown): string[] {
  const services = (bootstrap as { services?: unknown })?.services;
  if (!Array.isArray(services)) return [];
  const name = domain.toLowerCase().replace(/\.$/, '');
  let best: { len: number; urls: string[] } | undefined;
  for (const s of services) {
    if (!Array.isArray(s) || !Array.isArray(s[0]) || !Array.isArray(s[1])) continue;
    for (const suffix of s[0] as unknown[]) {
      if (typeof suffix !== 'string') continue;
      const sfx = suffix.toLowerCase();
      if ((name === sfx || name.endsWith(`.${sfx}`)) && (!best || sfx.length > best.len)) best = { len: sfx.length, urls: (s[1] as unknown[]).filter((u): u is string => typeof u === 'string') };
    }
  }
  // prefer https, as RFC 9224 asks
  return (best?.urls ?? []).sort((a, b) => Number(b.startsWith('https:')) - Number(a.startsWith('https:')));
}
