import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { API_ROUTES } from '../../src/server/openapi.ts';
import { startHarness, type Harness } from './harness.ts';

const DOC = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'api.md'), 'utf8');

describe('the API is documented from what the server serves', () => {
  let h: Harness;
  before(async () => { h = await startHarness(); });
  after(() => h?.close());

  it('the route table, the OpenAPI routes and docs/api.md list the same routes', () => {
    const documented = API_ROUTES.map((r) => `${r.method} ${r.path}`).sort();
    assert.deepEqual([...h.server.routes].sort(), documented, 'every served route is in API_ROUTES and nothing else');
    const inDoc = [...DOC.matchAll(/^### (GET|POST) (\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
    assert.deepEqual(inDoc, documented, 'docs/api.md has one heading per route');
  });

  it('GET /api/openapi.json serves an OpenAPI 3.1 document whose request schemas are the ones the server enforces', async () => {
    const res = await fetch(`${h.url}/api/openapi.json`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, { security?: unknown; requestBody?: { content: Record<string, { schema: { required: string[]; additionalProperties: boolean; properties: Record<string, unknown> } }> } }>> };
    assert.equal(doc.openapi, '3.1.0');
    const drain = doc.paths['/api/drain'].post;
    assert.deepEqual(drain.security, [{ bearer: [] }]);
    const schema = drain.requestBody!.content['application/json'].schema;
    assert.deepEqual([...schema.required].sort(), ['mirror', 'reason']);
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual(Object.keys(schema.properties).sort(), ['for', 'force', 'mirror', 'reason', 'wait']);
    assert.equal(doc.paths['/api/status'].get.security, undefined, 'reads need no token');

    // what the schema says is required, the server refuses without
    const missing = await fetch(`${h.url}/api/drain`, { method: 'POST', headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ mirror: 'm1' }) });
    assert.equal(missing.status, 400);
    const extra = await fetch(`${h.url}/api/drain`, { method: 'POST', headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ mirror: 'm1', reason: 'x', colour: 'red' }) });
    assert.equal(extra.status, 400);
  });
});
