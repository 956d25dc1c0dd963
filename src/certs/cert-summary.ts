import type { CertStatus } from './cert-store.ts';
import { renewDecision } from './renewal.ts';

const DAY = 86_400_000;

/** What `certs status`, `flotilla status` and /metrics show of the certificate. Pure. */
export function certSummary(s: CertStatus | undefined, now: number, renewAt: number) {
  if (!s || s.notAfter === undefined || s.notBefore === undefined) return { state: 'none', names: s?.names ?? [], lastError: s?.lastError, nextAttemptAt: s?.nextAttemptAt };
  const d = renewDecision({ notBefore: s.notBefore, notAfter: s.notAfter }, now, renewAt);
  return {
    state: now >= s.notAfter ? 'expired' : d.renew ? 'due' : 'ok',
    names: s.names,
    serial: s.serial,
    notAfter: s.notAfter,
    daysLeft: Math.floor((s.notAfter - now) / DAY),
    renewsAt: d.renew ? now : d.nextCheckAt,
    failures: s.failures,
    lastError: s.lastError,
    nextAttemptAt: s.nextAttemptAt,
    deployed: s.deployed ?? {},
    deploySummary: s.deploySummary,
  };
}


/** The warning `status` and `certs status` print when etcd holds secrets in plaintext (names only, never values). */
export function plaintextWarning(names: readonly string[]): string {
  return `warning: ${names.length} secret(s) in etcd are stored in plaintext (${names.join(', ')}): set state.secretsKeyEnv to seal them (each is sealed at its next write)`;
}
