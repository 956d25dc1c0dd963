import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reasonForError } from '../../src/probes/probe-result.ts';

describe('reasonForError', () => {
  it('an error quoting a URL with credentials gives a reason without them (reasons reach state, status and the audit)', () => {
    const r = reasonForError(new Error(`redirect to http://admin:pw-Q7x@10.0.0.9/login?token=pw-Q7x${'.'.repeat(190)}`), 1000);
    assert.ok(!r.includes('pw-Q7x'), r);
    assert.match(r, /^error: redirect to http:\/\/\*\*\*@10\.0\.0\.9\/login\?token=\*\*\*/);
  });
});
