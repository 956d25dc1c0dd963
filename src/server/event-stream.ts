import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuditEvent } from '../domain/audit.ts';
import type { ControllerEvents, ControllerView } from '../controller/controller-view.ts';
import { sendJson } from './http-util.ts';
import type { StatusSnapshot } from './status-snapshot.ts';

export interface EventStreamOptions {
  controller: ControllerView;
  snapshot: () => StatusSnapshot;
  /** Shortest gap between two status pushes caused by probes (default 250 ms: at most 4 per second). */
  throttleMs?: number;
  /** A status push at least this often while clients listen, so changes made by other processes show up (default 5 s). */
  refreshMs?: number;
  /** Open streams in all (default 64) and from one client address (default 4); more are answered 503. */
  maxClients?: number;
  maxClientsPerAddress?: number;
  /** A client whose unsent output grows past this many bytes (or two messages, if more) is dropped (default 1 MiB). */
  maxBufferedBytes?: number;
}

/**
 * Server-sent events at /events. Each client gets `event: status` (a StatusSnapshot without audit) on connect and
 * whenever the controller probes (throttled), flips, reconciles or audits, and `event: audit` (one AuditEvent) for
 * every audit event. Pushes never wait on slow clients: a client that does not read is dropped once its buffer is
 * full. The number of streams is capped, in all and per client address.
 */
export class EventStream {
  private readonly clients = new Set<ServerResponse>();
  private readonly perAddress = new Map<string, number>();
  private readonly throttleMs: number;
  private lastPush = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly refresh: NodeJS.Timeout;
  private readonly listeners: [keyof ControllerEvents, (...a: unknown[]) => void][];

  constructor(private readonly o: EventStreamOptions) {
    this.throttleMs = o.throttleMs ?? 250;
    this.listeners = [
      ['probe', () => this.schedule(false)],
      ['flip', () => this.schedule(true)],
      ['reconcile', () => this.schedule(true)],
      ['audit', (e) => { this.send('audit', e as AuditEvent); this.schedule(true); }],
    ];
    for (const [ev, fn] of this.listeners) o.controller.on(ev, fn);
    this.refresh = setInterval(() => this.schedule(false), o.refreshMs ?? 5000);
    this.refresh.unref();
  }

  /** Streams answered 503 because a cap was reached, since start. */
  refused = 0;

  get clientCount(): number {
    return this.clients.size;
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const addr = req.socket.remoteAddress ?? '?';
    const mine = this.perAddress.get(addr) ?? 0;
    const max = this.o.maxClients ?? 64;
    const maxMine = this.o.maxClientsPerAddress ?? 4;
    if (this.clients.size >= max || mine >= maxMine) {
      this.refused++;
      const why = this.clients.size >= max ? `${max} event streams are open` : `${maxMine} event streams are open from ${addr}`;
      sendJson(res, 503, { error: `too many event streams: ${why}; retry later` }, { 'retry-after': '5' });
      return;
    }
    this.perAddress.set(addr, mine + 1);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 1000\n\n');
    this.clients.add(res);
    this.write(res, 'status', this.o.snapshot());
    let dropped = false;
    const drop = () => {
      this.clients.delete(res);
      if (dropped) return;
      dropped = true;
      const n = (this.perAddress.get(addr) ?? 1) - 1;
      if (n <= 0) this.perAddress.delete(addr);
      else this.perAddress.set(addr, n);
    };
    req.on('close', drop);
    res.on('close', drop);
    res.on('error', drop);
  }

  /** Ends every stream and stops listening to the controller. */
  close(): void {
    for (const [ev, fn] of this.listeners) this.o.controller.off(ev, fn);
    clearInterval(this.refresh);
    if (this.timer) clearTimeout(this.timer);
    for (const c of this.clients) c.end();
    this.clients.clear();
  }

  /** Pushes a status soon: at once for decisions (`urgent`), at most every `throttleMs` otherwise. */
  private schedule(urgent: boolean): void {
    if (this.clients.size === 0) return;
    const wait = urgent ? 0 : Math.max(0, this.lastPush + this.throttleMs - Date.now());
    if (this.timer) {
      if (!urgent) return;
      clearTimeout(this.timer);
    }
    // urgent pushes still go through a timer so a burst of events in one tick becomes one push
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.lastPush = Date.now();
      this.send('status', this.o.snapshot());
    }, wait);
  }

  private send(event: string, data: unknown): void {
    for (const c of this.clients) this.write(c, event, data);
  }

  private write(res: ServerResponse, event: string, data: unknown): void {
    // JSON.stringify never emits a raw CR or LF, so one data: line carries the whole message; the Unicode line
    // separators (which some line readers split on) go out escaped too
    const json = JSON.stringify(data).replace(/[\u0085\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    const msg = `event: ${event}\ndata: ${json}\n\n`;
    const ok = res.write(msg);
    // a client that reads keeps its backlog near one message (a status of thousands of mirrors can exceed the limit)
    if (!ok && res.writableLength > Math.max(this.o.maxBufferedBytes ?? 1024 * 1024, 2 * msg.length)) {
      this.clients.delete(res);
      res.destroy();
    }
  }
}
