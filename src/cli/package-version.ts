import { readFileSync } from 'node:fs';

/** flotilla's version from package.json (two folders up from src/cli/ and from dist/cli/ alike). */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}
