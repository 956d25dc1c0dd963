/**
 * `npx flotilla demo --keep &` then `kill $!` signals npm, which ends its `sh -c` child but never passes the signal
 * on to this process: it would keep running without a parent, holding its ports. So when npm started this process
 * (npm puts `npm_command` in the environment of what it runs), watch the parent: once it is gone (the parent pid
 * changes), act as if the SIGTERM had reached this process. A process started any other way (a shell, nohup,
 * systemd) is left alone: outliving its parent may be what its owner wants.
 * Returns a function that stops watching.
 */
export function stopWhenNpmWrapperExits(opts: { env?: NodeJS.ProcessEnv; intervalMs?: number } = {}): () => void {
  if (!(opts.env ?? process.env).npm_command) return () => undefined;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    process.kill(process.pid, 'SIGTERM');
  }, opts.intervalMs ?? 500);
  timer.unref();
  return () => clearInterval(timer);
}
