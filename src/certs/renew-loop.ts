import { runCertJob, stoppedWriting, type CertJobDeps, type CertJobResult } from './cert-job.ts';

/** Whether this daemon leads its stack (the Cluster); the loop runs only while it does. */
export interface LeaderRole {
  isLeader(): boolean;
  on(event: 'elected' | 'deposed', fn: () => void): unknown;
}

export interface RenewLoop {
  /** Runs one check now (after any check in flight) and returns its outcome; undefined on a follower (nothing runs). */
  checkNow(): Promise<CertJobResult | undefined>;
  /** What the loop does now, for status and the log: `leader: …` or `follower: the leader renews`. */
  describe(): string;
  /** True while this daemon does the certificate work (always without a role). */
  active(): boolean;
  stop(): Promise<void>;
}

export const FOLLOWER_NOTE = 'follower: the leader renews';

/**
 * The daemon's certificate loop: a renew check at start and then every `intervalMs`, or sooner when a backoff ends
 * or a renewal falls due before then. Each check is `certs renew` (audited, alerting on failure, deploying what
 * it issued). A check that throws (a store fault) is audited as `cert-error` and retried at the next tick.
 * With a `role` (several controllers) only the leader checks: a follower stays idle (FOLLOWER_NOTE); on 'elected'
 * it checks at once; on 'deposed' the check in flight is aborted (its fenced writes would be refused anyway).
 */
export function startRenewLoop(
  d: CertJobDeps & {
    intervalMs: number;
    onResult?: (r: CertJobResult) => void;
    role?: LeaderRole;
    /** Told describe() whenever the role changes. */
    onRole?: (line: string) => void;
    /** Replaces one check (tests); default runCertJob('renew'). */
    job?: (signal: AbortSignal) => Promise<CertJobResult>;
  },
): RenewLoop {
  const now = d.now ?? Date.now;
  const job = d.job ?? ((signal: AbortSignal) => runCertJob('renew', { ...d, signal }));
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<CertJobResult | undefined> | undefined;
  let inFlight: AbortController | undefined;
  let stopped = false;
  let leading = d.role ? d.role.isLeader() : true;

  const describe = () => (leading ? `leader: checking every ${Math.round(d.intervalMs / 1000)}s` : FOLLOWER_NOTE);

  const schedule = (r?: CertJobResult) => {
    if (stopped || !leading) return;
    let wait = d.intervalMs;
    const s = r?.status;
    if (s?.nextAttemptAt !== undefined && s.lastError) wait = Math.min(wait, Math.max(1_000, s.nextAttemptAt - now()));
    if (r?.action === 'not-due') wait = Math.min(wait, Math.max(1_000, r.renewsAt - now()));
    timer = setTimeout(() => void check(), Math.min(wait, 2 ** 31 - 1));
    timer.unref();
  };

  const check = (): Promise<CertJobResult | undefined> => {
    if (running) return running.then(() => check());
    clearTimeout(timer);
    if (stopped || !leading) return Promise.resolve(undefined);
    const abort = new AbortController();
    inFlight = abort;
    running = job(abort.signal)
      .catch(async (e): Promise<CertJobResult> => {
        const reason = (e as Error)?.message ?? String(e);
        const status = { names: [], directory: d.spec.certs.directory, failures: 0 };
        // deposed or stopping: the next leader checks; nothing here failed
        if (stoppedWriting(e, abort.signal)) {
          d.log?.(`certificate check stopped: ${abort.signal.aborted ? String(abort.signal.reason?.message ?? abort.signal.reason) : reason}`);
          return { action: 'failed', reason, code: 'NOT_LEADER', status };
        }
        await d.audit({ kind: 'cert-error', message: `certificate check failed: ${reason}`, data: { code: 'CERT_CHECK' } }).catch(() => undefined);
        return { action: 'failed', reason, code: 'CERT_CHECK', status };
      })
      .then((r) => {
        running = undefined;
        inFlight = undefined;
        if (!(r.action === 'failed' && r.code === 'NOT_LEADER')) d.onResult?.(r);
        schedule(r);
        return r;
      });
    return running;
  };

  d.role?.on('elected', () => {
    if (stopped || leading) return;
    leading = true;
    d.onRole?.(describe());
    void check();
  });
  d.role?.on('deposed', () => {
    if (stopped || !leading) return;
    leading = false;
    clearTimeout(timer);
    inFlight?.abort(new Error('no longer the leader'));
    d.onRole?.(describe());
  });

  d.onRole?.(describe());
  if (leading) void check();
  return {
    checkNow: check,
    describe,
    active: () => leading && !stopped,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      inFlight?.abort(new Error('the daemon is stopping'));
      await running?.catch(() => undefined);
    },
  };
}
