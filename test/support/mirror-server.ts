/**
 * A real mirror for tests and the demo: an HTTP(S) server on a loopback address serving a site directory, with
 * switches that make it misbehave the ways real mirrors do. Run it in-process (startMirror) or as a child process
 * (spawnMirrorProcess) that can be SIGKILLed, SIGSTOPped (hung: the kernel still accepts TCP) and SIGCONTed.
 * Any 127.x.y.z address can be bound on Linux without configuration.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { spawnTracked } from './child-processes.ts';
import { ensurePackages } from './ensure-packages.ts';

/**
 * - ok: serve the files as they are
 * - wrong-bytes: serve each file with bytes appended (status 200, so only a digest or body check notices)
 * - status-503: answer 503 to everything
 * - drop-every-10th: close the socket without answering on every 10th request (counted from setMode)
 * - slow: wait `delayMs` (default 1000) before answering
 */
export type MirrorMode = 'ok' | 'wrong-bytes' | 'status-503' | 'drop-every-10th' | 'slow';
export const MIRROR_MODES: readonly MirrorMode[] = ['ok', 'wrong-bytes', 'status-503', 'drop-every-10th', 'slow'];

export interface MirrorOptions {
  /** Loopback address, e.g. 127.0.0.2. */
  host: string;
  /** 0 = any free port. */
  port: number;
  contentDir: string;
  /** Serve HTTPS with this certificate and key (PEM files). */
  tls?: { certFile: string; keyFile: string };
  mode?: MirrorMode;
  delayMs?: number;
  /** listen() backlog; a small one lets a stopped mirror's accept queue fill up, so new connects hang. */
  backlog?: number;
}

export interface MirrorServer {
  host: string;
  port: number;
  /** http(s)://host:port */
  url: string;
  readonly mode: MirrorMode;
  /** Requests received so far (dropped ones included). */
  readonly requests: number;
  /** Requests dropped without an answer (drop-every-10th). */
  readonly dropped: number;
  /** Connections accepted so far (to see keep-alive reuse). */
  readonly connections: number;
  /** Connections open right now. */
  readonly openConnections: number;
  /** Host header, TLS SNI and path of the latest request. */
  readonly lastRequest: { host?: string; servername?: string; path: string } | undefined;
  setMode(mode: MirrorMode, opts?: { delayMs?: number }): void;
  stop(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css',
  '.js': 'text/javascript',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};
export const WRONG_BYTES_SUFFIX = '\n<!-- served by a mirror with the wrong bytes -->\n';

export async function startMirror(opts: MirrorOptions): Promise<MirrorServer> {
  const root = resolve(opts.contentDir);
  let mode: MirrorMode = opts.mode ?? 'ok';
  let delayMs = opts.delayMs ?? 1000;
  let requests = 0;
  let dropped = 0;
  let sinceMode = 0;
  let connections = 0;
  let openConnections = 0;
  let lastRequest: MirrorServer['lastRequest'];
  const timers = new Set<NodeJS.Timeout>();

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    requests++;
    sinceMode++;
    const servername = (req.socket as TLSSocket).servername;
    lastRequest = { host: req.headers.host, servername: typeof servername === 'string' ? servername : undefined, path: req.url ?? '' };
    if (mode === 'drop-every-10th' && sinceMode % 10 === 0) {
      dropped++;
      req.socket.destroy();
      return;
    }
    if (mode === 'slow') {
      const t = setTimeout(() => {
        timers.delete(t);
        if (!res.destroyed) void serve(req, res);
      }, delayMs);
      timers.add(t);
      return;
    }
    void serve(req, res);
  };

  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const send = (status: number, body: Buffer | string, type = 'text/plain; charset=utf-8') => {
      const buf = typeof body === 'string' ? Buffer.from(body) : body;
      res.writeHead(status, { 'content-type': type, 'content-length': buf.length, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : buf);
    };
    try {
      if (mode === 'status-503') return send(503, 'mirror unavailable\n');
      const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://mirror').pathname);
      const file = resolve(root, '.' + (urlPath.endsWith('/') ? `${urlPath}index.html` : urlPath));
      if (file !== root && !file.startsWith(root + sep)) return send(403, 'forbidden\n');
      let bytes: Buffer;
      try {
        bytes = await readFile(file);
      } catch {
        return send(404, 'not found\n');
      }
      if (mode === 'wrong-bytes') bytes = Buffer.concat([bytes, Buffer.from(WRONG_BYTES_SUFFIX)]);
      send(200, bytes, TYPES[extname(file)] ?? 'application/octet-stream');
    } catch (err) {
      if (!res.headersSent) send(500, `error: ${(err as Error).message}\n`);
      else res.destroy();
    }
  };

  let server: Server;
  if (opts.tls) {
    const [cert, key] = await Promise.all([readFile(opts.tls.certFile), readFile(opts.tls.keyFile)]);
    server = createHttpsServer({ cert, key }, handler) as unknown as Server;
  } else {
    server = createHttpServer(handler);
  }
  server.on(opts.tls ? 'secureConnection' : 'connection', (socket: NodeJS.EventEmitter) => {
    connections++;
    openConnections++;
    socket.once('close', () => openConnections--);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen({ port: opts.port, host: opts.host, backlog: opts.backlog }, () => {
      server.off('error', fail);
      ok();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `${opts.tls ? 'https' : 'http'}://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;

  return {
    host: opts.host,
    port,
    url,
    get mode() {
      return mode;
    },
    get dropped() {
      return dropped;
    },
    get requests() {
      return requests;
    },
    get connections() {
      return connections;
    },
    get openConnections() {
      return openConnections;
    },
    get lastRequest() {
      return lastRequest;
    },
    setMode(next, o = {}) {
      if (!MIRROR_MODES.includes(next)) throw new Error(`unknown mirror mode ${next}`);
      mode = next;
      sinceMode = 0;
      if (o.delayMs !== undefined) delayMs = o.delayMs;
    },
    async stop() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      });
    },
  };
}

/** Writes a site directory (`{ '/index.html': '<h1>hi</h1>' }`) and returns it. */
export async function writeSite(dir: string, files: Record<string, string | Buffer>): Promise<string> {
  for (const [path, body] of Object.entries(files)) {
    const file = join(dir, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, body);
  }
  return dir;
}

/**
 * A self-signed certificate for `commonName` valid `days` days from now (EC P-256, SAN = the name), written into
 * `dir` with Debian's openssl.
 */
export async function makeSelfSignedCert(opts: { dir: string; commonName: string; days: number; name?: string }): Promise<{ certFile: string; keyFile: string; certPem: string }> {
  ensurePackages({ openssl: 'openssl' });
  const base = opts.name ?? `cert-${opts.days}d`;
  const certFile = join(opts.dir, `${base}.pem`);
  const keyFile = join(opts.dir, `${base}.key`);
  await promisify(execFile)('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', String(opts.days),
    '-subj', `/CN=${opts.commonName}`, '-addext', `subjectAltName=DNS:${opts.commonName}`,
  ], { timeout: 20_000 });
  return { certFile, keyFile, certPem: await readFile(certFile, 'utf8') };
}

export interface MirrorProcess {
  pid: number;
  /** Resolves once the child listens (with its port), rejects if it exits or fails first. */
  ready: Promise<{ host: string; port: number; url: string }>;
  /** Sends a signal to the child by pid (SIGKILL, SIGSTOP, SIGCONT, ...). */
  kill(signal: NodeJS.Signals): boolean;
  /** Switches the child's mode; resolves when the child confirms (so not while it is stopped). */
  setMode(mode: MirrorMode, opts?: { delayMs?: number }): Promise<void>;
  /** The child's request counters, asked over IPC. */
  counters(): Promise<{ requests: number; dropped: number }>;
  /** Ends the child (SIGCONT, SIGTERM, then SIGKILL after 3 s) and waits for it to exit. */
  stop(): Promise<void>;
  /** Resolves when the child has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const ENTRY = join(dirname(fileURLToPath(import.meta.url)), 'mirror-process.ts');
const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Runs startMirror in a child process (`node --import tsx test/support/mirror-process.ts`). */
export function spawnMirrorProcess(opts: MirrorOptions): MirrorProcess {
  // tracked: never left behind, even when a test fails or crashes
  const child = spawnTracked(process.execPath, ['--import', 'tsx', ENTRY, JSON.stringify(opts)], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) =>
    child.once('exit', (code, signal) => ok({ code, signal })),
  );
  let nextId = 1;
  const acks = new Map<number, (m: { requests?: number; dropped?: number }) => void>();
  const ready = new Promise<{ host: string; port: number; url: string }>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error('mirror process did not start within 20 s')), 20_000);
    child.on('message', (m: { type: string; port?: number; url?: string; id?: number; error?: string }) => {
      if (m.type === 'ready') {
        clearTimeout(timer);
        ok({ host: opts.host, port: m.port!, url: m.url! });
      } else if (m.type === 'failed') {
        clearTimeout(timer);
        fail(new Error(`mirror process failed: ${m.error}`));
      } else if ((m.type === 'mode-ack' || m.type === 'counters') && m.id !== undefined) {
        acks.get(m.id)?.(m as { requests?: number; dropped?: number });
        acks.delete(m.id);
      }
    });
    child.once('error', (err) => { clearTimeout(timer); fail(err); });
    void exited.then(({ code, signal }) => { clearTimeout(timer); fail(new Error(`mirror process exited (code ${code}, signal ${signal})`)); });
  });
  ready.catch(() => undefined); // the caller awaits it; avoid an unhandled rejection when they do not
  const kill = (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null || !child.pid) return false;
    try {
      return process.kill(child.pid, signal), true;
    } catch {
      return false;
    }
  };
  return {
    pid: child.pid!,
    ready,
    exited,
    kill,
    setMode(mode, o = {}) {
      const id = nextId++;
      return new Promise<void>((ok, fail) => {
        acks.set(id, () => ok());
        child.send({ type: 'mode', id, mode, delayMs: o.delayMs }, (err) => err && fail(err));
      });
    },
    counters() {
      const id = nextId++;
      return new Promise((ok, fail) => {
        acks.set(id, (m) => ok({ requests: m.requests ?? 0, dropped: m.dropped ?? 0 }));
        child.send({ type: 'counters', id }, (err) => err && fail(err));
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      kill('SIGCONT');
      kill('SIGTERM');
      const t = setTimeout(() => kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(t);
    },
  };
}
