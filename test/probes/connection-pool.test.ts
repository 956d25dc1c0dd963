import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectionPool } from '../../src/probes/connection-pool.ts';

interface Conn {
  key: string;
  live: boolean;
}

function pool(max: number) {
  const released: string[] = [];
  const p = new ConnectionPool<Conn>(max, (c) => c.live, (c) => void released.push(c.key));
  const take = (key: string) => p.take(key, () => ({ key, live: true }));
  return { p, released, take };
}

describe('ConnectionPool', () => {
  it('never holds more than its bound, whatever the number of keys', () => {
    const { p, released, take } = pool(8);
    for (let i = 0; i < 1000; i++) {
      take(`k${i}`);
      assert.ok(p.size <= 8, `${p.size} entries after key ${i}`);
    }
    assert.equal(p.size, 8);
    assert.equal(released.length, 992);
    assert.deepEqual(released.slice(0, 2), ['k0', 'k1']); // oldest first
  });

  it('reuses a live entry and closes the least recently used one, not the least recently opened', () => {
    const { p, released, take } = pool(2);
    const a = take('a');
    take('b');
    assert.equal(take('a'), a); // a is now the most recently used
    take('c');
    assert.deepEqual(released, ['b']);
    assert.equal(p.size, 2);
  });

  it('replaces a dead entry without releasing anything else', () => {
    const { p, released, take } = pool(2);
    const a = take('a');
    take('b');
    a.live = false;
    const a2 = take('a');
    assert.notEqual(a2, a);
    assert.deepEqual(released, []);
    assert.equal(p.size, 2);
  });

  it('drain() hands back every entry and empties the pool', () => {
    const { p, take } = pool(4);
    take('a');
    take('b');
    assert.deepEqual(p.drain().map((c) => c.key), ['a', 'b']);
    assert.equal(p.size, 0);
  });

  it('refuses a bound below 1', () => {
    assert.throws(() => new ConnectionPool<Conn>(0, () => true, () => undefined), /at least 1/);
  });
});
