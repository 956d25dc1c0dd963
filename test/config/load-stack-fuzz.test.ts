import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Document, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import { loadStack } from '../../src/config/load-stack.ts';
import { MAX_TIMER_MS } from '../../src/domain/duration.ts';
import { ConfigError } from '../../src/domain/errors.ts';
import { mirrorHealth, type FleetSpec } from '../../src/domain/fleet-spec.ts';
import { desiredRecords } from '../../src/planner/desired-records.ts';
import { REPO, runCli } from '../support/run-cli.ts';

/**
 * Fuzz of the stack loader: random mutations of the shipped stacks (values of random types, deleted and duplicated
 * keys, aliases good, dangling and circular, raw text edits). Every outcome is a spec or a ConfigError (exit 2),
 * never another exception, never a hang; and a spec that loads must be one the planner and the timers can run.
 * In process for speed; a handful through the real CLI for the exit code and the absence of a stack trace.
 */

/** 60 runs from a fixed seed (plus the examples) take about a second here under load, after ~1.4 s of imports; the mutations below still reach every error path the loader has. */
const RUNS = Number(process.env.FLOTILLA_FUZZ_RUNS ?? 60);
const SEED = Number(process.env.FLOTILLA_FUZZ_SEED ?? 17);

const STACKS = ['local', 'example'].map((s) => readFileSync(join(REPO, 'stacks', `Pulumi.${s}.yaml`), 'utf8'));

/** A project of its own, nested so that a fuzzed `contentDir: ..` still names a small directory. */
const PROJECT = join(mkdtempSync(join(tmpdir(), 'flotilla-fuzz-')), 'a', 'b');
mkdirSync(join(PROJECT, 'stacks'), { recursive: true });
mkdirSync(join(PROJECT, 'site'));
writeFileSync(join(PROJECT, 'site', 'index.html'), '<h1>fuzz</h1>');
writeFileSync(join(PROJECT, 'Pulumi.yaml'), readFileSync(join(REPO, 'Pulumi.yaml')));

const NASTY = [
  '::::', ':::::', 'http://[::1', '1:2:3:4:5:6:7:8::9', '2001:DB8::0001', '::ffff:127.0.0.1', '127.0.0.1:99999', '[::1]:53', '127.0.0.1:0',
  '99999999d', '1'.repeat(400) + 'ms', '25d', '0ms', '-1s', '1e400', '.inf', '', ' ', '\u0000', '\r\n', '/(/', '/a+/i', '*', '&x', 'x'.repeat(5000),
  'https://user:pw@example.org/', 'ftp://example.org/', 'sk_live_0123456789abcdef0123', 'lower_case', 'ns1.example.org', 'constructor', '__proto__',
  // valid values of other fields, so a mutation can turn one kind of provider, probe or store into another
  'local', 'ssh', 'aws', 'hcloud', 'cloudflare', 'route53', 'powerdns', 'rfc2136', 'manual', 'etcd', 'file', 'dns', 'tcp', 'https', 'slack',
];
const value: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...NASTY),
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.double(),
  fc.constantFrom(Infinity, -Infinity, NaN, 0, -1, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 53, 1e300),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(fc.string({ maxLength: 6 }), fc.integer()), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(fc.string({ maxLength: 6 }), fc.integer()), { maxKeys: 2 }),
);

type Mutation =
  | { kind: 'whole'; value: unknown }
  | { kind: 'set'; at: number; value: unknown }
  | { kind: 'delete'; at: number }
  | { kind: 'alias'; from: number; to: number }
  | { kind: 'dangling'; at: number }
  | { kind: 'duplicate-line'; line: number }
  | { kind: 'text'; pos: number; del: number; insert: string };
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('whole' as const), value }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value }), weight: 5 },
  { arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('alias' as const), from: fc.nat(), to: fc.nat() }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('dangling' as const), at: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('duplicate-line' as const), line: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('text' as const), pos: fc.nat(), del: fc.nat({ max: 8 }), insert: fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom(':', '- ', '&a ', '*a', '{', '[', '\t', '\n  ', '"', "'", '!!binary ', '<<: ')) }), weight: 2 },
);

/** `config` itself, then the path of every node under `config.flotilla:fleet`, parents before children. */
function paths(doc: Document): (string | number)[][] {
  const out: (string | number)[][] = [['config']];
  const walk = (node: unknown, path: (string | number)[]) => {
    out.push(path);
    if (isMap(node)) for (const p of node.items) walk(p.value, [...path, isScalar(p.key) ? String(p.key.value) : String(p.key)]);
    else if (isSeq(node)) node.items.forEach((n, i) => walk(n, [...path, i]));
  };
  walk(doc.getIn(['config', 'flotilla:fleet'], true), ['config', 'flotilla:fleet']);
  return out;
}

/** `contentDir` is read whole: a fuzzed `/` would digest this machine (and block on /proc/kmsg), so it stays put. */
const isContentDir = (p: (string | number)[]) => p.join('.').startsWith('config.flotilla:fleet.site.contentDir');

function mutate(text: string, muts: Mutation[]): string {
  let doc = parseDocument(text);
  let out = text;
  let anchors = 0;
  for (const m of muts) {
    if (m.kind === 'whole') {
      // the document is not a stack file at all: a scalar, a list, null
      out = new Document(m.value).toString();
      doc = parseDocument(out);
      continue;
    }
    if (m.kind === 'duplicate-line' || m.kind === 'text') {
      if (m.kind === 'duplicate-line') {
        const lines = out.split('\n');
        const i = m.line % lines.length;
        lines.splice(i, 0, lines[i]);
        out = lines.join('\n');
      } else {
        const pos = m.pos % (out.length + 1);
        out = out.slice(0, pos) + m.insert + out.slice(pos + m.del);
      }
      doc = parseDocument(out);
      if (doc.errors.length > 0) return out;
      continue;
    }
    if (!isMap(doc.contents) || !doc.getIn(['config', 'flotilla:fleet'], true)) break;
    const all = paths(doc).filter((p) => !isContentDir(p));
    if (all.length === 0) break;
    const at = all[(m.kind === 'alias' ? m.to : m.at) % all.length];
    // aliases are written as text: the yaml package will not print one it cannot resolve
    let alias: string | undefined;
    if (m.kind === 'set') doc.setIn(at, doc.createNode(m.value));
    else if (m.kind === 'delete') doc.deleteIn(at);
    else if (m.kind === 'dangling') alias = 'nowhere';
    else {
      // an alias of any node: of an ancestor it is circular, placed before its anchor it dangles
      const target = doc.getIn(all[m.from % all.length], true) as { anchor?: string } | undefined;
      if (target && typeof target === 'object') {
        alias = `a${anchors++}`;
        target.anchor = alias;
      }
    }
    if (alias !== undefined) doc.setIn(at, doc.createNode(`ALIAS_MARK_${alias}`));
    try {
      out = doc.toString().replace(/["']?ALIAS_MARK_(\w+)["']?/g, '*$1');
    } catch {
      return out; // an earlier dangling alias: the yaml package will not print the document again
    }
    doc = parseDocument(out);
    if (doc.errors.length > 0) return out;
  }
  return out;
}

/** Hand-picked mutations, one per way out of the loader (stack index, mutations; `at: 0` is `config` itself). */
const EXAMPLES: [number, Mutation[]][] = [
  [0, [{ kind: 'whole', value: 42 }]],
  [1, [{ kind: 'whole', value: ['config'] }]],
  [0, [{ kind: 'set', at: 0, value: 'flotilla:fleet' }]],
  [1, [{ kind: 'set', at: 0, value: null }]],
  [0, [{ kind: 'set', at: 1, value: [] }]],
  [0, [{ kind: 'dangling', at: 7 }]],
  [1, [{ kind: 'alias', from: 1, to: 9 }]],
  [0, [{ kind: 'text', pos: 0, del: 0, insert: '{' }]],
  [1, [{ kind: 'set', at: 4, value: { a: 1 } }, { kind: 'set', at: 12, value: '1:2:3:4:5:6:7:8::9' }]],
  [0, [{ kind: 'delete', at: 3 }]],
];

/** What `validate` accepts, the rest of flotilla runs: timers in range, ports usable, a plan that can be made. */
function assertRunnable(spec: FleetSpec) {
  for (const m of spec.mirrors) {
    const h = mirrorHealth(spec, m);
    for (const ms of [h.intervalMs, h.timeoutMs, h.latencyBudgetMs ?? 1]) assert.ok(Number.isInteger(ms) && ms > 0 && ms <= MAX_TIMER_MS, `duration ${ms}`);
    if (h.port !== undefined) assert.ok(Number.isInteger(h.port) && h.port >= 1 && h.port <= 65535, `port ${h.port}`);
  }
  assert.ok(Number.isInteger(spec.policy.ttl) && spec.policy.ttl >= 1 && spec.policy.ttl < 2 ** 31);
  desiredRecords(spec, {}, [], { now: Date.now(), placeholders: true });
}

let seq = 0;
function writeStack(text: string): string {
  const file = join(PROJECT, 'stacks', `Pulumi.f${seq++}.yaml`);
  writeFileSync(file, text);
  return file;
}

describe('stack loader fuzz', { timeout: 120_000 }, () => {
  it('random mutations of the shipped stacks load or fail with a ConfigError, in process', async () => {
    let loaded = 0;
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: STACKS.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 3 }), async (which, muts) => {
        const file = writeStack(mutate(STACKS[which], muts));
        let spec: FleetSpec | undefined;
        try {
          spec = await loadStack({ file });
        } catch (e) {
          if (!(e instanceof ConfigError)) assert.fail(`not a ConfigError: ${(e as Error)?.stack ?? String(e)}\n--- stack file:\n${readFileSync(file, 'utf8')}`);
          assert.equal(e.exitCode, 2);
          assert.ok(e.issues.length > 0 && e.issues.every((i) => i.path && i.message), e.message);
          return;
        }
        loaded++;
        assertRunnable(spec);
      }),
      // a fixed seed keeps `npm test` fast and repeatable; FLOTILLA_FUZZ_RUNS=5000 FLOTILLA_FUZZ_SEED=<n> for a long hunt.
      // The examples run first, every time: one per error path of the loader, so fewer random runs still reach each.
      { numRuns: RUNS, seed: SEED, examples: EXAMPLES },
    );
    assert.ok(loaded > 0, 'some mutations (e.g. a deleted optional key) must still load');
  });

  it('through the real CLI: validate exits 0 or 2, never a stack trace, never a hang', async () => {
    // one run (a CLI start costs more than a hundred in-process loads): three mutations at once, from the same seed
    const [[which, muts]] = fc.sample(fc.tuple(fc.nat({ max: STACKS.length - 1 }), fc.array(mutation, { minLength: 3, maxLength: 3 })), { numRuns: 1, seed: SEED });
    const file = writeStack(mutate(STACKS[which], muts));
    const r = await runCli(['validate', '--config', file], { cwd: PROJECT, timeoutMs: 30_000 });
    assert.ok(r.code === 0 || r.code === 2, `exit ${r.code}\n${r.stderr}\n--- stack file:\n${readFileSync(file, 'utf8')}`);
    assert.ok(!/\n\s+at .*:\d+:\d+/.test(r.stderr) && !/unexpected error/.test(r.stderr), r.stderr);
  });
});
