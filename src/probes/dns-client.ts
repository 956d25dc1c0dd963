/**
 * A small DNS client for direct questions to one server (verification at each authoritative nameserver, DNS probes).
 * UDP first, TCP when the answer is truncated; one socket per query; `timeoutMs` bounds the whole query, TCP retry
 * included. Failures (timeout, refused, garbage) are returned as values, never thrown.
 */
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect, isIPv6 } from 'node:net';
import packet from 'dns-packet';
import { rdataToValue } from '../domain/dns-rdata.ts';
import { normalizeName, normalizeValue, type RecordType } from '../domain/records.ts';

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

function endpoint(server: string): { host: string; port: number } {
  const s = server.trim();
  const b = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (b) return { host: b[1], port: b[2] ? Number(b[2]) : 53 };
  if (isIPv6(s)) return { host: s, port: 53 };
  const i = s.lastIndexOf(':');
  return i > 0 ? { host: s.slice(0, i), port: Number(s.slice(i + 1)) } : { host: s, port: 53 };
}


/** Sends the query once over one transport; rejects with a short reason (turned into a value by queryDns). */
function once(q: DnsQuery, message: Buffer, tcp: boolean, deadline: number): Promise<Buffer> {
  const { host, port } = endpoint(q.server);
  const id = message.readUInt16BE(0);
  return new Promise<Buffer>((resolve, reject) => {
    let cleanup = () => {};
    let settled = false;
    const done = (err: string | undefined, msg?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      q.signal?.removeEventListener('abort', onAbort);
      cleanup();
      if (err !== undefined) reject(new Error(err));
      else resolve(msg!);
    };
    const onAbort = () => done('aborted');
    const timer = setTimeout(() => done(`timeout after ${q.timeoutMs}ms`), Math.max(0, deadline - performance.now()));
    if (q.signal?.aborted) return done('aborted');
    q.signal?.addEventListener('abort', onAbort, { once: true });
    const describe = (e: NodeJS.ErrnoException) => (e.code === 'ECONNREFUSED' ? 'connection refused' : (e.code ?? e.message));
    const matches = (m: Buffer) => m.length >= 12 && m.readUInt16BE(0) === id && (m[2] & 0x80) !== 0;
    if (!tcp) {
      const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
      cleanup = () => socket.close();
      socket.on('error', (e) => done(describe(e)));
      socket.on('message', (m) => matches(m) && done(undefined, m));
      socket.connect(port, host, () => {
        if (!settled) socket.send(message, (e) => e && done(describe(e)));
      });
      return;
    }
    const socket = connect({ host, port });
    cleanup = () => socket.destroy();
    socket.setNoDelay(true);
    let buf: Buffer = Buffer.alloc(0);
    socket.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(message.length, 0);
      socket.write(Buffer.concat([len, message]));
    });
    socket.on('error', (e) => done(describe(e)));
    socket.on('close', () => done('connection closed before an answer'));
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
      const m = buf.subarray(2, 2 + buf.readUInt16BE(0));
      if (matches(m)) done(undefined, Buffer.from(m));
      else done('answer with a foreign message id');
    });
  });
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
