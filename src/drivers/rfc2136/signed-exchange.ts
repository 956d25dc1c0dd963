/**
 * One TSIG-signed request and its verified answer: sign, send over UDP or TCP, check every answer message.
 * Returns what happened as data; the driver decides which error that is.
 */
import type { Endpoint } from '../../dns/endpoint.ts';
import { exchangeTcp, exchangeUdp } from '../../dns/transport.ts';
import { ResponseVerifier, signMessage, type TsigKey, type TsigVerdict } from '../../dns/tsig.ts';
import { TYPE_SOA, layout } from '../../dns/wire.ts';

export interface SignedExchangeOptions {
  endpoint: Endpoint;
  key: TsigKey;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Use TCP (required for AXFR and for messages too large for UDP). */
  tcp: boolean;
  /** Read a zone transfer: messages until the closing SOA. */
  transfer?: boolean;
}

export interface SignedAnswer {
  /** Every answer message as received (TSIG included). */
  messages: Buffer[];
  /** RCODE of the first answer message. */
  rcode: number;
  /** Verdict on the first message (carries the server's TSIG error, if any). */
  first: TsigVerdict;
  /** True when every message verified (chained for a transfer) and the last one was signed. */
  verified: boolean;
  /** Why verification failed, when it did. */
  reason?: string;
}

/** A zone transfer ends with the second SOA record, or at once when the server answers an error. */
function transferEnd(): (msg: Buffer) => boolean {
  let soas = 0;
  return (msg) => {
    const l = layout(msg);
    if (l.rcode !== 0) return true;
    soas += l.sections.answers.filter((r) => r.type === TYPE_SOA).length;
    return soas >= 2;
  };
}

/** Throws TransportError when no complete answer arrives; any DNS-level outcome is returned. */
export async function signedExchange(request: Buffer, opts: SignedExchangeOptions): Promise<SignedAnswer> {
  const { message, mac } = signMessage(request, opts.key);
  const io = { timeoutMs: opts.timeoutMs, signal: opts.signal };
  const messages = opts.tcp
    ? await exchangeTcp(opts.endpoint, message, { ...io, isLast: opts.transfer ? transferEnd() : undefined })
    : [await exchangeUdp(opts.endpoint, message, io)];
  const verifier = new ResponseVerifier(opts.key, mac);
  const first = verifier.verify(messages[0]);
  let verified = first.ok;
  let reason = first.reason;
  for (let i = 1; i < messages.length && verified; i++) {
    const v = verifier.verify(messages[i]);
    if (!v.ok) {
      verified = false;
      reason = `message ${i + 1}: ${v.reason}`;
    }
  }
  if (verified) {
    const end = verifier.finish();
    if (!end.ok) {
      verified = false;
      reason = end.reason;
    }
  }
  return { messages, rcode: layout(messages[0]).rcode, first, verified, reason };
}
