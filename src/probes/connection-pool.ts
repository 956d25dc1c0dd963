/**
 * The keep-alive connections a probe shares across all mirrors: at most `max` entries overall, keyed by origin, each
 * holding at most one connection. Taking a key makes it the most recently used; opening one beyond `max` closes the
 * least recently used (a fleet larger than the pool then gets a fresh connection per probe, as blackbox_exporter
 * does, instead of one idle socket per mirror). Contracts: `isLive` tells whether an entry can still carry a
 * request (a dead one is replaced); `release` closes an entry, letting a request in flight finish, and never throws.
 */
export class ConnectionPool<E> {
  private readonly entries = new Map<string, E>();

  constructor(
    readonly max: number,
    private readonly isLive: (e: E) => boolean,
    private readonly release: (e: E) => void,
  ) {
    if (!(max >= 1)) throw new RangeError(`connection pool bound must be at least 1, got ${max}`);
  }

  /** Entries held (each at most one connection). */
  get size(): number {
    return this.entries.size;
  }

  /** The live entry for `key`, else a new one from `open`, closing the least recently used beyond the bound. */
  take(key: string, open: () => E): E {
    const existing = this.entries.get(key);
    if (existing !== undefined) {
      this.entries.delete(key); // re-inserted below or replaced: Map order is the LRU order
      if (this.isLive(existing)) {
        this.entries.set(key, existing);
        return existing;
      }
    }
    while (this.entries.size >= this.max) {
      const [oldKey, old] = this.entries.entries().next().value as [string, E];
      this.entries.delete(oldKey);
      this.release(old);
    }
    const fresh = open();
    this.entries.set(key, fresh);
    return fresh;
  }

  /** Removes and returns every entry (the caller closes them). */
  drain(): E[] {
    const all = [...this.entries.values()];
    this.entries.clear();
    return all;
  }
}
