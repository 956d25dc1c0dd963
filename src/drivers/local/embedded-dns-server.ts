import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type Server, type Socket } from 'node:net';
import * as dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, OptAnswer, Packet, Question } from 'dns-packet';
import { addressMatcher, LOOPBACK } from './address-list.ts';
import { capConnections, type ConnectionCap } from '../../net/connection-cap.ts';
import { RCODE, resolveQuestion, zoneTransfer, type Resolution } from './dns-answer.ts';
import { DNS_TCP_DEFAULTS } from './local-limits.ts';
import { ResponseRateLimiter, type RateLimitOptions } from './response-rate-limit.ts';
import { appendUnsignedTsig, RCODE_NOTAUTH, signErrorResponse, signResponses, splitTsig, tsigRecordLength, verifyRequest, type TsigKey } from '../../dns/tsig.ts';
import type { ZoneStore } from './zone-store.ts';

export interface EmbeddedDnsServerOptions {
  /** Address to listen on, e.g. `127.0.0.1` or `::1`. */
  listen: string;
  /** UDP and TCP port; 0 picks a free one (reported back). */
  port: number;
  /** The zones served; read on every query, so a change applied through the store is answered at once. */
  store: ZoneStore;
  /** Called for internal faults (a query that could not be answered); default: ignored. */
  onError?: (err: unknown) => void;
  /** Client addresses/CIDRs allowed to transfer a zone (AXFR/IXFR); default loopback only. Others get REFUSED. */
  axfrAllow?: readonly string[];
  /**
   * TSIG key a transfer must also be signed with (RFC 8945): a client on `axfrAllow` without it gets REFUSED, a
   * bad MAC, other key or stale time NOTAUTH (BADSIG/BADKEY/BADTIME); the transfer itself is signed.
   */
  axfrTsig?: TsigKey;
  /** Response-rate limiting of UDP answers per client network; `false` turns it off. */
  rateLimit?: (RateLimitOptions & { /** CIDRs never limited; default loopback (a local verifier is never throttled). */ exempt?: readonly string[] }) | false;
  /** TCP: open connections in all (default 64) and per client address (default 8), idle timeout (default 10 s). */
  tcp?: Partial<ConnectionCap> & { idleTimeoutMs?: number };
}

export interface EmbeddedDnsServer {
  /** `host:port` (`[::1]:port` for IPv6), ready for `dig @host -p port`. */
  address: string;
  port: number;
  /** Counters for tests and metrics: TCP connections open and reset at accept, UDP answers dropped or slipped. */
  stats(): { tcpOpen: number; tcpRefused: number; udpDropped: number; udpSlipped: number; rateTableSize: number };
  close(): Promise<void>;
}

const FLAG_AA = 1 << 10;
const FLAG_TC = 1 << 9;
const FLAG_RD = 1 << 8;
/** UDP payload size we advertise and accept at most (the DNS flag day 2020 value). */
const OUR_UDP_SIZE = 1232;
/** An AXFR message is flushed when it grows past this many bytes (TCP messages max out at 65535). */
const AXFR_MESSAGE_BYTES = 16_000;
/** A TCP client with this much unsent output is not reading its answers: it is disconnected. */
const TCP_MAX_UNSENT = 256 * 1024;

/**
 * Starts an authoritative DNS server for the zones in `store`, on UDP and TCP at listen:port.
 * Answers A/AAAA/CNAME/TXT/NS/SOA/MX/SRV/CAA with the AA flag, NXDOMAIN/NODATA with the SOA in authority,
 * REFUSED outside its zones, TC over UDP when the answer exceeds 512 bytes (or the client's EDNS size),
 * and AXFR over TCP to the clients in `axfrAllow` (and, when `axfrTsig` is set, only with that TSIG key; signed). ANY gets one RRset (RFC 8482). UDP answers are rate-limited per
 * client network (slip: some go out truncated); TCP connections are capped and timed out.
 * No recursion, no NOTIFY, no DNSSEC.
 */
export async function startEmbeddedDnsServer(opts: EmbeddedDnsServerOptions): Promise<EmbeddedDnsServer> {
  const onError = opts.onError ?? (() => undefined);
  const axfrAllowed = addressMatcher(opts.axfrAllow ?? LOOPBACK);
  const handler: Handler = (msg, transport, client) => handleMessage(opts.store, msg, transport, onError, { client, axfrAllowed, axfrKey: opts.axfrTsig });
  const rl = opts.rateLimit === false ? undefined : opts.rateLimit ?? {};
  const limiter = rl && { limiter: new ResponseRateLimiter(rl), exempt: addressMatcher(rl.exempt ?? LOOPBACK), dropped: 0, slipped: 0 };
  const tcpOpts = { maxConnections: opts.tcp?.maxConnections ?? DNS_TCP_DEFAULTS.connections, maxPerClient: opts.tcp?.maxPerClient ?? DNS_TCP_DEFAULTS.perClient, idleTimeoutMs: opts.tcp?.idleTimeoutMs ?? DNS_TCP_DEFAULTS.idleTimeoutMs };
  // With port 0, the UDP port picked by the kernel may be taken for TCP: try again with another.
  for (let attempt = 0; ; attempt++) {
    const udp = await bindUdp(opts.listen, opts.port, handler, onError, limiter);
    const port = udp.address().port;
    try {
      const tcp = await listenTcp(opts.listen, port, handler, onError, tcpOpts);
      return {
        address: isIPv6(opts.listen) ? `[${opts.listen}]:${port}` : `${opts.listen}:${port}`,
        port,
        stats: () => ({ tcpOpen: tcp.capped.open, tcpRefused: tcp.capped.refused, udpDropped: limiter?.dropped ?? 0, udpSlipped: limiter?.slipped ?? 0, rateTableSize: limiter?.limiter.size ?? 0 }),
        close: async () => {
          await Promise.all([new Promise<void>((r) => udp.close(() => r())), tcp.close()]);
        },
      };
    } catch (err) {
      await new Promise<void>((r) => udp.close(() => r()));
      if (opts.port !== 0 || attempt >= 10 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
  }
}

type Handler = (msg: Buffer, transport: 'udp' | 'tcp', client: string) => Buffer[];

interface UdpLimiter { limiter: ResponseRateLimiter; exempt: (addr: string) => boolean; dropped: number; slipped: number }

function bindUdp(host: string, port: number, handler: Handler, onError: (e: unknown) => void, rl: UdpLimiter | undefined): Promise<UdpSocket> {
  return new Promise((resolve, reject) => {
    const sock = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    sock.once('error', reject);
    sock.on('message', (msg, rinfo) => {
      for (let out of handler(msg, 'udp', rinfo.address)) {
        if (rl && !rl.exempt(rinfo.address)) {
          const d = rl.limiter.decide(rinfo.address, Date.now());
          if (d === 'drop') {
            rl.dropped++;
            continue;
          }
          if (d === 'slip') {
            rl.slipped++;
            out = truncated(out);
          }
        }
        sock.send(out, rinfo.port, rinfo.address, (err) => err && onError(err));
      }
    });
    sock.bind(port, host, () => {
      sock.off('error', reject);
      sock.on('error', onError);
      resolve(sock);
    });
  });
}

function listenTcp(
  host: string,
  port: number,
  handler: Handler,
  onError: (e: unknown) => void,
  o: ConnectionCap & { idleTimeoutMs: number },
): Promise<{ capped: ReturnType<typeof capConnections>; close(): Promise<void> }> {
  const conns = new Set<Socket>();
  const server: Server = createServer((conn) => {
    conns.add(conn);
    conn.setTimeout(o.idleTimeoutMs, () => conn.destroy());
    conn.on('close', () => conns.delete(conn));
    conn.on('error', () => conn.destroy());
    let pending = Buffer.alloc(0);
    conn.on('data', (chunk) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      // Messages are framed by a 2-byte length (RFC 1035 4.2.2); several may arrive in one chunk.
      while (pending.length >= 2) {
        const len = pending.readUInt16BE(0);
        if (pending.length < 2 + len) break;
        const msg = pending.subarray(2, 2 + len);
        pending = pending.subarray(2 + len);
        if (conn.writableLength > TCP_MAX_UNSENT) {
          conn.destroy();
          return;
        }
        for (const out of handler(msg, 'tcp', conn.remoteAddress ?? '')) {
          const frame = Buffer.alloc(2 + out.length);
          frame.writeUInt16BE(out.length, 0);
          out.copy(frame, 2);
          conn.write(frame);
        }
      }
    });
  });
  const capped = capConnections(server, o);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      server.on('error', onError);
      resolve({
        capped,
        close: () =>
          new Promise<void>((r) => {
            for (const c of conns) c.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}

/** Who asks, for the decisions that depend on it. */
export interface QueryContext {
  /** The client's address. */
  client?: string;
  /** Whether that client may transfer a zone; default: nobody. */
  axfrAllowed?: (addr: string) => boolean;
  /**
   * The server's TSIG key (`axfrTsig`): a transfer must be signed with it; any request signed with it is answered
   * signed (a secondary's SOA check too). Without it, a signed request gets NOTAUTH/BADKEY.
   */
  axfrKey?: TsigKey;
  /** Milliseconds since the epoch, for TSIG times; default Date.now(). */
  now?: () => number;
}

/** Turns one query message into the response message(s). Never throws; garbage gets FORMERR or silence. */
export function handleMessage(store: ZoneStore, msg: Buffer, transport: 'udp' | 'tcp', onError: (e: unknown) => void = () => undefined, ctx: QueryContext = {}): Buffer[] {
  let query: DecodedPacket & { opcode?: string };
  try {
    query = dnsPacket.decode(msg) as DecodedPacket & { opcode?: string };
  } catch {
    return msg.length >= 12 && (msg.readUInt16BE(2) & 0x8000) === 0 ? [headerOnly(msg.readUInt16BE(0), RCODE.FORMERR)] : [];
  }
  if (query.flag_qr) return []; // never answer a response
  const id = query.id ?? 0;
  const rd = query.flags !== undefined ? query.flags & FLAG_RD : 0;
  const opt = (query.additionals ?? []).find((a): a is OptAnswer => a.type === 'OPT');
  const questions = query.questions ?? [];
  const reply = (rcode: number, r?: Partial<Resolution>, extraFlags = 0): Packet => ({
    type: 'response',
    id,
    flags: rd | extraFlags | (r?.authoritative ? FLAG_AA : 0) | (rcode & 0xf),
    questions,
    answers: r?.answers ?? [],
    authorities: r?.authorities ?? [],
    additionals: [...(r?.additionals ?? []), ...(opt ? [ourOpt(rcode >> 4)] : [])],
  });
  // TSIG (RFC 8945 §5.2): a signed request is verified before anything else, and the answer to a verified one is signed
  const now = (ctx.now ?? Date.now)();
  const auth = checkTsig(msg, ctx.axfrKey, now);
  if (auth.kind === 'formerr') return [dnsPacket.encode(reply(RCODE.FORMERR))];
  if (auth.kind === 'bad') return [auth.respond(dnsPacket.encode(reply(RCODE_NOTAUTH)))];
  const out = answer(store, query, transport, onError, ctx, reply, auth.kind === 'ok', opt);
  return auth.kind === 'ok' ? signResponses(out, ctx.axfrKey!, auth.mac, { now }) : out;
}

function answer(
  store: ZoneStore,
  query: DecodedPacket & { opcode?: string },
  transport: 'udp' | 'tcp',
  onError: (e: unknown) => void,
  ctx: QueryContext,
  reply: (rcode: number, r?: Partial<Resolution>, extraFlags?: number) => Packet,
  signed: boolean,
  opt: OptAnswer | undefined,
): Buffer[] {
  const questions = query.questions ?? [];
  try {
    if (query.opcode !== 'QUERY') return [dnsPacket.encode(reply(RCODE.NOTIMP))];
    if (questions.length !== 1) return [dnsPacket.encode(reply(RCODE.FORMERR))];
    if (opt && opt.ednsVersion > 0) return [dnsPacket.encode(reply(16))]; // BADVERS (RFC 6891 6.1.3)
    const q: Question = questions[0];
    if (q.class !== undefined && q.class !== 'IN' && q.class !== 'ANY') return [dnsPacket.encode(reply(RCODE.REFUSED))];
    if (q.type === 'AXFR' || q.type === 'IXFR') {
      // zone transfers hand out every name: only to the allowed clients (BIND answers REFUSED too), and with a key
      // configured only when signed with it (allow-list AND TSIG)
      if (!ctx.client || !ctx.axfrAllowed?.(ctx.client)) return [dnsPacket.encode(reply(RCODE.REFUSED))];
      if (ctx.axfrKey && !signed) return [dnsPacket.encode(reply(RCODE.REFUSED))];
      return transfer(store, q, transport, reply);
    }
    const r = resolveQuestion((n) => store.zoneFor(n), q.name, q.type);
    const full = dnsPacket.encode(reply(r.rcode, r));
    if (transport === 'udp' && full.length > udpLimit(opt) - (signed ? tsigRecordLength(ctx.axfrKey!) : 0)) {
      // Too big for this client over UDP: say so (TC) and let it retry over TCP for the whole answer.
      return [dnsPacket.encode(reply(r.rcode, { authoritative: r.authoritative }, FLAG_TC))];
    }
    return [full];
  } catch (err) {
    onError(err);
    return [dnsPacket.encode(reply(RCODE.SERVFAIL))];
  }
}

type TsigCheck = { kind: 'none' } | { kind: 'ok'; mac: Buffer } | { kind: 'bad'; respond: (notauth: Buffer) => Buffer } | { kind: 'formerr' };

/**
 * What a request's TSIG means here (RFC 8945 §5.2): none; verified with our key; NOTAUTH with BADSIG/BADKEY/BADTIME
 * (also when we have no key: the one it names is unknown); or FORMERR when it cannot be parsed.
 */
function checkTsig(msg: Buffer, key: TsigKey | undefined, now: number): TsigCheck {
  try {
    if (!key) {
      const t = splitTsig(msg)?.tsig;
      return t ? { kind: 'bad', respond: (r) => appendUnsignedTsig(r, t, 17, { now }) } : { kind: 'none' };
    }
    const verdict = verifyRequest(msg, key, { now });
    if (!verdict.signed) return { kind: 'none' };
    if (!verdict.ok) return { kind: 'bad', respond: (r) => signErrorResponse(r, key, verdict, { now }) };
    return { kind: 'ok', mac: verdict.tsig!.mac };
  } catch {
    return { kind: 'formerr' };
  }
}

/** Largest UDP response this client takes: 512 without EDNS, else its advertised size (bounded by ours). */
function udpLimit(opt: OptAnswer | undefined): number {
  if (!opt) return 512;
  return Math.max(512, Math.min(opt.udpPayloadSize || 512, OUR_UDP_SIZE));
}

function ourOpt(extendedRcode: number): Answer {
  return { name: '.', type: 'OPT', udpPayloadSize: OUR_UDP_SIZE, extendedRcode, ednsVersion: 0, flags: 0, flag_do: false, options: [] } as OptAnswer;
}

/** AXFR over TCP: the zone in as many messages as it takes. IXFR is answered with a full transfer (RFC 1995 4). */
function transfer(store: ZoneStore, q: Question, transport: 'udp' | 'tcp', reply: (rcode: number, r?: Partial<Resolution>) => Packet): Buffer[] {
  const zone = store.zone(q.name);
  if (transport === 'udp' || !zone || zone.zone !== q.name.toLowerCase().replace(/\.$/, '')) {
    return [dnsPacket.encode(reply(zone ? RCODE.FORMERR : RCODE.REFUSED))];
  }
  const out: Buffer[] = [];
  let batch: Answer[] = [];
  let bytes = 0;
  for (const a of zoneTransfer(zone)) {
    const len = dnsPacket.encodingLength({ answers: [a] }) - 12;
    if (batch.length > 0 && bytes + len > AXFR_MESSAGE_BYTES) {
      out.push(dnsPacket.encode(axfrMessage(reply, out.length, batch)));
      batch = [];
      bytes = 0;
    }
    batch.push(a);
    bytes += len;
  }
  out.push(dnsPacket.encode(axfrMessage(reply, out.length, batch)));
  return out;
}

/** Only the first message of a transfer repeats the question (RFC 5936 2.2). */
function axfrMessage(reply: (rcode: number, r?: Partial<Resolution>) => Packet, n: number, answers: Answer[]): Packet {
  const p = reply(RCODE.NOERROR, { authoritative: true, answers });
  return n === 0 ? p : { ...p, questions: [] };
}

/** A response cut to its header and question, with TC set: the rate limiter's "slip" (the client retries over TCP). */
function truncated(response: Buffer): Buffer {
  try {
    const p = dnsPacket.decode(response);
    return dnsPacket.encode({ ...p, flags: (p.flags ?? 0) | FLAG_TC, answers: [], authorities: [], additionals: (p.additionals ?? []).filter((a) => a.type === 'OPT') });
  } catch {
    return headerOnly(response.readUInt16BE(0), RCODE.SERVFAIL);
  }
}

function headerOnly(id: number, rcode: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16BE(id, 0);
  b.writeUInt16BE(0x8000 | rcode, 2);
  return b;
}
