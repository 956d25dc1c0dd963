/**
 * Ties many in-flight probes to one caller AbortSignal with a single listener per signal. Adding one listener per
 * probe would trip Node's "possible EventTarget memory leak" warning as soon as 11 probes share the controller's
 * signal, and thousands do.
 */
const waiting = new WeakMap<AbortSignal, Set<() => void>>();

/** Calls `fn` once when `signal` aborts; returns the function that unsubscribes (call it when the probe ends). */
export function onAbort(signal: AbortSignal, fn: () => void): () => void {
  let set = waiting.get(signal);
  if (!set) {
    const fresh = new Set<() => void>();
    waiting.set(signal, fresh);
    signal.addEventListener('abort', () => {
      const all = [...fresh];
      fresh.clear();
      for (const f of all) f();
    }, { once: true });
    set = fresh;
  }
  const mine = set;
  mine.add(fn);
  return () => void mine.delete(fn);
}
