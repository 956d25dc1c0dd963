import type { MetricRegistry } from '../domain/metric-registry.ts';
import type { CertStatus } from './cert-store.ts';

/**
 * The certificate's gauges on the daemon's /metrics registry, read from the latest status at every scrape:
 * `flotilla_certificate_expiry_timestamp_seconds{names}` (absent until one is issued) and
 * `flotilla_certificate_renewal_failures` (failures in a row), and with `renewing`
 * `flotilla_certificate_renewer` (1 on the daemon that does the certificate work: the leader on etcd; 0 on followers).
 */
export function registerCertMetrics(registry: MetricRegistry, current: () => CertStatus | undefined, renewing?: () => boolean): void {
  if (renewing) {
    registry.gauge({
      name: 'flotilla_certificate_renewer',
      help: 'Whether this daemon renews the certificate (1: the leader, or the only daemon; 0: a follower).',
      collect() {
        this.set(renewing() ? 1 : 0);
      },
    });
  }
  registry.gauge({
    name: 'flotilla_certificate_expiry_timestamp_seconds',
    help: 'When the site certificate expires (Unix seconds), by its names.',
    labelNames: ['names'] as const,
    collect() {
      this.reset();
      const s = current();
      if (s?.notAfter !== undefined) this.set({ names: s.names.join(',') }, Math.floor(s.notAfter / 1000));
    },
  });
  registry.gauge({
    name: 'flotilla_certificate_renewal_failures',
    help: 'Failed certificate orders in a row (0 after a success).',
    collect() {
      this.set(current()?.failures ?? 0);
    },
  });
}
