/**
 * A stand-in `pulumi` executable (the real CLI is not installable here): put `dir` first on PATH. It appends its
 * argv (one line per run) to `log`, answers `stack output` with the recorded outputs in `outputs`, and exits with
 * the code in `<dir>/up-exit` for `up` and `<dir>/destroy-exit` for `destroy` (0 when the file is absent).
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface FakePulumi {
  dir: string;
  /** PATH with the stand-in first. */
  path: string;
  /** Sets what `pulumi stack output --json` prints next. */
  setOutputs(text: string): void;
  /** Sets the exit code of `pulumi up`. */
  setUpExit(code: number): void;
  /** Sets the exit code of `pulumi destroy`. */
  setDestroyExit(code: number): void;
  /** Every run's argv so far. */
  calls(): string[];
}

export function fakePulumi(): FakePulumi {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-fake-pulumi-'));
  const log = join(dir, 'argv.log');
  const script = `#!/bin/sh
printf '%s\\n' "$*" >> '${log}'
case "$1" in
  up) [ -f '${dir}/up-exit' ] && exit "$(cat '${dir}/up-exit')"; echo "Resources: 9 created"; exit 0 ;;
  destroy) [ -f '${dir}/destroy-exit' ] && exit "$(cat '${dir}/destroy-exit')"; echo "Resources: 9 deleted"; exit 0 ;;
  stack) if [ "$2" = output ]; then cat '${dir}/outputs.json'; exit 0; fi ;;
esac
exit 0
`;
  writeFileSync(join(dir, 'pulumi'), script);
  chmodSync(join(dir, 'pulumi'), 0o755);
  writeFileSync(join(dir, 'outputs.json'), '{}');
  return {
    dir,
    path: `${dir}${delimiter}${process.env.PATH ?? ''}`,
    setOutputs: (text) => writeFileSync(join(dir, 'outputs.json'), text),
    setUpExit: (code) => writeFileSync(join(dir, 'up-exit'), String(code)),
    setDestroyExit: (code) => writeFileSync(join(dir, 'destroy-exit'), String(code)),
    calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) : []),
  };
}
