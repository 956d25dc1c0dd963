import { isIP } from 'node:net';
import { z } from 'zod';
import { DNS_PROVIDER_KINDS, MIRROR_PROVIDERS, REGISTRAR_KINDS } from '../domain/fleet-spec.ts';
import { DEFAULT_SERVER_LIMITS as L } from '../domain/server-limits.ts';
import { IANA_DNS_BOOTSTRAP, ROOT_SERVERS } from '../domain/delegation-defaults.ts';
import { durationMs, envVarName, hostHeader, httpUrl, ipv4Address, ipv6Address, listenAddress, parseHostPort, port } from '../domain/setting-values.ts';
import { providerDescriptor } from '../drivers/registry.ts';
import { REGISTRARS, type RegistrarDescriptor } from '../registrars/registrar-descriptors.ts';
import { rfc2136RegistrarSettings } from '../registrars/rfc2136/rfc2136-registrar-settings.ts';
import { route53DomainsRegistrarSettings } from '../registrars/route53domains/route53domains-registrar-settings.ts';

/**
 * zod schema of `flotilla:fleet` in a stack file. Unknown keys are errors everywhere: typos must not pass.
 * Every value is bounded to what the code reading it can run: no duration reaches a timer above 2^31-1 ms (Node
 * fires those after 1 ms), no address or port reaches a socket that cannot take it.
 */

const HOUR = 3_600_000;
/** Probe cadence: sub-second must work (250ms is the shipped default); above an hour a dead mirror is not "detected". */
const interval = durationMs(50, HOUR);
const timeout = durationMs(10, HOUR);
const latencyBudget = durationMs(1, HOUR);
/**
 * Record TTL in seconds: at most one week. Resolvers cap what they cache there anyway (BIND's max-cache-ttl
 * defaults to 7 days), and the TTL adds to every failover a client sees: more than a week only pretends.
 */
const TTL_MAX_S = 7 * 86_400;

const dnsName = z
  .string()
  .transform((s) => s.toLowerCase().replace(/\.$/, ''))
  .refine((s) => /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/.test(s), 'expected a domain name like example.com');
const name = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected a short name: lower-case letters, digits and dashes');
const scalar = z.union([z.string(), z.number(), z.boolean()]);
/** A free-text setting handed to a cloud API (region, size, image): one printable word. */
const word = z.string().regex(/^[\x21-\x7e]{1,128}$/, 'expected one word of printable characters (at most 128)');
/** Request path: printable ASCII without spaces (Node refuses anything else in a request line). */
const probePath = z.string().regex(/^\/[\x21-\x7e]{0,2047}$/, 'expected a path starting with / (printable characters, no spaces, e.g. /health)');
/** Substring, or `/regex/flags` (flags i, m, s, u) as the probe reads it: a regex must compile here, not at 3 am. */
const bodyMatch = z
  .string()
  .min(1)
  .max(1000)
  .superRefine((s, ctx) => {
    const r = /^\/(.+)\/([imsu]*)$/s.exec(s);
    if (!r) return;
    try {
      new RegExp(r[1], r[2]);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(e as Error).message}` });
    }
  });
/** An etcd client URL (`http://127.0.0.1:2379`; the scheme may be left out, as the client allows). */
const etcdEndpoint = z.string().superRefine((s, ctx) => {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(s) ? s : `http://${s}`;
  httpUrl('an environment variable (the etcd client takes no credentials from the stack file)')
    .safeParse(withScheme)
    .error?.issues.forEach((i) => ctx.addIssue({ code: 'custom', message: i.message }));
});
/** What the controller reaches to learn whether it is itself cut off: an http(s) URL, or host:port for a TCP connect. */
const canaryTarget = z.string().superRefine((s, ctx) => {
  if (/^[a-z][a-z0-9+.-]*:/i.test(s) && !/^[^:/[\]]+:\d+$/.test(s)) {
    httpUrl('an environment variable; canaries need no credentials')
      .safeParse(s)
      .error?.issues.forEach((i) => ctx.addIssue({ code: 'custom', message: i.message }));
    return;
  }
  if (!parseHostPort(s, true)) ctx.addIssue({ code: 'custom', message: `expected an http(s) URL or host:port (IPv6 in brackets: [::1]:53, port 1-65535), found ${JSON.stringify(s)}` });
});

/**
 * Deplatforming signs: bounded so a probe's cost stays bounded (at most 20 patterns of at most 200 characters, matched
 * against the first 64 KiB of the body; a regex must compile here).
 */
const deplatformSchema = z
  .object({
    patterns: z.array(bodyMatch.pipe(z.string().max(200, 'expected a pattern of at most 200 characters'))).max(20, 'expected at most 20 suspension patterns').default([]),
    expectedIssuer: z.string().min(1).max(200).optional(),
  })
  .strict();

export const healthSchema = z
  .object({
    probe: z.enum(['http', 'tcp', 'dns']).default('http'),
    interval: interval.default(10_000),
    fastInterval: interval.optional(),
    timeout: timeout.default(2_000),
    rise: z.number().int().min(1).max(100).default(2),
    fall: z.number().int().min(1).max(100).default(3),
    path: probePath.default('/'),
    host: hostHeader.optional(),
    scheme: z.enum(['http', 'https']).default('http'),
    port: port.optional(),
    expectStatus: z.array(z.number().int().min(100).max(599)).min(1).max(100).default([200]),
    bodyMatch: bodyMatch.optional(),
    checkDigest: z.boolean().default(true),
    tlsMinDays: z.number().int().min(0).max(3650).default(7),
    tlsVerify: z.boolean().optional(),
    /** PEM file of the CAs a served chain must end at (relative to the project). */
    tlsCaFile: z.string().min(1).max(4096).optional(),
    latencyBudget: latencyBudget.optional(),
    jitter: z.number().min(0).max(0.5).default(0.1),
    deplatform: deplatformSchema.optional(),
    // several controllers (issue 11): the share of live vantages that must call a mirror down (unset: a majority),
    // and how many live vantages it takes to decide at all (fewer: fail static)
    quorum: z.number().gt(0, 'expected a share above 0, e.g. 0.5').max(1, 'expected a share of at most 1').optional(),
    minVantages: z.number().int().min(1).max(100).default(1),
  })
  .strict();

/** Per-mirror overrides: the same fields, none defaulted (a default here would silently replace the fleet's value). */
const mirrorHealthSchema = z
  .object({
    probe: z.enum(['http', 'tcp', 'dns']).optional(),
    interval: interval.optional(),
    fastInterval: interval.optional(),
    timeout: timeout.optional(),
    rise: z.number().int().min(1).max(100).optional(),
    fall: z.number().int().min(1).max(100).optional(),
    path: probePath.optional(),
    host: hostHeader.optional(),
    scheme: z.enum(['http', 'https']).optional(),
    port: port.optional(),
    expectStatus: z.array(z.number().int().min(100).max(599)).min(1).max(100).optional(),
    bodyMatch: bodyMatch.optional(),
    checkDigest: z.boolean().optional(),
    tlsMinDays: z.number().int().min(0).max(3650).optional(),
    tlsVerify: z.boolean().optional(),
    /** PEM file of the CAs a served chain must end at (relative to the project). */
    tlsCaFile: z.string().min(1).max(4096).optional(),
    latencyBudget: latencyBudget.optional(),
    jitter: z.number().min(0).max(0.5).optional(),
    deplatform: deplatformSchema.optional(),
  })
  .strict();

const mirrorSchema = z
  .object({
    name,
    provider: z.enum(MIRROR_PROVIDERS),
    ipv4: ipv4Address.optional(),
    ipv6: ipv6Address.optional(),
    region: word.optional(),
    size: word.optional(),
    image: word.optional(),
    sshUser: z.string().regex(/^[a-z_][a-z0-9_.-]{0,31}$/, 'expected a user name like deploy').optional(),
    sshKeyEnv: envVarName.optional(),
    health: mirrorHealthSchema.optional(),
  })
  .strict()
  .superRefine((m, ctx) => {
    if ((m.provider === 'ssh' || m.provider === 'local') && !m.ipv4 && !m.ipv6)
      ctx.addIssue({ code: 'custom', path: ['ipv4'], message: `a ${m.provider} mirror needs its address (ipv4 or ipv6)` });
    if ((m.provider === 'aws' || m.provider === 'hcloud') && !m.region)
      ctx.addIssue({ code: 'custom', path: ['region'], message: `an ${m.provider} mirror needs a region` });
    if (m.provider === 'ssh' && !m.sshKeyEnv)
      ctx.addIssue({ code: 'custom', path: ['sshKeyEnv'], message: 'an ssh mirror needs sshKeyEnv: the environment variable holding its private key' });
  });

const dnsProviderSchema = z
  .object({
    name,
    kind: z.enum(DNS_PROVIDER_KINDS),
    settings: z.record(z.string(), z.unknown()).default({}),
    /** How many of this provider's nameservers registrars and every apex NS set list (DNSControl's DnsProvider(name, n)). */
    delegatedNameservers: z.number().int().min(1).max(13).default(2),
  })
  .strict()
  .transform((p, ctx) => {
    const r = providerDescriptor(p.kind).settings.safeParse(p.settings);
    if (!r.success) {
      for (const i of r.error.issues) ctx.addIssue({ code: 'custom', path: ['settings', ...(i.path as (string | number)[])], message: i.message });
      return z.NEVER;
    }
    return { name: p.name, kind: p.kind, settings: r.data as Record<string, string | number | boolean | string[]>, delegatedNameservers: p.delegatedNameservers };
  });

const registrarSchema = z
  .object({
    name,
    kind: z.enum(REGISTRAR_KINDS),
    domain: dnsName,
    accountId: word.optional(),
    /** Registrar settings (rfc2136: the parent zone's primary, TSIG key, parentZone). */
    settings: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.kind === 'rfc2136') {
      const parsed = rfc2136RegistrarSettings.safeParse(r.settings ?? {});
      if (!parsed.success) for (const i of parsed.error.issues) ctx.addIssue({ code: 'custom', path: ['settings', ...(i.path as (string | number)[])], message: i.message });
    } else if (r.kind === 'route53domains') {
      const parsed = route53DomainsRegistrarSettings.safeParse(r.settings ?? {});
      if (!parsed.success) for (const i of parsed.error.issues) ctx.addIssue({ code: 'custom', path: ['settings', ...(i.path as (string | number)[])], message: i.message });
    } else if (r.settings !== undefined) ctx.addIssue({ code: 'custom', path: ['settings'], message: `a ${r.kind} registrar takes no settings` });
  });

/** The servers flotilla asks directly are IP addresses (never resolved): `ip`, `ip:port`, `[v6]:port`. */
const ipHostPort = z.string().refine((s) => {
  const p = parseHostPort(s, false);
  return p !== undefined && isIP(p.host) !== 0;
}, 'expected an IP address, optionally with :port (192.0.2.53, 127.0.0.1:5300, [::1]:53)');

const delegationSchema = z
  .object({
    parents: z.array(ipHostPort).max(20).default([]),
    roots: z.array(ipHostPort).min(1).max(50).default([...ROOT_SERVERS]),
    nameserverPort: z.number().int().min(1).max(65535).default(53),
    nameservers: z.record(z.string(), z.array(dnsName).min(1).max(20)).default({}),
    resolver: ipHostPort.optional(),
    rdapBootstrap: z.string().min(1).default(IANA_DNS_BOOTSTRAP),
    expiryWarnDays: z.number().int().min(0).max(3650).default(30),
    timeout: durationMs(10, 60_000).default(2_000),
    /** 0s = the daemon does not watch delegations. */
    interval: durationMs(0, 86_400_000).refine((ms) => ms === 0 || (ms >= 1_000 && ms <= 86_400_000), 'expected 0s (off) or between 1s and 24h').default(0),
    pruneAfter: z.number().int().min(1).max(1000).default(3),
    restoreAfter: z.number().int().min(1).max(1000).default(3),
    /** Environment variable holding the Ed25519 key the daemon signs /.well-known/flotilla.json with. */
    manifestKeyEnv: envVarName.default('FLOTILLA_MANIFEST_KEY'),
  })
  .strict();

/** `server.limits`: the HTTP server's caps and timeouts (defaults: DEFAULT_SERVER_LIMITS). */
const serverLimitsSchema = z
  .object({
    connections: z.number().int().min(1).max(65_535).default(L.connections),
    perClient: z.number().int().min(1).max(65_535).default(L.perClient),
    eventStreams: z.number().int().min(1).max(10_000).default(L.eventStreams),
    eventStreamsPerClient: z.number().int().min(1).max(10_000).default(L.eventStreamsPerClient),
    headersTimeout: durationMs(100, 10 * 60_000).default(L.headersTimeoutMs),
    requestTimeout: durationMs(100, HOUR).default(L.requestTimeoutMs),
    idleTimeout: durationMs(1000, HOUR).default(L.idleTimeoutMs),
  })
  .strict()
  .superRefine((l, ctx) => {
    if (l.perClient > l.connections) ctx.addIssue({ code: 'custom', path: ['perClient'], message: `expected at most connections (${l.connections}), found ${l.perClient}` });
    if (l.eventStreamsPerClient > l.eventStreams) ctx.addIssue({ code: 'custom', path: ['eventStreamsPerClient'], message: `expected at most eventStreams (${l.eventStreams}), found ${l.eventStreamsPerClient}` });
    if (l.headersTimeout > l.requestTimeout) ctx.addIssue({ code: 'custom', path: ['headersTimeout'], message: 'expected at most requestTimeout' });
  })
  .transform(({ headersTimeout, requestTimeout, idleTimeout, ...caps }) => ({ ...caps, headersTimeoutMs: headersTimeout, requestTimeoutMs: requestTimeout, idleTimeoutMs: idleTimeout }));

const serverSchema = z
  .object({
    listen: listenAddress.default('127.0.0.1'),
    port: port.default(8080),
    tokenEnv: envVarName.default('FLOTILLA_API_TOKEN'),
    limits: serverLimitsSchema.default({ ...L }),
  })
  .strict();

/** ACME directory: `letsencrypt`, `letsencrypt-staging`, or any https URL (RFC 8555 needs TLS). */
const acmeDirectory = z.string().superRefine((s, ctx) => {
  if (s === 'letsencrypt' || s === 'letsencrypt-staging') return;
  const r = httpUrl('an environment variable (an ACME directory takes no credentials)').safeParse(s);
  if (!r.success) r.error.issues.forEach((i) => ctx.addIssue({ code: 'custom', message: `expected letsencrypt, letsencrypt-staging or an https URL: ${i.message}` }));
  else if (!s.startsWith('https://')) ctx.addIssue({ code: 'custom', message: `expected letsencrypt, letsencrypt-staging or an https URL (ACME runs over TLS), found ${JSON.stringify(s)}` });
});
/** An absolute path on a mirror (written into a shell script: no spaces, quotes or `$`). */
const remotePath = z.string().regex(/^\/[A-Za-z0-9._\/-]{0,254}$/, 'expected an absolute path of letters, digits, . _ - /');

const certsSchema = z
  .object({
    directory: acmeDirectory,
    email: z.string().regex(/^[^\s@]{1,64}@[^\s@]{1,253}$/, 'expected an e-mail address like ops@example.com').optional(),
    renewAt: z.number().min(0.1).max(0.95).default(2 / 3),
    verifyTimeout: durationMs(1_000, 30 * 60_000).default(120_000),
    checkInterval: durationMs(1_000, 86_400_000).default(12 * HOUR),
    deploy: z
      .object({
        dir: remotePath.default('/etc/flotilla/tls'),
        nginxConf: remotePath.default('/etc/nginx/conf.d/flotilla-tls.conf'),
        webRoot: remotePath.default('/var/www/flotilla'),
        /** The nginx command on the mirror (a path, optionally with `-p PREFIX -c FILE` words). */
        nginx: z.string().regex(/^[A-Za-z0-9._\/ -]{1,300}$/, 'expected a command like nginx or /usr/sbin/nginx -p /srv/nginx/').default('nginx'),
      })
      .strict()
      .default({ dir: '/etc/flotilla/tls', nginxConf: '/etc/nginx/conf.d/flotilla-tls.conf', webRoot: '/var/www/flotilla', nginx: 'nginx' }),
  })
  .strict();

export const fleetSchema = z
  .object({
    site: z.object({ name: z.string().min(1).max(200), contentDir: z.string().min(1) }).strict(),
    domain: dnsName,
    alternateDomains: z.array(dnsName).default([]),
    mirrors: z.array(mirrorSchema).min(1, 'expected at least one mirror'),
    dnsProviders: z.array(dnsProviderSchema).min(1, 'expected at least one DNS provider'),
    registrars: z.array(registrarSchema).default([]),
    /** How cloud hosts (aws, hcloud) get the site: over SSH with this key (its public half goes into their user data). */
    deploy: z.object({ sshKeyEnv: envVarName }).strict().optional(),
    health: healthSchema.default(healthSchema.parse({})),
    canaries: z.array(z.object({ target: canaryTarget }).strict()).default([]),
    policy: z
      .object({
        ttl: z.number().int().min(1).max(TTL_MAX_S, `expected a TTL of at most ${TTL_MAX_S} s (one week): resolvers cache no longer, and the TTL adds to every failover`).default(60),
        minHealthy: z.number().int().min(1).default(1),
        maxRemoveShare: z.number().min(0).max(1).default(0.5),
        // it is written into a TXT marker (one string of at most 255 bytes) on every owned record set
        ownerId: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'expected letters, digits, _ . - (at most 100)').optional(),
      })
      .strict()
      .default({ ttl: 60, minHealthy: 1, maxRemoveShare: 0.5 }),
    state: z
      .object({
        kind: z.enum(['file', 'etcd']).default('file'),
        path: z.string().min(1).default('.flotilla/state'),
        endpoints: z.array(etcdEndpoint).default([]),
        // etcd leases are whole seconds; a dead leader is replaced and a dead vantage stops counting within it
        lease: durationMs(2_000, 300_000).refine((ms) => ms % 1000 === 0, 'expected whole seconds, e.g. 10s').default(10_000),
        // etcd: the variable holding the key that seals the secrets area (ACME account key, certificate key)
        secretsKeyEnv: envVarName.optional(),
      })
      .strict()
      .default({ kind: 'file', path: '.flotilla/state', endpoints: [], lease: 10_000 }),
    alerts: z
      .object({
        webhooks: z
          .array(
            z
              .object({
                name: z.string().min(1).max(100).optional(),
                url: httpUrl('secretEnv (the HMAC secret)'),
                kind: z.enum(['json', 'slack']).default('json'),
                /** Environment variable holding the HMAC secret for `json` webhooks. */
                secretEnv: envVarName.optional(),
              })
              .strict(),
          )
          .default([]),
      })
      .strict()
      .default({ webhooks: [] }),
    delegation: delegationSchema.default(delegationSchema.parse({})),
    certs: certsSchema.optional(),
    server: serverSchema.default({ listen: '127.0.0.1', port: 8080, tokenEnv: 'FLOTILLA_API_TOKEN', limits: { ...L } }),
  })
  .strict()
  .superRefine((f, ctx) => {
    dupes(f.mirrors.map((m) => m.name), ['mirrors'], 'mirror', ctx);
    dupes(f.dnsProviders.map((p) => p.name), ['dnsProviders'], 'DNS provider', ctx);
    if (f.state.kind === 'etcd' && f.state.endpoints.length === 0)
      ctx.addIssue({ code: 'custom', path: ['state', 'endpoints'], message: 'state.kind etcd needs endpoints, e.g. [http://127.0.0.1:2379]' });
    if (f.state.kind !== 'etcd' && f.state.secretsKeyEnv !== undefined)
      ctx.addIssue({ code: 'custom', path: ['state', 'secretsKeyEnv'], message: 'only the etcd store seals its secrets (the file store keeps them in 0600 files): remove it, or use state.kind etcd' });
    if (f.policy.minHealthy > f.mirrors.length)
      ctx.addIssue({ code: 'custom', path: ['policy', 'minHealthy'], message: `expected at most the number of mirrors (${f.mirrors.length})` });
    registrarRules(f.registrars, f.dnsProviders, ctx);
    if (!f.deploy && f.mirrors.some((m) => m.provider === 'aws' || m.provider === 'hcloud'))
      ctx.addIssue({ code: 'custom', path: ['deploy', 'sshKeyEnv'], message: 'aws and hcloud mirrors get the site over SSH: name the environment variable holding the deploy private key (e.g. deploy: { sshKeyEnv: FLOTILLA_DEPLOY_KEY })' });
    timingRules(f.health, ['health'], ctx);
    f.mirrors.forEach((m, i) => {
      const own = m.health ?? {};
      // the fleet's own values are checked once, above; a mirror is checked where it changes one of them
      if (own.interval !== undefined || own.timeout !== undefined || own.latencyBudget !== undefined) timingRules({ ...f.health, ...own }, ['mirrors', i, 'health'], ctx);
    });
  });

/**
 * What each registrar really accepts (its descriptor's data): at most `maxNameservers` in the delegation, and for
 * Cloudflare Registrar only Cloudflare's own nameservers.
 */
function registrarRules(registrars: { name: string; kind: keyof typeof REGISTRARS }[], providers: { name: string; kind: string; delegatedNameservers: number }[], ctx: z.RefinementCtx) {
  const total = providers.reduce((n, p) => n + p.delegatedNameservers, 0);
  registrars.forEach((r, i) => {
    const d: RegistrarDescriptor = REGISTRARS[r.kind];
    if (d.onlyNameserversOf) {
      const others = providers.filter((p) => p.kind !== d.onlyNameserversOf);
      if (others.length > 0)
        ctx.addIssue({
          code: 'custom',
          path: ['registrars', i, 'kind'],
          message: `${d.title} only allows ${d.onlyNameserversOf}'s own nameservers, so ${others.map((p) => `${p.name} (${p.kind})`).join(', ')} can never be in the delegation. Fix: ${d.fix}`,
        });
      if (others.length > 0) return;
    }
    if (total > d.maxNameservers)
      ctx.addIssue({
        code: 'custom',
        path: ['dnsProviders'],
        message: `${d.title} (registrar ${r.name}) accepts at most ${d.maxNameservers} nameservers; the DNS providers delegate ${total} (${providers.map((p) => `${p.name}: ${p.delegatedNameservers}`).join(', ')}). Fix: ${d.fix}`,
      });
  });
}

/** A probe is cut off at its timeout, so the timeout must fit the interval and a latency budget must fit the timeout. */
function timingRules(h: { interval: number; timeout: number; latencyBudget?: number }, path: (string | number)[], ctx: z.RefinementCtx) {
  if (h.timeout > h.interval) ctx.addIssue({ code: 'custom', path: [...path, 'timeout'], message: 'expected a timeout no longer than the interval' });
  if (h.latencyBudget !== undefined && h.latencyBudget > h.timeout)
    ctx.addIssue({ code: 'custom', path: [...path, 'latencyBudget'], message: 'expected a latency budget no longer than the timeout (a slower probe has already failed)' });
}

function dupes(names: string[], path: (string | number)[], what: string, ctx: z.RefinementCtx) {
  const seen = new Set<string>();
  names.forEach((n, i) => {
    if (seen.has(n)) ctx.addIssue({ code: 'custom', path: [...path, i, 'name'], message: `duplicate ${what} name ${JSON.stringify(n)}` });
    seen.add(n);
  });
}

export type FleetInput = z.input<typeof fleetSchema>;
export type FleetParsed = z.output<typeof fleetSchema>;
export const scalarSchema = scalar;
