/**
 * Flag parsing shared by every command: node:util parseArgs, then typed checks whose failures
 * are one-line UsageErrors naming the flag and what it accepts.
 */
import { availableParallelism } from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { Errors, UsageError } from '../errors.js';
import { MAX_CPUS } from '../kernel/config.js';
import { findVariant } from '../variants/index.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

export function parseFlags(command: string, argv: string[], options: Options): Record<string, string | boolean | undefined> {
  return parseCommandLine(command, argv, options, false).values;
}

/** Flags and positional arguments (file names: replay, shrink). */
export function parseFlagsAndFiles(command: string, argv: string[], options: Options): { values: Record<string, string | boolean | undefined>; files: string[] } {
  const { values, positionals } = parseCommandLine(command, argv, options, true);
  return { values, files: positionals };
}

function parseCommandLine(command: string, argv: string[], options: Options, allowPositionals: boolean) {
  try {
    const { values, positionals } = parseArgs({
      args: joinNegativeValues(argv, options),
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals,
    });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0]!.replace(/\. To specify a positional argument.*$/, '');
    throw new UsageError(`irqwork ${command}: ${msg}; see 'irqwork ${command} --help'`);
  }
}

/**
 * `--cpus -1`: parseArgs refuses a value that looks like an option ("ambiguous"). Join it to its
 * flag (`--cpus=-1`) so that the flag's own check says what values it accepts.
 */
function joinNegativeValues(argv: string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    const name = arg.startsWith('--') ? arg.slice(2) : '';
    if (name && options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/** A plain decimal number (no hex, no exponent, no sign), or NaN. */
function decimal(value: string | boolean | undefined): number {
  return typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : NaN;
}

/** An integer flag in [min, max]. */
export function intFlag(name: string, value: string | boolean | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw Errors.badNumber(name, value, `an integer from ${min} to ${max}`);
  return n;
}

/** A positive number flag (seconds, µs …) in (0, max]. */
export function positiveFlag(name: string, value: string | boolean | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = decimal(value);
  if (!Number.isFinite(n) || n <= 0 || n > max) throw Errors.badNumber(name, value, `a number above 0 and at most ${max}`);
  return n;
}

export function cpusFlag(value: string | boolean | undefined, fallback = availableParallelism()): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_CPUS) throw Errors.cpusOutOfRange(value, MAX_CPUS);
  return n;
}

export const CONFIGS = ['rt', 'nort'] as const;

/** --config rt|nort → preemptRt. */
export function configFlag(value: string | boolean | undefined, allowed: readonly string[] = CONFIGS): string {
  const v = value === undefined ? 'rt' : value;
  if (typeof v !== 'string' || !allowed.includes(v)) throw Errors.unknownConfig(value, allowed);
  return v;
}

export function variantFlag(value: string | boolean | undefined, fallback: string): string {
  const v = value === undefined ? fallback : value;
  if (typeof v !== 'string') throw Errors.unknownVariant(v, []);
  return findVariant(v).name;
}

export function seedFlag(value: string | boolean | undefined, fallback: number): number {
  return intFlag('seed', value, fallback, 0, 0xffffffff);
}
