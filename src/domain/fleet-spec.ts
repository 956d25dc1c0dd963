/**
 * The fleet spec: everything flotilla knows about one stack, after validation.
 * Durations are milliseconds here; in the stack file they are strings with units.
 */
import type { ServerLimits } from './server-limits.ts';

export const MIRROR_PROVIDERS = ['aws', 'hcloud', 'ssh', 'local'] as const;
export type MirrorProvider = (typeof MIRROR_PROVIDERS)[number];
export const DNS_PROVIDER_KINDS = ['cloudflare', 'route53', 'hcloud', 'powerdns', 'rfc2136', 'local'] as const;
export type DnsProviderKind = (typeof DNS_PROVIDER_KINDS)[number];
export const REGISTRAR_KINDS = ['cloudflare', 'route53domains', 'rfc2136', 'manual'] as const;
export type RegistrarKind = (typeof REGISTRAR_KINDS)[number];
/** Most nameservers a registrar accepts for one domain, where it has a limit (data; the stack schema checks the delegated total against it). */
export const REGISTRAR_MAX_NAMESERVERS: Partial<Record<RegistrarKind, number>> = { route53domains: 6 };

export interface HealthSettings {
  /** What a probe checks: an HTTP(S) request (default when absent), a TCP connect, or a DNS query to the mirror itself. */
  probe?: 'http' | 'tcp' | 'dns';
  intervalMs: number;
  /** Probe interval while a mirror is mid-transition (HAProxy's fastinter); default a fifth of intervalMs, ≥ 50 ms. */
  fastIntervalMs?: number;
  timeoutMs: number;
  rise: number;
  fall: number;
  /** Path probed on every mirror, e.g. `/`. */
  path: string;
  /** Host header and TLS SNI; defaults to the site domain. */
  host?: string;
  scheme: 'http' | 'https';
  port?: number;
  expectStatus: number[];
  /** Substring (or /regex/) the body must contain. */
  bodyMatch?: string;
  /** When true the body's sha256 must equal the digest of `site.contentDir`'s file at `path`. */
  checkDigest: boolean;
  /** Minimum days of TLS certificate validity left (https only). */
  tlsMinDays: number;
  /** Check the served chain against `tlsCa` (or the system CAs) and the name against `host` (https only). */
  tlsVerify?: boolean;
  /** PEM bundle of the CAs a verified chain must end at (read from `tlsCaFile` by the loader). */
  tlsCa?: string;
  /** A probe slower than this counts as failed. */
  latencyBudgetMs?: number;
  /** Fraction of the interval used as random jitter so probes of thousands of mirrors do not align. */
  jitter: number;
  /**
   * Signs that a host took the site down on purpose (a different runbook from a crash): HTTP 451 always; these body
   * patterns (substring or /regex/) of a suspension page; a certificate from another issuer than `expectedIssuer`.
   */
  deplatform?: DeplatformSignals;
  /** Share of the live vantages that must call a mirror down for it to leave the answer (0 < q ≤ 1); unset: a majority. Fleet-wide only. */
  quorum?: number;
  /** Fewer live vantages than this: fail static (change nothing). Default 1. Fleet-wide only. */
  minVantages?: number;
}

export interface DeplatformSignals {
  /** Substrings or `/regex/flags` of hosts' suspension pages, e.g. "This account has been suspended". */
  patterns: string[];
  /** Part of the certificate issuer (CN or O) the site's certificates come from, e.g. "Let's Encrypt". */
  expectedIssuer?: string;
}

export interface MirrorSpec {
  name: string;
  provider: MirrorProvider;
  /** Known address (ssh/local, or a deployed cloud host). Cloud hosts get theirs from the Pulumi outputs. */
  ipv4?: string;
  ipv6?: string;
  /** Provider settings (region, instanceType/serverType, image, ssh user, key env var...). */
  settings: Record<string, string | number | boolean>;
  health?: Partial<HealthSettings>;
}

export interface DnsProviderSpec {
  name: string;
  kind: DnsProviderKind;
  /** Driver settings. Secrets are names of environment variables (`tokenEnv: CF_API_TOKEN`), never values. */
  settings: Record<string, string | number | boolean | string[]>;
  /** How many of its nameservers registrars and every provider's apex NS set list; default 2 (DELEGATED_NAMESERVERS). */
  delegatedNameservers?: number;
}

/** Default number of each provider's nameservers in the delegation (DNSControl's `DnsProvider(name, 2)`). */
export const DELEGATED_NAMESERVERS = 2;

export interface RegistrarSpec {
  name: string;
  kind: RegistrarKind;
  domain: string;
  settings: Record<string, string | number | boolean>;
}

export interface PolicySpec {
  ttl: number;
  minHealthy: number;
  /** Share (0..1) of a zone's RRsets one change may delete without --force. */
  maxRemoveShare: number;
  /** Written in the ownership markers; records without our marker are never touched. */
  ownerId: string;
}

export interface StateSpec {
  kind: 'file' | 'etcd';
  /** Directory for the file store (relative to the stack file's project). */
  path: string;
  endpoints: string[];
  /** etcd: the lease of each controller's vantage key and of its leadership (ms, whole seconds; default 10 s). */
  leaseMs?: number;
  /** etcd: the environment variable holding the key (32 bytes, base64) that seals the secrets area; absent: plaintext. */
  secretsKeyEnv?: string;
}

export interface ServerSpec {
  listen: string;
  port: number;
  /** Name of the environment variable holding the API bearer token. */
  tokenEnv: string;
  /** Connection caps and timeouts; DEFAULT_SERVER_LIMITS when absent (specs built in code). */
  limits?: ServerLimits;
}

export interface CanarySpec {
  /** URL or host:port reached to decide whether the controller itself is cut off. */
  target: string;
}

export interface WebhookSpec {
  name?: string;
  url: string;
  kind: 'json' | 'slack';
  /** Environment variable holding the HMAC-SHA256 secret (json webhooks). */
  secretEnv?: string;
}

/** HTTPS certificates: one per site (domain + every alternate domain) over ACME DNS-01 at every DNS provider. */
export interface CertsSpec {
  /** ACME directory URL (`letsencrypt`, `letsencrypt-staging` are resolved to theirs by the loader). */
  directory: string;
  /** Contact address given to the CA (expiry notices). */
  email?: string;
  /** Share of the lifetime after which a certificate is renewed (2/3 by default). */
  renewAt: number;
  /** How long every authoritative server may take to answer the challenge TXT (ms). */
  verifyTimeoutMs: number;
  /** How often the daemon checks whether to renew (ms). */
  checkIntervalMs: number;
  /** Where a deploy puts files on a mirror and how it tests and reloads nginx. */
  deploy: { dir: string; nginxConf: string; webRoot: string; nginx: string };
}

/** How the delegation of every domain is watched at its parent zone and its registry. */
export interface DelegationSpec {
  /** The parent zone's servers (`host` or `host:port`); empty = found by walking down from `roots`. */
  parents: string[];
  /** Where the walk starts (the root servers by default). */
  roots: string[];
  /** Port the delegated nameservers answer on: 53 in the world. */
  nameserverPort: number;
  /** NS names of each DNS provider (by provider name); default: the provider's nameservers that are names. */
  nameservers: Record<string, string[]>;
  /** A resolver (`host:port`) for nameserver names without glue; default the system's. */
  resolver?: string;
  /** RDAP bootstrap registry, URL or file (RFC 9224); IANA's by default. */
  rdapBootstrap: string;
  /** Alert this many days before the registration expires. */
  expiryWarnDays: number;
  timeoutMs: number;
  /** The daemon checks every domain this often; 0 = the daemon does not watch (`flotilla domains` still works). */
  intervalMs: number;
  /** Lame checks in a row before a provider's nameservers are pruned from the delegation. */
  pruneAfter: number;
  /** Good checks in a row before a pruned provider is put back. */
  restoreAfter: number;
  /** Environment variable holding the manifest's Ed25519 private key (default FLOTILLA_MANIFEST_KEY). */
  manifestKeyEnv?: string;
}

export interface FleetSpec {
  stack: string;
  site: {
    name: string;
    contentDir: string;
    /** sha256 of the whole directory (sorted paths + contents), the "same bytes" every mirror must serve. */
    digest: string;
    /** sha256 per file path (`/index.html`), for digest checks of the probed path. */
    files: Record<string, string>;
  };
  domain: string;
  alternateDomains: string[];
  mirrors: MirrorSpec[];
  dnsProviders: DnsProviderSpec[];
  registrars: RegistrarSpec[];
  /** How cloud hosts get the site: over SSH with the private key in this environment variable. */
  deploy?: { sshKeyEnv: string };
  health: HealthSettings;
  canaries: CanarySpec[];
  policy: PolicySpec;
  state: StateSpec;
  server: ServerSpec;
  /** Always set by the stack loader; optional for specs built in code (tests, benches). */
  delegation?: DelegationSpec;
  /** HTTPS certificates (absent: flotilla obtains none). */
  certs?: CertsSpec;
  /** Where flips, fail-open, fail-static, apply errors and overrides are announced. Optional: none by default. */
  alerts?: { webhooks: WebhookSpec[] };
}

/** Health settings of one mirror: the fleet defaults with its own overrides. */
export function mirrorHealth(spec: FleetSpec, mirror: MirrorSpec): HealthSettings {
  return { ...spec.health, ...(mirror.health ?? {}) };
}

/** The zone a served name lives in: the domain itself for names below it, else the name. */
export function zoneOf(spec: Pick<FleetSpec, 'domain'>, name: string): string {
  return name === spec.domain || name.endsWith(`.${spec.domain}`) ? spec.domain : name;
}

/** All zones the fleet publishes. */
export function zonesOf(spec: Pick<FleetSpec, 'domain' | 'alternateDomains'>): string[] {
  return [...new Set([spec.domain, ...spec.alternateDomains].map((n) => zoneOf(spec, n)))];
}
