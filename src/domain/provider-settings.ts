import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * Settings of each DNS provider kind as written under `dnsProviders[i].settings` in a stack file.
 * Secrets are NEVER values here: each `*Env` field names the environment variable that holds the secret.
 * `endpoint`-style fields exist so tests can point a driver at a contract fake on loopback.
 */
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'the name of an environment variable, e.g. CF_API_TOKEN');
const cidr = z.string().refine((v) => {
  const [addr, bits, ...rest] = v.split('/');
  const family = isIP(addr);
  return family !== 0 && rest.length === 0 && (bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128)));
}, 'an IP address or CIDR, e.g. 192.0.2.0/24 or 2001:db8::/48');
const hostPort = z.string().regex(/^[^\s:]+(:\d{1,5})?$|^\[[0-9a-fA-F:]+\](:\d{1,5})?$/, 'host or host:port');

export const cloudflareSettings = z
  .object({
    tokenEnv: envName,
    accountId: z.string().optional(),
    /** API base URL; default https://api.cloudflare.com/client/v4 */
    baseUrl: z.string().url().optional(),
    /** Records per batch request (200 on Free, 3500 on paid plans). */
    batchSize: z.number().int().positive().optional(),
  })
  .strict();

export const route53Settings = z
  .object({
    accessKeyIdEnv: envName,
    secretAccessKeyEnv: envName,
    region: z.string().default('us-east-1'),
    hostedZoneId: z.string().optional(),
    endpoint: z.string().url().optional(),
  })
  .strict();

export const hcloudSettings = z
  .object({
    tokenEnv: envName,
    /** default https://api.hetzner.cloud/v1 */
    endpoint: z.string().url().optional(),
  })
  .strict();

export const powerdnsSettings = z
  .object({
    url: z.string().url(),
    apiKeyEnv: envName,
    serverId: z.string().default('localhost'),
    /** host:port of the server's DNS listener(s), for verification; defaults to the zone's NS set. */
    nameservers: z.array(hostPort).optional(),
    /** Per-request timeout of the API (default 10s). */
    timeout: z.string().regex(/^\d+(\.\d+)?(ms|s|m)$/, 'a duration like 500ms or 10s').optional(),
  })
  .strict();

export const rfc2136Settings = z
  .object({
    /** Primary server receiving UPDATE and AXFR, host:port. */
    server: hostPort,
    tsigKeyName: z.string(),
    tsigAlgorithm: z.enum(['hmac-sha256', 'hmac-sha512', 'hmac-sha1']).default('hmac-sha256'),
    tsigSecretEnv: envName,
    nameservers: z.array(hostPort).optional(),
    /** UDP/TCP timeout per message. */
    timeout: z.string().default('5s'),
  })
  .strict();

export const localSettings = z
  .object({
    /** Address the embedded DNS server listens on (loopback for the demo). */
    listen: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(5353),
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
