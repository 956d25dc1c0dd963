import type { Command } from 'commander';
import { registerApply } from './apply.ts';
import { registerCheck } from './check.ts';
import { registerDaemon } from './daemon.ts';
import { registerDemo } from './demo.ts';
import { registerDomains } from './domains.ts';
import { registerHistory } from './history.ts';
import { registerManifest } from './manifest.ts';
import { registerOverrides } from './overrides.ts';
import { registerPlan } from './plan.ts';
import { registerPulumi } from './pulumi.ts';
import { registerRecords } from './records.ts';
import { registerStatus } from './status.ts';
import { registerValidate } from './validate.ts';

export function registerCommands(program: Command): void {
  registerValidate(program);
  registerPlan(program);
  registerApply(program);
  registerPulumi(program);
  registerCheck(program);
  registerDaemon(program);
  registerStatus(program);
  registerHistory(program);
  registerRecords(program);
  registerOverrides(program);
  registerDemo(program);
  registerDomains(program);
  registerManifest(program);
}
