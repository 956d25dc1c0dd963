import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import packet from 'dns-packet';
import { rdataToValue, toPacketData } from '../../src/dns/rdata.ts';
import { txtChunks } from '../../src/dns/txt-chunks.ts';
import { quoteTxt } from '../../src/dns/zone-file-values.ts';

describe('txtChunks (one splitter for the wire and zone files)', () => {
  it('TXT is split in 255-byte character-strings, never inside a character', () => {
    assert.deepEqual(txtChunks('abc'), ['abc']);
    assert.deepEqual(txtChunks(''), ['']);
    const long = 'a'.repeat(300);
    assert.deepEqual(txtChunks(long).map((c) => c.length), [255, 45]);
    const multi = 'é'.repeat(200); // 2 bytes each
    const chunks = txtChunks(multi);
    assert.ok(chunks.every((c) => Buffer.byteLength(c) <= 255));
    assert.equal(chunks.join(''), multi);
  });

  it('the wire encoding and the zone-file encoding split at the same places and round-trip', () => {
    const text = `${'x'.repeat(254)}é${'y'.repeat(300)}`;
    const wire = toPacketData('TXT', text) as Buffer[];
    assert.deepEqual(wire.map((b) => b.toString('utf8')), txtChunks(text));
    assert.equal(quoteTxt(text, 'none').split('" "').length, wire.length);
    // through a real encode/decode of the RR
    const msg = packet.decode(packet.encode({ type: 'response', answers: [{ type: 'TXT', name: 'a.example', ttl: 60, data: wire }] }));
    assert.equal(rdataToValue('TXT', (msg.answers![0] as { data: unknown }).data), text);
  });
});
