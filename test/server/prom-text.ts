/**
 * A small, strict parser of the Prometheus text exposition format (version 0.0.4), for tests. It throws on anything
 * a Prometheus server would reject, and on some things it merely tolerates (samples before their TYPE, a family
 * split in two, duplicate series, histogram buckets that decrease or lack +Inf).
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help?: string;
  samples: Sample[];
}

const METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function parsePromText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const closed = new Set<string>();
  const seen = new Set<string>();
  let current: Family | undefined;
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const lines = text.split('\n');
  lines.pop();
  lines.forEach((line, i) => {
    const where = `line ${i + 1}: ${line}`;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (!m) return; // a plain comment
      const [, what, name, rest = ''] = m;
      if (!METRIC.test(name)) throw new Error(`bad metric name in ${where}`);
      const fam = open(name, where);
      if (what === 'HELP') {
        if (fam.help !== undefined) throw new Error(`second HELP for ${name}: ${where}`);
        fam.help = rest.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      } else {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) throw new Error(`bad type in ${where}`);
        if (fam.samples.length > 0) throw new Error(`TYPE after samples: ${where}`);
        if ((fam as { typed?: boolean }).typed) throw new Error(`second TYPE for ${name}: ${where}`);
        (fam as { typed?: boolean }).typed = true;
        fam.type = rest as Family['type'];
      }
      return;
    }
    const s = parseSample(line, where);
    const fam = familyOf(s.name);
    if (!fam) throw new Error(`sample without a TYPE/HELP for its family: ${where}`);
    if (fam !== current) throw new Error(`family ${fam.name} is not contiguous: ${where}`);
    const key = `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`;
    if (seen.has(key)) throw new Error(`duplicate series: ${where}`);
    seen.add(key);
    if ((fam.type === 'counter' || fam.type === 'gauge') && s.name !== fam.name) throw new Error(`${fam.type} sample with a suffix: ${where}`);
    if (fam.type === 'counter' && !(s.value >= 0)) throw new Error(`negative counter: ${where}`);
    fam.samples.push(s);
  });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;

  function open(name: string, where: string): Family {
    let fam = families.get(name);
    if (!fam) {
      if (closed.has(name)) throw new Error(`family ${name} reopened: ${where}`);
      if (current) closed.add(current.name);
      fam = { name, type: 'untyped', samples: [] };
      families.set(name, fam);
      current = fam;
    } else if (fam !== current) {
      throw new Error(`family ${name} is not contiguous: ${where}`);
    }
    return fam;
  }

  function familyOf(sample: string): Family | undefined {
    const direct = families.get(sample);
    if (direct) return direct;
    for (const suffix of ['_bucket', '_sum', '_count']) {
      if (sample.endsWith(suffix)) {
        const f = families.get(sample.slice(0, -suffix.length));
        if (f && (f.type === 'histogram' || f.type === 'summary')) return f;
      }
    }
    return undefined;
  }
}

function parseSample(line: string, where: string): Sample {
  let i = 0;
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (!nameMatch) throw new Error(`bad sample name: ${where}`);
  const name = nameMatch[0];
  i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    while (line[i] !== '}') {
      const ln = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i));
      if (!ln || !LABEL.test(ln[0])) throw new Error(`bad label name: ${where}`);
      i += ln[0].length;
      if (line[i] !== '=' || line[i + 1] !== '"') throw new Error(`expected ="...": ${where}`);
      i += 2;
      let v = '';
      for (;;) {
        const c = line[i++];
        if (c === undefined) throw new Error(`unterminated label value: ${where}`);
        if (c === '"') break;
        if (c === '\\') {
          const e = line[i++];
          if (e === 'n') v += '\n';
          else if (e === '\\' || e === '"') v += e;
          else throw new Error(`bad escape \\${e}: ${where}`);
        } else v += c;
      }
      if (ln[0] in labels) throw new Error(`duplicate label ${ln[0]}: ${where}`);
      labels[ln[0]] = v;
      if (line[i] === ',') i++;
      else if (line[i] !== '}') throw new Error(`expected , or }: ${where}`);
    }
    i++;
  }
  const rest = line.slice(i);
  const m = /^ (\S+)(?: (-?\d+))?$/.exec(rest);
  if (!m) throw new Error(`bad value/timestamp: ${where}`);
  const value = parseValue(m[1], where);
  return { name, labels, value };
}

function parseValue(s: string, where: string): number {
  // Prometheus reads values with Go's strconv.ParseFloat: NaN and Inf in any letter case (prom-client writes `Nan`)
  if (/^nan$/i.test(s)) return NaN;
  if (/^\+?inf$/i.test(s)) return Infinity;
  if (/^-inf$/i.test(s)) return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`bad value ${s}: ${where}`);
  return Number(s);
}

function checkHistogram(f: Family): void {
  const groups = new Map<string, { buckets: [number, number][]; sum?: number; count?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const g = groups.get(key) ?? { buckets: [] };
    groups.set(key, g);
    if (s.name === `${f.name}_bucket`) {
      if (le === undefined) throw new Error(`${f.name}_bucket without le`);
      g.buckets.push([parseValue(le, `le of ${f.name}`), s.value]);
    } else if (s.name === `${f.name}_sum`) g.sum = s.value;
    else if (s.name === `${f.name}_count`) g.count = s.value;
    else throw new Error(`unexpected sample ${s.name} in histogram ${f.name}`);
  }
  for (const [key, g] of groups) {
    const last = g.buckets.at(-1);
    if (!last || last[0] !== Infinity) throw new Error(`${f.name}${key}: no +Inf bucket last`);
    for (let i = 1; i < g.buckets.length; i++) {
      if (g.buckets[i][0] <= g.buckets[i - 1][0]) throw new Error(`${f.name}${key}: le not increasing`);
      if (g.buckets[i][1] < g.buckets[i - 1][1]) throw new Error(`${f.name}${key}: bucket counts decrease`);
    }
    if (g.count === undefined || g.sum === undefined) throw new Error(`${f.name}${key}: _sum or _count missing`);
    if (g.count !== last[1]) throw new Error(`${f.name}${key}: _count ${g.count} != +Inf bucket ${last[1]}`);
  }
}

/** The value of the one sample of `name` whose labels include `labels`. */
export function valueOf(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value;
    }
  }
  return undefined;
}
