/**
 * Every user-facing error of irqwork in one place (the piscina `errors.ts` idea).
 * A UsageError is bad input: the CLI prints its message on one line and exits 2.
 * An InternalError is our failure (a CPU crashed, a run stalled): exit 3 with a state dump.
 */

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export class InternalError extends Error {
  override readonly name = 'InternalError';
  constructor(message: string, readonly dump?: string) {
    super(message);
  }
}

export const Errors = {
  cpusOutOfRange: (value: unknown, max: number) =>
    new UsageError(`--cpus must be an integer from 1 to ${max}, got ${fmt(value)}`),
  worksOutOfRange: (value: unknown, max: number) =>
    new UsageError(`the work pool must hold 1 to ${max} works, got ${fmt(value)}`),
  memoryTooSmall: (needBytes: number, haveBytes: number) =>
    new UsageError(
      `the configuration needs ${needBytes} bytes of shared memory but maxMemoryBytes allows ${haveBytes}; use fewer CPUs or works`,
    ),
  memoryLimit: (value: unknown) =>
    new UsageError(`maxMemoryBytes must be an integer of at least 4096, got ${fmt(value)}`),
  hzOutOfRange: (value: unknown) =>
    new UsageError(`--hz must be an integer from 10 to 10000, got ${fmt(value)}`),
  unknownVariant: (value: unknown, known: readonly string[]) =>
    new UsageError(`unknown --variant ${fmt(value)}; known variants: ${known.join(', ')}`),
  unknownMutant: (value: unknown, known: readonly string[]) =>
    new UsageError(`unknown --mutant ${fmt(value)}; mutants: all, ${known.join(', ')}`),
  unknownConfig: (value: unknown, allowed: readonly string[]) =>
    new UsageError(`--config must be one of ${allowed.join(', ')}, got ${fmt(value)}`),
  badNumber: (flag: string, value: unknown, what: string) =>
    new UsageError(`--${flag} must be ${what}, got ${fmt(value)}`),
  unknownWorkload: (value: unknown, known: readonly string[]) =>
    new UsageError(
      `unknown --workload ${fmt(value)}; use one of ${known.join(', ')} or a path to a JSON scenario file`,
    ),
  badScenario: (file: string, field: string, what: string) =>
    new UsageError(`scenario ${file}: field "${field}" ${what}`),
  unreadableScenario: (file: string, reason: string) =>
    new UsageError(`scenario ${file}: cannot be read as JSON (${reason})`),
  zooNeedsTwoCpus: (cpus: number) =>
    new UsageError(`--cpus ${cpus}: the zoo's remote cases need at least 2 CPUs`),
  outputNeedsName: (flag: string) => new UsageError(`--${flag} needs a file name`),
  outputDirMissing: (flag: string, dir: string) =>
    new UsageError(`--${flag}: directory ${fmt(dir)} does not exist`),
  outputIsDirectory: (flag: string, path: string) => new UsageError(`--${flag}: ${fmt(path)} is a directory`),
  outputNotWritable: (flag: string, path: string, reason: string) =>
    new UsageError(`--${flag}: cannot write ${fmt(path)} (${reason})`),
};

function fmt(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}
