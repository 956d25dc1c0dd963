/**
 * DNS driver for any primary server speaking RFC 2136 dynamic UPDATE with TSIG (BIND9, Knot, PowerDNS, ...).
 * listRecords = AXFR over TCP; applyChanges = one signed UPDATE message per batch (atomic at the server).
 */
import { randomInt } from 'node:crypto';
import packet from 'dns-packet';
import { DriverError, FlotillaError } from '../../domain/errors.ts';
import { parseDuration } from '../../domain/duration.ts';
import { inZone, normalizeName, normalizeValue, type ApplyReport, type Change, type RecordSet } from '../../domain/records.ts';
import type { DnsDriver, DriverContext } from '../dns-driver.ts';
import { withRetry } from '../retry.ts';
import { RFC2136_MAX_BATCH, rfc2136Capabilities } from './rfc2136-capabilities.ts';
import type { Rfc2136Settings } from './rfc2136-settings.ts';
import { formatEndpoint, parseEndpoint } from '../../dns/endpoint.ts';
import { TransportError } from '../../dns/transport.ts';
import { signedExchange, type SignedAnswer } from './signed-exchange.ts';
import { tsigErrorName, tsigKey, type TsigKey } from '../../dns/tsig.ts';
import { buildUpdate, updateBatches } from './update-message.ts';
import { OPCODE_QUERY, TYPE_AXFR, TYPE_SOA, encodeMessage, layout, rcodeName, typeNumber } from '../../dns/wire.ts';
import { fromPacketData } from '../../dns/rdata.ts';
import { recordSetsFromTransfer } from './zone-records.ts';

/** Larger UPDATE messages go over TCP (the classic UDP payload limit without EDNS). */
const UDP_LIMIT = 512;

type Op = 'transfer' | 'update';
type DriverCode = 'DRIVER_AUTH' | 'DRIVER_NOT_FOUND' | 'DRIVER_RATE_LIMITED' | 'DRIVER_FAILED';

export function createRfc2136Driver(ctx: DriverContext<Rfc2136Settings>): DnsDriver {
  const s = ctx.settings;
  const endpoint = parseEndpoint(s.server);
  const server = formatEndpoint(endpoint);
  const algorithm = s.tsigAlgorithm ?? 'hmac-sha256';
  const parsedTimeout = parseDuration(s.timeout ?? '5s');
  if (parsedTimeout === undefined || parsedTimeout <= 0) {
    throw new FlotillaError('CONFIG_INVALID', `rfc2136 provider ${ctx.name}: timeout "${s.timeout}" is not a duration like 2s or 500ms`, { exitCode: 2 });
  }
  const timeoutMs = parsedTimeout;

  const fail = (zone: string, code: DriverCode, message: string, extra: { retryable?: boolean; cause?: unknown } = {}) =>
    new DriverError({ code, provider: ctx.name, zone, message, ...extra });

  /** The key is read per call, so rotating the env var needs no restart; the secret never enters a message. */
  function key(zone: string): TsigKey {
    const secret = ctx.env[s.tsigSecretEnv];
    if (secret === undefined || secret.trim() === '') {
      throw fail(zone, 'DRIVER_AUTH', `environment variable ${s.tsigSecretEnv} (TSIG secret for key ${s.tsigKeyName}) is not set`);
    }
    try {
      return tsigKey(s.tsigKeyName, algorithm, secret);
    } catch {
      throw fail(zone, 'DRIVER_AUTH', `environment variable ${s.tsigSecretEnv} (TSIG secret for key ${s.tsigKeyName}) is not valid base64`);
    }
  }

  async function exchange(zone: string, request: Buffer, opts: { tcp: boolean; transfer?: boolean; signal?: AbortSignal }): Promise<SignedAnswer> {
    try {
      return await signedExchange(request, { endpoint, key: key(zone), timeoutMs, ...opts });
    } catch (err) {
      if (err instanceof TransportError) {
        throw fail(zone, 'DRIVER_FAILED', `no answer from ${server}: ${err.message}`, { retryable: true, cause: err });
      }
      if (err instanceof DriverError || opts.signal?.aborted) throw err;
      throw fail(zone, 'DRIVER_FAILED', `malformed answer from ${server}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Does the server answer authoritatively for `zone`? Only asked to explain a REFUSED/NOTAUTH/NOTZONE. */
  async function serves(zone: string, signal?: AbortSignal): Promise<boolean | undefined> {
    const q = encodeMessage({ id: randomInt(65536), opcode: OPCODE_QUERY, question: { name: zone, type: TYPE_SOA } });
    try {
      const a = await exchange(zone, q, { tcp: false, signal });
      const l = layout(a.messages[0]);
      const aa = (l.flags & 0x0400) !== 0;
      return l.rcode === 0 && aa && l.sections.answers.some((r) => r.type === TYPE_SOA && normalizeName(r.name) === zone);
    } catch {
      return undefined;
    }
  }

  /** Does the server accept an empty UPDATE (a no-op) from our key? Tells an ACL refusal from a content refusal. */
  async function mayUpdate(zone: string, signal?: AbortSignal): Promise<boolean> {
    try {
      const a = await exchange(zone, buildUpdate(zone, [], randomInt(65536)), { tcp: false, signal });
      return a.rcode === 0 && a.verified;
    } catch {
      return false;
    }
  }

  /** Maps a DNS-level outcome to success or a typed DriverError. */
  async function check(zone: string, op: Op, a: SignedAnswer, signal?: AbortSignal): Promise<void> {
    const what = op === 'transfer' ? 'zone transfer (AXFR)' : 'UPDATE';
    const keyName = s.tsigKeyName;
    if (a.first.error !== 0) {
      const e = tsigErrorName(a.first.error);
      const hint =
        a.first.error === 17 ? `the server does not know key ${keyName} (${algorithm})`
        : a.first.error === 18 ? 'the clocks of this host and the server differ by more than the TSIG fudge'
        : `the secret in ${s.tsigSecretEnv} does not match the server's key ${keyName}`;
      throw fail(zone, 'DRIVER_AUTH', `${server} rejected the ${what}: ${rcodeName(a.rcode)}/${e}: ${hint}`);
    }
    const rcode = rcodeName(a.rcode);
    switch (rcode) {
      case 'NOERROR':
        if (!a.verified) throw fail(zone, 'DRIVER_AUTH', `the answer of ${server} to the ${what} failed TSIG verification with key ${keyName}: ${a.reason}`);
        return;
      case 'SERVFAIL':
        throw fail(zone, 'DRIVER_FAILED', `${server} answered SERVFAIL to the ${what}`, { retryable: true });
      case 'NOTAUTH':
      case 'REFUSED':
      case 'NOTZONE': {
        // BIND answers REFUSED to AXFR and NOTAUTH to UPDATE for a zone it does not have; Knot answers both
        // unsigned, and also NOTAUTH when the key is not allowed. Whether the server serves the zone tells them apart.
        const has = await serves(zone, signal);
        if (has !== true) {
          const why = has === false ? 'and does not answer authoritatively for it' : 'and did not answer an SOA query for it';
          throw fail(zone, 'DRIVER_NOT_FOUND', `${server} answered ${rcode} to the ${what} for zone ${zone} ${why}: the server does not have this zone`);
        }
        if (rcode === 'NOTZONE') throw fail(zone, 'DRIVER_FAILED', `${server} answered NOTZONE: a name in the UPDATE is outside zone ${zone}`);
        if (op === 'update' && (await mayUpdate(zone, signal))) {
          throw fail(zone, 'DRIVER_FAILED', `${server} accepts UPDATEs for zone ${zone} with key ${keyName} but answered ${rcode} to this one: the server's policy rejected its content (BIND, for one, refuses an MX/SRV/NS target inside the zone that has no address record); see the server log`);
        }
        throw fail(zone, 'DRIVER_AUTH', `${server} serves zone ${zone} but answered ${rcode} to the ${what} signed with key ${keyName}: check the server's allow-${op === 'transfer' ? 'transfer' : 'update'}/acl for this key`);
      }
      case 'YXDOMAIN':
      case 'YXRRSET':
      case 'NXDOMAIN':
      case 'NXRRSET':
        throw fail(zone, 'DRIVER_FAILED', `${server} refused the UPDATE (${rcode}): an RRset it was to create already exists, someone else changed the zone meanwhile; list again and re-plan`);
      default:
        throw fail(zone, 'DRIVER_FAILED', `${server} answered ${rcode} to the ${what}`);
    }
  }

  /**
   * RFC 2136 §3.4.2.2: a server answers NOERROR yet silently ignores the add of a CNAME at a name holding other data,
   * and of other data at a name holding a CNAME. So after an UPDATE, ask the server (signed, like the UPDATE) for
   * each RRset the batch added and report the one it does not serve as written. Values only: TTLs and the SOA serial
   * are the server's to adjust.
   */
  async function confirmAdds(z: string, batch: readonly Change[], signal?: AbortSignal): Promise<void> {
    for (const c of batch) {
      if (c.action === 'delete' || c.after.type === 'SOA') continue;
      const r = c.after;
      const name = normalizeName(r.name);
      const ask = async (tcp: boolean) => {
        const q = encodeMessage({ id: randomInt(65536), opcode: OPCODE_QUERY, question: { name, type: typeNumber(r.type) } });
        const a = await exchange(z, q, { tcp, signal });
        if (a.first.error !== 0 || !a.verified) await check(z, 'update', a, signal);
        return a.messages[0];
      };
      let msg = await ask(false);
      if ((layout(msg).flags & 0x0200) !== 0) msg = await ask(true); // truncated: again over TCP
      const decoded = packet.decode(msg);
      // an NS set below the apex is a delegation: the server answers it as a referral (authority section)
      const rrs = [...(decoded.answers ?? []), ...(r.type === 'NS' ? decoded.authorities ?? [] : [])]
        .filter((x) => normalizeName(x.name) === name) as { type: string; data?: unknown }[];
      const got = [...new Set(rrs.filter((x) => x.type === r.type).map((x) => normalizeValue(r.type, fromPacketData(r.type, x.data))))].sort();
      const want = [...new Set(r.values.map((v) => normalizeValue(r.type, v)))].sort();
      if (got.join('\n') === want.join('\n')) continue;
      const cname = rrs.find((x) => x.type === 'CNAME');
      const answers = cname && r.type !== 'CNAME' ? `a CNAME to ${fromPacketData('CNAME', cname.data)}` : got.length > 0 ? got.join(', ') : 'nothing';
      const why = r.type === 'CNAME'
        ? 'a CNAME cannot share its name with other data, and the server ignored the add (RFC 2136 §3.4.2.2)'
        : cname ? 'the name holds a CNAME, which allows no other data, and the server ignored the add (RFC 2136 §3.4.2.2)'
        : 'the server did not apply it';
      throw fail(z, 'DRIVER_FAILED', `${server} answered NOERROR to the UPDATE but serves ${name} ${r.type} as ${answers}, not as written: ${why}`);
    }
  }

  async function listRecords(zone: string, signal?: AbortSignal): Promise<RecordSet[]> {
    const z = normalizeName(zone);
    return withRetry(async () => {
      const q = encodeMessage({ id: randomInt(65536), opcode: OPCODE_QUERY, question: { name: z, type: TYPE_AXFR } });
      const a = await exchange(z, q, { tcp: true, transfer: true, signal });
      await check(z, 'transfer', a, signal);
      try {
        return recordSetsFromTransfer(a.messages, z);
      } catch (err) {
        throw fail(z, 'DRIVER_FAILED', `zone transfer from ${server}: ${(err as Error).message}`, { retryable: true, cause: err });
      }
    }, { signal, attempts: 3, baseDelayMs: 100 });
  }

  async function applyChanges(zone: string, changes: readonly Change[], signal?: AbortSignal): Promise<ApplyReport> {
    const z = normalizeName(zone);
    for (const c of changes) {
      const r = c.action === 'delete' ? c.before : c.after;
      if (!inZone(r.name, z)) throw fail(z, 'DRIVER_FAILED', `${r.name} is not inside zone ${z}`);
      if (r.type !== 'SOA' && !rfc2136Capabilities.types.includes(r.type)) throw fail(z, 'DRIVER_FAILED', `record type ${r.type} is not supported`);
    }
    let batches: Change[][];
    try {
      batches = updateBatches(z, changes, RFC2136_MAX_BATCH);
    } catch (err) {
      throw fail(z, 'DRIVER_FAILED', `cannot express the change as an UPDATE: ${(err as Error).message}`, { cause: err });
    }
    // `requests` counts messages sent, retries included.
    let requests = 0;
    let applied = 0;
    for (const batch of batches) {
      // Earlier batches stay applied (each UPDATE is atomic, the whole set is not): say so.
      const partial = (err: unknown): never => {
        if (!(err instanceof DriverError) || applied === 0) throw err;
        throw new DriverError({
          code: err.code as DriverCode, provider: ctx.name, zone: z, retryable: err.retryable, cause: err,
          message: `${err.message.slice(`${ctx.name} (zone ${z}): `.length)} (the first ${applied} of ${changes.length} changes were applied)`,
        });
      };
      await withRetry(async () => {
        requests++;
        const msg = buildUpdate(z, batch, randomInt(65536));
        // A signed message grows by ~100 bytes of TSIG; leave room for it under the UDP limit.
        const a = await exchange(z, msg, { tcp: msg.length + 128 > UDP_LIMIT, signal });
        await check(z, 'update', a, signal);
      }, { signal, attempts: 3, baseDelayMs: 100 }).catch(partial);
      await confirmAdds(z, batch, signal).catch(partial);
      applied += batch.length;
    }
    return { provider: ctx.name, zone: z, applied, requests };
  }

  return {
    kind: 'rfc2136',
    name: ctx.name,
    capabilities: rfc2136Capabilities,
    listRecords,
    applyChanges,
    writeRequests(zone, changes) {
      try {
        return updateBatches(normalizeName(zone), changes, RFC2136_MAX_BATCH).length;
      } catch {
        return 0; // applyChanges refuses these changes before sending anything
      }
    },
    async nameservers() {
      return s.nameservers && s.nameservers.length > 0 ? [...s.nameservers] : [s.server];
    },
    async close() {
      // One socket per exchange: nothing stays open.
    },
  };
}
