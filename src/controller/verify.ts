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
  /** From the start of verification (the decision, when `startedAt` is the decision time) to this server converging. */
  ms?: number;
  last?: string;
}

/**
 * Polls every authoritative server of every provider until each answers exactly the expected values for every
 * expected RRset, or the deadline passes. Returns a verdict per server.
 */
export async function verifyAll(o: { targets: VerifyTarget[]; query: DnsQueryFn; startedAt: number; deadlineMs: number; pollMs?: number; queryTimeoutMs?: number; now?: () => number }): Promise<ServerVerdict[]> {
  const now = o.now ?? Date.now;
  const poll = o.pollMs ?? 25;
  const jobs = o.targets.flatMap((t) =>
    t.servers.map(async (server): Promise<ServerVerdict> => {
      let last = '';
      while (now() - o.startedAt <= o.deadlineMs) {
        const results = await Promise.all(
          t.expect.map(async (r) => {
            const a = await o.query({ server, name: r.name, type: r.type, timeoutMs: o.queryTimeoutMs ?? 500 });
            if (!a.ok) return `${r.name} ${r.type}: ${a.error}`;
            const got = [...a.values].sort().join(' ');
            const want = [...r.values].sort().join(' ');
            return got === want ? '' : `${r.name} ${r.type}: answers ${got || '(nothing)'}, want ${want}`;
          }),
        );
        last = results.filter(Boolean).join('; ');
        if (!last) return { provider: t.provider, server, converged: true, ms: now() - o.startedAt };
        await new Promise((r) => setTimeout(r, poll));
      }
      return { provider: t.provider, server, converged: false, last };
    }),
  );
  return Promise.all(jobs);
}
