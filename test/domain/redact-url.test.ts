import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasUserinfo, redactDeep, redactText, redactUrl } from '../../src/domain/redact-url.ts';

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

describe('redactText', () => {
  it('redacts every URL in free text: userinfo and token-like query values', () => {
    const t = redactText('fetch http://user:s3cret@127.0.0.1:2379/v3 failed; see https://api.example.org/x?zone=a&api_key=s3cret&token=s3cret#f and https://u:p@ss:s3cret@h/');
    assert.ok(!t.includes('s3cret'), t);
    assert.ok(t.includes('http://***@127.0.0.1:2379/v3'), t);
    assert.ok(t.includes('?zone=a&api_key=***&token=***#f'), t);
  });

  it('redacts signed AWS query strings and leaves ordinary text and e-mail addresses alone', () => {
    assert.equal(redactText('GET /x?X-Amz-Credential=AKIA/1&X-Amz-Signature=abc'), 'GET /x?X-Amz-Credential=***&X-Amz-Signature=***');
    for (const s of ['ops@example.org drained m1', 'HTTP 503 (no leader)', 'http://127.0.0.1:8081/api?zone=x']) assert.equal(redactText(s), s);
  });

  it('is idempotent, and redactUrl scrubs token parameters too', () => {
    const once = redactText('http://a:b@h/?secret=x');
    assert.equal(redactText(once), once);
    assert.equal(redactUrl('https://h.example/p?access_token=abc&x=1'), 'https://h.example/p?access_token=***&x=1');
  });

  it('redactDeep copies a JSON-like value with every string redacted', () => {
    const v = { message: 'http://u:pw@h/', data: { list: ['?token=pw', 3], n: null } };
    assert.deepEqual(redactDeep(v), { message: 'http://***@h/', data: { list: ['?token=***', 3], n: null } });
    assert.equal(v.message, 'http://u:pw@h/');
  });
});
