/**
 * A small DNS client for direct questions to one server (verification at each authoritative nameserver, DNS probes).
 * UDP first, TCP when the answer is truncated; one socket per query; `timeoutMs` bounds the whole query, TCP retry
 * included. Failures (timeout, refused, garbage) are returned as values, never thrown.
 */
import { randomInt } from 'node:crypto';
import packet from 'dns-packet';
import { normalizeName } from '../domain/records.ts';
import { parseEndpoint } from './endpoint.ts';
import { rdataToValue } from './rdata.ts';
import { TransportError, exchangeTcp, exchangeUdp } from './transport.ts';

export interface DnsQuery {
  /** `host`, `host:port` or `[v6]:port`; port 53 by default. */
  server: string;
  name: string;
  /** Record type, e.g. `A`, `TXT`, `SOA`. */
  type: string;
  timeoutMs: number;
  /** Ask over TCP straight away. */
  tcp?: boolean;
  /** Set RD (ask a resolver to recurse); off by default, since we ask authoritative servers. */
  recursion?: boolean;
  signal?: AbortSignal;
}

/** One answer record; `value` normalised as in src/domain/records.ts (TXT joined, names without trailing dot). */
export interface DnsAnswer {
  name: string;
  type: string;
  ttl: number;
  value: string;
}

export type DnsQueryResult =
  | {
      ok: true;
      rcode: string;
      answers: DnsAnswer[];
      /** Authority section (a referral's NS set, or the SOA of a negative answer), without OPT. */
      authority: DnsAnswer[];
      /** Additional section (glue), without OPT. */
      additional: DnsAnswer[];
      /** The final answer was still truncated (only possible when TCP was not used). */
      truncated: boolean;
      authoritative: boolean;
      /** Transport of the answer returned. */
      transport: 'udp' | 'tcp';
      latencyMs: number;
    }
  | { ok: false; error: string; latencyMs: number };

const EDNS_PAYLOAD = 1232;

/** Sends the query once over one transport (src/dns/transport.ts); rejects with a short reason (turned into a value by queryDns). */
async function once(q: DnsQuery, message: Buffer, tcp: boolean, deadline: number): Promise<Buffer> {
  const ep = parseEndpoint(q.server);
  const opts = { timeoutMs: Math.max(0, deadline - performance.now()), signal: q.signal };
  try {
    if (q.signal?.aborted) throw q.signal.reason;
    return tcp ? (await exchangeTcp(ep, message, opts))[0] : await exchangeUdp(ep, message, opts);
  } catch (err) {
    if (q.signal?.aborted) throw new Error('aborted');
    if (!(err instanceof TransportError)) throw err;
    if (err.kind === 'timeout') throw new Error(`timeout after ${q.timeoutMs}ms`);
    if (err.kind === 'refused') throw new Error('connection refused');
    // the transport's message starts with "udp|tcp host:port: "; queryDns prefixes its own
    throw new Error(err.message.replace(/^(udp|tcp) \S+: /, ''));
  }
}

/** Asks `server` one question. Never throws (a bad argument is an `ok: false` value too). */
export async function queryDns(q: DnsQuery): Promise<DnsQueryResult> {
  const start = performance.now();
  const deadline = start + q.timeoutMs;
  const elapsed = () => Math.round((performance.now() - start) * 1000) / 1000;
  let message: Buffer;
  try {
    message = packet.encode({
      type: 'query',
      id: randomInt(65536),
      flags: q.recursion ? packet.RECURSION_DESIRED : 0,
      questions: [{ name: normalizeName(q.name) || '.', type: q.type.toUpperCase() as packet.RecordType }],
      additionals: [{ type: 'OPT', name: '.', udpPayloadSize: EDNS_PAYLOAD, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }],
    });
  } catch (err) {
    return { ok: false, error: `cannot encode the query: ${(err as Error).message}`, latencyMs: elapsed() };
  }
  let tcp = q.tcp === true;
  for (;;) {
    let raw: Buffer;
    try {
      raw = await once(q, message, tcp, deadline);
    } catch (err) {
      return { ok: false, error: `${tcp ? 'tcp' : 'udp'} ${q.server}: ${(err as Error).message}`, latencyMs: elapsed() };
    }
    let decoded: packet.DecodedPacket;
    try {
      decoded = packet.decode(raw);
    } catch (err) {
      return { ok: false, error: `malformed answer from ${q.server}: ${(err as Error).message}`, latencyMs: elapsed() };
    }
    if (decoded.flag_tc && !tcp) {
      tcp = true;
      continue;
    }
    const question = decoded.questions?.[0];
    if (question && (normalizeName(question.name) !== normalizeName(q.name) || question.type !== q.type.toUpperCase())) {
      return { ok: false, error: `answer from ${q.server} is for another question (${question.name} ${question.type})`, latencyMs: elapsed() };
    }
    return {
      ok: true,
      rcode: (decoded as unknown as { rcode: string }).rcode,
      answers: section(decoded.answers),
      authority: section(decoded.authorities),
      additional: section(decoded.additionals),
      truncated: decoded.flag_tc,
      authoritative: decoded.flag_aa,
      transport: tcp ? 'tcp' : 'udp',
      latencyMs: elapsed(),
    };
  }
}

function section(records: readonly packet.Answer[] | undefined): DnsAnswer[] {
  const out: DnsAnswer[] = [];
  for (const a of records ?? []) {
    if (a.type === 'OPT') continue;
    out.push({ name: normalizeName(a.name), type: a.type, ttl: a.ttl ?? 0, value: rdataToValue(a.type, (a as { data?: unknown }).data) });
  }
  return out;
}
