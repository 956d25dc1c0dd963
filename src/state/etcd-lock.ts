import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { StateError } from '../domain/errors.ts';
import type { Fence } from './cluster.ts';
import { FencedError } from './fenced-error.ts';

// require, not import(): the CLI bundle runs as a vm.Script from a V8 code cache, where a dynamic import() fails
const require = createRequire(import.meta.url);
const etcd3 = (): typeof import('etcd3') => require('etcd3');

/** What the holder of a lock gets: proof it still holds it, for writes that must not outlive it. */
export interface LockHold {
  /** The lock key and the create revision it was taken with: a write may compare it in its own transaction. Absent for the file lock. */
  fence?: Fence;
  /** Resolves while the lock is still held; rejects with FencedError (NOT_LEADER) when its lease ran out (paused, cut off). */
  confirm(): Promise<void>;
}

export interface EtcdLockOptions {
  endpoints: string[];
  /** The full key, e.g. `/flotilla/prod/locks/acme-order`. */
  key: string;
  /** Lease TTL (whole seconds): a holder that dies or is paused this long loses the lock. */
  ttlS: number;
  /** Longest wait for another holder, then STATE_CONFLICT naming it. */
  timeoutMs: number;
  /** Who holds it, as the next waiter is told (default: host and pid). */
  holder?: string;
  /** Called once when the lock is held by someone else and this call starts waiting. */
  onWait?: (holder: string) => void;
  signal?: AbortSignal;
}

/**
 * Runs `fn` while holding an etcd lock: the key created "if absent" under a lease this process keeps alive (the
 * etcd3 package's lease and keep-alive), deleted with the lease when `fn` settles. A second caller polls until the
 * key is gone or `timeoutMs` passed (StateError STATE_CONFLICT naming the holder); a holder that dies or is paused
 * past the TTL loses the key, and its `confirm()` and fence then refuse.
 */
export async function withEtcdLock<T>(o: EtcdLockOptions, fn: (hold: LockHold) => Promise<T>): Promise<T> {
  const callMs = 3000;
  const { Etcd3 } = etcd3(); // gRPC: loaded by the commands that take a lock, not by every command
  const client = new Etcd3({ hosts: o.endpoints, dialTimeout: callMs, defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + callMs }) });
  const me = o.holder ?? `${hostname()} pid ${process.pid}`;
  try {
    const lease = client.lease(o.ttlS);
    let lost: string | undefined;
    lease.on('lost', (e) => (lost = e.message));
    const leaseId = await lease.grant().catch((e: Error) => {
      throw new StateError('STATE_UNAVAILABLE', `etcd lock ${o.key}: no lease from ${o.endpoints.join(', ')} (${e.message})`);
    });
    try {
      const deadline = Date.now() + o.timeoutMs;
      let rev: number | undefined;
      let told = false;
      while (rev === undefined) {
        o.signal?.throwIfAborted();
        const r = await unavailable(o, client.if(o.key, 'Create', '==', 0).then(client.put(o.key).value(JSON.stringify({ holder: me, at: Date.now() })).lease(leaseId)).else(client.get(o.key)).commit());
        if (r.succeeded) {
          rev = Number(r.header.revision);
          break;
        }
        const held = holderOf(r.responses[0]?.response_range?.kvs?.[0]?.value);
        if (Date.now() > deadline) throw new StateError('STATE_CONFLICT', `could not take the etcd lock ${o.key} within ${Math.round(o.timeoutMs / 1000)} s: held by ${held}`);
        if (!told) o.onWait?.(held);
        told = true;
        await sleep(250, undefined, { signal: o.signal });
      }
      const fence: Fence = { key: o.key, createRevision: rev };
      const confirm = async () => {
        for (let attempt = 1; ; attempt++) {
          if (lost) throw new FencedError(`write under the lock ${o.key}`, `its lease was lost (${lost})`, 'this process no longer holds the lock');
          const asked = performance.now();
          const ok = (await unavailable(o, client.if(o.key, 'Create', '==', rev).commit())).succeeded;
          // an answer read long after it was asked (this process was paused meanwhile) may be stale: ask again
          if (performance.now() - asked > (o.ttlS * 1000) / 2 && attempt < 3) continue;
          if (!ok) throw new FencedError(`write under the lock ${o.key}`, `the lock no longer holds revision ${rev} (its lease ran out)`, 'this process no longer holds the lock');
          return;
        }
      };
      return await fn({ fence, confirm });
    } finally {
      await lease.revoke().catch(() => undefined); // the key goes with it; when etcd is away, the TTL frees it
    }
  } finally {
    client.close();
  }
}

/** An etcd call that failed is STATE_UNAVAILABLE naming the lock (nothing is written without an answer). */
async function unavailable<T>(o: EtcdLockOptions, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    throw new StateError('STATE_UNAVAILABLE', `etcd lock ${o.key}: ${o.endpoints.join(', ')} did not answer (${(e as Error)?.message ?? String(e)})`);
  }
}

function holderOf(value: Buffer | undefined): string {
  try {
    const v = JSON.parse(value?.toString() ?? '') as { holder?: unknown; at?: unknown };
    if (typeof v.holder === 'string') return `${v.holder}${typeof v.at === 'number' ? ` since ${new Date(v.at).toISOString()}` : ''}`;
  } catch {
    /* below */
  }
  return 'an unknown holder';
}
