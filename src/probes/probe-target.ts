import type { FleetSpec, MirrorSpec } from '../domain/fleet-spec.ts';
import { mirrorHealth } from '../domain/fleet-spec.ts';

/**
 * Everything one probe of one mirror needs, resolved from the spec. Plain data: the controller builds it once per
 * mirror and hands it to a Probe on every tick.
 * - `address` is an IP literal. Probes connect to it directly and never resolve names: DNS is what we are changing.
 * - `host` is sent as the Host header and as TLS SNI, so the mirror serves the site exactly as a client would get it.
 * - `expectedDigest` is the sha256 (hex) the body must have; absent = no digest check.
 */
export interface ProbeTarget {
  mirror: string;
  address: string;
  port: number;
  scheme: 'http' | 'https';
  host: string;
  /** Request path (with query, if any), e.g. `/` or `/health?deep=1`. */
  path: string;
  /** Hard limit on the whole probe: connect + TLS + headers + body. */
  timeoutMs: number;
  expectStatus: number[];
  /** Substring the body must contain, or a regular expression written `/.../` (flags i, m, s, u allowed). */
  bodyMatch?: string;
  expectedDigest?: string;
  /** Minimum whole days of certificate validity left (https only); an expired certificate always fails. */
  tlsMinDays: number;
  /** Verify the served chain (against `tlsCa` when set, else the system CAs) and that it names `host` (https only). */
  tlsVerify?: boolean;
  /** PEM bundle of trusted CAs for `tlsVerify`. */
  tlsCa?: string;
  /** A probe taking longer than this (in all) fails even though the response was right. */
  latencyBudgetMs?: number;
  /** Body patterns of a host's suspension page (substring or `/regex/`); a match means deplatformed. */
  suspensionPatterns?: string[];
  /** Part of the certificate issuer expected (https); another issuer means deplatformed. */
  expectedIssuer?: string;
}

export interface ProbeTargetOptions {
  /** Address learnt elsewhere (a cloud host's Pulumi output) when the spec has none. */
  address?: string;
}

/**
 * The probe target of one mirror: the fleet's health settings with the mirror's overrides.
 * A mirror without any known address gets `address: ''`, which every probe reports as a failure (not an exception).
 */
export function probeTargetFor(spec: FleetSpec, mirror: MirrorSpec, opts: ProbeTargetOptions = {}): ProbeTarget {
  const h = mirrorHealth(spec, mirror);
  const target: ProbeTarget = {
    mirror: mirror.name,
    address: mirror.ipv4 ?? mirror.ipv6 ?? opts.address ?? '',
    port: h.port ?? defaultPort(h),
    scheme: h.scheme,
    host: h.host ?? spec.domain,
    path: h.path,
    timeoutMs: h.timeoutMs,
    expectStatus: [...h.expectStatus],
    tlsMinDays: h.tlsMinDays,
  };
  if (h.tlsVerify) target.tlsVerify = true;
  if (h.tlsVerify && h.tlsCa !== undefined) target.tlsCa = h.tlsCa;
  if (h.bodyMatch !== undefined) target.bodyMatch = h.bodyMatch;
  if (h.latencyBudgetMs !== undefined) target.latencyBudgetMs = h.latencyBudgetMs;
  if (h.deplatform?.patterns.length) target.suspensionPatterns = [...h.deplatform.patterns];
  if (h.deplatform?.expectedIssuer !== undefined) target.expectedIssuer = h.deplatform.expectedIssuer;
  if (h.checkDigest) {
    // The digest table is keyed by file path; a query string does not change which file is served.
    const digest = spec.site.files[h.path.split(/[?#]/)[0]];
    if (digest !== undefined) target.expectedDigest = digest;
  }
  return target;
}

/** The port a probe uses when none is set: 53 for a DNS probe, else the scheme's (80 / 443; a TCP probe too). */
function defaultPort(h: { probe?: 'http' | 'tcp' | 'dns'; scheme: 'http' | 'https' }): number {
  if (h.probe === 'dns') return 53;
  return h.scheme === 'https' ? 443 : 80;
}
