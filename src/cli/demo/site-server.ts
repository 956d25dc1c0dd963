import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { MANIFEST_PATH } from '../../manifest/site-manifest.ts';

/** A demo mirror: serves the site directory on one loopback address. `tamper` makes it serve different bytes. */
export interface SiteServer {
  host: string;
  port: number;
  tamper(on: boolean): void;
  /** Stops answering at once (connections cut): what a dead host looks like. */
  kill(): Promise<void>;
  start(): Promise<void>;
  readonly running: boolean;
}

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.css': 'text/css', '.js': 'text/javascript' };

/**
 * `manifest` returns the signed site manifest the mirror serves at /.well-known/flotilla.json (the daemon's latest),
 * or undefined when none is published yet (then the content directory's file, if any, is served).
 */
export function siteServer(opts: { host: string; port: number; contentDir: string; manifest?: () => string | undefined }): SiteServer {
  let server: Server | undefined;
  let tampered = false;
  const sockets = new Set<Socket>();
  const handle = async (path: string): Promise<{ status: number; body: Buffer; type: string }> => {
    if (path.split('?')[0] === MANIFEST_PATH) {
      const m = opts.manifest?.();
      if (m !== undefined) return { status: 200, body: Buffer.from(m), type: 'application/json' };
    }
    const rel = normalize(decodeURIComponent(path.split('?')[0])).replace(/^(\.\.[/\\])+/, '');
    const file = join(opts.contentDir, rel.endsWith('/') ? `${rel}index.html` : rel);
    try {
      let body = await readFile(file);
      if (tampered) body = Buffer.concat([body, Buffer.from('\n<!-- this host now serves something else -->\n')]);
      return { status: 200, body, type: TYPES[extname(file)] ?? 'application/octet-stream' };
    } catch {
      return { status: 404, body: Buffer.from('not found\n'), type: 'text/plain' };
    }
  };
  const api: SiteServer = {
    host: opts.host,
    port: opts.port,
    get running() {
      return server !== undefined;
    },
    tamper(on) {
      tampered = on;
    },
    async start() {
      if (server) return;
      const s = createServer((req, res) => {
        void handle(req.url ?? '/').then((r) => res.writeHead(r.status, { 'content-type': r.type, 'content-length': r.body.length }).end(r.body));
      });
      s.on('connection', (c) => { sockets.add(c); c.once('close', () => sockets.delete(c)); });
      await new Promise<void>((resolve, reject) => { s.once('error', reject); s.listen(opts.port, opts.host, () => resolve()); });
      api.port = (s.address() as { port: number }).port;
      server = s;
    },
    async kill() {
      const s = server;
      server = undefined;
      if (!s) return;
      for (const c of sockets) c.destroy();
      await new Promise<void>((r) => s.close(() => r()));
    },
  };
  return api;
}
