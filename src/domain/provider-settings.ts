import { isIP } from 'node:net';
import { z } from 'zod';
import { durationText, envVarName, hostPort, httpUrl, isHostName, listenAddress, port } from './setting-values.ts';

/**
 * Settings of each DNS provider kind as written under `dnsProviders[i].settings` in a stack file.
 * Secrets are NEVER values here: each `*Env` field names the environment variable that holds the secret.
 * `endpoint`-style fields exist so tests can point a driver at a contract fake on loopback.
 */
const envName = envVarName;
const cidr = z.string().refine((v) => {
  const [addr, bits, ...rest] = v.split('/');
  const family = isIP(addr);
  return family !== 0 && rest.length === 0 && (bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128)));
}, 'an IP address or CIDR, e.g. 192.0.2.0/24 or 2001:db8::/48');

export const cloudflareSettings = z
  .object({
    tokenEnv: envName,
    accountId: z.string().optional(),
    /** API base URL; default https://api.cloudflare.com/client/v4 */
    baseUrl: httpUrl('tokenEnv').optional(),
    /** Records per batch request (200 on Free, 3500 on paid plans: the API refuses more). */
    batchSize: z.number().int().min(1).max(3500).optional(),
  })
  .strict();

export const route53Settings = z
  .object({
    accessKeyIdEnv: envName,
    secretAccessKeyEnv: envName,
    region: z.string().default('us-east-1'),
    hostedZoneId: z.string().optional(),
    endpoint: httpUrl('accessKeyIdEnv and secretAccessKeyEnv').optional(),
  })
  .strict();

export const hcloudSettings = z
  .object({
    tokenEnv: envName,
    /** default https://api.hetzner.cloud/v1 */
    endpoint: httpUrl('tokenEnv').optional(),
  })
  .strict();

export const powerdnsSettings = z
  .object({
    url: httpUrl('apiKeyEnv'),
    apiKeyEnv: envName,
    serverId: z.string().default('localhost'),
    /** host:port of the server's DNS listener(s), for verification; defaults to the zone's NS set. */
    nameservers: z.array(hostPort).optional(),
    /** Per-request timeout of the API (default 10s). */
    timeout: durationText(10, 300_000).optional(),
  })
  .strict();

export const rfc2136Settings = z
  .object({
    /** Primary server receiving UPDATE and AXFR, host:port. */
    server: hostPort,
    tsigKeyName: z.string().refine(isHostName, 'expected a TSIG key name: a domain-style name like flotilla-key'),
    tsigAlgorithm: z.enum(['hmac-sha256', 'hmac-sha512', 'hmac-sha1']).default('hmac-sha256'),
    tsigSecretEnv: envName,
    nameservers: z.array(hostPort).optional(),
    /** UDP/TCP timeout per message. */
    timeout: durationText(10, 300_000).default('5s'),
  })
  .strict();

export const localSettings = z
  .object({
    /** Address the embedded DNS server listens on (loopback for the demo). */
    listen: listenAddress.default('127.0.0.1'),
    port: port.default(5353),
    /** Directory holding the zone files the embedded server serves; default <state.path>/zones. */
    zoneDir: z.string().optional(),
    nameservers: z.array(hostPort).optional(),
    /** Clients allowed to transfer the zones (AXFR), as addresses or CIDRs; default loopback only. */
    axfrAllow: z.array(cidr).optional(),
  })
  .strict();

export const providerSettingsSchemas = {
  cloudflare: cloudflareSettings,
  route53: route53Settings,
  hcloud: hcloudSettings,
  powerdns: powerdnsSettings,
  rfc2136: rfc2136Settings,
  local: localSettings,
} as const;

export type CloudflareSettings = z.infer<typeof cloudflareSettings>;
export type Route53Settings = z.infer<typeof route53Settings>;
export type HcloudSettings = z.infer<typeof hcloudSettings>;
export type PowerdnsSettings = z.infer<typeof powerdnsSettings>;
export type Rfc2136Settings = z.infer<typeof rfc2136Settings>;
export type LocalSettings = z.infer<typeof localSettings>;

/** Everything a driver factory gets. */
export interface DriverContext<S> {
  /** The provider's name in the stack file. */
  name: string;
  settings: S;
  /** Where secrets are read from (process.env in production, a map in tests). */
  env: Record<string, string | undefined>;
}
