/** dropPath: a real OUTPUT rule drops one source's TCP to one port, leaves other sources alone, and is removed by its exact spec. */
import assert from 'node:assert/strict';
import { createServer, connect } from 'node:net';
import { describe, it } from 'node:test';
import { dropPath, heldRules, iptablesUnavailable } from './iptables-drop.ts';

const unavailable = iptablesUnavailable();
if (unavailable && process.env.CI === 'true') throw new Error(unavailable);
if (unavailable) console.log(`# skipped: ${unavailable}`);

/** 'open' when a connection from `from` is accepted within `ms`, 'timeout' when it gets no answer. */
function tryConnect(from: string, host: string, port: number, ms: number): Promise<'open' | 'timeout' | string> {
  return new Promise((resolve) => {
    const s = connect({ host, port, localAddress: from });
    const t = setTimeout(() => { s.destroy(); resolve('timeout'); }, ms);
    s.once('connect', () => { clearTimeout(t); s.destroy(); resolve('open'); });
    s.once('error', (e) => { clearTimeout(t); resolve(e.message); });
  });
}

describe('dropPath (host iptables, loopback only)', { skip: unavailable }, () => {
  it('drops that path only, and leaves no rule behind', async (t) => {
    const server = createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.91', r));
    t.after(() => new Promise((r) => server.close(r)));
    const port = (server.address() as { port: number }).port;
    const rule = dropPath({ from: '127.0.2.9', to: '127.0.0.91', port });
    t.after(() => rule.remove());
    assert.ok(rule.present());
    assert.equal(await tryConnect('127.0.2.9', '127.0.0.91', port, 500), 'timeout');
    assert.equal(await tryConnect('127.0.2.8', '127.0.0.91', port, 2000), 'open', 'another source still gets through');
    rule.remove();
    rule.remove(); // idempotent
    assert.equal(rule.present(), false);
    assert.equal(heldRules(), 0);
    assert.equal(await tryConnect('127.0.2.9', '127.0.0.91', port, 2000), 'open');
  });

  it('refuses any address outside loopback', () => {
    assert.throws(() => dropPath({ from: '10.0.0.1', to: '127.0.0.1', port: 1 }), /loopback addresses only/);
  });
});
