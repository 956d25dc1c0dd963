import { z } from 'zod';
import { durationText, isHostName, listenAddress, port } from '../../domain/setting-values.ts';
import { TSIG_ALGORITHMS } from '../../dns/tsig-algorithms.ts';
import { cidr, envName, hostPort } from '../settings-fields.ts';
import { DNS_TCP_DEFAULTS as T, RRL_DEFAULTS as R } from './local-limits.ts';

/** TCP connections of the embedded server: in all, per client address, and how long an idle one is kept. */
const tcpLimits = z
  .object({
    connections: z.number().int().min(1).max(65_535).default(T.connections),
    perClient: z.number().int().min(1).max(65_535).default(T.perClient),
    idleTimeout: durationText(100, 10 * 60_000).default(`${T.idleTimeoutMs / 1000}s`),
  })
  .strict()
  .refine((t) => t.perClient <= t.connections, { path: ['perClient'], message: 'expected at most tcp.connections' });

/** TSIG key (RFC 8945) a zone transfer must be signed with, on top of `axfrAllow`; the secret (base64) is read from `secretEnv`. */
const axfrTsig = z
  .object({
    keyName: z.string().refine(isHostName, 'expected a TSIG key name: a domain-style name like flotilla-xfr'),
    algorithm: z.enum(TSIG_ALGORITHMS).default('hmac-sha256'),
    secretEnv: envName,
  })
  .strict();

/** UDP response-rate limiting per client network (/24, /56); `false` turns it off. */
const rrl = z.union([
  z.literal(false),
  z
    .object({
      responsesPerSecond: z.number().int().min(1).max(1_000_000).default(R.responsesPerSecond),
      /** Every slip-th limited answer goes out truncated (the client retries over TCP); 0 drops them all. */
      slip: z.number().int().min(0).max(10).default(R.slip),
      /** Clients never limited, as addresses or CIDRs; default loopback (a local verifier is never throttled). */
      exempt: z.array(cidr).max(1000).optional(),
    })
    .strict(),
]);

/** `dnsProviders[i].settings` of a local provider (the embedded DNS server). */
export const localSettings = z
  .object({
    /** Address the embedded DNS server listens on (loopback for the demo). */
    listen: listenAddress.default('127.0.0.1'),
    port: port.default(5353),
    /** Directory holding the zone files the embedded server serves. */
    zoneDir: z.string().optional().describe('default `<state.path>/zones`'),
    nameservers: z.array(hostPort).optional(),
    /** Clients allowed to transfer the zones (AXFR), as addresses or CIDRs; default loopback only. */
    axfrAllow: z.array(cidr).optional(),
    /** When set, a transfer must come from `axfrAllow` AND carry a valid TSIG with this key; the answer is signed. */
    axfrTsig: axfrTsig.optional().describe('keyName, algorithm (hmac-sha256), secretEnv; off by default'),
    tcp: tcpLimits.default({ connections: T.connections, perClient: T.perClient, idleTimeout: `${T.idleTimeoutMs / 1000}s` }).describe(`TCP caps: connections ${T.connections}, perClient ${T.perClient}, idleTimeout ${T.idleTimeoutMs / 1000}s`),
    rrl: rrl.default({ responsesPerSecond: R.responsesPerSecond, slip: R.slip }).describe(`UDP response-rate limit: responsesPerSecond ${R.responsesPerSecond}, slip ${R.slip}, exempt loopback; false turns it off`),
  })
  .strict();

export type LocalSettings = z.infer<typeof localSettings>;
