import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { handleError } from '../../src/cli/main.ts';

describe('handleError', () => {
  it('an unexpected error is reported as a bug without a URL\'s credentials in its message or stack', () => {
    const chunks: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((c: string) => { chunks.push(String(c)); return true; }) as typeof process.stderr.write;
    try {
      assert.equal(handleError(new TypeError('Request cannot be constructed from a URL that includes credentials: http://ops:hunter2@127.0.0.1/')), 1);
    } finally {
      process.stderr.write = write;
    }
    const out = chunks.join('');
    assert.match(out, /unexpected error/);
    assert.ok(!out.includes('hunter2'), out);
  });
});
