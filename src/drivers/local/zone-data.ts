import { isIPv4, isIPv6 } from 'node:net';
import { inZone, normalizeName, normalizeRecordSet, rrsetKey, type Change, type RecordSet, type RecordType } from '../../domain/records.ts';
import { parseCaa } from '../../dns/rdata.ts';

/**
 * One zone of the embedded server as stored on disk (`<dir>/<zone>.json`) and held in memory.
 * `serial` always equals the serial inside the SOA value; every applied change set bumps it by one.
 */
export interface ZoneData {
  /** Format version of the file. */
  format: 1;
  zone: string;
  serial: number;
  rrsets: RecordSet[];
}

export const ZONE_FORMAT = 1 as const;

/** Types the embedded server stores and serves. */
export const LOCAL_TYPES: readonly RecordType[] = ['A', 'AAAA', 'CNAME', 'TXT', 'NS', 'SOA', 'MX', 'SRV', 'CAA'];

export interface ZoneCreateOptions {
  /** Names of the zone's nameservers (NS RRset at the apex); default `ns1.<zone>`. */
  nsNames?: string[];
  /** Contact of the SOA, `hostmaster.example.com` or `hostmaster@example.com`; default `hostmaster.<zone>`. */
  soaEmail?: string;
  /** TTL of the SOA and NS RRsets; default 3600. */
  ttl?: number;
  /** SOA minimum = TTL of negative answers; default 60 so a failover is not hidden behind a cached NXDOMAIN. */
  negativeTtl?: number;
  /** First serial; default the current unix time. */
  serial?: number;
}

/** A change set the zone cannot take (bad value, name outside the zone, CNAME beside other data...). */
export class ZoneChangeError extends Error {}

/** A fresh zone with its SOA and apex NS RRset. Pure apart from the default serial. */
export function createZoneData(zoneName: string, opts: ZoneCreateOptions = {}): ZoneData {
  const zone = normalizeName(zoneName);
  assertZoneName(zone);
  const ttl = opts.ttl ?? 3600;
  const serial = (opts.serial ?? Math.floor(Date.now() / 1000)) >>> 0;
  const ns = (opts.nsNames?.length ? opts.nsNames : [`ns1.${zone}`]).map(normalizeName);
  const contact = normalizeName((opts.soaEmail ?? `hostmaster.${zone}`).replace('@', '.'));
  const soa = `${ns[0]} ${contact} ${serial} 3600 600 604800 ${opts.negativeTtl ?? 60}`;
  return {
    format: ZONE_FORMAT,
    zone,
    serial,
    rrsets: sortRrsets([
      { name: zone, type: 'SOA', ttl, values: [soa] },
      normalizeRecordSet({ name: zone, type: 'NS', ttl, values: ns }),
    ]),
  };
}

/** Zone names become file names: only DNS-safe characters, no path tricks. */
export function assertZoneName(zone: string): void {
  if (!/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(zone) || zone.length > 253) throw new ZoneChangeError(`invalid zone name "${zone}"`);
}

/**
 * Applies a change set to a zone, all or nothing: returns the new zone (serial bumped) or throws ZoneChangeError.
 * create and update set the RRset to `after`; delete removes the RRset (a missing one is no error).
 */
export function applyZoneChanges(data: ZoneData, changes: readonly Change[]): ZoneData {
  const zone = data.zone;
  const byKey = new Map(data.rrsets.map((r) => [rrsetKey(r), r] as const));
  for (const c of changes) {
    if (c.action === 'delete') {
      const r = c.before;
      checkName(r.name, zone);
      if (r.type === 'SOA' || (r.type === 'NS' && normalizeName(r.name) === zone)) {
        throw new ZoneChangeError(`the ${r.type} RRset at the zone apex cannot be deleted`);
      }
      byKey.delete(rrsetKey(r));
      continue;
    }
    if (c.action === 'update' && rrsetKey(c.before) !== rrsetKey(c.after)) byKey.delete(rrsetKey(c.before));
    const r = normalizeRecordSet(c.after);
    validateRrset(r, zone);
    byKey.set(rrsetKey(r), r);
  }
  // CNAME and other data never share a name (RFC 1034 3.6.2).
  const typesAt = new Map<string, RecordType[]>();
  for (const r of byKey.values()) typesAt.set(r.name, [...(typesAt.get(r.name) ?? []), r.type]);
  for (const [name, types] of typesAt) {
    if (types.includes('CNAME') && types.length > 1) throw new ZoneChangeError(`${name} would hold a CNAME beside ${types.filter((t) => t !== 'CNAME').join(', ')}`);
  }
  const soa = byKey.get(`${zone}/SOA`);
  if (!soa) throw new ZoneChangeError(`zone ${zone} has no SOA`);
  const fields = soa.values[0].split(/\s+/);
  const serial = nextSerial(Math.max(data.serial, Number(fields[2]) >>> 0));
  fields[2] = String(serial);
  byKey.set(`${zone}/SOA`, { ...soa, values: [fields.join(' ')] });
  return { format: ZONE_FORMAT, zone, serial, rrsets: sortRrsets([...byKey.values()]) };
}

/** Serial arithmetic (RFC 1982): +1 modulo 2^32, skipping 0. */
export function nextSerial(serial: number): number {
  const n = (serial + 1) >>> 0;
  return n === 0 ? 1 : n;
}

/** Parses and checks a zone file's JSON; throws ZoneChangeError when it is not one. */
export function parseZoneData(text: string, expectedZone?: string): ZoneData {
  const raw = JSON.parse(text) as Partial<ZoneData>;
  if (raw.format !== ZONE_FORMAT || typeof raw.zone !== 'string' || typeof raw.serial !== 'number' || !Array.isArray(raw.rrsets)) {
    throw new ZoneChangeError('not a flotilla zone file');
  }
  if (expectedZone !== undefined && raw.zone !== expectedZone) throw new ZoneChangeError(`file holds zone ${raw.zone}, expected ${expectedZone}`);
  for (const r of raw.rrsets) validateRrset(r, raw.zone);
  return raw as ZoneData;
}

function sortRrsets(rrsets: RecordSet[]): RecordSet[] {
  return rrsets.sort((a, b) => (a.name === b.name ? (a.type < b.type ? -1 : a.type > b.type ? 1 : 0) : a.name < b.name ? -1 : 1));
}

function checkName(name: string, zone: string): void {
  const n = normalizeName(name);
  if (!inZone(n, zone)) throw new ZoneChangeError(`${n} is not in zone ${zone}`);
  if (!isHostname(n)) throw new ZoneChangeError(`invalid name "${n}"`);
}

function validateRrset(r: RecordSet, zone: string): void {
  checkName(r.name, zone);
  const where = `${r.name}/${r.type}`;
  if (!LOCAL_TYPES.includes(r.type)) throw new ZoneChangeError(`${where}: type ${r.type} is not supported`);
  if (!Number.isInteger(r.ttl) || r.ttl < 0 || r.ttl > 2147483647) throw new ZoneChangeError(`${where}: invalid TTL ${r.ttl}`);
  if (!Array.isArray(r.values) || r.values.length === 0) throw new ZoneChangeError(`${where}: an RRset needs at least one value`);
  if ((r.type === 'CNAME' || r.type === 'SOA') && r.values.length > 1) throw new ZoneChangeError(`${where}: only one value allowed`);
  if (r.type === 'SOA' && normalizeName(r.name) !== zone) throw new ZoneChangeError(`${where}: SOA only at the zone apex`);
  for (const v of r.values) {
    if (typeof v !== 'string' || !validValue(r.type, v)) throw new ZoneChangeError(`${where}: invalid value "${String(v)}"`);
  }
}

function isHostname(n: string): boolean {
  return n.length > 0 && n.length <= 253 && n.split('.').every((l) => l.length > 0 && l.length <= 63 && !/\s/.test(l));
}

const u16 = (s: string | undefined) => s !== undefined && /^\d+$/.test(s) && Number(s) <= 65535;

function validValue(type: RecordType, v: string): boolean {
  const f = v.trim().split(/\s+/);
  switch (type) {
    case 'A':
      return isIPv4(v);
    case 'AAAA':
      return isIPv6(v);
    case 'CNAME':
    case 'NS':
      return isHostname(normalizeName(v));
    case 'MX':
      return f.length === 2 && u16(f[0]) && isHostname(normalizeName(f[1]));
    case 'SRV':
      return f.length === 4 && u16(f[0]) && u16(f[1]) && u16(f[2]) && isHostname(normalizeName(f[3]));
    case 'CAA':
      return parseCaa(v) !== undefined;
    case 'SOA':
      return f.length === 7 && isHostname(normalizeName(f[0])) && isHostname(normalizeName(f[1])) && f.slice(2).every((x) => /^\d+$/.test(x) && Number(x) <= 0xffffffff);
    case 'TXT':
      return Buffer.byteLength(v) <= 60000;
  }
}

