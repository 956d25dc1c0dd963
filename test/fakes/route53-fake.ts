/**
 * Contract fake of the Amazon Route 53 REST/XML API (2013-04-01), a real HTTP server on 127.0.0.1.
 *
 * Follows (looked up, not guessed):
 * - Route 53 API Reference: POST /2013-04-01/hostedzone/{Id}/rrset (ChangeResourceRecordSetsRequest → ChangeBatch →
 *   Changes → Change{Action CREATE|DELETE|UPSERT, ResourceRecordSet{Name,Type,TTL,ResourceRecords}}), answered with
 *   ChangeInfo{Id "/change/…", Status PENDING, SubmittedAt}; GET /2013-04-01/change/{Id} goes PENDING → INSYNC;
 *   GET /2013-04-01/hostedzone/{Id}/rrset?name=&type=&identifier=&maxitems= lists in DNS order (labels reversed,
 *   then type) with IsTruncated/NextRecordName/NextRecordType/MaxItems; GET /2013-04-01/hostedzonesbyname?dnsname=
 *   &maxitems=; GET /2013-04-01/hostedzone/{Id} with DelegationSet/NameServers. Element and query names match the
 *   shapes in @aws-sdk/client-route-53 (maxitems, name, type, identifier, dnsname, hostedzoneid).
 * - Change batches are transactional: all or nothing. Limits per request: 1,000 ResourceRecord elements (UPSERT
 *   counts twice), 32,000 characters of values, 100 Change elements (older documents). Violations are
 *   `InvalidChangeBatch`, sent (as Route 53 does) in its own root: <InvalidChangeBatch><Messages><Message>…, with the
 *   texts seen from the real service: "Number of records limit of 1000 exceeded.", "RDATA character limit of 32000
 *   exceeded.", "Tried to create resource record set [name='…', type='…'] but it already exists", "Tried to delete
 *   resource record set [name='…', type='…'] but it was not found", "… but the values provided do not match the current
 *   values", unquoted TXT: "Invalid Resource Record: FATAL problem: InvalidCharacterString (Value should be enclosed in
 *   quotation marks) encountered with '…'".
 * - Other errors in <ErrorResponse><Error><Type>Sender</Type><Code/><Message/></Error><RequestId/></ErrorResponse>:
 *   NoSuchHostedZone (404), NoSuchChange (404), Throttling "Rate exceeded" (400), PriorRequestNotComplete (400),
 *   InvalidClientTokenId / SignatureDoesNotMatch / MissingAuthenticationToken (403).
 * - Names come back with a trailing dot and `*` as `\052` (Developer Guide, "DNS domain name format").
 * - Requests must carry a SigV4 Authorization header for the known access key id; the signature itself is
 *   verified too (canonical request per the SigV4 spec), so a wrong secret key fails like on AWS.
 * Deliberate test deviation: MaxItems is capped at `pageSize` (default 7) so a driver that ignores pagination fails.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIPv4, isIPv6, type AddressInfo } from 'node:net';
import type { RecordSet } from '../../src/domain/records.ts';

const NS = 'https://route53.amazonaws.com/doc/2013-04-01/';

export interface Route53FakeOptions {
  accessKeyId: string;
  secretAccessKey: string;
  zones: (string | { name: string; id?: string; nameServers?: string[]; private?: boolean })[];
  pageSize?: number;
  /** How long a change stays PENDING. */
  insyncAfterMs?: number;
  /** Verify SigV4 signatures (not only the access key id). */
  verifySignature?: boolean;
  /** Temporary credentials: every request must carry this X-Amz-Security-Token (signed), as STS keys need. */
  sessionToken?: string;
}

interface StoredSet {
  name: string; // absolute, lower case, trailing dot, `*` kept raw
  type: string;
  ttl: number;
  values: string[];
  /** An alias record set (AliasTarget instead of TTL and values). */
  alias?: { hostedZoneId: string; dnsName: string };
}

interface Zone {
  id: string;
  name: string; // with trailing dot
  private: boolean;
  nameServers: string[];
  sets: Map<string, StoredSet>;
}

export interface Route53Fake {
  url: string;
  stop(): Promise<void>;
  seed(zone: string, record: RecordSet): void;
  /** An alias record set at `name` (e.g. an apex A alias to a CloudFront distribution). */
  seedAlias(zone: string, name: string, type: string, dnsName: string): void;
  /** The next `n` ChangeResourceRecordSets get Throttling (or PriorRequestNotComplete). */
  injectThrottle(n: number, code?: 'Throttling' | 'PriorRequestNotComplete'): void;
  readonly requests: number;
  readonly changeRequests: number;
  readonly getChangeRequests: number;
  /** Changes per accepted batch, in order. */
  readonly batches: number[];
  zoneId(zone: string): string | undefined;
  /** Stored sets as Route 53 would list them. */
  sets(zone: string): StoredSet[];
}

// ---- a small XML reader for the request bodies the SDK sends (elements and text only) ----
interface XmlNode {
  name: string;
  children: XmlNode[];
  text: string;
}

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, e: string) => {
    const k = e.toLowerCase();
    if (k === 'amp') return '&';
    if (k === 'lt') return '<';
    if (k === 'gt') return '>';
    if (k === 'quot') return '"';
    if (k === 'apos') return "'";
    return String.fromCodePoint(k.startsWith('#x') ? parseInt(k.slice(2), 16) : parseInt(k.slice(1), 10));
  });
}

export function parseXml(xml: string): XmlNode {
  const root: XmlNode = { name: '#root', children: [], text: '' };
  const stack: XmlNode[] = [root];
  const re = /<\?[^>]*\?>|<!--[\s\S]*?-->|<(\/?)([A-Za-z_][\w.:-]*)([^>]*?)(\/?)>|([^<]+)/g;
  for (let m = re.exec(xml); m; m = re.exec(xml)) {
    const top = stack[stack.length - 1];
    if (m[5] !== undefined) { top.text += decodeEntities(m[5]); continue; }
    if (!m[2]) continue;
    if (m[1]) {
      if (top.name !== m[2]) throw new Error(`malformed XML: </${m[2]}> closes <${top.name}>`);
      stack.pop();
      continue;
    }
    const node: XmlNode = { name: m[2], children: [], text: '' };
    top.children.push(node);
    if (!m[4]) stack.push(node);
  }
  if (stack.length !== 1) throw new Error('malformed XML: unclosed element');
  return root;
}

const child = (n: XmlNode | undefined, name: string) => n?.children.find((c) => c.name === name);
const kids = (n: XmlNode | undefined, name: string) => n?.children.filter((c) => c.name === name) ?? [];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

// ---- names ----
function canonName(name: string): string {
  const decoded = name.trim().replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))).toLowerCase();
  return decoded.endsWith('.') ? decoded : `${decoded}.`;
}

function wireName(name: string): string {
  return [...name].map((c) => (/[a-z0-9\-_.]/.test(c) ? c : `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`)).join('');
}

/** Route 53 list order: labels reversed, compared label by label; then type. */
function orderKey(name: string): string {
  return name.replace(/\.$/, '').split('.').reverse().join('\u0000');
}

function compareSets(a: { name: string; type: string }, b: { name: string; type: string }): number {
  const ka = orderKey(a.name);
  const kb = orderKey(b.name);
  if (ka !== kb) return ka < kb ? -1 : 1;
  return a.type < b.type ? -1 : a.type > b.type ? 1 : 0;
}

// ---- SigV4 (canonical request as the SigV4 spec defines it for non-S3 services) ----
function uriEscape(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

class AwsError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly batchMessages?: string[]) {
    super(message);
  }
}

export async function startRoute53Fake(opts: Route53FakeOptions): Promise<Route53Fake> {
  const pageSize = opts.pageSize ?? 7;
  const insyncAfter = opts.insyncAfterMs ?? 50;
  const verify = opts.verifySignature ?? true;
  const zones = new Map<string, Zone>();
  const changes = new Map<string, { submitted: number }>();
  const batches: number[] = [];
  let requests = 0;
  let changeRequests = 0;
  let getChangeRequests = 0;
  const throttles: string[] = [];

  for (const z of opts.zones) {
    const spec = typeof z === 'string' ? { name: z } : z;
    const id = spec.id ?? `Z${randomBytes(10).toString('hex').toUpperCase().slice(0, 18)}`;
    const name = canonName(spec.name);
    const nameServers = spec.nameServers ?? ['ns-101.awsdns-12.com', 'ns-602.awsdns-11.net', 'ns-1203.awsdns-22.org', 'ns-1804.awsdns-33.co.uk'];
    const zone: Zone = { id, name, private: spec.private ?? false, nameServers, sets: new Map() };
    // Route 53 creates SOA and NS records with every hosted zone.
    zone.sets.set(`${name}/SOA`, { name, type: 'SOA', ttl: 900, values: [`${nameServers[0]}. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400`] });
    zone.sets.set(`${name}/NS`, { name, type: 'NS', ttl: 172800, values: nameServers.map((n) => `${n}.`) });
    zones.set(id, zone);
  }

  function sendXml(res: ServerResponse, status: number, xml: string) {
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`;
    res.writeHead(status, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(body), 'x-amzn-requestid': randomBytes(16).toString('hex') });
    res.end(body);
  }

  function authenticate(req: IncomingMessage, rawPath: string, rawQuery: string, body: string): void {
    const auth = req.headers.authorization;
    if (!auth) throw new AwsError(403, 'MissingAuthenticationToken', 'Missing Authentication Token');
    const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]+)$/.exec(auth);
    if (!m) throw new AwsError(403, 'IncompleteSignature', 'Authorization header requires Credential, SignedHeaders and Signature.');
    const [, keyId, shortDate, region, service, signedHeaders, signature] = m;
    if (keyId !== opts.accessKeyId) throw new AwsError(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
    if (opts.sessionToken !== undefined && (req.headers['x-amz-security-token'] !== opts.sessionToken || !signedHeaders.split(';').includes('x-amz-security-token')))
      throw new AwsError(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
    if (!verify) return;
    const amzDate = String(req.headers['x-amz-date'] ?? '');
    const names = signedHeaders.split(';');
    const canonHeaders = names.map((n) => {
      const v = req.headers[n];
      const value = Array.isArray(v) ? v.join(',') : String(v ?? '');
      return `${n}:${value.trim().replace(/\s+/g, ' ')}\n`;
    }).join('');
    const canonPath = uriEscape(rawPath).replace(/%2F/g, '/');
    const params = [...new URLSearchParams(rawQuery)].map(([k, v]) => [uriEscape(k), uriEscape(v)] as const);
    params.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1));
    const canonQuery = params.map(([k, v]) => `${k}=${v}`).join('&');
    const payloadHash = String(req.headers['x-amz-content-sha256'] ?? sha256Hex(body));
    const canonical = [req.method ?? 'GET', canonPath, canonQuery, canonHeaders, signedHeaders, payloadHash].join('\n');
    const scope = `${shortDate}/${region}/${service}/aws4_request`;
    const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonical)].join('\n');
    const key = hmac(hmac(hmac(hmac(`AWS4${opts.secretAccessKey}`, shortDate), region), service), 'aws4_request');
    const expected = createHmac('sha256', key).update(toSign).digest('hex');
    if (expected !== signature) {
      throw new AwsError(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.');
    }
  }

  function zoneOr404(id: string): Zone {
    const z = zones.get(id);
    if (!z) throw new AwsError(404, 'NoSuchHostedZone', `No hosted zone found with ID: ${id}`);
    return z;
  }

  function hostedZoneXml(z: Zone): string {
    return `<HostedZone><Id>/hostedzone/${z.id}</Id><Name>${esc(wireName(z.name))}</Name><CallerReference>fake-${z.id}</CallerReference>` +
      `<Config><PrivateZone>${z.private}</PrivateZone></Config><ResourceRecordSetCount>${z.sets.size}</ResourceRecordSetCount></HostedZone>`;
  }

  function setXml(s: StoredSet): string {
    if (s.alias)
      return `<ResourceRecordSet><Name>${esc(wireName(s.name))}</Name><Type>${s.type}</Type><AliasTarget><HostedZoneId>${esc(s.alias.hostedZoneId)}</HostedZoneId>` +
        `<DNSName>${esc(s.alias.dnsName)}</DNSName><EvaluateTargetHealth>false</EvaluateTargetHealth></AliasTarget></ResourceRecordSet>`;
    return `<ResourceRecordSet><Name>${esc(wireName(s.name))}</Name><Type>${s.type}</Type><TTL>${s.ttl}</TTL><ResourceRecords>` +
      s.values.map((v) => `<ResourceRecord><Value>${esc(v)}</Value></ResourceRecord>`).join('') + `</ResourceRecords></ResourceRecordSet>`;
  }

  function changeInfoXml(id: string): string {
    const c = changes.get(id)!;
    const status = Date.now() - c.submitted >= insyncAfter ? 'INSYNC' : 'PENDING';
    return `<ChangeInfo><Id>/change/${id}</Id><Status>${status}</Status><SubmittedAt>${new Date(c.submitted).toISOString()}</SubmittedAt><Comment>flotilla fake</Comment></ChangeInfo>`;
  }

  function applyBatch(zone: Zone, xml: string): string {
    const doc = parseXml(xml);
    const changeNodes = kids(child(child(child(doc, 'ChangeResourceRecordSetsRequest'), 'ChangeBatch'), 'Changes'), 'Change');
    if (changeNodes.length === 0) throw new AwsError(400, 'InvalidInput', 'Invalid request: Expected exactly one of [Changes], but found none.');
    const parsed = changeNodes.map((c) => {
      const rrs = child(c, 'ResourceRecordSet');
      return {
        action: child(c, 'Action')?.text ?? '',
        set: {
          name: canonName(child(rrs, 'Name')?.text ?? ''),
          type: child(rrs, 'Type')?.text ?? '',
          ttl: Number(child(rrs, 'TTL')?.text ?? 'NaN'),
          values: kids(child(rrs, 'ResourceRecords'), 'ResourceRecord').map((r) => child(r, 'Value')?.text ?? ''),
        },
      };
    });
    const problems: string[] = [];
    if (parsed.length > 100) problems.push(`Number of changes limit of 100 exceeded.`);
    const records = parsed.reduce((n, p) => n + p.set.values.length * (p.action === 'UPSERT' ? 2 : 1), 0);
    if (records > 1000) problems.push('Number of records limit of 1000 exceeded.');
    const chars = parsed.reduce((n, p) => n + p.set.values.reduce((m, v) => m + v.length, 0) * (p.action === 'UPSERT' ? 2 : 1), 0);
    if (chars > 32000) problems.push('RDATA character limit of 32000 exceeded.');
    if (problems.length) throw new AwsError(400, 'InvalidChangeBatch', problems.join(' '), problems);

    // Transactional: validate against a working copy, commit only if every change is valid.
    const work = new Map([...zone.sets].map(([k, v]) => [k, { ...v, values: [...v.values] }]));
    for (const { action, set } of parsed) {
      const key = `${set.name}/${set.type}`;
      const label = `[name='${wireName(set.name)}', type='${set.type}']`;
      if (set.name !== zone.name && !set.name.endsWith(`.${zone.name}`)) {
        problems.push(`RRSet with DNS name ${wireName(set.name)} is not permitted in zone ${wireName(zone.name)}`);
        continue;
      }
      if (!Number.isInteger(set.ttl) || set.ttl < 0 || set.ttl > 2147483647) { problems.push(`Invalid TTL for ${label}`); continue; }
      if (set.values.length === 0) { problems.push(`Invalid request: ResourceRecords must not be empty for ${label}`); continue; }
      // Route 53 answers InvalidChangeBatch "ARRDATAIllegalIPv4Address" / "AAAARRDATAIllegalIPv6Address"
      const badAddress = set.type === 'A' ? set.values.find((v) => !isIPv4(v)) : set.type === 'AAAA' ? set.values.find((v) => !isIPv6(v)) : undefined;
      if (badAddress !== undefined) {
        problems.push(`Invalid Resource Record: 'FATAL problem: ${set.type === 'A' ? 'ARRDATAIllegalIPv4Address' : 'AAAARRDATAIllegalIPv6Address'} (Value is not a valid IPv${set.type === 'A' ? 4 : 6} address) encountered with '${badAddress}''`);
        continue;
      }
      if (set.type === 'TXT') {
        const bad = set.values.find((v) => !/^\s*"/.test(v));
        if (bad !== undefined) {
          problems.push(`Invalid Resource Record: 'FATAL problem: InvalidCharacterString (Value should be enclosed in quotation marks) encountered with '${bad}''`);
          continue;
        }
      }
      const existing = work.get(key);
      if (action === 'CREATE') {
        if (existing) problems.push(`Tried to create resource record set ${label} but it already exists`);
        else work.set(key, set);
      } else if (action === 'DELETE') {
        if (!existing) problems.push(`Tried to delete resource record set ${label} but it was not found`);
        else if (existing.ttl !== set.ttl || [...existing.values].sort().join('\n') !== [...set.values].sort().join('\n')) {
          problems.push(`Tried to delete resource record set ${label} but the values provided do not match the current values`);
        } else work.delete(key);
      } else if (action === 'UPSERT') {
        work.set(key, set);
      } else {
        problems.push(`Invalid action ${action}`);
      }
      const atName = [...work.values()].filter((s) => s.name === set.name);
      if (atName.some((s) => s.type === 'CNAME') && atName.length > 1) {
        problems.push(`RRSet of type CNAME with DNS name ${wireName(set.name)} is not permitted as it conflicts with other records with the same DNS name in zone ${wireName(zone.name)}.`);
      }
    }
    if (problems.length) throw new AwsError(400, 'InvalidChangeBatch', problems.join(' '), problems);
    zone.sets = work;
    batches.push(parsed.length);
    const id = `C${randomBytes(10).toString('hex').toUpperCase().slice(0, 18)}`;
    changes.set(id, { submitted: Date.now() });
    return id;
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    requests++;
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const rawQuery = q < 0 ? '' : rawUrl.slice(q + 1);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    authenticate(req, rawPath, rawQuery, body);
    const query = new URLSearchParams(rawQuery);
    const path = decodeURIComponent(rawPath);
    const method = req.method ?? 'GET';

    if (method === 'GET' && path === '/2013-04-01/hostedzonesbyname') {
      const max = Math.min(Number(query.get('maxitems') ?? 100) || 100, 100);
      const dns = query.get('dnsname');
      const all = [...zones.values()].sort((a, b) => compareSets({ name: a.name, type: a.id }, { name: b.name, type: b.id }));
      const from = dns ? all.filter((z) => compareSets({ name: z.name, type: '' }, { name: canonName(dns), type: '' }) >= 0) : all;
      const page = from.slice(0, max);
      const next = from[max];
      return sendXml(res, 200, `<ListHostedZonesByNameResponse xmlns="${NS}"><HostedZones>${page.map(hostedZoneXml).join('')}</HostedZones>` +
        (dns ? `<DNSName>${esc(dns)}</DNSName>` : '') + `<IsTruncated>${next !== undefined}</IsTruncated><MaxItems>${max}</MaxItems>` +
        (next ? `<NextDNSName>${esc(wireName(next.name))}</NextDNSName><NextHostedZoneId>${next.id}</NextHostedZoneId>` : '') + `</ListHostedZonesByNameResponse>`);
    }
    let m = /^\/2013-04-01\/change\/([^/]+)$/.exec(path);
    if (m && method === 'GET') {
      getChangeRequests++;
      if (!changes.has(m[1])) throw new AwsError(404, 'NoSuchChange', `A change with the specified change ID does not exist: ${m[1]}`);
      return sendXml(res, 200, `<GetChangeResponse xmlns="${NS}">${changeInfoXml(m[1])}</GetChangeResponse>`);
    }
    m = /^\/2013-04-01\/hostedzone\/([^/]+)(\/rrset)?$/.exec(path);
    if (!m) throw new AwsError(404, 'UnknownOperationException', `Unknown operation ${method} ${path}`);
    const zone = zoneOr404(m[1]);
    if (!m[2] && method === 'GET') {
      return sendXml(res, 200, `<GetHostedZoneResponse xmlns="${NS}">${hostedZoneXml(zone)}<DelegationSet><NameServers>` +
        zone.nameServers.map((n) => `<NameServer>${esc(n)}</NameServer>`).join('') + `</NameServers></DelegationSet></GetHostedZoneResponse>`);
    }
    if (m[2] && method === 'GET') {
      const requested = Number(query.get('maxitems') ?? 300) || 300;
      const max = Math.min(requested, pageSize);
      const startName = query.get('name');
      const startType = query.get('type');
      if (startType && !startName) throw new AwsError(400, 'InvalidInput', 'The input is not valid: type requires name');
      const all = [...zone.sets.values()].sort(compareSets);
      const from = startName
        ? all.filter((s) => {
            const c = compareSets({ name: s.name, type: '' }, { name: canonName(startName), type: '' });
            return c > 0 || (c === 0 && (!startType || s.type >= startType));
          })
        : all;
      const page = from.slice(0, max);
      const next = from[max];
      return sendXml(res, 200, `<ListResourceRecordSetsResponse xmlns="${NS}"><ResourceRecordSets>${page.map(setXml).join('')}</ResourceRecordSets>` +
        `<IsTruncated>${next !== undefined}</IsTruncated>` +
        (next ? `<NextRecordName>${esc(wireName(next.name))}</NextRecordName><NextRecordType>${next.type}</NextRecordType>` : '') +
        `<MaxItems>${requested}</MaxItems></ListResourceRecordSetsResponse>`);
    }
    if (m[2] && method === 'POST') {
      changeRequests++;
      const code = throttles.shift();
      if (code === 'Throttling') throw new AwsError(400, 'Throttling', 'Rate exceeded');
      if (code) throw new AwsError(400, 'PriorRequestNotComplete', 'The request was rejected because Route 53 was still processing a prior request.');
      const id = applyBatch(zone, body);
      return sendXml(res, 200, `<ChangeResourceRecordSetsResponse xmlns="${NS}">${changeInfoXml(id)}</ChangeResourceRecordSetsResponse>`);
    }
    throw new AwsError(404, 'UnknownOperationException', `Unknown operation ${method} ${path}`);
  }

  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      const rid = randomBytes(16).toString('hex');
      if (err instanceof AwsError && err.code === 'InvalidChangeBatch') {
        return sendXml(res, err.status, `<InvalidChangeBatch xmlns="${NS}"><Messages>${(err.batchMessages ?? [err.message]).map((msg) => `<Message>${esc(msg)}</Message>`).join('')}</Messages><RequestId>${rid}</RequestId></InvalidChangeBatch>`);
      }
      const e = err instanceof AwsError ? err : new AwsError(500, 'InternalFailure', 'The request processing has failed because of an unknown error.');
      sendXml(res, e.status, `<ErrorResponse xmlns="${NS}"><Error><Type>${e.status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${e.code}</Code><Message>${esc(e.message)}</Message></Error><RequestId>${rid}</RequestId></ErrorResponse>`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const byName = (zone: string) => [...zones.values()].find((z) => z.name === canonName(zone));

  return {
    url: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
    seed(zoneName, r) {
      const zone = byName(zoneName);
      if (!zone) throw new Error(`fake has no zone ${zoneName}`);
      const name = canonName(r.name);
      const values = r.values.map((v) => (r.type === 'TXT' ? `"${v.replace(/(["\\])/g, '\\$1')}"` : ['CNAME', 'NS'].includes(r.type) ? `${v.replace(/\.$/, '')}.` : v));
      zone.sets.set(`${name}/${r.type}`, { name, type: r.type, ttl: r.ttl, values });
    },
    seedAlias(zoneName, name, type, dnsName) {
      const zone = byName(zoneName);
      if (!zone) throw new Error(`fake has no zone ${zoneName}`);
      const n = canonName(name);
      zone.sets.set(`${n}/${type}`, { name: n, type, ttl: 0, values: [], alias: { hostedZoneId: 'Z2FDTNDATAQYW2', dnsName: `${dnsName.replace(/\.$/, '')}.` } });
    },
    injectThrottle(n, code = 'Throttling') {
      for (let i = 0; i < n; i++) throttles.push(code);
    },
    get requests() { return requests; },
    get changeRequests() { return changeRequests; },
    get getChangeRequests() { return getChangeRequests; },
    get batches() { return [...batches]; },
    zoneId: (zone) => byName(zone)?.id,
    sets: (zone) => [...(byName(zone)?.sets.values() ?? [])].sort(compareSets).map((s) => ({ ...s, name: wireName(s.name), values: [...s.values] })),
  };
}
