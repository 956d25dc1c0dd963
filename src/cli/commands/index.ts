import type { Command } from 'commander';
import { registerPlan } from './plan.ts';
import { registerPulumi } from './pulumi.ts';
import { registerValidate } from './validate.ts';

export function registerCommands(program: Command): void {
  registerValidate(program);
  registerPlan(program);
  registerPulumi(program);
}
