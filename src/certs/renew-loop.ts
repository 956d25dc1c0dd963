import { runCertJob, type CertJobDeps, type CertJobResult } from './cert-job.ts';

export interface RenewLoop {
  /** Runs one check now (after any check in flight) and returns its outcome. */
  checkNow(): Promise<CertJobResult>;
  stop(): Promise<void>;
}

/**
 * The daemon's certificate loop: a renew check at start and then every `intervalMs`, or sooner when a backoff ends
 * or a renewal falls due before then. Each check is `certs renew` (audited, alerting on failure, deploying what
 * it issued). A check that throws (a store fault) is audited as `cert-error` and retried at the next tick.
 */
export function startRenewLoop(d: CertJobDeps & { intervalMs: number; onResult?: (r: CertJobResult) => void }): RenewLoop {
  const now = d.now ?? Date.now;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<CertJobResult> | undefined;
  let stopped = false;
  const abort = new AbortController();

  const schedule = (r?: CertJobResult) => {
    if (stopped) return;
    let wait = d.intervalMs;
    const s = r?.status;
    if (s?.nextAttemptAt !== undefined && s.lastError) wait = Math.min(wait, Math.max(1_000, s.nextAttemptAt - now()));
    if (r?.action === 'not-due') wait = Math.min(wait, Math.max(1_000, r.renewsAt - now()));
    timer = setTimeout(() => void check(), Math.min(wait, 2 ** 31 - 1));
    timer.unref();
  };

  const check = (): Promise<CertJobResult> => {
    if (running) return running.then(() => check());
    clearTimeout(timer);
    running = runCertJob('renew', { ...d, signal: abort.signal })
      .catch(async (e): Promise<CertJobResult> => {
        const reason = (e as Error)?.message ?? String(e);
        await d.audit({ kind: 'cert-error', message: `certificate check failed: ${reason}`, data: { code: 'CERT_CHECK' } }).catch(() => undefined);
        return { action: 'failed', reason, code: 'CERT_CHECK', status: { names: [], directory: d.spec.certs.directory, failures: 0 } };
      })
      .then((r) => {
        running = undefined;
        d.onResult?.(r);
        schedule(r);
        return r;
      });
    return running;
  };

  void check();
  return {
    checkNow: check,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      abort.abort();
      await running?.catch(() => undefined);
    },
  };
}
