/**
 * Sends one DNS request and collects its answer, over UDP or TCP (RFC 1035 §4.2, RFC 7766).
 * One socket per exchange: simple, and nothing to leak between requests.
 */
import { createSocket } from 'node:dgram';
import { isIPv6, connect } from 'node:net';
import { formatEndpoint, type Endpoint } from './endpoint.ts';

export type TransportFailure = 'timeout' | 'refused' | 'network';

/** The exchange failed before a complete answer arrived. Messages name the server, never a secret. */
export class TransportError extends Error {
  constructor(
    readonly kind: TransportFailure,
    message: string,
    opts?: { cause?: unknown },
  ) {
    super(message, opts);
    this.name = 'TransportError';
  }
}

export interface ExchangeOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

function failureOf(err: NodeJS.ErrnoException, ep: Endpoint, proto: string): TransportError {
  const kind: TransportFailure = err.code === 'ECONNREFUSED' ? 'refused' : 'network';
  return new TransportError(kind, `${proto} ${formatEndpoint(ep)}: ${err.code ?? err.message}`, { cause: err });
}

/** Sends `message` over UDP; resolves with the first datagram answering its ID. */
export function exchangeUdp(ep: Endpoint, message: Buffer, opts: ExchangeOptions): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    if (opts.signal?.aborted) return reject(opts.signal.reason);
    const id = message.readUInt16BE(0);
    const socket = createSocket(isIPv6(ep.host) ? 'udp6' : 'udp4');
    let settled = false;
    const done = (err: unknown, value?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      socket.close();
      if (err) reject(err);
      else resolve(value!);
    };
    const onAbort = () => done(opts.signal!.reason);
    const timer = setTimeout(() => done(new TransportError('timeout', `udp ${formatEndpoint(ep)}: no answer within ${opts.timeoutMs}ms`)), opts.timeoutMs);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('error', (err) => done(failureOf(err, ep, 'udp')));
    socket.on('message', (msg) => {
      // Only an answer to this request counts; stray datagrams are ignored.
      if (msg.length >= 12 && msg.readUInt16BE(0) === id && (msg[2] & 0x80) !== 0) done(undefined, msg);
    });
    socket.connect(ep.port, ep.host, () => {
      if (!settled) socket.send(message, (err) => err && done(failureOf(err, ep, 'udp')));
    });
  });
}

export interface TcpExchangeOptions extends ExchangeOptions {
  /** Called with each answer message; return true when it was the last one. Default: the first message is the last. */
  isLast?: (message: Buffer, index: number) => boolean;
}

/**
 * Sends `message` over TCP and collects answer messages until `isLast` says so. `timeoutMs` is an idle timeout:
 * it restarts whenever data arrives, so a long zone transfer is not cut off while it is still flowing.
 */
export function exchangeTcp(ep: Endpoint, message: Buffer, opts: TcpExchangeOptions): Promise<Buffer[]> {
  return new Promise<Buffer[]>((resolve, reject) => {
    if (opts.signal?.aborted) return reject(opts.signal.reason);
    if (message.length > 0xffff) return reject(new RangeError(`a ${message.length}-byte message does not fit a TCP frame`));
    const id = message.readUInt16BE(0);
    const isLast = opts.isLast ?? (() => true);
    const socket = connect({ host: ep.host, port: ep.port });
    const out: Buffer[] = [];
    let pending: Buffer = Buffer.alloc(0);
    let settled = false;
    let timer: NodeJS.Timeout;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => done(new TransportError('timeout', `tcp ${formatEndpoint(ep)}: no data within ${opts.timeoutMs}ms`)), opts.timeoutMs);
    };
    const done = (err: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      if (err) reject(err);
      else resolve(out);
    };
    const onAbort = () => done(opts.signal!.reason);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    arm();
    socket.setNoDelay(true);
    socket.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(message.length, 0);
      socket.write(Buffer.concat([len, message]));
    });
    socket.on('error', (err) => done(failureOf(err, ep, 'tcp')));
    socket.on('close', () => done(new TransportError('network', `tcp ${formatEndpoint(ep)}: connection closed after ${out.length} message(s)`)));
    socket.on('data', (chunk: Buffer) => {
      arm();
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= 2) {
        const len = pending.readUInt16BE(0);
        if (pending.length < 2 + len) break;
        const msg = Buffer.from(pending.subarray(2, 2 + len));
        pending = pending.subarray(2 + len);
        if (msg.length < 12 || msg.readUInt16BE(0) !== id) {
          return done(new TransportError('network', `tcp ${formatEndpoint(ep)}: answer with a foreign message id`));
        }
        out.push(msg);
        let last: boolean;
        try {
          last = isLast(msg, out.length - 1);
        } catch (err) {
          return done(err);
        }
        if (last) return done(undefined);
      }
    });
  });
}
