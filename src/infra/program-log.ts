import * as pulumi from '@pulumi/pulumi';

/** Where the program's notes go: Pulumi's log in a real run, a list in a mock preview (stdout stays clean for --json). */
export interface ProgramLog {
  info(message: string): void;
  warn(message: string): void;
}

export const pulumiLog: ProgramLog = {
  info: (m) => void pulumi.log.info(m),
  warn: (m) => void pulumi.log.warn(m),
};

/** A log that keeps every line, in order. */
export function collectingLog(): ProgramLog & { lines: { level: 'info' | 'warn'; message: string }[] } {
  const lines: { level: 'info' | 'warn'; message: string }[] = [];
  return { lines, info: (message) => void lines.push({ level: 'info', message }), warn: (message) => void lines.push({ level: 'warn', message }) };
}
