/** Direct DNS queries with Debian's `dig` (dnsutils), for tests that check what a real server answers. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
const run = promisify(execFile);

export interface DigResult {
  status: string;
  answers: { name: string; ttl: number; type: string; value: string }[];
  flags: string[];
}

/** `server` is host or host:port. Values are unquoted for TXT and without trailing dots. */
export async function dig(server: string, name: string, type: string, opts: { tcp?: boolean; extra?: string[] } = {}): Promise<DigResult> {
  const [host, port] = server.includes(':') ? server.split(':') : [server, '53'];
  const args = [`@${host}`, '-p', port, name, type, '+norec', '+time=2', '+tries=1', '+nocmd', '+nostats', ...(opts.tcp ? ['+tcp'] : []), ...(opts.extra ?? [])];
  const { stdout } = await run('dig', args, { timeout: 10_000 });
  const status = /status: (\w+)/.exec(stdout)?.[1] ?? 'NONE';
  const flags = (/flags: ([a-z ]+);/.exec(stdout)?.[1] ?? '').trim().split(/\s+/);
  const answers: DigResult['answers'] = [];
  const section = stdout.split(';; ANSWER SECTION:')[1]?.split('\n\n')[0] ?? '';
  for (const line of section.split('\n')) {
    const m = /^(\S+)\s+(\d+)\s+IN\s+(\S+)\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    let value = m[4].trim();
    if (m[3] === 'TXT') value = [...value.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((x) => x[1]).join('');
    answers.push({ name: m[1].replace(/\.$/, ''), ttl: Number(m[2]), type: m[3], value: value.replace(/\.$/, '') });
  }
  return { status, answers, flags };
}

/** Values of name/type at server (empty when none). */
export async function digValues(server: string, name: string, type: string): Promise<string[]> {
  const r = await dig(server, name, type);
  return r.answers.filter((a) => a.type === type).map((a) => a.value).sort();
}
