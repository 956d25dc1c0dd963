import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StateError } from '../domain/errors.ts';
import type { FleetSpec } from '../domain/fleet-spec.ts';
import type { Health } from '../domain/health.ts';
import type { Override } from '../domain/override.ts';

/** What the Pulumi program needs from the controller's state to publish the same answer the controller would. */
export interface FleetState {
  health: Health;
  overrides: Override[];
  /** Mirrors in the last published answer (the fail-open fallback). */
  lastGood: string[];
}

/**
 * Reads `<spec.state.path>/state.json` (the file store's layout) when it exists; an empty state otherwise.
 * The ONE place the program touches state: swap its body for the StateStore (file or etcd) when that is wired in.
 */
export async function readFleetState(spec: Pick<FleetSpec, 'state'>): Promise<FleetState> {
  const file = join(spec.state.path, 'state.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { health: {}, overrides: [], lastGood: [] };
    throw e;
  }
  let raw: Partial<FleetState>;
  try {
    raw = JSON.parse(text) as Partial<FleetState>;
  } catch {
    throw new StateError('STATE_CORRUPT', `${file} is not valid JSON; move it aside to start from an empty state`);
  }
  return {
    health: raw.health && typeof raw.health === 'object' ? raw.health : {},
    overrides: Array.isArray(raw.overrides) ? raw.overrides : [],
    lastGood: Array.isArray(raw.lastGood) ? raw.lastGood.filter((x): x is string => typeof x === 'string') : [],
  };
}
