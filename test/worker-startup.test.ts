/**
 * How machine workers start (util/worker-bundle.ts, util/worker-loader.ts): without tsx's
 * preloads, through the bundle's V8 code cache — which a worker writes and the next machine's
 * workers accept — and, with IRQWORK_WORKER_LOADER=tsx, through tsx as before. Also the machine's
 * start-barrier callback that the bench's start-up figure ends at. No timing assertions.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withDefaultWorkerLoader } from './support/worker-loader-env.js';
import { Machine } from '../src/machine/machine.js';
import { runStress } from '../src/stress/kind.js';
import { defaultRunOptions } from '../src/stress/options.js';
import { withoutTsxPreloads, workerFile } from '../src/util/worker-bundle.js';
import { CHILD_TIMEOUT_MS, REPO } from './support/cli.js';

const CPUS = 2;

withDefaultWorkerLoader();

describe('worker flags', () => {
  it("drops tsx's preloads, as tsx's command line and vitest pass them", () => {
    // What tsx's CLI starts node with.
    expect(withoutTsxPreloads(['--require', '/r/node_modules/tsx/dist/preflight.cjs', '--import', 'file:///r/node_modules/tsx/dist/loader.mjs'])).toEqual([]);
    expect(withoutTsxPreloads(['--import', 'tsx'])).toEqual([]);
    expect(withoutTsxPreloads(['--import=tsx', '-r', 'tsx/cjs'])).toEqual([]);
    expect(withoutTsxPreloads(['--experimental-loader', 'tsx/esm'])).toEqual([]);
    // Other flags and other preloads stay, in order.
    expect(withoutTsxPreloads(['--enable-source-maps', '--require', 'tsx/cjs', '--require', './mine.cjs', '--conditions', 'development'])).toEqual([
      '--enable-source-maps',
      '--require',
      './mine.cjs',
      '--conditions',
      'development',
    ]);
  });

  it('leaves the flags alone (inherited) when there is no tsx preload', () => {
    expect(withoutTsxPreloads([])).toBeUndefined();
    expect(withoutTsxPreloads(['--enable-source-maps', '--require', './mine.cjs'])).toBeUndefined();
  });

  it('gives bundle workers no tsx preload, here under vitest too', () => {
    const w = workerFile(join(REPO, 'workers/cpu-worker.ts'));
    expect(w.loader).toBe('bundle');
    const flags = w.execArgv ?? process.execArgv;
    expect(flags.filter((f) => /(^|[\\/=])tsx([\\/]|$)/.test(f))).toEqual([]);
  });
});

describe('the code cache of the worker bundle', () => {
  async function startAndRun(): Promise<{ machine: Machine; barriers: number[] }> {
    const machine = Machine.start(CPUS);
    const barriers: number[] = [];
    try {
      const result = await runStress(machine, { ...defaultRunOptions(), cpus: CPUS, durationMs: 100, seed: 1 }, { onBarrier: (ms) => barriers.push(ms) });
      expect(result.ok).toBe(true);
    } finally {
      await machine.close();
    }
    return { machine, barriers };
  }

  it('is written by a first machine (if no cache was there) and accepted by every worker of the next', async () => {
    const first = await startAndRun();
    expect(first.machine.loader).toBe('bundle');
    // Each worker reported how it loaded; whatever it found, a CPU's task wrote a cache unless one was accepted.
    const c1 = first.machine.codeCache;
    expect(c1.accepted + c1.rejected + c1.absent).toBe(CPUS);

    const second = await startAndRun();
    expect(second.machine.codeCache).toEqual({ accepted: CPUS, rejected: 0, absent: 0 });
  });

  it('calls onBarrier once, when every CPU stands at the start barrier, after Machine.start', async () => {
    const { machine, barriers } = await startAndRun();
    expect(barriers).toHaveLength(1);
    expect(barriers[0]!).toBeGreaterThanOrEqual(machine.startedMs);
  });
});

describe('IRQWORK_WORKER_LOADER=tsx', () => {
  it('still runs the workers through tsx (the slow path, no loader, no cache)', async () => {
    const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(join(REPO, 'node_modules/.bin/tsx'), ['src/cli.ts', 'latency', '--cpus', '2', '--duration', '0.3', '--json'], {
        cwd: REPO,
        env: { ...process.env, IRQWORK_WORKER_LOADER: 'tsx' },
        timeout: CHILD_TIMEOUT_MS,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(run.code, run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout) as { settings: { workerLoader: string } };
    expect(doc.settings.workerLoader).toBe('tsx');
  });
});
