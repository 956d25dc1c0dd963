import type { Command } from 'commander';
import { activeOverrides } from '../../domain/override.ts';
import { formatDuration } from '../../domain/duration.ts';
import { describeAddresses, knownMirrors } from '../../domain/inventory.ts';
import { ownedKeys } from '../../planner/ownership.ts';
import { keepUnattributed } from '../../planner/unattributed.ts';
import { decide } from '../../controller/decide.ts';
import { FlotillaError } from '../../domain/errors.ts';
import { clusterView } from '../../state/open-store.ts';
import { openStateStore, specFrom, stackOptions, type StackOpts } from '../common.ts';
import { escapeControl, makeOut, table } from '../output.ts';
import { CertStore } from '../../certs/cert-store.ts';
import { certSummary } from '../../certs/cert-summary.ts';
import { openSecretStore } from '../../state/secret-store.ts';
import { plaintextWarning } from '../../certs/cert-summary.ts';

/**
 * The certificate's expiry for `status` (from the secrets area's status file: no key is read), and on etcd who
 * renews it and whether the secrets there are sealed. A secrets key this command lacks is a line, not a failure.
 */
async function certificateLine(spec: Parameters<typeof openSecretStore>[0], renewAt: number, now: number, leader: string | undefined) {
  let secrets;
  let stored;
  try {
    secrets = openSecretStore(spec);
    stored = await new CertStore(secrets).status();
  } catch (e) {
    if (!(e instanceof FlotillaError) || !e.code.startsWith('SECRETS_KEY')) throw e;
    return { summary: { state: 'unknown', error: e.message }, line: `certificate: unknown (${e.message})`, notes: [] };
  }
  const summary = certSummary(stored, now, renewAt);
  const line =
    summary.state === 'none'
      ? `certificate: none yet (flotilla certs issue)${summary.lastError ? `; last attempt failed: ${summary.lastError}` : ''}`
      : `certificate: ${summary.names.join(' ')} ${summary.state}, expires ${new Date(summary.notAfter!).toISOString()} (${summary.daysLeft} days)${summary.lastError ? `; last renewal failed: ${summary.lastError}` : ''}`;
  const notes: string[] = [];
  if (spec.state.kind === 'etcd') {
    notes.push(`certificate renewals: ${leader ? `the leader (${leader}) renews; every follower stays idle` : 'no leader now, so nobody renews'}`);
    const plain = (await secrets.plaintextNames?.()) ?? [];
    if (plain.length > 0) notes.push(plaintextWarning(plain));
  }
  return { summary, line, notes };
}

export function registerStatus(program: Command): void {
  stackOptions(program.command('status'))
    .description('Mirrors with their health and streaks, what each provider serves now, open overrides. Exit 1 when a mirror is down.')
    .addHelpText('after', '\nExamples:\n  flotilla status --stack local\n  flotilla status --stack local --json\n')
    .action(async (o: StackOpts) => {
      const out = makeOut(!!o.json);
      const spec = await specFrom(o);
      let st;
      let view;
      try {
        st = await openStateStore(spec).load();
        view = await clusterView(spec, st);
      } catch (e) {
        if (spec.state.kind !== 'etcd' || (e as FlotillaError)?.code !== 'STATE_UNAVAILABLE' && !/unavailable|deadline|connect|no connection/i.test(String((e as Error)?.message))) throw e;
        // a controller that cannot reach a quorum of etcd loses its leases: every one of them fails static
        const why = `etcd unreachable (${(e as Error).message}): no controller can hold its lease or the leadership, so every controller fails static and no DNS is written until a quorum of etcd is back`;
        out.data({ stack: spec.stack, failStatic: why });
        process.stderr.write(`FAIL STATIC: ${why}\n`);
        process.exitCode = 1;
        return;
      }
      const now = Date.now();
      // the controllers' decision: quorum of the live vantages (decide.ts)
      const decision = decide({ spec, vantages: view.vantages, overrides: st.overrides, now, lastGood: st.lastGood, inventory: st.inventory });
      const desired = decision.desired;
      const known = new Map(knownMirrors(spec, st.inventory).map((k) => [k.name, k]));
      const mirrors = spec.mirrors.map((m) => {
        const h = { ...st.health[m.name], state: decision.health[m.name]?.state ?? st.health[m.name]?.state };
        const k = known.get(m.name)!;
        return { name: m.name, provider: m.provider, address: describeAddresses(k), provisioned: k.provisioned, state: k.provisioned ? (h.state ?? 'unknown') : 'not provisioned', successStreak: h.successStreak ?? 0, failureStreak: h.failureStreak ?? 0, lastReason: h.lastReason, lastLatencyMs: h.lastLatencyMs, lastProbeAt: h.lastProbeAt, serving: desired.serving.includes(m.name), ...(h.state === 'down' && h.deplatformed !== undefined ? { deplatformed: h.deplatformed } : {}) };
      });
      const providers = spec.dnsProviders.map((p) => {
        const s = st.providers[p.name] ?? {};
        const served: Record<string, string[]> = {};
        for (const [zone, recs] of Object.entries(s.records ?? {})) for (const r of recs) if (r.type === 'A' || r.type === 'AAAA') served[`${r.name} ${r.type}`] = r.values;
        return { name: p.name, kind: p.kind, served, lastConvergedAt: s.lastConvergedAt, lastConvergeMs: s.lastConvergeMs, lastError: s.lastError, lastErrorCode: s.lastErrorCode, conflicts: s.conflicts ?? [], unattributed: Object.entries(s.records ?? {}).flatMap(([zone, recs]) => keepUnattributed(recs, desired.zones[zone] ?? [], ownedKeys(recs, spec.policy.ownerId), desired).kept.map((k) => `${zone}: ${k.reason}`)) };
      });
      const overrides = activeOverrides(st.overrides, now);
      const certificate = spec.certs ? await certificateLine(spec, spec.certs.renewAt, now, view.leader?.vantage) : undefined;
      const vantages = view.vantages.map((v) => ({ name: v.name, live: v.live, at: v.at, verdicts: Object.fromEntries(spec.mirrors.map((m) => [m.name, v.health[m.name]?.state ?? 'unknown'])) }));
      out.data({ stack: spec.stack, stateVersion: st.version, updatedAt: st.updatedAt, mirrors, serving: desired.serving, failOpen: desired.failOpen, degraded: desired.degraded, providers, overrides, vantages, leader: view.leader, failStatic: decision.failStatic, ...(certificate ? { certificate: certificate.summary, certificateNotes: certificate.notes } : {}) });
      if (decision.failStatic && view.kind === 'etcd') out.log(`FAIL STATIC: ${decision.failStatic}\n`);
      if (desired.failOpen) out.log(`FAIL OPEN: every mirror looks down; serving the last good set (${desired.serving.join(', ')})\n`);
      out.log(table(['mirror', 'address', 'state', 'serving', 'streak', 'latency', 'last result'], mirrors.map((m) => [m.name, m.address, m.deplatformed !== undefined ? 'DEPLATFORMED' : m.state, m.serving ? 'yes' : 'no', m.state === 'down' ? `${m.failureStreak} fail` : `${m.successStreak} ok`, m.lastLatencyMs === undefined ? '' : `${Math.round(m.lastLatencyMs)}ms`, m.lastReason ?? ''])));
      out.log('');
      out.log(table(['provider', 'serves', 'converged', 'error'], providers.map((p) => [p.name, Object.entries(p.served).map(([k, v]) => `${k}=${v.join(',')}`).join(' ') || '(unknown)', p.lastConvergedAt ? `${formatDuration(now - p.lastConvergedAt)} ago (${p.lastConvergeMs}ms)` : 'never', p.lastError ? `${p.lastErrorCode ? `[${p.lastErrorCode}] ` : ''}${p.lastError}` : ''])));
      for (const p of providers) for (const c of p.conflicts) out.log(`conflict at ${p.name}: ${c}`);
      for (const p of providers) for (const c of p.unattributed) out.log(`removal refused at ${p.name}: ${c}`);
      for (const n of desired.notes) if (n.includes('not provisioned') || n.includes('new address')) out.log(`note: ${n}`);
      if (view.kind === 'etcd') {
        out.log('');
        out.log(view.leader ? `leader: ${view.leader.vantage}${view.leader.since ? ` since ${new Date(view.leader.since).toISOString()} (${formatDuration(now - view.leader.since)} ago)` : ''}` : 'leader: none (nothing is written)');
        out.log(table(['vantage', 'lease', 'published', ...spec.mirrors.map((m) => m.name)], vantages.map((v) => [v.name, v.live ? 'live' : 'stale', v.at ? `${formatDuration(Math.max(0, now - v.at))} ago` : '', ...spec.mirrors.map((m) => v.verdicts[m.name])])));
      }
      out.log('');
      if (overrides.length === 0) out.log('no open overrides');
      else out.log(table(['override', 'mirror', 'by', 'reason', 'expires'], overrides.map((x) => [x.kind, x.mirror, x.author, x.reason, x.expiresAt ? `in ${formatDuration(x.expiresAt - now)}` : 'never'])));
      if (certificate) out.log(`\n${escapeControl(certificate.line)}`);
      for (const n of certificate?.notes ?? []) out.log(escapeControl(n));
      if (st.updatedAt === 0) out.log('(no state yet: has the daemon run?)');
      process.exitCode = mirrors.some((m) => m.state === 'down') ? 1 : 0;
    });
}
