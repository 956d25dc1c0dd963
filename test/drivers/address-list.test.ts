import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { localSettings } from '../../src/drivers/local/local-settings.ts';
import { addressMatcher, LOOPBACK, parseCidr } from '../../src/drivers/local/address-list.ts';

describe('address lists (AXFR allow-list, rate-limit exemptions)', () => {
  it('matches addresses and CIDRs, IPv4-mapped IPv6 included', () => {
    const m = addressMatcher(['192.0.2.0/24', '2001:db8::/32', '198.51.100.7']);
    assert.equal(m('192.0.2.200'), true);
    assert.equal(m('::ffff:192.0.2.1'), true);
    assert.equal(m('192.0.3.1'), false);
    assert.equal(m('2001:db8:ffff::1'), true);
    assert.equal(m('198.51.100.7'), true);
    assert.equal(m('198.51.100.8'), false);
    assert.equal(m('not an address'), false);
    const lo = addressMatcher(LOOPBACK);
    assert.deepEqual(['127.0.0.1', '127.9.9.9', '::1', '::ffff:127.0.0.1', '192.0.2.1', '::2'].map(lo), [true, true, true, true, false, false]);
  });

  it('rejects what is not an address or CIDR', () => {
    for (const bad of ['10.0.0.0/33', '::/129', 'example.org', '10.0.0.0/8/1', '10.0.0.0/x', '']) {
      assert.equal(parseCidr(bad), undefined, bad);
      assert.throws(() => addressMatcher([bad]), /not an address or CIDR/);
    }
  });

  it('the local provider settings take axfrAllow as CIDRs and name a bad entry', () => {
    assert.deepEqual(localSettings.parse({ axfrAllow: ['192.0.2.0/24', '::1'] }).axfrAllow, ['192.0.2.0/24', '::1']);
    assert.equal(localSettings.parse({}).axfrAllow, undefined);
    const r = localSettings.safeParse({ axfrAllow: ['192.0.2.0/24', 'ns2.example.org'] });
    assert.equal(r.success, false);
    assert.deepEqual(r.error!.issues.map((i) => [i.path.join('.'), i.message]), [['axfrAllow.1', 'an IP address or CIDR, e.g. 192.0.2.0/24 or 2001:db8::/48']]);
  });
});
