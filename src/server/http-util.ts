import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A request the server answers with `status` and `{ error: message, ...extra }`. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly extra: Record<string, unknown> = {}) {
    super(message);
  }
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body, null, 1);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...SECURITY_HEADERS, ...headers });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, text: string, contentType: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), ...SECURITY_HEADERS, ...headers });
  res.end(text);
}

/** Reads a JSON body of at most `limit` bytes; 413 when larger, 400 when it is not JSON. */
export async function readJson(req: IncomingMessage, limit = 64 * 1024): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > limit) throw new HttpError(413, `request body over ${limit} bytes`);
    chunks.push(c);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'the request body is not valid JSON');
  }
}

/**
 * Checks `Authorization: Bearer <token>` in constant time. Without a configured token every write is refused:
 * an API that anyone on the network could use to drain the site is worse than none.
 */
export function checkBearer(req: IncomingMessage, token: string | undefined): void {
  // names the setting, never the variable: what the daemon's environment holds is not an anonymous client's business
  if (!token) throw new HttpError(401, 'the API is read-only: no token configured (set the environment variable named by the stack\'s server.tokenEnv for the daemon)');
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  if (!m) throw new HttpError(401, 'send Authorization: Bearer <token>');
  const digest = (s: string) => createHash('sha256').update(s).digest();
  if (!timingSafeEqual(digest(m[1]), digest(token))) throw new HttpError(401, 'wrong token');
}

/** The author of a write: the X-Flotilla-Author header (printable, at most 64 characters) or `api`. */
export function authorOf(req: IncomingMessage): string {
  const raw = req.headers['x-flotilla-author'];
  const v = (Array.isArray(raw) ? raw[0] : raw ?? '').replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 64);
  return v || 'api';
}
