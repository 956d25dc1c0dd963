import { randomBytes } from 'node:crypto';
import { link, lstat, readFile, unlink, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { StateError } from '../domain/errors.ts';

/**
 * An exclusive lock between processes: a file holding the owner's pid, created whole with link(2) (so a lock is never
 * seen half-written). A lock is stale, and taken over, when its process is gone, or when it does not hold a pid (empty
 * or garbage, e.g. left by a crash of an older writer) and is older than `unreadableStaleMs`. Waits at most
 * `timeoutMs`, then throws StateError STATE_CONFLICT naming the holder.
 */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>, opts: { timeoutMs?: number; unreadableStaleMs?: number } = {}): Promise<T> {
  await acquire(lockPath, opts.timeoutMs ?? 10_000, opts.unreadableStaleMs ?? 1000);
  try {
    return await fn();
  } finally {
    await unlink(lockPath).catch(() => undefined);
  }
}

async function acquire(lockPath: string, timeoutMs: number, unreadableStaleMs: number): Promise<void> {
  const mine = `${lockPath}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(mine, `${process.pid}\n`);
  const deadline = Date.now() + timeoutMs;
  try {
    for (let i = 0; ; i++) {
      try {
        await link(mine, lockPath);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const holder = await inspect(lockPath, unreadableStaleMs);
      if (holder.stale) {
        // remove only the lock judged stale, not one another process took in the meantime
        const now = await lstat(lockPath).catch(() => undefined);
        if (now && now.ino === holder.ino) await unlink(lockPath).catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline) throw new StateError('STATE_CONFLICT', `could not lock ${lockPath} within ${timeoutMs} ms: held by ${holder.describe}`);
      await sleep(Math.min(50, 2 + i));
    }
  } finally {
    await unlink(mine).catch(() => undefined);
  }
}

async function inspect(lockPath: string, unreadableStaleMs: number): Promise<{ stale: boolean; ino?: number; describe: string }> {
  let text: string;
  let st;
  try {
    st = await lstat(lockPath);
    text = await readFile(lockPath, 'utf8');
  } catch {
    return { stale: false, describe: 'nobody (released)' }; // gone already: try again
  }
  const pid = /^\s*(\d{1,10})\s*$/.exec(text)?.[1];
  if (pid === undefined || Number(pid) <= 0) {
    return { stale: Date.now() - st.mtimeMs > unreadableStaleMs, ino: st.ino, describe: `an unreadable lock file (${JSON.stringify(text.slice(0, 20))})` };
  }
  try {
    process.kill(Number(pid), 0);
    return { stale: false, ino: st.ino, describe: `process ${pid}` };
  } catch (e) {
    // EPERM: alive, owned by another user
    return { stale: (e as NodeJS.ErrnoException).code === 'ESRCH', ino: st.ino, describe: `process ${pid}` };
  }
}
