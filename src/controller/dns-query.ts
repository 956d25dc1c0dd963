import { queryDns } from '../dns/dns-client.ts';
import type { DnsQueryFn } from './verify.ts';

/** Verification query: the values one server answers for name/type (only RRs of that name and type). */
export const directQuery: DnsQueryFn = async ({ server, name, type, timeoutMs }) => {
  const r = await queryDns({ server, name, type, timeoutMs });
  if (!r.ok) return { ok: false, error: r.error };
  if (r.rcode !== 'NOERROR' && r.rcode !== 'NXDOMAIN') return { ok: false, error: `rcode ${r.rcode}` };
  const n = name.toLowerCase().replace(/\.$/, '');
  return { ok: true, values: r.answers.filter((a) => a.type === type && a.name === n).map((a) => a.value) };
};
