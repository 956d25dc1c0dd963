import { hostname } from 'node:os';
import { controllerRunning, type State } from '../domain/state.ts';

/**
 * The controller saving on this state now, or undefined: its heartbeat is fresh (controllerRunning) and, when it ran
 * on this host, its pid is alive — a SIGKILLed daemon leaves a fresh heartbeat behind for up to two save intervals,
 * and a responder must not be told it will act (drain), or be stopped by it (apply, demo --keep).
 */
export function runningController(state: State, now: number): NonNullable<State['controller']> | undefined {
  const c = state.controller;
  if (!c || !controllerRunning(state, now)) return undefined;
  if (c.host === hostname()) {
    try {
      process.kill(c.pid, 0);
    } catch (e) {
      // EPERM: alive, another user's
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') return undefined;
    }
  }
  return c;
}
