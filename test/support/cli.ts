/**
 * The CLI as a user runs it, for tests: `tsx src/cli.ts …` in a child process from the repo
 * root, with a timeout that marks a hung child (signal set) instead of hanging the suite.
 */
import { spawn } from 'node:child_process';
import { expect } from 'vitest';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
const TSX = join(REPO, 'node_modules/.bin/tsx');
/** Far longer than a short CLI run needs on a loaded 2-core box; a child still alive then is hung. */
export const CHILD_TIMEOUT_MS = 45_000;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], timeoutMs = CHILD_TIMEOUT_MS): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, ['src/cli.ts', ...args], { cwd: REPO, timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Runs the jobs at most `limit` at a time (spawning many tsx children at once on 2 cores is slower). */
export async function inParallel<T>(jobs: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  const lane = async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, lane));
  return out;
}

/** Bad input: exit 2 on its own (nothing left running), one line on stderr naming `mentions`, no stack trace. */
export function expectUsageError(exit: Exit, mentions: readonly string[]): void {
  expect(exit.signal).toBeNull();
  expect(exit.code, exit.stderr).toBe(2);
  expect(exit.stdout).toBe('');
  const lines = exit.stderr.split('\n').filter((l) => l !== '');
  expect(lines, exit.stderr).toHaveLength(1);
  expect(exit.stderr).not.toMatch(/^\s+at /m);
  for (const text of mentions) expect(lines[0]).toContain(text);
}
