import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasUserinfo, redactUrl } from '../../src/domain/redact-url.ts';

describe('redactUrl', () => {
  it('replaces user and password with ***, keeps the rest', () => {
    assert.equal(redactUrl('https://admin:hunter2@pdns.example.org:8081/api/v1?x=1#f'), 'https://***@pdns.example.org:8081/api/v1?x=1#f');
    assert.equal(redactUrl('http://token@127.0.0.1:2379'), 'http://***@127.0.0.1:2379/');
    assert.equal(redactUrl('https://:pw@[::1]:8443/'), 'https://***@[::1]:8443/');
  });

  it('leaves a URL without credentials exactly as written', () => {
    for (const u of ['https://api.cloudflare.com/client/v4', 'http://127.0.0.1:8281', 'mailto:ops@example.org']) assert.equal(redactUrl(u), u);
  });

  it('scrubs text that is not a valid URL too', () => {
    assert.equal(redactUrl('http://user:secret@[::1'), 'http://***@[::1');
    assert.ok(!redactUrl('see http://u:p@ho st/').includes('u:p'));
    assert.equal(hasUserinfo('http://u:p@[::1'), true);
    assert.equal(hasUserinfo('https://example.org/@x'), false);
  });
});
