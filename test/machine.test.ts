/**
 * The parallel machine: one piscina worker thread per simulated CPU over one SharedArrayBuffer.
 * One Machine per CPU count for the whole file (starting workers under tsx costs 100–250 ms each);
 * short runs; assertions on structure and counters, never on timing or throughput.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InternalError } from '../src/errors.js';
import { COUNTER_NAMES } from '../src/kernel/layout.js';
import { Machine } from '../src/machine/machine.js';
import { runStress, type RunResult } from '../src/stress/kind.js';
import { defaultRunOptions, type RunOptions } from '../src/stress/options.js';
import { loadWorkload, PRESETS } from '../src/workload/spec.js';

const DURATION_MS = 500;
/** For runs that are expected to go wrong: give up quiescing, and call a frozen CPU stuck, quickly. */
const EXPECTED_TO_FAIL = { drainMs: 500, stallMs: 250 };
/**
 * For a run expected not to drain, when the test is only about the run coming back: the drain
 * gives up (ABORT unwinds every CPU) before the soft-lockup watchdog could trip, since
 * durationMs + drainMs < stallMs. Whether a lockup *is* reported as a finding is the remote test.
 */
const EXPECTED_NOT_TO_DRAIN = { drainMs: 300, stallMs: 1500 };
const FLAGGING_CHECKS = ['accounting', 'liveness', 'context'];

function options(cpus: number, over: Partial<RunOptions> = {}): RunOptions {
  return { ...defaultRunOptions(), cpus, durationMs: DURATION_MS, seed: 1, ...over };
}

/**
 * runStress(machine, ), but a run that rejects with an InternalError fails the test with the machine's
 * per-CPU state dump in the message (vitest does not always show the error's `dump` field).
 */
async function run(machine: Machine, opts: RunOptions): Promise<RunResult> {
  try {
    return await runStress(machine, opts);
  } catch (e) {
    if (e instanceof InternalError) throw new Error(`run() rejected: InternalError: ${e.message}\n${e.dump ?? ''}`);
    throw e;
  }
}

/** Per-CPU stats exist for every CPU, in order, with every counter a finite non-negative number. */
function expectStatsForEveryCpu(result: RunResult, cpus: number): void {
  expect(result.perCpu.map((c) => c.cpu)).toEqual(Array.from({ length: cpus }, (_, i) => i));
  for (const stats of result.perCpu) {
    for (const name of COUNTER_NAMES) {
      expect(Number.isFinite(stats[name]), `cpu${stats.cpu} ${name}`).toBe(true);
      expect(stats[name], `cpu${stats.cpu} ${name}`).toBeGreaterThanOrEqual(0);
    }
  }
}

/** ok is exactly "no violations", and a run that did not drain says so with a dump. */
function expectSelfConsistent(result: RunResult): void {
  expect(result.ok).toBe(result.violations.length === 0);
  if (!result.drained) {
    expect(result.violations.map((v) => v.check)).toContain('liveness');
    expect(result.dump).toMatch(/cpu0:/);
  }
}

function expectCleanMergedRun(result: RunResult, cpus: number): void {
  expect(result.drained).toBe(true);
  expect(result.dump).toBeUndefined();
  expect(result.violations).toEqual([]);
  expect(result.ok).toBe(true);
  expect(result.totals.executed).toBeGreaterThan(0);
  expect(result.totals.claimed).toBe(result.totals.executed);
  // Every CPU ran the workload, not only some of them.
  for (const c of result.perCpu) expect(c.queueCalls, `cpu${c.cpu} queueCalls`).toBeGreaterThan(0);
  expectStatsForEveryCpu(result, cpus);
}

function expectNonRtContexts(result: RunResult): void {
  const t = result.totals;
  expect(t.executed).toBeGreaterThan(0);
  expect(t.executedIrqWorkd).toBe(0);
  expect(t.irqWorkdWakeups).toBe(0);
  expect(t.executedOther).toBe(0);
  expect(t.executedHardirq).toBe(t.executed);
}

const scratch = mkdtempSync(join(tmpdir(), 'irqwork-machine-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe.each([2, 8])('a machine of %i CPUs', (cpus) => {
  let machine: Machine;
  beforeAll(() => {
    machine = Machine.start(cpus);
  });
  afterAll(async () => {
    await machine?.close();
  });

  describe('merged, PREEMPT_RT', () => {
    let result: RunResult;
    beforeAll(async () => {
      result = await run(machine, options(cpus, { preemptRt: true, variant: 'merged' }));
    });

    it('finishes, drains every list, and executes every claimed work exactly once', () => {
      expectCleanMergedRun(result, cpus);
    });

    it('runs non-hard work in irq_workd (woken) and never outside hardirq / irq_workd', () => {
      const t = result.totals;
      expect(t.executedIrqWorkd).toBeGreaterThan(0);
      expect(t.irqWorkdWakeups).toBeGreaterThan(0);
      expect(t.executedHardirq).toBeGreaterThan(0); // the HARD_IRQ works of `mixed`
      expect(t.executedOther).toBe(0);
    });
  });

  describe('merged, non-RT', () => {
    let result: RunResult;
    beforeAll(async () => {
      result = await run(machine, options(cpus, { preemptRt: false, variant: 'merged' }));
    });

    it('finishes, drains every list, and executes every claimed work exactly once', () => {
      expectCleanMergedRun(result, cpus);
    });

    it('runs everything in hardirq: no irq_workd execution, no irq_workd wakeup', () => {
      expectNonRtContexts(result);
    });
  });

  describe('v2, non-RT', () => {
    let result: RunResult;
    beforeAll(async () => {
      result = await run(machine, options(cpus, { preemptRt: false, variant: 'v2' }));
    });

    it('finishes with per-CPU stats for every CPU', () => {
      expectStatsForEveryCpu(result, cpus);
      expectSelfConsistent(result);
    });

    it('runs everything in hardirq: no irq_workd execution, no irq_workd wakeup', () => {
      expectNonRtContexts(result);
    });

    it('drains and keeps claimed == executed (its changes only matter on RT)', () => {
      expect(result.drained).toBe(true);
      expect(result.totals.claimed).toBe(result.totals.executed);
      expect(result.violations).toEqual([]);
    });
  });

  describe('v2, PREEMPT_RT', () => {
    it('a mixed run finishes (resolves with a result) with per-CPU stats for every CPU', async () => {
      const result = await run(machine, options(cpus, { preemptRt: true, variant: 'v2', ...EXPECTED_NOT_TO_DRAIN }));
      expectStatsForEveryCpu(result, cpus);
      expectSelfConsistent(result);
    });

    // v2 puts one node on a remote lazy_list and on call_single_queue: lists get cycles, works are
    // lost, and a CPU can spin forever in hardirq over a cyclic list. That is a finding about the
    // kernel code (the real kernel would report a soft lockup), to be flagged in the result like a
    // list that never drains, not an InternalError of the harness.
    it('a remote run is flagged as a violation (accounting, liveness or context), not an internal failure', async () => {
      const result = await run(
        machine,
        options(cpus, { preemptRt: true, variant: 'v2', workload: PRESETS.remote!, ...EXPECTED_TO_FAIL }),
      );
      expect(result.ok).toBe(false);
      expect(result.violations.some((v) => FLAGGING_CHECKS.includes(v.check))).toBe(true);
      expectStatsForEveryCpu(result, cpus);
      expectSelfConsistent(result);
    });
  });

  if (cpus === 2) {
    it('refuses a run whose CPU count differs from the machine, and an unknown variant, as errors', async () => {
      await expect(runStress(machine, options(8))).rejects.toThrow(/machine has 2 CPUs, run asks for 8/);
      await expect(runStress(machine, options(cpus, { variant: 'nope' }))).rejects.toThrow(/unknown --variant "nope"/);
    });

    it('a CPU that throws rejects run() with an InternalError naming it; the same machine then runs cleanly', async () => {
      const failing = runStress(machine, options(cpus, { failCpu: { cpu: 1, afterMs: 100 }, ...EXPECTED_TO_FAIL }));
      const error = await failing.then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(InternalError);
      expect((error as InternalError).message).toMatch(/\bcpu1\b/);
      expect((error as InternalError).message).not.toMatch(/\bcpu0\b/);
      expect((error as InternalError).dump).toMatch(/cpu1:/);

      // The pool survived the failed task: the same workers run the next run to the end.
      expectCleanMergedRun(await run(machine, options(cpus)), cpus);
    });

    it('runs a JSON scenario workload: only LAZY works on RT run in irq_workd, no IPI to another CPU', async () => {
      const file = join(scratch, 'lazy-only.json');
      writeFileSync(file, JSON.stringify({ name: 'lazy-only', extends: 'local', works: { plain: 0, lazy: 2, hard: 0 } }));
      const workload = loadWorkload(file);
      const result = await run(machine, options(cpus, { preemptRt: true, workload }));

      expect(result.options.workload.name).toBe('lazy-only');
      expectCleanMergedRun(result, cpus);
      const t = result.totals;
      // `mixed` (the default) would have HARD_IRQ works and remote queues; this scenario has neither.
      expect(t.executedIrqWorkd).toBe(t.executed);
      expect(t.executedHardirq).toBe(0);
      // No self-IPI test: a LAZY work queued while the CPU's tick is stopped raises one, as the
      // kernel does (the timer that ends a workload sleep fires on the idle CPU); on RT it only
      // wakes irq_workd, so no callback runs in hardirq all the same.
      expect(t.ipisSent).toBe(0);
    });
  }
});
