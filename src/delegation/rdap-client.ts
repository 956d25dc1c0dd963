import { readFile } from 'node:fs/promises';
import { rdapBaseFor, registryStatusOf, type RegistryStatus } from './registry-status.ts';

export { IANA_DNS_BOOTSTRAP } from '../domain/delegation-defaults.ts';

export interface RdapOptions {
  /** URL or file path of the bootstrap registry (IANA's by default). */
  bootstrap: string;
  timeoutMs: number;
  warnDays: number;
  now?: () => number;
}

export type RdapResult = { ok: true; status: RegistryStatus; source: string } | { ok: false; domain: string; error: string };

/** Looks up each domain's registry status. Never throws: an unreachable registry is a value. */
export async function lookupRegistryStatus(domains: readonly string[], o: RdapOptions): Promise<RdapResult[]> {
  let bootstrap: unknown;
  try {
    bootstrap = await readJson(o.bootstrap, o.timeoutMs);
  } catch (e) {
    return domains.map((domain) => ({ ok: false, domain, error: `RDAP bootstrap ${o.bootstrap}: ${(e as Error).message}` }));
  }
  return Promise.all(
    domains.map(async (domain): Promise<RdapResult> => {
      const bases = rdapBaseFor(domain, bootstrap);
      if (bases.length === 0) return { ok: false, domain, error: `no RDAP service for ${domain} in ${o.bootstrap}` };
      let last = '';
      for (const base of bases) {
        const url = `${base.replace(/\/?$/, '/')}domain/${encodeURIComponent(domain)}`;
        try {
          const doc = await readJson(url, o.timeoutMs);
          return { ok: true, status: registryStatusOf(domain, doc, (o.now ?? Date.now)(), o.warnDays), source: url };
        } catch (e) {
          last = `${url}: ${(e as Error).message}`;
        }
      }
      return { ok: false, domain, error: last };
    }),
  );
}

async function readJson(where: string, timeoutMs: number): Promise<unknown> {
  if (!/^https?:\/\//.test(where)) return JSON.parse(await readFile(where, 'utf8'));
  const res = await fetch(where, { headers: { accept: 'application/rdap+json, application/json' }, signal: AbortSignal.timeout(timeoutMs) });
  if (res.status === 404) throw new Error('HTTP 404: the registry does not know the domain');
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const text = await res.text();
  if (text.length > 1_000_000) throw new Error('answer larger than 1 MB');
  return JSON.parse(text);
}
