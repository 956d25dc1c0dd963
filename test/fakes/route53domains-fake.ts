/**
 * Contract fake of the Amazon Route 53 Domains API (2014-05-15), a real HTTP server on 127.0.0.1, for the official
 * SDK (@aws-sdk/client-route-53-domains) pointed at it with `endpoint`.
 *
 * Follows the API Reference (looked up, not guessed):
 * - AWS JSON 1.1 protocol: every call is `POST /` with `Content-Type: application/x-amz-json-1.1` and
 *   `X-Amz-Target: Route53Domains_v20140515.<Operation>`; errors are HTTP 400 with `{"__type": "<Code>", "message"}`.
 * - GetDomainDetail {DomainName} → {DomainName, Nameservers: [{Name, GlueIps}], StatusList, ExpirationDate, ...};
 *   a domain not in the account is `InvalidInput`.
 * - UpdateDomainNameservers {DomainName, Nameservers: [{Name, GlueIps?}]} → {OperationId}; the change is applied
 *   when the operation completes, not at once.
 * - GetOperationDetail {OperationId} → {OperationId, Status: SUBMITTED | IN_PROGRESS | ERROR | SUCCESSFUL | FAILED,
 *   Message, DomainName, Type: UPDATE_NAMESERVER, SubmittedDate}; an unknown id is `InvalidInput`.
 * - Requests carry a SigV4 Authorization header for the known access key id (the signature itself is not checked
 *   here; the Route 53 fake does that for the shared signer).
 * Deliberate test knobs: an operation reports SUBMITTED, IN_PROGRESS, then its outcome over `pollsToComplete` polls;
 * `failNext` makes the next update end in ERROR; more than `maxNameservers` (6) names is `InvalidInput` (the limit
 * the registrar declares).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Route53DomainsFakeOptions {
  accessKeyId: string;
  domains: Record<string, string[]>;
  pollsToComplete?: number;
  maxNameservers?: number;
  /** Called when an update succeeds, before GetOperationDetail says SUCCESSFUL (a registry publishing the NS). */
  onPublish?: (domain: string, nameservers: string[]) => Promise<void>;
}

interface Operation { id: string; domain: string; nameservers: string[]; polls: number; outcome: 'SUCCESSFUL' | 'ERROR'; done: boolean; submitted: number }

export interface Route53DomainsFake {
  url: string;
  /** Nameservers the registry holds now. */
  nameservers(domain: string): string[];
  /** The operation names received, in order. */
  readonly calls: string[];
  failNext(): void;
  stop(): Promise<void>;
}

export async function startRoute53DomainsFake(o: Route53DomainsFakeOptions): Promise<Route53DomainsFake> {
  const domains = new Map(Object.entries(o.domains).map(([d, ns]) => [d.toLowerCase(), [...ns]]));
  const ops = new Map<string, Operation>();
  const calls: string[] = [];
  const maxNs = o.maxNameservers ?? 6;
  const polls = o.pollsToComplete ?? 2;
  let failNext = false;

  const send = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID(), 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const error = (res: ServerResponse, code: string, message: string, status = 400) => {
    res.setHeader('x-amzn-errortype', code);
    send(res, status, { __type: code, message });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const target = String(req.headers['x-amz-target'] ?? '');
    const auth = String(req.headers.authorization ?? '');
    if (req.method !== 'POST' || req.url !== '/') return error(res, 'UnknownOperationException', `${req.method} ${req.url}`, 404);
    if (!String(req.headers['content-type'] ?? '').startsWith('application/x-amz-json-1.1')) return error(res, 'SerializationException', 'expected application/x-amz-json-1.1');
    if (!auth.startsWith('AWS4-HMAC-SHA256 ')) return error(res, 'MissingAuthenticationTokenException', 'Missing Authentication Token', 403);
    if (!auth.includes(`Credential=${o.accessKeyId}/`)) return error(res, 'UnrecognizedClientException', 'The security token included in the request is invalid.', 403);
    const m = /^Route53Domains_v20140515\.(\w+)$/.exec(target);
    if (!m) return error(res, 'UnknownOperationException', `unknown target ${target}`);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    } catch {
      return error(res, 'SerializationException', 'body is not JSON');
    }
    const op = m[1];
    calls.push(op);
    if (op === 'GetDomainDetail') {
      const name = String(body.DomainName ?? '').toLowerCase();
      const ns = domains.get(name);
      if (!ns) return error(res, 'InvalidInput', `Domain ${name} not found in account`);
      return send(res, 200, { DomainName: name, Nameservers: ns.map((Name) => ({ Name, GlueIps: [] })), StatusList: ['clientTransferProhibited'], AutoRenew: true, ExpirationDate: Date.now() / 1000 + 300 * 86400 });
    }
    if (op === 'UpdateDomainNameservers') {
      const name = String(body.DomainName ?? '').toLowerCase();
      if (!domains.has(name)) return error(res, 'InvalidInput', `Domain ${name} not found in account`);
      const list = Array.isArray(body.Nameservers) ? (body.Nameservers as { Name?: unknown }[]).map((n) => String(n?.Name ?? '')) : [];
      if (list.length === 0 || list.some((n) => !n)) return error(res, 'InvalidInput', 'Nameservers: every entry needs a Name');
      if (list.length > maxNs) return error(res, 'InvalidInput', `Too many name servers: at most ${maxNs}`);
      const id = randomUUID();
      ops.set(id, { id, domain: name, nameservers: list.map((n) => n.toLowerCase()), polls: 0, outcome: failNext ? 'ERROR' : 'SUCCESSFUL', done: false, submitted: Date.now() / 1000 });
      failNext = false;
      return send(res, 200, { OperationId: id });
    }
    if (op === 'GetOperationDetail') {
      const x = ops.get(String(body.OperationId ?? ''));
      if (!x) return error(res, 'InvalidInput', `No operation found with id ${String(body.OperationId)}`);
      x.polls++;
      let status = x.polls === 1 ? 'SUBMITTED' : 'IN_PROGRESS';
      if (x.polls >= polls) {
        if (!x.done && x.outcome === 'SUCCESSFUL') {
          await o.onPublish?.(x.domain, x.nameservers);
          domains.set(x.domain, x.nameservers);
        }
        x.done = true;
        status = x.outcome;
      }
      return send(res, 200, { OperationId: x.id, Status: status, DomainName: x.domain, Type: 'UPDATE_NAMESERVER', SubmittedDate: x.submitted, ...(status === 'ERROR' ? { Message: 'The registry rejected the name servers' } : {}) });
    }
    return error(res, 'UnknownOperationException', `operation ${op} is not in this fake`);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e) => error(res, 'InternalFailure', String(e), 500));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    nameservers: (d) => [...(domains.get(d.toLowerCase()) ?? [])].sort(),
    calls,
    failNext: () => { failNext = true; },
    stop: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
