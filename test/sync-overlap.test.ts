/**
 * Overlapping executions of one work and irq_work_sync (the zoo's overlap-busy-aba), driven
 * through an exact interleaving in the single-thread harness, with the sync-overlap check and
 * the sync check on every CPU.
 *
 * The script: CPU1 runs an execution of work w (Y, the older one). While Y's callback runs,
 * CPU0 queues w again — PENDING is clear, so the claim succeeds — and runs that execution (Z, the
 * newer one) to its end; Z's compare-exchange finds the flag word at its own value and clears
 * BUSY. Then CPU2 calls irq_work_sync(w). Where it returns, it returns while Y's callback still
 * runs.
 *
 * One thread runs every CPU, so executions can only nest: the newer one runs inside the older
 * one's callback and ends first. The other order of the same overlap — the older execution's
 * compare-exchange clears BUSY while the newer one's callback runs, because the newer one has
 * cleared PENDING and the word has the older one's value again (the ABA) — needs the older
 * execution to stop half-way, which one stack cannot do; the race runs of the zoo case show it
 * (README, the zoo). Both are one bug: BUSY is one bit for two executions.
 *
 * A sync that does not return while Y runs is seen as the harness's own verdict: nothing else
 * can progress (Y's CPU is below us on the stack), so the harness reports that the spinning or
 * sleeping CPU would wait forever. That verdict is the expected outcome where the sync is right.
 */
import { describe, expect, it } from 'vitest';
import { shadowHooks } from '../src/checks/shadow.js';
import { sync } from '../src/checks/sync.js';
import { syncOverlap } from '../src/checks/sync-overlap.js';
import { OPT_IN_CHECKS, optInChecks } from '../src/checks/index.js';
import { Harness } from '../src/harness/single-thread.js';
import { IRQ_WORK_BUSY, IRQ_WORK_HARD_IRQ, IRQ_WORK_PENDING } from '../src/kernel/flags.js';
import { combineHooks } from '../src/kernel/hooks.js';
import { FUNC_FIRST_USER } from '../src/kernel/memory.js';
import { IRQ_WORK_RUNNING_MASK } from '../src/variants/busy-count.js';
import { PRESETS, parseScenario } from '../src/workload/spec.js';

/** A callback of these tests only: runs the script set for its CPU, once, inside the callback. */
const FUNC_SCRIPTED = FUNC_FIRST_USER + 11;

interface Finding {
  check: string;
  cpu: number;
  work: number;
  message: string;
}

/** Three CPUs with the execution shadow, the sync and sync-overlap checks, and the scripted callback. */
function rig(variant: string, preemptRt: boolean) {
  const findings: Finding[] = [];
  const events: string[] = [];
  const h = new Harness({
    cpus: 3,
    preemptRt,
    variant,
    hooks: (cpu, mem) => {
      const id = cpu.id;
      const report = (check: string, work: number, message: string) => findings.push({ check, cpu: id, work, message });
      return combineHooks([
        shadowHooks(mem),
        sync.hooks({ mem, cpu, report }),
        syncOverlap.hooks({ mem, cpu, report }),
        {
          singleClearBusy: (c, w) => events.push(`cpu${c} w${w} reaches its BUSY clear`),
          syncEnd: (c, w) => events.push(`cpu${c} irq_work_sync(w${w}) returns`),
        },
      ]);
    },
  });
  const during: Array<(() => void) | undefined> = [];
  for (let id = 0; id < 3; id++) {
    h.k(id).registerFunc(FUNC_SCRIPTED, (_k, work) => {
      events.push(`cpu${id} w${work} callback starts`);
      const script = during[id];
      during[id] = undefined;
      script?.();
      events.push(`cpu${id} w${work} callback returns`);
    });
  }
  return { h, findings, events, during };
}

/** Let `cpu` take its latched IPIs and run irq_workd if that woke it. */
function serve(h: Harness, cpu: number): void {
  h.cpu(cpu).takeInterrupts();
  if (h.cpu(cpu).irqWorkdRunnable()) h.cpu(cpu).runIrqWorkd();
}

/** The harness's verdict on a CPU that would spin or sleep forever (nobody else can progress). */
const FOREVER = /spins forever|sleeps forever/;

interface Outcome {
  findings: Finding[];
  events: string[];
  /** The newer execution's claim succeeded while the older one's callback ran. */
  requeued: boolean;
  /** BUSY right after the newer execution ended (the older one's callback still running). */
  busyAfterNewer: boolean;
  /** irq_work_sync on CPU2 returned while the older execution's callback was still running. */
  syncReturnedDuringOlder: boolean;
  /** The flag word after both executions ended. */
  flagsAfter: number;
  /** A sync after both executions ended returned (on an idle work it must, at once). */
  syncAfterReturned: boolean;
  w: number;
}

function overlap(variant: string, preemptRt: boolean, hard: boolean): Outcome {
  const { h, findings, events, during } = rig(variant, preemptRt);
  const w = h.newWork({ flags: hard ? IRQ_WORK_HARD_IRQ : 0, func: FUNC_SCRIPTED });
  let requeued = false;
  let busyAfterNewer = false;
  let syncReturnedDuringOlder = false;
  during[1] = () => {
    // Y's callback runs on CPU1; PENDING is clear, so CPU0 can claim the work again.
    requeued = h.k(0).irqWorkQueue(w);
    serve(h, 0); // Z, the newer execution, runs on CPU0 from start to end
    busyAfterNewer = (h.flags(w) & IRQ_WORK_BUSY) !== 0;
    try {
      h.k(2).irqWorkSync(w);
      syncReturnedDuringOlder = true;
    } catch (e) {
      if (!FOREVER.test((e as Error).message)) throw e;
    }
  };
  h.k(1).irqWorkQueue(w); // Y: claimed on CPU1 …
  serve(h, 1); // … and run there (hardirq, or irq_workd for a plain work on RT)
  const flagsAfter = h.flags(w);
  let syncAfterReturned = false;
  h.k(2).irqWorkSync(w);
  syncAfterReturned = true;
  return { findings, events, requeued, busyAfterNewer, syncReturnedDuringOlder, flagsAfter, syncAfterReturned, w };
}

const named = (findings: readonly Finding[], check: string) => findings.filter((f) => f.check === check);

describe('overlapping executions: irq_work_sync returns while the older callback runs', () => {
  const early: Array<[variant: string, preemptRt: boolean, hard: boolean, path: string]> = [
    ['merged', false, false, 'non-RT, cpu_relax spin'],
    ['merged', true, true, 'RT, HARD_IRQ work, cpu_relax spin'],
    ['merged', true, false, 'RT, plain work, rcuwait sleep'],
    ['current', false, false, 'non-RT, cpu_relax spin (no grace period on this path)'],
    ['current', true, true, 'RT, HARD_IRQ work, cpu_relax spin (no grace period on this path)'],
  ];
  for (const [variant, preemptRt, hard, path] of early) {
    it(`${variant}, ${path}: the newer execution clears BUSY, the sync returns, sync-overlap fires and sync stays silent`, () => {
      const o = overlap(variant, preemptRt, hard);
      expect(o.requeued).toBe(true);
      expect(o.busyAfterNewer).toBe(false);
      expect(o.syncReturnedDuringOlder).toBe(true);
      expect(o.events).toEqual([
        `cpu1 w${o.w} callback starts`,
        `cpu0 w${o.w} callback starts`,
        `cpu0 w${o.w} callback returns`,
        `cpu0 w${o.w} reaches its BUSY clear`,
        `cpu2 irq_work_sync(w${o.w}) returns`, // while cpu1's callback still runs
        `cpu1 w${o.w} callback returns`,
        `cpu1 w${o.w} reaches its BUSY clear`,
        `cpu2 irq_work_sync(w${o.w}) returns`, // the sync after both ended
      ]);
      const found = named(o.findings, 'sync-overlap');
      expect(found, JSON.stringify(o.findings)).toHaveLength(1);
      expect(found[0]).toMatchObject({ cpu: 2, work: o.w });
      expect(found[0]!.message).toContain(`irq_work_sync(work ${o.w}${hard ? ', HARD_IRQ' : ''}) returned while the work was still in use`);
      expect(found[0]!.message).toContain('2 claims made before the sync began, only 1 executions past their BUSY clear when it returned');
      // The sync check stays silent when executions overlap: that is its documented scope.
      expect(named(o.findings, 'sync')).toEqual([]);
      // The older execution's compare-exchange found BUSY already gone and changed nothing.
      expect(o.flagsAfter & (IRQ_WORK_PENDING | IRQ_WORK_BUSY)).toBe(0);
    });
  }

  it("current, RT, plain work: the rcuwait returns, but current's grace period waits for the older execution's RCU section", () => {
    const o = overlap('current', true, false);
    expect(o.requeued).toBe(true);
    expect(o.busyAfterNewer).toBe(false); // the ABA happened all the same …
    expect(o.syncReturnedDuringOlder).toBe(false); // … but synchronize_rcu() waits for irq_workd on CPU1
    expect(o.syncAfterReturned).toBe(true);
    expect(o.findings).toEqual([]);
  });
});

describe('busy-count (the fix): BUSY stays set while any execution is in progress', () => {
  const paths: Array<[preemptRt: boolean, hard: boolean, path: string]> = [
    [false, false, 'non-RT, cpu_relax spin'],
    [true, true, 'RT, HARD_IRQ work, cpu_relax spin'],
    [true, false, 'RT, plain work, rcuwait sleep'],
  ];
  for (const [preemptRt, hard, path] of paths) {
    it(`${path}: the newer execution leaves BUSY to the older one; the sync waits, and returns once both ended`, () => {
      const o = overlap('busy-count', preemptRt, hard);
      expect(o.requeued).toBe(true); // re-queueing during the callback still works
      expect(o.busyAfterNewer).toBe(true);
      expect(o.syncReturnedDuringOlder).toBe(false);
      expect(o.events).toEqual([
        `cpu1 w${o.w} callback starts`,
        `cpu0 w${o.w} callback starts`,
        `cpu0 w${o.w} callback returns`,
        `cpu0 w${o.w} reaches its BUSY clear`,
        `cpu1 w${o.w} callback returns`,
        `cpu1 w${o.w} reaches its BUSY clear`,
        `cpu2 irq_work_sync(w${o.w}) returns`,
      ]);
      // Idle again: no claim, no execution counted, BUSY clear.
      expect(o.flagsAfter & (IRQ_WORK_PENDING | IRQ_WORK_BUSY | IRQ_WORK_RUNNING_MASK)).toBe(0);
      expect(o.syncAfterReturned).toBe(true);
      expect(o.findings).toEqual([]);
    });
  }

  it('one execution at a time behaves as before, a re-queue from its own callback included', () => {
    const { h, findings, during } = rig('busy-count', true);
    const w = h.newWork({ func: FUNC_SCRIPTED });
    during[1] = () => expect(h.k(1).irqWorkQueue(w)).toBe(true);
    expect(h.k(0).irqWorkQueueOn(w, 1)).toBe(true);
    h.k(0).irqWorkSync(w); // sleeps while CPU1 runs both executions, one after the other
    expect(h.executedCount(w)).toBe(2);
    expect(h.flags(w) & (IRQ_WORK_PENDING | IRQ_WORK_BUSY | IRQ_WORK_RUNNING_MASK)).toBe(0);
    expect(findings).toEqual([]);
  });
});

describe('sync-overlap check: silent without overlap', () => {
  for (const [variant, preemptRt] of [['merged', false], ['merged', true], ['current', true]] as const) {
    it(`${variant}${preemptRt ? ' on RT' : ''}: syncs on an idle work, on a queued one, and on one that re-queues itself from its callback`, () => {
      const { h, findings, during } = rig(variant, preemptRt);
      const w = h.newWork({ func: FUNC_SCRIPTED });
      h.k(2).irqWorkSync(w); // idle: returns at once
      h.k(1).irqWorkQueue(w);
      h.k(2).irqWorkSync(w); // waits while the harness lets CPU1 run the work
      // A re-queue from the callback, on the callback's own CPU: the claim comes before the
      // BUSY clear, which then fails (PENDING is set again); BUSY stays until the second run.
      during[1] = () => h.k(1).irqWorkQueue(w);
      h.k(1).irqWorkQueue(w);
      h.k(2).irqWorkSync(w);
      expect(h.executedCount(w)).toBe(3);
      expect(h.flags(w) & (IRQ_WORK_PENDING | IRQ_WORK_BUSY)).toBe(0);
      expect(findings).toEqual([]);
    });
  }
});

describe('sync-overlap is opt-in: only a workload that asks for it runs it', () => {
  it('is not a default check, and the sync-overlap preset asks for it', () => {
    expect(OPT_IN_CHECKS.map((c) => c.name)).toEqual(['sync-overlap']);
    expect(optInChecks(undefined)).toEqual([]);
    expect(optInChecks(PRESETS.mixed!.checks)).toEqual([]);
    expect(optInChecks(PRESETS['sync-overlap']!.checks)).toEqual([syncOverlap]);
  });

  it('a scenario file may ask for it, inherits it from its parent, and names a bad entry', () => {
    expect(parseScenario({ checks: ['sync-overlap'] }, 's.json').checks).toEqual(['sync-overlap']);
    expect(parseScenario({ extends: 'sync-overlap', works: { plain: 2 } }, 's.json').checks).toEqual(['sync-overlap']);
    expect(parseScenario({ extends: 'mixed' }, 's.json')).not.toHaveProperty('checks');
    expect(() => parseScenario({ checks: ['sync'] }, 's.json')).toThrow(/checks.*opt-in checks: sync-overlap/);
    expect(() => parseScenario({ checks: 'sync-overlap' }, 's.json')).toThrow(/checks/);
  });
});
