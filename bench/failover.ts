/**
 * Failover time, side by side. The same three mirrors (test/support mirror processes on 127.0.0.11-13, one common
 * port) sit behind every system at once:
 * - flotilla at 250 ms / timeout 200 ms / fall 3 / rise 2, writing its embedded server, BIND (RFC 2136) and
 *   PowerDNS (HTTP API): measured at each of the three;
 * - flotilla at gdnsd-equal settings (2 s / timeout 1 s / fall 3 / rise 2), embedded server;
 * - gdnsd, http_status + multifo, interval 2 s, down_thresh 3, up_thresh 2, timeout 1 s;
 * - PowerDNS LUA `ifurlup`, lua-health-checks-interval 1 s, timeout 1 s.
 * Every server is asked for the A record every 20 ms. A trial waits a random 0–2 s (a random phase of every probe
 * cycle), kills one mirror (SIGKILL, or SIGSTOP for the hung variant), times kill → gone from each answer, restarts it
 * (or SIGCONTs it) and times restart → back.
 */
import { readFileSync } from 'node:fs';
import { startBind, type DnsServerHandle } from '../test/support/bind-server.ts';
import { ensurePackages } from '../test/support/ensure-packages.ts';
import { spawnMirrorProcess, type MirrorProcess } from '../test/support/mirror-server.ts';
import { startPdnsServer, type PdnsServer } from '../test/support/pdns-server.ts';
import type { BenchContext, BenchOutput } from './lib/context.ts';
import { DnsWatch, hasAll, lacks } from './lib/dns-watch.ts';
import type { FlipEvent, FlotillaNodeConfig, TraceEvent } from './lib/flotilla-node.ts';
import { stagesOf, type Stages } from './lib/stages.ts';
import { commonFreePort } from './lib/ports.ts';
import { startNodeChild, track, trackTempDir, type NodeChild } from './lib/procs.ts';
import { SYSTEMS } from './lib/systems.ts';
import { mdTable, num, ratio, ratioValue, sleep, summarize, type Summary } from './lib/stats.ts';
import { ensureGdnsd, startGdnsd, type GdnsdServer } from './peers/gdnsd.ts';
import { ensurePdnsLua, startPdnsLua, type PdnsLuaServer } from './peers/pdns-lua.ts';

const ZONE = 'flotilla.test';
const IPS = ['127.0.0.11', '127.0.0.12', '127.0.0.13'];
const NAMES = ['a', 'b', 'c'];
const POLL_MS = 20;
const GONE_TIMEOUT_MS = 30_000;
const BACK_TIMEOUT_MS = 60_000;

interface Observer {
  key: string;
  system: string;
  server: string;
  watch: DnsWatch;
}

type Variant = 'kill' | 'hang';

interface Trial {
  variant: Variant;
  victim: string;
  phaseDelayMs: number;
  /** ms from the kill (SIGKILL/SIGSTOP) to the first answer without the victim, per observer; null = timed out. */
  gone: Record<string, number | null>;
  /** ms from the mirror listening again (or SIGCONT) to the first answer with all three, per observer. */
  back: Record<string, number | null>;
  /** flotilla held the mirror back as flapping (rise × 3) when it returned. */
  damped: Record<string, boolean>;
  /** Where flotilla 250ms spent the time, kill → gone and back (from its trace). */
  stages: { gone: Stages; back: Stages };
}

export async function runFailover(ctx: BenchContext): Promise<BenchOutput> {
  const trialsPerVariant = ctx.quick ? 3 : 10;
  ensurePackages({ named: 'bind9', pdns_server: 'pdns-server' });
  ensureGdnsd();
  ensurePdnsLua();

  const stoppers: (() => Promise<unknown>)[] = [];
  const mirrors: MirrorProcess[] = [];
  const observers: Observer[] = [];
  const flips: { system: string; e: FlipEvent }[] = [];
  try {
    const port = await commonFreePort(IPS);
    const startMirror = async (i: number) => {
      const m = spawnMirrorProcess({ host: IPS[i], port, contentDir: ctx.contentDir });
      track(m.pid, `mirror ${NAMES[i]}`);
      await m.ready;
      mirrors[i] = m;
    };
    for (let i = 0; i < 3; i++) await startMirror(i);
    stoppers.push(() => Promise.all(mirrors.map((m) => m?.stop())));
    ctx.log(`failover: mirrors on ${IPS.join(', ')} port ${port}`);

    const bind: DnsServerHandle = await startBind({ zones: [ZONE] });
    trackTempDir(bind.dir); // removed on Ctrl-C too, not only by stop()
    stoppers.push(() => bind.stop());
    const pdnsApi: PdnsServer = await startPdnsServer({ zones: [ZONE] });
    track(pdnsApi.pid, 'pdns (API target)');
    const pdnsDir = /--config-dir=([^\0]+)/.exec(readFileSync(`/proc/${pdnsApi.pid}/cmdline`, 'utf8'))?.[1];
    if (pdnsDir) trackTempDir(pdnsDir);
    stoppers.push(() => pdnsApi.stop());

    const gdnsd: GdnsdServer = await startGdnsd({
      zone: ZONE,
      ttl: 5,
      resources: [{ name: '@', addresses: IPS, port, path: '/', vhost: ZONE }],
      settings: { interval: 2, downThresh: 3, upThresh: 2, okThresh: 10, timeout: 1 },
    });
    stoppers.push(() => gdnsd.stop());
    const lua: PdnsLuaServer = await startPdnsLua({
      zone: ZONE,
      ttl: 5,
      records: [{ name: '@', addresses: IPS, port, host: ZONE, path: '/' }],
      settings: { interval: 1, timeout: 1 },
    });
    stoppers.push(() => lua.stop());

    const base = { zone: ZONE, mirrors: NAMES.map((name, i) => ({ name, ip: IPS[i], port })), rise: 2, fall: 3, jitter: 0.1, contentDir: ctx.contentDir, ttl: 5 };
    const f250cfg: FlotillaNodeConfig = {
      ...base, label: 'f250', intervalMs: 250, timeoutMs: 200,
      bind: { address: bind.address, keyName: bind.keyName, secret: bind.secret },
      pdns: { apiUrl: pdnsApi.apiUrl, apiKey: pdnsApi.apiKey, serverId: pdnsApi.serverId, dnsAddress: pdnsApi.dnsAddress },
    };
    const f2scfg: FlotillaNodeConfig = { ...base, label: 'f2s', intervalMs: 2000, timeoutMs: 1000 };
    const children: [string, NodeChild<FlipEvent>][] = [
      // compiled: the JavaScript in dist/ that the daemon runs, not TypeScript through tsx
      [SYSTEMS.f250, startNodeChild<FlipEvent>('flotilla-node.ts', f250cfg, 'flotilla 250ms', { compiled: true })],
      [SYSTEMS.f2s, startNodeChild<FlipEvent>('flotilla-node.ts', f2scfg, 'flotilla 2s', { compiled: true })],
    ];
    const f250 = children[0][1];
    for (const [system, child] of children) {
      stoppers.push(() => child.stop());
      child.onEvent((e) => flips.push({ system, e }));
      const ready = (await child.ready) as { servers: { label: string; address: string }[] };
      for (const s of ready.servers) observers.push(observer(system, s.label, s.address));
    }
    observers.push(observer(SYSTEMS.gdnsd, 'gdnsd', gdnsd.address));
    observers.push(observer(SYSTEMS.lua, 'pdns', lua.address));
    for (const o of observers) o.watch.start();
    stoppers.push(() => Promise.all(observers.map((o) => o.watch.stop())));

    await allShow(observers, hasAll(IPS), performance.now(), 60_000, 'all three mirrors at start');
    ctx.log(`failover: every system answers all three mirrors; ${trialsPerVariant} trials per variant`);

    const trials: Trial[] = [];
    let n = 0;
    for (const variant of ['kill', 'hang'] as const) {
      for (let t = 0; t < trialsPerVariant; t++, n++) {
        const i = n % 3;
        const victim = IPS[i];
        const phaseDelayMs = Math.round(Math.random() * 2000);
        await sleep(phaseDelayMs);
        const t0 = performance.now();
        const t0epoch = Date.now();
        mirrors[i].kill(variant === 'kill' ? 'SIGKILL' : 'SIGSTOP');
        const gone = await timeAll(observers, lacks(victim), t0, GONE_TIMEOUT_MS);
        if (variant === 'kill') {
          await mirrors[i].exited;
          await startMirror(i);
        } else {
          mirrors[i].kill('SIGCONT');
        }
        const t1 = performance.now();
        const t1epoch = performance.timeOrigin + t1;
        const t1date = Date.now();
        const back = await timeAll(observers, hasAll(IPS), t1, BACK_TIMEOUT_MS);
        const damped: Record<string, boolean> = {};
        for (const s of [SYSTEMS.f250, SYSTEMS.f2s]) {
          damped[s] = flips.some((f) => f.system === s && f.e.mirror === NAMES[i] && f.e.state === 'up' && f.e.at >= t1epoch && f.e.priorFlips >= 3);
        }
        const trace = await f250.request<TraceEvent[]>('trace', { since: t0epoch - 1000 });
        const stages = { gone: stagesOf(trace, NAMES[i], 'down', t0epoch), back: stagesOf(trace, NAMES[i], 'up', t1date) };
        trials.push({ variant, victim, phaseDelayMs, gone, back, damped, stages });
        ctx.log(`failover: ${variant} ${victim} (+${phaseDelayMs} ms): gone ${fmtTimes(gone)}; back ${fmtTimes(back)}`);
        ctx.log(`failover:   flotilla 250ms stages: gone ${fmtStages(stages.gone)}; back ${fmtStages(stages.back)}`);
        // every system must answer all three again before the next trial (those that timed out above included)
        await allShow(observers, hasAll(IPS), performance.now(), BACK_TIMEOUT_MS, 'all three mirrors between trials').catch((e) => ctx.log(`failover: ${(e as Error).message}`));
        await sleep(500);
      }
    }
    return report(observers, trials, { port, gdnsd: gdnsd.settings, lua: lua.settings, luaVersion: lua.version, trialsPerVariant });
  } finally {
    for (const s of stoppers.reverse()) await s().catch(() => undefined);
  }
}

function observer(system: string, server: string, address: string): Observer {
  return { key: `${system} @ ${server}`, system, server, watch: new DnsWatch({ label: `${system} @ ${server}`, server: address, name: ZONE, everyMs: POLL_MS }) };
}

async function timeAll(observers: Observer[], pred: (v: string[]) => boolean, t0: number, timeoutMs: number): Promise<Record<string, number | null>> {
  const out: Record<string, number | null> = {};
  await Promise.all(observers.map(async (o) => {
    const t = await o.watch.waitFor(pred, { since: t0, timeoutMs });
    out[o.key] = t === undefined ? null : Math.round(t - t0);
  }));
  return out;
}

async function allShow(observers: Observer[], pred: (v: string[]) => boolean, since: number, timeoutMs: number, what: string): Promise<void> {
  const r = await timeAll(observers, pred, since, timeoutMs);
  const late = Object.entries(r).filter(([, v]) => v === null).map(([k]) => k);
  if (late.length > 0) throw new Error(`no ${what} within ${timeoutMs} ms at: ${late.join(', ')}`);
}

function fmtStages(s: Stages): string {
  const w = Object.entries(s.written).map(([p, t]) => `${p} ${t}`).join('/');
  return `first ${s.firstStart ?? '–'}→${s.firstEnd ?? '–'}, ${s.probes} probes (gaps ${s.gaps.join(',')}), flip ${s.flip ?? '–'}, decision ${s.decision ?? '–'}, written ${w || '–'} [${s.seen.join('; ')}]`;
}

function fmtTimes(r: Record<string, number | null>): string {
  return Object.entries(r).map(([k, v]) => `${k.replace(/ \(.*?\)|\/fall 3/g, '')} ${v ?? 'timeout'}`).join(', ');
}

function report(observers: Observer[], trials: Trial[], setup: Record<string, unknown>): BenchOutput {
  const keys = observers.map((o) => o.key);
  const f250keys = observers.filter((o) => o.system === SYSTEMS.f250).map((o) => o.key);
  const slowest = `${SYSTEMS.f250} @ slowest of its ${f250keys.length} servers`;
  const pick = (variant: Variant, field: 'gone' | 'back', key: string): (number | null)[] =>
    trials.filter((t) => t.variant === variant).map((t) => (key === slowest ? maxOrNull(f250keys.map((k) => t[field][k])) : t[field][key]));
  const systemOf = (k: string) => (k === slowest ? SYSTEMS.f250 : observers.find((o) => o.key === k)!.system);
  const rows = (variant: Variant, field: 'gone' | 'back') =>
    [...keys, slowest].map((k) => {
      const vals = pick(variant, field, k);
      const s = summarize(vals.filter((v): v is number => v !== null));
      const held = field === 'back' ? trials.filter((t) => t.variant === variant && t.damped[systemOf(k)]).length : 0;
      return { key: k, summary: s, timeouts: vals.filter((v) => v === null).length, heldBack: held };
    });
  const tables: Record<string, { key: string; summary: Summary; timeouts: number; heldBack: number }[]> = {
    'kill → gone': rows('kill', 'gone'),
    'restart → back': rows('kill', 'back'),
    'hang (SIGSTOP) → gone': rows('hang', 'gone'),
    'SIGCONT → back': rows('hang', 'back'),
  };
  const get = (table: string, key: string) => tables[table].find((r) => r.key === key)?.summary;
  const emb = (s: string) => `${s} @ embedded`;
  const md: string[] = [];
  for (const [title, r] of Object.entries(tables)) {
    md.push(`**${title}** (ms, ${r[0]?.summary.n ?? 0} trials; answers polled every ${POLL_MS} ms)\n`);
    const back = title.endsWith('back');
    md.push(mdTable(
      ['system @ server', 'min', 'median', 'p95', 'max', 'timeouts', ...(back ? ['held back as flapping'] : [])],
      r.map((x) => [x.key, num(x.summary.min), num(x.summary.median), num(x.summary.p95), num(x.summary.max), x.timeouts, ...(back ? [x.key.startsWith('flotilla') ? x.heldBack : '–'] : [])]),
    ));
    md.push('');
  }
  md.push(stageTable(trials, emb(SYSTEMS.f250)));
  md.push('');
  const dampedCount = (s: string) => trials.filter((t) => t.damped[s]).length;
  md.push(`flotilla held a returning mirror back as flapping (needs rise × 3 good probes) in ${dampedCount(SYSTEMS.f250)} of ${trials.length} trials at 250 ms ` +
    `and ${dampedCount(SYSTEMS.f2s)} of ${trials.length} at 2 s (flap window max(10 s, 10 × (rise + fall) × interval): 12.5 s and 100 s); those "back" times include it.\n`);
  // the same comparison on the trials where flotilla did NOT hold the mirror back, against gdnsd in those same trials
  const undamped = trials.filter((t) => !t.damped[SYSTEMS.f2s]);
  const pairs = undamped.map((t) => [t.back[emb(SYSTEMS.f2s)], t.back[`${SYSTEMS.gdnsd} @ gdnsd`]] as const).filter((p): p is readonly [number, number] => p[0] !== null && p[1] !== null);
  const undampedF = summarize(pairs.map((p) => p[0]));
  const undampedG = summarize(pairs.map((p) => p[1]));
  if (pairs.length > 0) {
    md.push(`Back (restart or SIGCONT) in the ${pairs.length} trial(s) where flotilla 2s did not hold the mirror back: flotilla 2s median ${num(undampedF.median)} ms ` +
      `(${undamped.map((t) => t.back[emb(SYSTEMS.f2s)]).join(', ')}), gdnsd in the same trials median ${num(undampedG.median)} ms ` +
      `(${undamped.map((t) => t.back[`${SYSTEMS.gdnsd} @ gdnsd`]).join(', ')}): ${ratio(undampedF.median, undampedG.median)}.\n`);
  }

  const comparisons: [string, string, string, string][] = [
    ['kill → gone', emb(SYSTEMS.f250), `${SYSTEMS.gdnsd} @ gdnsd`, 'flotilla 250ms (embedded) / gdnsd'],
    ['kill → gone', emb(SYSTEMS.f250), `${SYSTEMS.lua} @ pdns`, 'flotilla 250ms (embedded) / PowerDNS LUA'],
    ['kill → gone', slowest, `${SYSTEMS.gdnsd} @ gdnsd`, 'flotilla 250ms (slowest of embedded, BIND, PowerDNS API) / gdnsd'],
    ['kill → gone', slowest, `${SYSTEMS.lua} @ pdns`, 'flotilla 250ms (slowest server) / PowerDNS LUA'],
    ['kill → gone', emb(SYSTEMS.f2s), `${SYSTEMS.gdnsd} @ gdnsd`, 'flotilla 2s (embedded) / gdnsd, equal settings'],
    ['restart → back', emb(SYSTEMS.f250), `${SYSTEMS.gdnsd} @ gdnsd`, 'flotilla 250ms / gdnsd'],
    ['restart → back', emb(SYSTEMS.f250), `${SYSTEMS.lua} @ pdns`, 'flotilla 250ms / PowerDNS LUA'],
    ['restart → back', emb(SYSTEMS.f2s), `${SYSTEMS.gdnsd} @ gdnsd`, 'flotilla 2s / gdnsd, equal settings'],
    ['hang (SIGSTOP) → gone', emb(SYSTEMS.f250), `${SYSTEMS.gdnsd} @ gdnsd`, 'flotilla 250ms / gdnsd'],
    ['hang (SIGSTOP) → gone', emb(SYSTEMS.f250), `${SYSTEMS.lua} @ pdns`, 'flotilla 250ms / PowerDNS LUA'],
    ['hang (SIGSTOP) → gone', emb(SYSTEMS.f2s), `${SYSTEMS.gdnsd} @ gdnsd`, 'flotilla 2s / gdnsd, equal settings'],
    ['SIGCONT → back', emb(SYSTEMS.f250), `${SYSTEMS.lua} @ pdns`, 'flotilla 250ms / PowerDNS LUA'],
    ['SIGCONT → back', emb(SYSTEMS.f2s), `${SYSTEMS.gdnsd} @ gdnsd`, 'flotilla 2s / gdnsd, equal settings'],
  ];
  const ratios: BenchOutput['ratios'] = [];
  const ratioRows = comparisons.map(([table, f, p, label]) => {
    const a = get(table, f);
    const b = get(table, p);
    const rm = ratioValue(a?.median, b?.median);
    ratios.push({ what: `failover ${table}, median: ${label}`, value: rm, behind: rm !== undefined && rm > 1.05 });
    return [table, label, num(a?.median), num(b?.median), ratio(a?.median, b?.median), ratio(a?.p95, b?.p95)];
  });
  if (pairs.length > 0) {
    const rv = ratioValue(undampedF.median, undampedG.median);
    ratios.push({ what: `failover back, trials not held back as flapping (${pairs.length}), median: flotilla 2s / gdnsd, equal settings`, value: rv, behind: rv !== undefined && rv > 1.05 });
  }
  md.push('**Ratios** (flotilla / peer; below 1× flotilla is faster)\n');
  md.push(mdTable(['measure', 'comparison', 'flotilla median ms', 'peer median ms', 'median ratio', 'p95 ratio'], ratioRows));
  md.push('');
  return { name: 'failover', markdown: md.join('\n'), data: { setup, trials, tables }, ratios };
}

/** Median of each stage of flotilla 250ms's transitions, ms after the kill / the mirror's return. */
function stageTable(trials: Trial[], servedKey: string): string {
  const cases: [string, Variant, 'gone' | 'back'][] = [
    ['kill → gone', 'kill', 'gone'], ['restart → back', 'kill', 'back'], ['hang → gone', 'hang', 'gone'], ['SIGCONT → back', 'hang', 'back'],
  ];
  const med = (vals: (number | undefined | null)[]) => num(summarize(vals.filter((v): v is number => typeof v === 'number')).median);
  const providers = [...new Set(trials.flatMap((t) => [...Object.keys(t.stages.gone.written), ...Object.keys(t.stages.back.written)]))];
  const rows = cases.map(([label, variant, dir]) => {
    const ts = trials.filter((t) => t.variant === variant);
    const st = ts.map((t) => t.stages[dir]);
    return [
      label,
      med(st.map((s) => s.firstStart)), med(st.map((s) => s.firstEnd)), med(st.map((s) => s.probes)), med(st.flatMap((s) => s.gaps)),
      med(st.map((s) => s.flip)), med(st.map((s) => s.decision)),
      providers.map((p) => med(st.map((s) => s.written[p]))).join(' / '),
      providers.map((p) => med(st.map((s) => s.verified[p]))).join(' / '),
      med(ts.map((t) => t[dir][servedKey])),
    ];
  });
  return `**Where flotilla 250ms spends the time** (median ms after the kill, the restart or SIGCONT; from its own trace, bench/lib/stages.ts)\n\n` + mdTable(
    ['transition', 'first probe that saw it starts', '… ends', 'probes to the flip', 'gap between them', 'flip (fall/rise reached)', 'decision', `written (${providers.join(' / ')})`, `verified (${providers.join(' / ')})`, 'served (embedded, bench poll)'],
    rows,
  );
}

function maxOrNull(vals: (number | null)[]): number | null {
  return vals.some((v) => v === null) ? null : Math.max(...(vals as number[]));
}
