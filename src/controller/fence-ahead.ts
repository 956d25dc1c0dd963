/**
 * The fence asked once when a pass starts listing, beside the list instead of after it, and reused by its writes
 * while the answer is young: the proof that this replica leads is at most `maxAgeMs` old (asked → write sent) when
 * a write goes out; an older one is asked again. A refusal (NOT_LEADER, STATE_UNAVAILABLE) refuses every write of
 * the pass. An answer no write needs is dropped (its rejection included: nothing was about to be written).
 */
export function fenceAhead(check: () => Promise<void>, maxAgeMs: number, now: () => number = () => performance.now()): () => Promise<void> {
  const askedAt = now();
  const early = check();
  early.catch(() => undefined);
  return async () => {
    await early;
    if (now() - askedAt > maxAgeMs) await check();
  };
}
