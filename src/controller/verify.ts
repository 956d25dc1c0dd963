import type { RecordSet, RecordType } from '../domain/records.ts';

/** A direct DNS query at one server: the values it answers, or an error value. Never throws. */
export type DnsQueryFn = (q: { server: string; name: string; type: RecordType; timeoutMs: number }) => Promise<{ ok: true; values: string[] } | { ok: false; error: string }>;

export interface VerifyTarget {
  provider: string;
  /** host:port of every authoritative server of that provider. */
  servers: string[];
  /** The RRsets that must be answered (markers need not be checked). */
  expect: RecordSet[];
}

export interface ServerVerdict {
  provider: string;
  server: string;
  converged: boolean;
  /** From `startedAt` (the decision) to this server converging. */
  ms?: number;
  /** Why the server has not converged (never empty when `converged` is false). */
  last?: string;
  /** Verification was abandoned because a newer write superseded it (not a failure of the server). */
  superseded?: boolean;
}

/**
 * Polls every authoritative server of every provider until each answers exactly the expected values for every
 * expected RRset, or `deadlineMs` after verification began (the write that finished, never the older decision).
 * Every server is asked at least once, so a verdict always carries the server's real answer. `ms` counts from
 * `startedAt` (the decision), so it is the failover time. Aborting `signal` ends it with `superseded` verdicts.
 */
export async function verifyAll(o: { targets: VerifyTarget[]; query: DnsQueryFn; startedAt: number; deadlineMs: number; pollMs?: number; queryTimeoutMs?: number; now?: () => number; signal?: AbortSignal }): Promise<ServerVerdict[]> {
  const now = o.now ?? Date.now;
  const poll = o.pollMs ?? 25;
  const begun = now();
  const jobs = o.targets.flatMap((t) =>
    t.servers.map(async (server): Promise<ServerVerdict> => {
      let last = 'not asked';
      do {
        if (o.signal?.aborted) return { provider: t.provider, server, converged: false, superseded: true, last: 'superseded by a newer write' };
        const results = await Promise.all(
          t.expect.map(async (r) => {
            const a = await o.query({ server, name: r.name, type: r.type, timeoutMs: o.queryTimeoutMs ?? 500 });
            if (!a.ok) return `${r.name} ${r.type}: ${a.error || 'no answer'}`;
            const got = [...a.values].sort().join(' ');
            const want = [...r.values].sort().join(' ');
            return got === want ? '' : `${r.name} ${r.type}: answers ${got || '(nothing)'}, want ${want}`;
          }),
        );
        last = results.filter(Boolean).join('; ');
        if (!last) return { provider: t.provider, server, converged: true, ms: now() - o.startedAt };
        await new Promise((r) => setTimeout(r, poll));
      } while (now() - begun <= o.deadlineMs);
      return { provider: t.provider, server, converged: false, last };
    }),
  );
  return Promise.all(jobs);
}
