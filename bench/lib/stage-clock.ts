/**
 * The stages of one failover trial, in ms after the moment the clock was armed (the kill). Times are absolute
 * (performance.timeOrigin + performance.now(), comparable across processes on one machine); events may arrive late
 * and out of order (IPC), so each stage keeps its earliest time: `first('write sent', at)` the earliest of all,
 * `nth('vantage down', 'v2', at)` the earliest per actor, numbered on disarm by time (`vantage down #1`, `#2`, …).
 * Only what happens while armed, and not before the kill, is recorded.
 */
export class StageClock {
  victim: string | undefined;
  private t0 = 0;
  private firsts = new Map<string, number>();
  private perActor = new Map<string, Map<string, number>>();

  static now(): number {
    return performance.timeOrigin + performance.now();
  }

  arm(victim: string): void {
    this.victim = victim;
    this.t0 = StageClock.now();
    this.firsts.clear();
    this.perActor.clear();
  }

  /** Stops recording and returns the stages reached, ms after the kill. */
  disarm(): Record<string, number> {
    this.victim = undefined;
    const out: Record<string, number> = {};
    for (const [stage, at] of this.firsts) out[stage] = at - this.t0;
    for (const [stage, actors] of this.perActor) [...actors.values()].sort((a, b) => a - b).forEach((at, i) => { out[`${stage} #${i + 1}`] = at - this.t0; });
    return out;
  }

  first(stage: string, at = StageClock.now()): void {
    if (this.victim === undefined || at < this.t0) return;
    const had = this.firsts.get(stage);
    if (had === undefined || at < had) this.firsts.set(stage, at);
  }

  nth(stage: string, actor: string, at = StageClock.now()): void {
    if (this.victim === undefined || at < this.t0) return;
    const actors = this.perActor.get(stage) ?? new Map<string, number>();
    this.perActor.set(stage, actors);
    const had = actors.get(actor);
    if (had === undefined || at < had) actors.set(actor, at);
  }

  has(stage: string): boolean {
    return this.firsts.has(stage);
  }

  /** A stage measured elsewhere (ms after the kill). */
  at(stage: string, ms: number): void {
    if (this.victim !== undefined) this.firsts.set(stage, this.t0 + ms);
  }
}
