/**
 * Output file flags are tried before a run: checkOutputPath really opens the file (so `/proc/x`,
 * whose directory exists, is refused), leaves an existing file as it was and a missing one
 * missing, and says in one line what is wrong. No threads start here; the one CLI child is
 * refused before it measures anything.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkOutputPath } from '../src/cli/output-path.js';
import { UsageError } from '../src/errors.js';
import { cli, expectUsageError } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'irqwork-output-path-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The UsageError message checkOutputPath throws for `value` (fails the test if it throws none). */
function refusal(flag: string, value: string | boolean): string {
  try {
    checkOutputPath(flag, value);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    const message = (e as Error).message;
    expect(message.split('\n')).toHaveLength(1);
    return message;
  }
  throw new Error(`--${flag} ${String(value)} was accepted`);
}

describe('checkOutputPath', () => {
  it('passes an absent flag through as undefined', () => {
    expect(checkOutputPath('svg', undefined)).toBeUndefined();
  });

  it('accepts a new file in an existing directory, and does not leave it behind', () => {
    const file = join(dir, 'new.svg');
    expect(checkOutputPath('svg', file)).toBe(file);
    expect(existsSync(file)).toBe(false);
  });

  it('accepts an existing file without truncating it', () => {
    const file = join(dir, 'kept.txt');
    writeFileSync(file, 'earlier results\n');
    expect(checkOutputPath('histfile', file)).toBe(file);
    expect(readFileSync(file, 'utf8')).toBe('earlier results\n');
  });

  it('accepts a device it may write (/dev/null)', () => {
    expect(checkOutputPath('svg', '/dev/null')).toBe('/dev/null');
  });

  // (procfs: Linux; elsewhere /proc is simply a missing directory.)
  it.skipIf(!existsSync('/proc/self'))('refuses a place where no file can be created (/proc/x), naming the flag', () => {
    expect(refusal('histfile', '/proc/x')).toBe('--histfile: cannot write "/proc/x" (no file can be created there)');
  });

  it('refuses a file in a directory that does not exist', () => {
    expect(refusal('svg', join(dir, 'no', 'such', 'x.svg'))).toBe(`--svg: directory ${JSON.stringify(join(dir, 'no', 'such'))} does not exist`);
  });

  it('refuses a directory', () => {
    const sub = join(dir, 'sub');
    mkdirSync(sub);
    expect(refusal('svg', sub)).toBe(`--svg: ${JSON.stringify(sub)} is a directory`);
  });

  it('refuses a path that runs through a file', () => {
    const file = join(dir, 'plain');
    writeFileSync(file, '');
    expect(refusal('svg', join(file, 'x.svg'))).toBe(`--svg: cannot write ${JSON.stringify(join(file, 'x.svg'))} (${JSON.stringify(file)} is not a directory)`);
  });

  it('refuses an empty name or a flag given without a value', () => {
    expect(refusal('svg', '')).toBe('--svg needs a file name');
    expect(refusal('svg', true)).toBe('--svg needs a file name');
  });
});

describe('irqwork bench --svg /proc/x (the CLI)', () => {
  it('is bad usage before the benchmark starts: exit 2, one line naming --svg', async () => {
    // bench runs for minutes; an exit 2 within the child's timeout means it never started.
    expectUsageError(await cli(['bench', '--svg', '/proc/x']), ['--svg', '"/proc/x"']);
  });
});
