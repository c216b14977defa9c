/**
 * The known-bug zoo (src/zoo/, `irqwork zoo`): the sync/free use-after-free of `merged` on RT is
 * found and `current` (91840be8f710) is clean with the same `sync-free` workload; the dying step
 * without the flush of call_single_queue (8d056c48e486) leaves remote works on a CPU that went
 * offline, found by `offline` as the case declares it; two overlapping executions of one work
 * let `current`'s irq_work_sync return while one still runs (found by the opt-in `sync-overlap`
 * check the case's workload asks for) and `busy-count` is clean in the same run; `irqwork zoo`,
 * run as a user runs it, reproduces every case within a bounded budget and shows every fixed
 * variant clean; and the latency case shows a plain work behind a LAZY one waiting longer.
 *
 * One 4-CPU machine for the in-process runs; the CLI child starts its own, so it runs alone (after
 * the machine's runs, never beside them). No assertion on a timing value.
 */
import { cli, expectUsageError, type Exit } from './support/cli.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { ALL_CHECKS, OPT_IN_CHECKS } from '../src/checks/index.js';
import { Machine } from '../src/machine/machine.js';
import { runStress, type RunResult } from '../src/stress/kind.js';
import { defaultRunOptions, type RunOptions } from '../src/stress/options.js';
import type { Violation } from '../src/stress/task.js';
import { findVariant } from '../src/variants/index.js';
import { PRESETS } from '../src/workload/spec.js';
import { raceOptions } from '../src/cli/race.js';
import { measureLazyBehind } from '../src/zoo/lazy-behind.js';
import { ZOO } from '../src/zoo/cases.js';

const CPUS = 4;
const CLEAN_BUDGET_MS = 8000;
const DETECT_BUDGET_MS = 10_000;
/** Far longer than `zoo --budget-per 4` needs (7 cases, 13 runs of at most 4 s plus drains). */
const ZOO_TIMEOUT_MS = 150_000;


function syncFreeRun(variant: string, durationMs: number, stopOnFirst: boolean, seed: number): RunOptions {
  return {
    ...defaultRunOptions(),
    cpus: CPUS,
    preemptRt: true,
    variant,
    workload: PRESETS['sync-free']!,
    durationMs,
    seed,
    drainMs: stopOnFirst ? 1000 : 2000,
    race: raceOptions(stopOnFirst),
  };
}

/** A race case of the catalogue, run as `irqwork zoo` runs it (src/cli/zoo.ts options). */
function caseRun(name: string, variant: string, durationMs: number, stopOnFirst: boolean, seed: number): RunOptions {
  const c = ZOO.find((z) => z.name === name);
  if (c?.kind !== 'race') throw new Error(`no race case ${name}`);
  return {
    ...defaultRunOptions(),
    cpus: CPUS,
    preemptRt: c.preemptRt,
    variant,
    workload: PRESETS[c.workload]!,
    durationMs,
    seed,
    drainMs: stopOnFirst ? 1000 : 2000,
    hotplug: c.hotplug,
    race: raceOptions(stopOnFirst),
  };
}

const summary = (vs: readonly Violation[]) => vs.map((v) => `${v.check} cpu${v.cpu} w${v.work} ${v.context}: ${v.message}`).join('\n');


let machine: Machine;
let currentClean: RunResult;
let mergedUaf: RunResult;
let offlineFlush: RunResult;
let overlapCurrent: RunResult;
let overlapFixed: RunResult;

beforeAll(async () => {
  machine = Machine.start(CPUS);
  try {
    mergedUaf = await runStress(machine, syncFreeRun('merged', DETECT_BUDGET_MS, true, 3));
    currentClean = await runStress(machine, syncFreeRun('current', CLEAN_BUDGET_MS, false, 3));
    offlineFlush = await runStress(machine, caseRun('ipi-offline-flush', 'no-dying-flush', DETECT_BUDGET_MS, true, 3));
    overlapCurrent = await runStress(machine, caseRun('overlap-busy-aba', 'current', DETECT_BUDGET_MS, true, 3));
    overlapFixed = await runStress(machine, caseRun('overlap-busy-aba', 'busy-count', CLEAN_BUDGET_MS, false, 3));
  } finally {
    await machine.close();
  }
}, 120_000);

describe('zoo: the sync/free use-after-free (91840be8f710)', () => {
  it('merged on RT with sync-free: a use-after-free finding on a pool work', () => {
    expect(mergedUaf.ok).toBe(false);
    const uaf = mergedUaf.violations.filter((v) => v.check === 'use-after-free');
    expect(uaf.length, summary(mergedUaf.violations)).toBeGreaterThan(0);
    for (const f of uaf) {
      expect(f.work).toBeGreaterThan(CPUS); // nodes 1..CPUS are the per-CPU wakeup works
      expect(f.message).toMatch(/freed/);
    }
    expect(mergedUaf.timeToFirstFindingMs).not.toBeNull();
  });

  it('current on RT with sync-free: clean under chaos and every check, drained, claimed == executed', () => {
    expect(currentClean.violations, summary(currentClean.violations)).toEqual([]);
    expect(currentClean.counts).toEqual({});
    expect(currentClean.ok).toBe(true);
    expect(currentClean.drained).toBe(true);
    expect(currentClean.totals.executed).toBeGreaterThan(0);
    expect(currentClean.totals.claimed).toBe(currentClean.totals.executed);
    // The workload really synced (and so freed): the fix was exercised, not just idle.
    expect(currentClean.totals.syncs).toBeGreaterThan(0);
    expect(currentClean.totals.executedIrqWorkd).toBeGreaterThan(0);
  });
});

describe('zoo: remote works left on a CPU that went offline (8d056c48e486)', () => {
  it('without the dying flush (non-RT, remote, hotplug): an offline finding naming the works and call_single_queue', () => {
    const c = ZOO.find((z) => z.name === 'ipi-offline-flush')!;
    expect(c).toMatchObject({ kind: 'race', variant: 'no-dying-flush', preemptRt: false, checks: ['offline'], fixed: 'merged' });
    expect(offlineFlush.ok).toBe(false);
    const found = offlineFlush.violations.filter((v) => v.check === 'offline');
    expect(found.length, summary(offlineFlush.violations)).toBeGreaterThan(0);
    for (const f of found) {
      expect(f.info).toBeUndefined();
      expect(f.cpu).toBeGreaterThan(0); // CPU0 never goes offline
      expect(f.work).toBeGreaterThan(CPUS); // a pool work: non-RT queues no wakeup work
      expect(f.message).toMatch(new RegExp(`^cpu${f.cpu} goes offline leaving work ${f.work}\\b.* on its call_single_queue: `));
      // The list's contents (a long list ends with how many more).
      expect(f.message).toMatch(/call_single_queue after the dying step: \[\d+(, \d+)*(, … \d+ more)?\]/);
    }
    // The dying step is the only thing missing: nothing else fired.
    expect(new Set(offlineFlush.violations.map((v) => v.check))).toEqual(new Set(['offline']));
  });
});

describe('zoo: overlapping executions, one BUSY bit (found with this model)', () => {
  it('current on RT, sync-overlap workload: irq_work_sync of a HARD_IRQ work returns while an execution is in progress', () => {
    const c = ZOO.find((z) => z.name === 'overlap-busy-aba')!;
    expect(c).toMatchObject({ kind: 'race', variant: 'current', preemptRt: true, workload: 'sync-overlap', checks: ['sync-overlap'], fixed: 'busy-count' });
    expect(PRESETS['sync-overlap']!.checks).toEqual(['sync-overlap']);
    expect(overlapCurrent.ok).toBe(false);
    const found = overlapCurrent.violations.filter((v) => v.check === 'sync-overlap');
    expect(found.length, summary(overlapCurrent.violations)).toBeGreaterThan(0);
    for (const f of found) {
      expect(f.work).toBeGreaterThan(CPUS); // a pool work, not a wakeup work
      expect(f.context).toBe('task'); // irq_work_sync runs in a task
      // The path current's grace period does not cover: the cpu_relax spin of a HARD_IRQ work.
      expect(f.message.startsWith(`irq_work_sync(work ${f.work}, HARD_IRQ) returned while the work was still in use: `), f.message).toBe(true);
    }
    // Nothing else is wrong: the default checks, sync included, stay silent (they are clean on current).
    expect(new Set(overlapCurrent.violations.map((v) => v.check))).toEqual(new Set(['sync-overlap']));
  });

  it('busy-count in the same run: clean under chaos and every check, sync-overlap included, drained, claimed == executed', () => {
    expect(overlapFixed.violations, summary(overlapFixed.violations)).toEqual([]);
    expect(overlapFixed.counts).toEqual({});
    expect(overlapFixed.ok).toBe(true);
    expect(overlapFixed.drained).toBe(true);
    expect(overlapFixed.totals.claimed).toBe(overlapFixed.totals.executed);
    expect(overlapFixed.totals.syncs).toBeGreaterThan(0);
    expect(overlapFixed.totals.executedHardirq).toBeGreaterThan(0);
  });
});

describe('zoo: the case catalogue', () => {
  it('declares every case with a reference, and race cases with known variants and checks', () => {
    const checks = new Set([...ALL_CHECKS, ...OPT_IN_CHECKS].map((c) => c.name));
    const names = ZOO.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(
      expect.arrayContaining([
        'v2-double-add',
        'sync-free-uaf',
        'busy-never-cleared',
        'stranded-lazy-hotplug',
        'ipi-offline-flush',
        'overlap-busy-aba',
        'lazy-blocks-plain',
      ]),
    );
    for (const c of ZOO) {
      expect(c.reference.length, c.name).toBeGreaterThan(0);
      if (c.kind !== 'race') continue;
      expect(() => findVariant(c.variant), c.name).not.toThrow();
      if (c.fixed !== null) expect(() => findVariant(c.fixed!), c.name).not.toThrow();
      expect(c.checks.length, c.name).toBeGreaterThan(0);
      for (const k of c.checks) expect(checks.has(k), `${c.name}: ${k}`).toBe(true);
    }
  });
});

describe('zoo: the latency case (plain work behind a LAZY one on RT)', () => {
  it('the plain work waits longer behind a LAZY work than alone', () => {
    const r = measureLazyBehind('merged', 40);
    expect(Number.isFinite(r.aloneP50Us), JSON.stringify(r)).toBe(true);
    expect(Number.isFinite(r.behindLazyP50Us), JSON.stringify(r)).toBe(true);
    expect(r.behindLazyP50Us, JSON.stringify(r)).toBeGreaterThan(r.aloneP50Us);
  });
});

describe('irqwork zoo --cpus 1 (the CLI)', () => {
  it("is bad usage before anything runs: exit 2, one line, the zoo's remote cases need 2 CPUs", async () => {
    // A budget that a run could not finish within the child's timeout: exit 2 proves nothing ran.
    const exit = await cli(['zoo', '--cpus', '1', '--budget-per', '600']);
    expectUsageError(exit, ['--cpus', "the zoo's remote cases need at least 2 CPUs"]);
  });
});

describe('irqwork zoo --json (the CLI, as a user runs it)', () => {
  let exit: Exit;
  beforeAll(async () => {
    exit = await cli(['zoo', '--budget-per', '4', '--json', '--seed', '3'], ZOO_TIMEOUT_MS);
  }, ZOO_TIMEOUT_MS + 10_000);

  it('exits 0 with one JSON object', () => {
    expect(exit.signal, exit.stderr).toBeNull();
    expect(exit.code, exit.stderr + exit.stdout).toBe(0);
    const out = JSON.parse(exit.stdout);
    expect(out.command).toBe('zoo');
    expect(out.ok).toBe(true);
    expect(out.config).toMatchObject({ cpus: 4, budgetPerS: 4, seed: 3 });
  });

  it('lists every case of the catalogue with case, reference, reproduced, timeMs and fixedClean', () => {
    const { cases } = JSON.parse(exit.stdout) as { cases: Array<Record<string, unknown>> };
    expect(cases.map((c) => c.case)).toEqual(ZOO.map((c) => c.name));
    for (const c of cases) {
      for (const field of ['case', 'reference', 'reproduced', 'timeMs', 'fixedClean']) expect(c, `${c.case}: ${field}`).toHaveProperty(field);
      expect(typeof c.reference, String(c.case)).toBe('string');
    }
  });

  it('reproduces every case within the budget, and every fixed variant comes out clean', () => {
    const { cases } = JSON.parse(exit.stdout) as {
      cases: Array<{ case: string; reproduced: boolean; timeMs: number | null; fixedClean: boolean | null; detail: string }>;
    };
    for (const c of cases) {
      expect(c.reproduced, `${c.case}: ${c.detail}`).toBe(true);
      expect(typeof c.timeMs, c.case).toBe('number');
      expect([true, null], `${c.case}: ${c.detail}`).toContain(c.fixedClean);
      const declared = ZOO.find((z) => z.name === c.case)!;
      // A case with an upstream fix has its fixed variant run (true/false); one without has none.
      expect(c.fixedClean === null, c.case).toBe(declared.fixed === null);
    }
  });
});
