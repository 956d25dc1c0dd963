import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { queryDns } from '../../src/dns/dns-client.ts';
import { formatEndpoint, parseEndpoint } from '../../src/dns/endpoint.ts';

describe('parseEndpoint (the one host:port parser of DNS servers)', () => {
  it('host, host:port, [v6]:port and a bare IPv6 address; port 53 unless given', () => {
    assert.deepEqual(parseEndpoint('127.0.0.1'), { host: '127.0.0.1', port: 53 });
    assert.deepEqual(parseEndpoint('127.0.0.1:5353'), { host: '127.0.0.1', port: 5353 });
    assert.deepEqual(parseEndpoint('ns1.example.com.'), { host: 'ns1.example.com.', port: 53 });
    assert.deepEqual(parseEndpoint('[::1]:5353'), { host: '::1', port: 5353 });
    assert.deepEqual(parseEndpoint('[2001:db8::1]'), { host: '2001:db8::1', port: 53 });
    assert.deepEqual(parseEndpoint('2001:db8::1'), { host: '2001:db8::1', port: 53 });
    assert.deepEqual(parseEndpoint('localhost', 853), { host: 'localhost', port: 853 });
  });

  it('refuses what the settings schema refuses, naming the text', () => {
    for (const bad of ['127.0.0.1:0', '127.0.0.1:70000', 'a b', '[::1', '', 'host:port']) {
      assert.throws(() => parseEndpoint(bad), (e: Error) => e.message.includes(JSON.stringify(bad)), bad);
    }
  });

  it('formats back, IPv6 in brackets', () => {
    assert.equal(formatEndpoint({ host: '::1', port: 53 }), '[::1]:53');
    assert.equal(formatEndpoint({ host: '127.0.0.1', port: 5353 }), '127.0.0.1:5353');
  });

  it('a bad server is a value from the DNS client, never an exception', async () => {
    const r = await queryDns({ server: '127.0.0.1:0', name: 'example.com', type: 'A', timeoutMs: 200 });
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.error : '', /is not host, host:port/);
  });
});
