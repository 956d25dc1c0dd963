/**
 * Reads the output of `strace -f -o FILE` into whole system calls, in order. A call that another thread
 * interrupted is printed as `NAME(args <unfinished ...>` and later `<... NAME resumed>rest`: the two halves are
 * joined, and each call keeps the line where it started and the line where it returned, so "A returned before B
 * started" can be checked across threads.
 */
export interface Syscall {
  tid: number;
  name: string;
  /** The argument text as strace printed it (strings C-escaped). */
  args: string;
  /** The return value (`-1 ENOSPC (...)` stays text after the number). */
  result: string;
  start: number;
  end: number;
}

const FULL = /^(\d+)\s+(\w+)\((.*)\)\s+=\s+(.*)$/;
const UNFINISHED = /^(\d+)\s+(\w+)\((.*?)\s*<unfinished \.\.\.>$/;
const RESUMED = /^(\d+)\s+<\.\.\. (\w+) resumed>(.*)\)\s+=\s+(.*)$/;

export function parseStrace(text: string): Syscall[] {
  const calls: Syscall[] = [];
  const pending = new Map<string, { args: string; start: number }>();
  text.split('\n').forEach((line, i) => {
    let m = FULL.exec(line);
    if (m && !line.includes('<unfinished ...>') && !line.includes(' resumed>')) {
      calls.push({ tid: Number(m[1]), name: m[2], args: m[3], result: m[4], start: i, end: i });
      return;
    }
    m = UNFINISHED.exec(line);
    if (m) {
      pending.set(`${m[1]} ${m[2]}`, { args: m[3], start: i });
      return;
    }
    m = RESUMED.exec(line);
    if (m) {
      const p = pending.get(`${m[1]} ${m[2]}`);
      pending.delete(`${m[1]} ${m[2]}`);
      calls.push({ tid: Number(m[1]), name: m[2], args: (p?.args ?? '') + m[3], result: m[4], start: p?.start ?? i, end: i });
    }
    // anything else: signals (--- SIGKILL ---), exits (+++ killed +++), calls cut short by the kill
  });
  return calls.sort((a, b) => a.end - b.end);
}

/** The first argument of a call (a file descriptor for write/fsync/close). */
export function fdArg(c: Syscall): number {
  return Number(c.args.split(',')[0]);
}
