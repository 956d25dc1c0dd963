import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientNetwork, ResponseRateLimiter } from '../../src/drivers/local/response-rate-limit.ts';

describe('ResponseRateLimiter', () => {
  it('keys clients by /24 (IPv4) and /56 (IPv6)', () => {
    assert.equal(clientNetwork('192.0.2.77'), '192.0.2.0/24');
    assert.equal(clientNetwork('::ffff:192.0.2.77'), '192.0.2.0/24');
    assert.equal(clientNetwork('2001:db8:1:2ab:5::1'), '2001:0db8:0001:0200::/56');
    assert.equal(clientNetwork('2001:db8:1:2ff::9'), clientNetwork('2001:db8:1:200::1'));
    assert.notEqual(clientNetwork('2001:db8:1:300::1'), clientNetwork('2001:db8:1:200::1'));
    assert.equal(clientNetwork('::1'), '0000:0000:0000:0000::/56');
    assert.equal(clientNetwork('::ffff:1.2.3.4'), '1.2.3.0/24');
  });

  it('sends a second of burst, then slips every 2nd and drops the rest; refills with time', () => {
    const rl = new ResponseRateLimiter({ responsesPerSecond: 4, slip: 2 });
    const at0 = Array.from({ length: 10 }, () => rl.decide('198.51.100.1', 1000));
    assert.deepEqual(at0, ['send', 'send', 'send', 'send', 'drop', 'slip', 'drop', 'slip', 'drop', 'slip']);
    assert.equal(rl.decide('198.51.100.200', 1000), 'drop', 'the same /24 shares the bucket');
    assert.equal(rl.decide('198.51.101.1', 1000), 'send', 'another /24 does not');
    assert.equal(rl.decide('198.51.100.1', 1250), 'send', 'a quarter second refills one response');
    assert.equal(rl.decide('198.51.100.1', 1250), 'slip');
  });

  it('slip 0 drops everything over the limit', () => {
    const rl = new ResponseRateLimiter({ responsesPerSecond: 1, slip: 0 });
    assert.deepEqual([1, 2, 3].map(() => rl.decide('192.0.2.1', 0)), ['send', 'drop', 'drop']);
  });

  it('forgets the least recently seen network when full (memory bounded)', () => {
    const rl = new ResponseRateLimiter({ responsesPerSecond: 1, maxEntries: 100 });
    rl.decide('192.0.2.1', 0);
    for (let i = 0; i < 10_000; i++) {
      rl.decide('192.0.2.1', i); // kept recent
      rl.decide(`10.${i >> 8}.${i & 255}.1`, i);
    }
    assert.equal(rl.size, 100);
    assert.equal(rl.decide('192.0.2.1', 10_000), 'send', 'a network in use is not forgotten');
  });
});
