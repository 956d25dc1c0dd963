import { isIPv4 } from 'node:net';
import { RRL_DEFAULTS } from './local-limits.ts';

export interface RateLimitOptions {
  /** Responses per second to one client network (/24 for IPv4, /56 for IPv6); default 20. Burst: one second's worth. */
  responsesPerSecond?: number;
  /** Of the responses over the limit, every `slip`-th goes out truncated (TC=1, no records) so a real client retries
   *  over TCP, the others are dropped; 0 drops all (default 2, as BIND's RRL). */
  slip?: number;
  /** Client networks tracked at most; the least recently seen is forgotten first (default 10 000). */
  maxEntries?: number;
}

export type RateDecision = 'send' | 'slip' | 'drop';

interface Bucket { tokens: number; at: number; limited: number }

/**
 * Response-rate limiting for UDP answers (after BIND's RRL): a token bucket per client network, so the server
 * cannot be used to amplify a flood at a spoofed address. Memory is bounded by maxEntries.
 */
export class ResponseRateLimiter {
  private readonly rate: number;
  private readonly slip: number;
  private readonly maxEntries: number;
  private readonly buckets = new Map<string, Bucket>();

  constructor(o: RateLimitOptions = {}) {
    this.rate = o.responsesPerSecond ?? RRL_DEFAULTS.responsesPerSecond;
    this.slip = o.slip ?? RRL_DEFAULTS.slip;
    this.maxEntries = o.maxEntries ?? RRL_DEFAULTS.maxEntries;
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Whether to send the response to `addr` now (`now` in ms). */
  decide(addr: string, now: number): RateDecision {
    const key = clientNetwork(addr);
    let b = this.buckets.get(key);
    if (b) {
      this.buckets.delete(key); // re-inserted below: the Map's order is least recently seen first
      b.tokens = Math.min(this.rate, b.tokens + ((now - b.at) / 1000) * this.rate);
      b.at = now;
    } else {
      if (this.buckets.size >= this.maxEntries) this.buckets.delete(this.buckets.keys().next().value!);
      b = { tokens: this.rate, at: now, limited: 0 };
    }
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 'send';
    }
    b.limited++;
    return this.slip > 0 && b.limited % this.slip === 0 ? 'slip' : 'drop';
  }
}

/** The client's network: the /24 of an IPv4 address, the /56 of an IPv6 one. */
export function clientNetwork(addr: string): string {
  const v4 = addr.startsWith('::ffff:') && isIPv4(addr.slice(7)) ? addr.slice(7) : addr;
  if (isIPv4(v4)) return v4.split('.').slice(0, 3).join('.') + '.0/24';
  const groups = expandIpv6(addr);
  return `${groups.slice(0, 3).join(':')}:${groups[3].slice(0, 2)}00::/56`;
}

/** The eight 4-digit hex groups of an IPv6 address (zone id dropped). */
function expandIpv6(addr: string): string[] {
  const a = addr.split('%')[0].toLowerCase();
  const [head, tail] = a.includes('::') ? a.split('::') : [a, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  // a trailing dotted IPv4 part counts as two groups
  const fix = (gs: string[]) => gs.flatMap((g) => (g.includes('.') ? ipv4Groups(g) : [g]));
  const hh = fix(h);
  const tt = fix(t);
  const fill = tail === undefined ? [] : Array(8 - hh.length - tt.length).fill('0');
  return [...hh, ...fill, ...tt].map((g) => g.padStart(4, '0'));
}

function ipv4Groups(v4: string): string[] {
  const b = v4.split('.').map(Number);
  return [((b[0] << 8) | b[1]).toString(16), ((b[2] << 8) | b[3]).toString(16)];
}
