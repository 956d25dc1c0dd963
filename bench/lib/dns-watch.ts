/**
 * Asks one DNS server for one name's A record every `everyMs` and keeps what it answered, so a benchmark can ask
 * "when did this server first stop (or start) answering 127.0.0.11 after t0?". Times are performance.now() at the
 * moment the answer arrived, so a change is seen at most `everyMs` + one query round trip late.
 */
import { queryDns } from '../../src/dns/dns-client.ts';

export interface DnsSample {
  /** performance.now() when the answer (or the error) came back. */
  t: number;
  ok: boolean;
  values: string[];
}

interface Waiter {
  since: number;
  pred: (values: string[]) => boolean;
  resolve: (t: number | undefined) => void;
  timer: NodeJS.Timeout;
}

export class DnsWatch {
  readonly label: string;
  readonly server: string;
  readonly name: string;
  private readonly everyMs: number;
  private running = false;
  private loop: Promise<void> | undefined;
  private waiters = new Set<Waiter>();
  /** Every sample, when `record` is on (flaky bench); otherwise only the latest. */
  readonly samples: DnsSample[] = [];
  record = false;
  latest: DnsSample | undefined;

  constructor(o: { label: string; server: string; name: string; everyMs: number }) {
    this.label = o.label;
    this.server = o.server;
    this.name = o.name;
    this.everyMs = o.everyMs;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      let next = performance.now();
      while (this.running) {
        const r = await queryDns({ server: this.server, name: this.name, type: 'A', timeoutMs: 250 });
        const s: DnsSample = {
          t: performance.now(),
          ok: r.ok && r.rcode === 'NOERROR',
          values: r.ok ? r.answers.filter((a) => a.type === 'A').map((a) => a.value).sort() : [],
        };
        this.latest = s;
        if (this.record) this.samples.push(s);
        for (const w of this.waiters) {
          if (s.t >= w.since && s.ok && w.pred(s.values)) {
            clearTimeout(w.timer);
            this.waiters.delete(w);
            w.resolve(s.t);
          }
        }
        next += this.everyMs;
        const now = performance.now();
        if (next < now) next = now; // a slow answer: no burst of catch-up queries
        await new Promise((r) => setTimeout(r, next - now));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    for (const w of this.waiters) { clearTimeout(w.timer); w.resolve(undefined); }
    this.waiters.clear();
  }

  /** Resolves with the time of the first good answer at or after `since` that satisfies `pred`, or undefined on timeout. */
  waitFor(pred: (values: string[]) => boolean, o: { since: number; timeoutMs: number }): Promise<number | undefined> {
    return new Promise((resolve) => {
      const w: Waiter = { since: o.since, pred, resolve, timer: setTimeout(() => { this.waiters.delete(w); resolve(undefined); }, o.timeoutMs) };
      this.waiters.add(w);
    });
  }
}

export const hasAll = (ips: readonly string[]) => (v: string[]) => ips.every((ip) => v.includes(ip));
export const lacks = (ip: string) => (v: string[]) => v.length > 0 && !v.includes(ip);
export const has = (ip: string) => (v: string[]) => v.includes(ip);
