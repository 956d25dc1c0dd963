/** Shared bits of the probe tests: a target builder and a temp site. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestSite } from '../../src/config/site-digest.ts';
import type { ProbeTarget } from '../../src/probes/probe-target.ts';
import { writeSite } from '../support/mirror-server.ts';

export const INDEX = '<!doctype html><h1>Welcome to flotilla</h1><p>build 42</p>\n';

export function targetFor(address: string, port: number, over: Partial<ProbeTarget> = {}): ProbeTarget {
  return {
    mirror: 'm1',
    address,
    port,
    scheme: 'http',
    host: 'example.test',
    path: '/',
    timeoutMs: 2000,
    expectStatus: [200],
    tlsMinDays: 7,
    ...over,
  };
}

/** A temp dir holding a small site; `files` has its sha256 per path. */
export async function tempSite(extra: Record<string, string | Buffer> = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-probe-'));
  const contentDir = join(dir, 'site');
  await writeSite(contentDir, { '/index.html': INDEX, '/about.html': '<p>about</p>\n', ...extra });
  const { files } = await digestSite(contentDir);
  return { dir, contentDir, files, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export const never = new AbortController().signal;
