import { resolve } from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { loadStack } from '../config/load-stack.ts';
import { fleetProgram } from './fleet-program.ts';

/**
 * The entry the Pulumi nodejs runtime loads (Pulumi.yaml `main`, node run with `--import tsx`). The runtime calls the
 * default export and publishes what it returns as the stack outputs. It must have ONLY a default export: the runtime
 * refuses a module with both. The program itself lives in fleet-program.ts (mock-preview.ts calls it too).
 */
export default async function main() {
  const projectDir = resolve(import.meta.dirname, '..', '..');
  const spec = await loadStack({ stack: pulumi.getStack(), cwd: projectDir });
  return fleetProgram(spec);
}
