/**
 * Hung tasks, the model's khungtaskd. First the scanner's verdicts on a hand-made memory (every
 * word set by the test, so each rule is seen alone): a task asleep in irq_work_sync whose
 * condition already holds with nobody left to wake it, or asleep too long, measured in its own
 * CPU's ticks — taken, or slept through with the tick stopped. Then the kernel's hooks in the
 * single-thread harness, and the machine: the sync-never-woken mutant's run ends as a liveness
 * finding, never as an internal failure, and a correct variant's sleepers are all woken.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShadowView, shadowRegion, S_INFLIGHT } from '../src/checks/shadow-layout.js';
import { raceOptions } from '../src/cli/race.js';
import { CTX_IDLE, CTX_TASK } from '../src/cpu/sim-cpu.js';
import { InternalError } from '../src/errors.js';
import { Harness } from '../src/harness/single-thread.js';
import { TASK_KIND_IRQWORKD, TASK_KIND_WORKLOAD, TASK_RUNNING, TASK_UNINTERRUPTIBLE } from '../src/kernel/cpu.js';
import { IRQ_WORK_BUSY } from '../src/kernel/flags.js';
import type { KernelHooks } from '../src/kernel/hooks.js';
import {
  CPU_CONTEXT,
  CPU_IDLE_POLLING,
  CPU_IPI_PENDING,
  CPU_IRQWORKD_STATE,
  CPU_TASK_STATE,
  CPU_TICKS,
  CPU_TICK_STOPPED,
  IPI_CALL_FUNCTION_SINGLE,
  W_FLAGS,
} from '../src/kernel/layout.js';
import { KernelMemory } from '../src/kernel/memory.js';
import { Machine } from '../src/machine/machine.js';
import { HUNG_TASK_REGION, hungTaskHooks, hungTaskRegion, HungTaskScanner, type HungTaskLimits } from '../src/race/hung-task.js';
import { LivenessScanner } from '../src/race/liveness.js';
import { runStress, type RunResult } from '../src/stress/kind.js';
import { defaultRunOptions, type RunOptions } from '../src/stress/options.js';
import type { Violation } from '../src/stress/task.js';
import { PRESETS } from '../src/workload/spec.js';

const LIMITS: HungTaskLimits = { wakeTicks: 5, hungTicks: 50 };
const NR_WORKS = 4;

/** A memory with the shadow and hung-task regions, CPUs busy in task context until a test says otherwise. */
class World {
  readonly mem: KernelMemory;
  readonly shadow: ShadowView;
  readonly work: number;

  constructor(readonly cpus = 2) {
    this.mem = KernelMemory.create({ nrCpus: cpus, nrWorks: NR_WORKS, preemptRt: true, hz: 1000 }, [
      shadowRegion({ nrCpus: cpus, nrWorks: NR_WORKS }),
      hungTaskRegion(cpus),
    ]);
    this.shadow = new ShadowView(this.mem);
    this.work = this.mem.poolWork(0);
    for (let cpu = 0; cpu < cpus; cpu++) this.set(cpu, CPU_CONTEXT, CTX_TASK);
  }

  scanner(): HungTaskScanner {
    return new HungTaskScanner(this.mem, this.shadow, LIMITS);
  }

  private set(cpu: number, off: number, value: number): void {
    Atomics.store(this.mem.i32, this.mem.cpuBase(cpu) + off, value);
  }

  /** The hooks of `cpu` with `kind` running, as the kernel calls them. */
  hooks(cpu: number, kind = TASK_KIND_WORKLOAD): Partial<KernelHooks> {
    return hungTaskHooks(this.mem, { id: cpu, currentTask: () => ({ cpu, kind }) });
  }

  /** `cpu`'s task goes to sleep in irq_work_sync(work) as rcuwait_wait_event does it, and its CPU idles. */
  sleep(cpu: number, kind = TASK_KIND_WORKLOAD, work = this.work): void {
    this.set(cpu, kind === TASK_KIND_IRQWORKD ? CPU_IRQWORKD_STATE : CPU_TASK_STATE, TASK_UNINTERRUPTIBLE);
    this.hooks(cpu, kind).rcuwaitSleep!(cpu, work);
    this.set(cpu, CPU_CONTEXT, CTX_IDLE);
  }

  /** wake_up_process(): the waker sets the state; the task still has to run to leave idle. */
  wake(cpu: number): void {
    this.set(cpu, CPU_TASK_STATE, TASK_RUNNING);
  }

  context(cpu: number, ctx: number): void {
    this.set(cpu, CPU_CONTEXT, ctx);
  }

  busy(on: boolean, work = this.work): void {
    Atomics.store(this.mem.i32, this.mem.node(work) + W_FLAGS, on ? IRQ_WORK_BUSY : 0);
  }

  inflight(n: number, work = this.work): void {
    Atomics.store(this.mem.i32, this.shadow.word(work, S_INFLIGHT), n);
  }

  ticks(cpu: number, n: number): void {
    Atomics.add(this.mem.i32, this.mem.cpuBase(cpu) + CPU_TICKS, n);
  }

  /** NO_HZ idle: waiting on the pending-IPI word with the tick stopped and nothing latched. */
  tickless(cpu: number, ipiPending = 0): void {
    this.set(cpu, CPU_IDLE_POLLING, 1);
    this.set(cpu, CPU_TICK_STOPPED, 1);
    this.set(cpu, CPU_IPI_PENDING, ipiPending);
  }

  seqWord(cpu: number, kind = TASK_KIND_WORKLOAD): number {
    return this.mem.layout.extra[HUNG_TASK_REGION]!.base + cpu * 16 + kind * 4;
  }
}

describe('HungTaskScanner: a task asleep in irq_work_sync', () => {
  it('is reported once its CPU took wakeTicks ticks after its condition was seen to hold with no execution in flight', () => {
    const w = new World();
    const scanner = w.scanner();
    w.ticks(1, 7);
    w.busy(true);
    w.sleep(1);
    expect(scanner.scan(0)).toEqual([]);
    // The executor clears BUSY and leaves irq_work_single without waking anyone.
    w.busy(false);
    w.inflight(0);
    expect(scanner.scan(1)).toEqual([]);
    for (let t = 1; t < LIMITS.wakeTicks; t++) {
      w.ticks(1, 1);
      expect(scanner.scan(1 + t), `${t} ticks later`).toEqual([]);
    }
    w.ticks(1, 1);
    const found = scanner.scan(100);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ cpu: 1, kind: TASK_KIND_WORKLOAD, work: w.work });
    expect(found[0]!.message).toContain(`cpu1's task blocked in irq_work_sync(work ${w.work})`);
    expect(found[0]!.message).toContain('TASK_UNINTERRUPTIBLE since tick 7 of cpu1');
    expect(found[0]!.message).toContain('the condition it waits for already holds');
    expect(found[0]!.message).toContain('nobody is left to wake it');
    // One report per sleep.
    w.ticks(1, 100);
    expect(scanner.scan(200)).toEqual([]);
  });

  it('counts the time its CPU sleeps with the tick stopped and no IPI latched as its own ticks (NO_HZ)', () => {
    const w = new World();
    const scanner = w.scanner();
    w.busy(false);
    w.sleep(1);
    w.tickless(1);
    // No tick at all: 1 ms of tickless sleep is one tick of its own at HZ 1000.
    expect(scanner.scan(1000)).toEqual([]);
    expect(scanner.scan(1000 + LIMITS.wakeTicks - 1)).toEqual([]);
    const found = scanner.scan(1000 + LIMITS.wakeTicks);
    expect(found).toHaveLength(1);
    expect(found[0]!.message).toContain(`${LIMITS.wakeTicks} ticks of its own`);
  });

  it('does not count wall time while its CPU has an IPI latched (the OS, not the CPU, is late) or its tick running', () => {
    const w = new World();
    const scanner = w.scanner();
    w.busy(false);
    w.sleep(1);
    w.tickless(1, IPI_CALL_FUNCTION_SINGLE);
    for (let ms = 0; ms <= 10 * LIMITS.hungTicks; ms += 10) expect(scanner.scan(ms), `${ms} ms, IPI latched`).toEqual([]);
    // Tick running: only ticks it takes count.
    Atomics.store(w.mem.i32, w.mem.cpuBase(1) + CPU_TICK_STOPPED, 0);
    Atomics.store(w.mem.i32, w.mem.cpuBase(1) + CPU_IPI_PENDING, 0);
    for (let ms = 0; ms <= 10 * LIMITS.hungTicks; ms += 10) expect(scanner.scan(10_000 + ms), `${ms} ms, tick running`).toEqual([]);
    w.ticks(1, LIMITS.wakeTicks);
    expect(scanner.scan(20_000)).toHaveLength(1);
  });

  it('stays silent between the executor clearing BUSY and its wake-up (an execution is in flight), then once woken', () => {
    const w = new World();
    const scanner = w.scanner();
    w.busy(true);
    w.sleep(1);
    w.busy(false);
    w.inflight(1); // between irq_work_single's BUSY clear and its rcuwait_wake_up
    for (let t = 0; t < LIMITS.hungTicks - 1; t++) {
      w.ticks(1, 1);
      expect(scanner.scan(t), `tick ${t}`).toEqual([]);
    }
    w.wake(1);
    w.inflight(0);
    w.ticks(1, 10 * LIMITS.hungTicks);
    expect(scanner.scan(1000)).toEqual([]);
  });

  it('stays silent while its CPU is not in its idle loop: a woken task about to end its wait is still in D for an instant', () => {
    const w = new World();
    const scanner = w.scanner();
    w.busy(false);
    w.sleep(1);
    w.context(1, CTX_TASK);
    expect(scanner.scan(0)).toEqual([]);
    w.ticks(1, 10 * LIMITS.hungTicks);
    expect(scanner.scan(1)).toEqual([]);
    // The same sleep, its CPU back in idle: really asleep, and long past both limits.
    w.context(1, CTX_IDLE);
    expect(scanner.scan(2)).toHaveLength(1);
  });

  it('starts the clock over for each sleep: a task woken and asleep again on a BUSY work is a new sleep', () => {
    const w = new World();
    const scanner = w.scanner();
    w.busy(false);
    w.sleep(1);
    expect(scanner.scan(0)).toEqual([]); // the condition holds: this sleep's clock runs
    w.ticks(1, LIMITS.wakeTicks - 1);
    expect(scanner.scan(1)).toEqual([]);
    // Woken (the executor's rcuwait_wake_up), the work re-queued: the task finds it BUSY and sleeps again.
    w.wake(1);
    w.busy(true);
    w.sleep(1);
    w.ticks(1, LIMITS.wakeTicks);
    expect(scanner.scan(2)).toEqual([]);
  });

  it('reports a sleep that lasts hungTicks whatever it waits for, saying the work is still BUSY', () => {
    const w = new World();
    const scanner = w.scanner();
    w.busy(true);
    w.sleep(0);
    expect(scanner.scan(0)).toEqual([]);
    w.ticks(0, LIMITS.hungTicks - 1);
    expect(scanner.scan(1)).toEqual([]);
    w.ticks(0, 1);
    const found = scanner.scan(2);
    expect(found).toHaveLength(1);
    expect(found[0]!.message).toContain(`cpu0's task blocked in irq_work_sync(work ${w.work})`);
    expect(found[0]!.message).toContain(`${LIMITS.hungTicks} ticks of its own (limit ${LIMITS.hungTicks})`);
    expect(found[0]!.message).toContain(`work ${w.work} is still BUSY`);
  });

  it('names irq_workd when it is the task asleep, and ignores a task that is not in D or has ended its wait', () => {
    const w = new World();
    const scanner = w.scanner();
    w.busy(false);
    w.sleep(1, TASK_KIND_IRQWORKD);
    w.ticks(1, LIMITS.hungTicks);
    const found = scanner.scan(0);
    expect(found.map((f) => [f.cpu, f.kind])).toEqual([[1, TASK_KIND_IRQWORKD]]);
    expect(found[0]!.message).toContain(`cpu1's irq_work/1 blocked in irq_work_sync(work ${w.work})`);

    // Not in D (TASK_INTERRUPTIBLE is not a hung task), and a wait that ended (rcuwaitDone).
    const v = new World();
    const quiet = v.scanner();
    v.busy(false);
    v.sleep(0);
    Atomics.store(v.mem.i32, v.mem.cpuBase(0) + CPU_TASK_STATE, 1);
    v.ticks(0, 10 * LIMITS.hungTicks);
    expect(quiet.scan(0)).toEqual([]);
    v.sleep(0);
    v.hooks(0).rcuwaitDone!(0, v.work);
    v.ticks(0, 10 * LIMITS.hungTicks);
    expect(quiet.scan(1)).toEqual([]);
  });

  it('skips a record its CPU is rewriting (odd sequence) and reads it at the next look', () => {
    const w = new World();
    const scanner = w.scanner();
    w.busy(false);
    w.sleep(1);
    w.ticks(1, LIMITS.hungTicks);
    Atomics.add(w.mem.i32, w.seqWord(1), 1);
    expect(scanner.scan(0)).toEqual([]);
    Atomics.add(w.mem.i32, w.seqWord(1), 1);
    expect(scanner.scan(1)).toHaveLength(1);
  });

  it('runs inside the liveness scanner, whose findings say they are hung tasks', () => {
    const w = new World();
    const liveness = new LivenessScanner(w.mem, { pendingTicks: 200, idlePendingMs: 300, stuckBusyScans: 3, hungTask: LIMITS });
    w.busy(false);
    w.sleep(1);
    expect(liveness.scan(0)).toEqual([]);
    w.ticks(1, LIMITS.wakeTicks);
    expect(liveness.scan(1)).toEqual([expect.objectContaining({ cpu: 1, work: w.work, hungTask: true })]);
  });
});

describe('the kernel reports the sleeps of irq_work_sync', () => {
  it('calls rcuwaitSleep before each schedule() of a sync that finds the work BUSY, and rcuwaitDone when it returns', () => {
    const calls: string[] = [];
    const h = new Harness({
      cpus: 2,
      preemptRt: true,
      hooks: (cpu) => ({
        rcuwaitSleep: (c, work) => calls.push(`sleep cpu${c} w${work} ${cpu.contextName()}`),
        rcuwaitDone: (c, work) => calls.push(`done cpu${c} w${work}`),
      }),
    });
    const w = h.newWork();
    h.k(0).irqWorkQueueOn(w, 1);
    h.k(0).irqWorkSync(w);
    expect(h.ranOn(w)).toHaveLength(1);
    expect(calls).toEqual([`sleep cpu0 w${w} task`, `done cpu0 w${w}`]);
    // A sync of an idle work does not sleep.
    calls.length = 0;
    h.k(0).irqWorkSync(w);
    expect(calls).toEqual([`done cpu0 w${w}`]);
  });
});

// ── the machine ───────────────────────────────────────────────────────────────

const CPUS = 4;
/** Runs expected to end with hung tasks: a short drain, and a soft lockup called quickly. */
const EXPECTED_TO_FAIL = { drainMs: 500, stallMs: 1500 };

function options(over: Partial<RunOptions>): RunOptions {
  return { ...defaultRunOptions(), cpus: CPUS, preemptRt: true, seed: 3, durationMs: 800, ...over };
}

/** runStress, but an InternalError fails the test with its message and dump (the thing this file rules out). */
async function run(opts: RunOptions): Promise<RunResult> {
  try {
    return await runStress(machine, opts);
  } catch (e) {
    if (e instanceof InternalError) throw new Error(`run() rejected: InternalError: ${e.message}\n${e.dump ?? ''}`);
    throw e;
  }
}

const summary = (vs: readonly Violation[]) => vs.map((v) => `${v.check} cpu${v.cpu} w${v.work}: ${v.message}`).join('\n');

let machine: Machine;
beforeAll(() => {
  machine = Machine.start(CPUS);
});
afterAll(async () => {
  await machine?.close();
});

describe('the machine: a sleeper never woken is a finding, not an internal failure', () => {
  it('a race run of sync-never-woken reports the hung task (what it waits for, since when, its history), then the one left at the end', async () => {
    const r = await run(options({ variant: 'sync-never-woken', durationMs: 5000, ...EXPECTED_TO_FAIL, race: raceOptions(true) }));
    expect(r.ok).toBe(false);
    const live = r.violations.filter((v) => v.check === 'liveness');
    const during = live.find((v) => /irq_work_sync\(work \d+\)/.test(v.message));
    expect(during, summary(r.violations)).toBeDefined();
    expect(during!.message).toMatch(/^hung task: cpu\d+'s task blocked in irq_work_sync\(work (\d+)\), TASK_UNINTERRUPTIBLE since tick \d+/);
    expect(during!.message).toMatch(/already holds|still BUSY/);
    // Its trace: the CPU's own events from its sync of that work on, then the state dump.
    const work = during!.work;
    expect(during!.trace!.join('\n')).toMatch(new RegExp(`cpu${during!.cpu} task\\s+syncStart\\s+w${work}\\b`));
    expect(during!.trace!.join('\n')).toMatch(new RegExp(`cpu${during!.cpu}: .*task=sleeping \\(D\\)`));
    // The run ended with that task still asleep: reported too, and its CPU came home (no InternalError).
    const atEnd = live.filter((v) => v.message.startsWith('hung task at the end of the run'));
    expect(atEnd.map((v) => v.cpu), summary(r.violations)).toContain(during!.cpu);
    expect(r.dump).toMatch(/task=sleeping \(D\)/);
  });

  it('a stress run of sync-never-woken without the scanner ends with hung tasks as liveness findings, after STOP', async () => {
    const r = await run(options({ variant: 'sync-never-woken', ...EXPECTED_TO_FAIL }));
    expect(r.ok).toBe(false);
    expect(r.drained).toBe(true);
    const atEnd = r.violations.filter((v) => v.check === 'liveness' && v.message.startsWith('hung task at the end of the run'));
    expect(atEnd.length, summary(r.violations)).toBeGreaterThan(0);
    for (const v of atEnd) {
      expect(v.message).toMatch(/^hung task at the end of the run: cpu\d+'s task blocked in TASK_UNINTERRUPTIBLE \(D\)/);
      expect(v.message).toContain('nobody is left to wake it');
    }
    // Every violation is one of those: the accounting still balances.
    expect(r.violations.filter((v) => !atEnd.includes(v)), summary(r.violations)).toEqual([]);
    expect(r.dump).toMatch(/task=sleeping \(D\)/);
  });

  it('the same machine then runs merged cleanly, sync-heavy under every check: every sleeper is woken, no hung task', async () => {
    const local = PRESETS.local!;
    const workload = { ...local, name: 'sync-heavy', weights: { ...local.weights, sync: 6 } };
    const r = await run(options({ variant: 'merged', workload, durationMs: 1500, race: raceOptions(false) }));
    expect(r.violations, summary(r.violations)).toEqual([]);
    expect(r.totals.syncs).toBeGreaterThan(0);
    expect(r.ok).toBe(true);
  });
});
