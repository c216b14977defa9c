/**
 * The RCU model (kernel/rcu.ts, the read side in cpu/sim-cpu.ts), the rcu check, and the RCU half
 * of the `current` variant (91840be8f710), driven through exact interleavings in the
 * single-thread harness.
 *
 * The harness treats `cpu_relax` as "let the other CPUs progress" and runs no script there, so a
 * test that must act while synchronize_rcu() spins wraps the spinning CPU's interrupt point
 * (`onRelax`): the action runs at the n-th cpu_relax, before the harness's own spin handling.
 */
import { describe, expect, it } from 'vitest';
import { rcu } from '../src/checks/rcu.js';
import { ShadowView } from '../src/checks/shadow-layout.js';
import { useAfterFree } from '../src/checks/use-after-free.js';
import { Harness, type HarnessOptions } from '../src/harness/single-thread.js';
import { IRQ_WORK_BUSY } from '../src/kernel/flags.js';
import { combineHooks, type KernelHooks } from '../src/kernel/hooks.js';
import { CPU_ONLINE, CPU_RCU_READER, CPU_RCU_READER_SEQ, H_RCU_SEQ, RCU_INSIDE } from '../src/kernel/layout.js';
import { FUNC_FIRST_USER } from '../src/kernel/memory.js';

/** A callback of these tests only (the workload's own ids are FUNC_FIRST_USER .. +2). */
const FUNC_SEE_NESTING = FUNC_FIRST_USER + 10;

interface Finding {
  check: string;
  cpu: number;
  work: number;
  message: string;
}

interface Rig {
  h: Harness;
  /** What happened, in order: `gp-end cpuN`, `unlock cpuN`, … (tests push their own entries too). */
  events: string[];
  findings: Finding[];
  /** The rcu check's hooks on CPU `id`, to call gracePeriodEnd by hand. */
  rcuHooks: Array<Partial<KernelHooks>>;
  /** The work whose irq_work_single() CPU `id` entered last (its singleStart). */
  running: number[];
}

/** A harness whose every CPU runs the rcu and use-after-free checks and logs grace-period ends. */
function rig(opts: HarnessOptions = {}): Rig {
  const events: string[] = [];
  const findings: Finding[] = [];
  const rcuHooks: Array<Partial<KernelHooks>> = [];
  const running: number[] = [];
  // Built per CPU while the harness builds that CPU: the kernel's hooks are fixed from then on,
  // so whatever a test wants to observe later (the running work) is recorded here from the start.
  const h = new Harness({
    cpus: 2,
    preemptRt: true,
    ...opts,
    hooks: (cpu, mem) => {
      const id = cpu.id;
      const report = (check: string, work: number, message: string) => findings.push({ check, cpu: id, work, message });
      const env = { mem, cpu, report };
      rcuHooks[id] = rcu.hooks(env);
      return combineHooks([
        rcuHooks[id]!,
        useAfterFree.hooks(env),
        { gracePeriodEnd: (c) => events.push(`gp-end cpu${c}`), singleEnd: (c, w) => events.push(`single-end cpu${c} w${w}`) },
        { singleStart: (_c, work) => (running[id] = work) },
      ]);
    },
  });
  return { h, events, findings, rcuHooks, running };
}

/** Run `action(n)` at every cpu_relax of CPU `cpu` (n counts from 1), before the harness spins. */
function onRelax(h: Harness, cpu: number, action: (n: number) => void): { count: () => number } {
  let n = 0;
  h.every(cpu, 'cpu_relax', () => action(++n));
  return { count: () => n };
}

const word = (h: Harness, cpu: number, off: number) => Atomics.load(h.mem.i32, h.mem.cpuBase(cpu) + off);
/** 1 while `cpu` is inside an RCU reader (its reader word's bit 0), else 0. */
const inside = (h: Harness, cpu: number) => word(h, cpu, CPU_RCU_READER) & RCU_INSIDE;
/** How many outermost readers `cpu` has ended: the quiescent states synchronize_rcu waits for. */
const readersEnded = (h: Harness, cpu: number) => word(h, cpu, CPU_RCU_READER) >>> 1;

/** Pretend the owner kfree()d the work: poison it, as the sync-free workload does. */
function free(h: Harness, work: number): void {
  new ShadowView(h.mem).markFreed(work);
}

/** Let `cpu` take its latched IPIs and run irq_workd if that woke it. */
function serve(h: Harness, cpu: number): void {
  h.cpu(cpu).takeInterrupts();
  if (h.cpu(cpu).irqWorkdRunnable()) h.cpu(cpu).runIrqWorkd();
}

describe('rcu read side: who is a reader', () => {
  it('rcu_read_lock publishes "inside" and a sequence number; only the outermost unlock ends the reader, in one store', () => {
    const { h } = rig();
    const sim = h.cpu(1).cpu;
    const qs0 = readersEnded(h, 1);
    const seqBefore = Atomics.load(h.mem.i32, H_RCU_SEQ);
    sim.rcuReadLock();
    expect(inside(h, 1)).toBe(1);
    const readerSeq = word(h, 1, CPU_RCU_READER_SEQ);
    expect(readerSeq).toBe(seqBefore);
    const wordInside = word(h, 1, CPU_RCU_READER);
    sim.rcuReadLock();
    expect(word(h, 1, CPU_RCU_READER)).toBe(wordInside); // a nested lock publishes nothing
    expect(word(h, 1, CPU_RCU_READER_SEQ)).toBe(readerSeq); // and keeps the outer number
    sim.rcuReadUnlock();
    expect(word(h, 1, CPU_RCU_READER)).toBe(wordInside); // nor does a nested unlock
    sim.rcuReadUnlock();
    expect(inside(h, 1)).toBe(0);
    expect(readersEnded(h, 1)).toBe(qs0 + 1);
  });

  it('a hardirq is a reader: hardirqEnter sets the inside bit, hardirqExit ends the reader (a quiescent state)', () => {
    const { h } = rig();
    const sim = h.cpu(1).cpu;
    const qs0 = readersEnded(h, 1);
    const was = sim.hardirqEnter();
    expect(inside(h, 1)).toBe(1);
    expect(sim.contextName()).toBe('hardirq');
    sim.hardirqExit(was);
    expect(inside(h, 1)).toBe(0);
    expect(readersEnded(h, 1)).toBe(qs0 + 1);
  });

  it('an NMI is a reader too, and nests inside a hardirq without a quiescent state between', () => {
    const { h } = rig();
    const sim = h.cpu(1).cpu;
    const qs0 = readersEnded(h, 1);
    const irq = sim.hardirqEnter();
    const nmi = sim.nmiEnter();
    expect(inside(h, 1)).toBe(1);
    sim.nmiExit(nmi);
    expect(inside(h, 1)).toBe(1);
    expect(readersEnded(h, 1)).toBe(qs0);
    sim.hardirqExit(irq);
    expect(inside(h, 1)).toBe(0);
  });
});

describe('synchronize_rcu', () => {
  it('returns at once, without spinning, when no other CPU is inside a reader', () => {
    const { h, events } = rig();
    const relax = onRelax(h, 0, () => {});
    h.k(0).synchronizeRcu();
    expect(relax.count()).toBe(0);
    expect(events).toEqual(['gp-end cpu0']);
  });

  it("does not wait for the caller's own reader (it is in a quiescent state itself)", () => {
    const { h, events } = rig();
    const relax = onRelax(h, 0, () => {});
    h.cpu(0).cpu.rcuReadLock();
    h.k(0).synchronizeRcu();
    expect(relax.count()).toBe(0);
    expect(events).toEqual(['gp-end cpu0']);
  });

  it('waits while CPU1 is inside rcu_read_lock, and returns only after CPU1 unlocks', () => {
    const { h, events, findings } = rig();
    h.cpu(1).cpu.rcuReadLock();
    const relax = onRelax(h, 0, (n) => {
      // CPU1 is still inside when CPU0 spins; it leaves its reader at the third spin.
      expect(inside(h, 1)).toBe(1);
      expect(events).toEqual([]);
      if (n === 3) {
        h.cpu(1).cpu.rcuReadUnlock();
        events.push('unlock cpu1');
      }
    });
    h.k(0).synchronizeRcu();
    expect(relax.count()).toBe(3);
    expect(events).toEqual(['unlock cpu1', 'gp-end cpu0']);
    expect(findings).toEqual([]);
  });

  it('waits for the outermost unlock of a nested reader, not the inner one', () => {
    const { h, events, findings } = rig();
    const sim = h.cpu(1).cpu;
    sim.rcuReadLock();
    sim.rcuReadLock();
    const relax = onRelax(h, 0, (n) => {
      if (n === 2) {
        sim.rcuReadUnlock();
        events.push('inner unlock cpu1');
      }
      if (n === 5) {
        sim.rcuReadUnlock();
        events.push('outer unlock cpu1');
      }
    });
    h.k(0).synchronizeRcu();
    expect(relax.count()).toBe(5);
    expect(events).toEqual(['inner unlock cpu1', 'outer unlock cpu1', 'gp-end cpu0']);
    expect(findings).toEqual([]);
  });

  it('waits through a hardirq taken inside a reader: its exit is no quiescent state, the outer unlock is', () => {
    const { h, events, findings } = rig();
    const sim = h.cpu(1).cpu;
    sim.rcuReadLock();
    let irq = false;
    const relax = onRelax(h, 0, (n) => {
      if (n === 1) irq = sim.hardirqEnter();
      if (n === 2) {
        sim.hardirqExit(irq);
        events.push('hardirq exit cpu1');
      }
      if (n === 4) {
        sim.rcuReadUnlock();
        events.push('unlock cpu1');
      }
    });
    h.k(0).synchronizeRcu();
    expect(relax.count()).toBe(4);
    expect(events).toEqual(['hardirq exit cpu1', 'unlock cpu1', 'gp-end cpu0']);
    expect(findings).toEqual([]);
  });

  it('the reader word wraps at 2^31 and still says inside / outside: synchronize_rcu waits across the wrap', () => {
    const { h, events, findings } = rig();
    const sim = h.cpu(1).cpu;
    // 2^30 - 1 readers ended: the next lock publishes 2^31 - 1, its unlock wraps to -2^31.
    (sim as unknown as { rcuReadersEnded: number }).rcuReadersEnded = 2 ** 30 - 1;
    sim.rcuReadLock();
    expect(word(h, 1, CPU_RCU_READER)).toBe(0x7fffffff);
    sim.rcuReadUnlock();
    expect(word(h, 1, CPU_RCU_READER)).toBe(-0x80000000);
    expect(inside(h, 1)).toBe(0);
    sim.rcuReadLock();
    expect(inside(h, 1)).toBe(1);
    const relax = onRelax(h, 0, (n) => {
      if (n === 3) {
        sim.rcuReadUnlock();
        events.push('unlock cpu1');
      }
    });
    h.k(0).synchronizeRcu();
    expect(relax.count()).toBe(3);
    expect(events).toEqual(['unlock cpu1', 'gp-end cpu0']);
    expect(inside(h, 1)).toBe(0);
    expect(findings).toEqual([]);
  });

  it('waits while CPU1 is in a hardirq, and returns after hardirqExit', () => {
    const { h, events, findings } = rig();
    const sim = h.cpu(1).cpu;
    const was = sim.hardirqEnter();
    onRelax(h, 0, (n) => {
      expect(sim.inHardirq()).toBe(true);
      if (n === 2) {
        sim.hardirqExit(was);
        events.push('hardirq exit cpu1');
      }
    });
    h.k(0).synchronizeRcu();
    expect(events).toEqual(['hardirq exit cpu1', 'gp-end cpu0']);
    expect(findings).toEqual([]);
  });

  it('never returns while a reader that began before it stays inside (the harness calls that a hang)', () => {
    const { h, events } = rig();
    h.cpu(1).cpu.rcuReadLock();
    expect(() => h.k(0).synchronizeRcu()).toThrow(/cpu0 spins forever/);
    expect(events).toEqual([]);
  });

  it('does not wait for a reader that began after the grace period started, once the old one has ended', () => {
    const { h, events, findings } = rig({ cpus: 3 });
    const sim1 = h.cpu(1).cpu;
    sim1.rcuReadLock();
    onRelax(h, 0, (n) => {
      // CPU1 leaves its old reader and enters a new one at once: the quiescent state between
      // them is enough, the new reader is not waited for.
      if (n === 1) {
        sim1.rcuReadUnlock();
        sim1.rcuReadLock();
        events.push('new reader cpu1');
      }
    });
    h.k(0).synchronizeRcu();
    expect(events).toEqual(['new reader cpu1', 'gp-end cpu0']);
    expect(inside(h, 1)).toBe(1);
    expect(findings).toEqual([]);
  });

  it('stops waiting for a CPU that is offline', () => {
    const { h, events } = rig();
    h.cpu(1).cpu.rcuReadLock();
    onRelax(h, 0, (n) => {
      if (n === 2) Atomics.store(h.mem.i32, h.mem.cpuBase(1) + CPU_ONLINE, 0);
    });
    h.k(0).synchronizeRcu();
    expect(events).toEqual(['gp-end cpu0']);
  });
});

describe('rcu check', () => {
  it('fires when a grace period ends while a reader that began before it is still inside', () => {
    const { h, findings, rcuHooks } = rig();
    h.cpu(1).cpu.rcuReadLock();
    const readerSeq = word(h, 1, CPU_RCU_READER_SEQ);
    // A broken grace period: it starts after the reader and ends without waiting for it.
    const gpSeq = Atomics.add(h.mem.i32, H_RCU_SEQ, 1);
    expect(gpSeq).toBeGreaterThan(readerSeq);
    rcuHooks[0]!.gracePeriodEnd!(0, gpSeq);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ check: 'rcu', cpu: 0 });
    expect(findings[0]!.message).toContain(`grace period #${gpSeq}`);
    expect(findings[0]!.message).toContain(`cpu1's reader #${readerSeq}`);
  });

  it('fires for a hardirq reader the grace period did not wait for', () => {
    const { h, findings, rcuHooks } = rig();
    h.cpu(1).cpu.hardirqEnter();
    const gpSeq = Atomics.add(h.mem.i32, H_RCU_SEQ, 1);
    rcuHooks[0]!.gracePeriodEnd!(0, gpSeq);
    expect(findings.map((f) => f.check)).toEqual(['rcu']);
  });

  it('stays silent for a reader begun after the grace period started', () => {
    const { h, findings, rcuHooks } = rig();
    const gpSeq = Atomics.add(h.mem.i32, H_RCU_SEQ, 1);
    h.cpu(1).cpu.rcuReadLock();
    expect(word(h, 1, CPU_RCU_READER_SEQ)).toBeGreaterThan(gpSeq);
    rcuHooks[0]!.gracePeriodEnd!(0, gpSeq);
    expect(findings).toEqual([]);
  });

  it('stays silent for a CPU whose old reader ended (its stale number is not looked at)', () => {
    const { h, findings, rcuHooks } = rig();
    h.cpu(1).cpu.rcuReadLock();
    h.cpu(1).cpu.rcuReadUnlock();
    const gpSeq = Atomics.add(h.mem.i32, H_RCU_SEQ, 1);
    expect(word(h, 1, CPU_RCU_READER_SEQ)).toBeLessThan(gpSeq);
    rcuHooks[0]!.gracePeriodEnd!(0, gpSeq);
    expect(findings).toEqual([]);
  });

  it("stays silent for the grace period's own CPU being inside a reader", () => {
    const { h, findings, rcuHooks } = rig();
    h.cpu(0).cpu.rcuReadLock();
    const gpSeq = Atomics.add(h.mem.i32, H_RCU_SEQ, 1);
    rcuHooks[0]!.gracePeriodEnd!(0, gpSeq);
    expect(findings).toEqual([]);
  });

  it('fires through the real synchronize_rcu when it skips a reader (the CPU marked offline while inside)', () => {
    const { h, findings } = rig();
    h.cpu(1).cpu.rcuReadLock();
    Atomics.store(h.mem.i32, h.mem.cpuBase(1) + CPU_ONLINE, 0);
    h.k(0).synchronizeRcu();
    expect(findings.map((f) => f.check)).toEqual(['rcu']);
  });
});

/**
 * H_RCU_SEQ is an int32 that every reader (each hardirq, NMI and irq_workd run of `current`) and
 * every grace period increments: after 2^31 of them it wraps to -2^31, and the check's
 * `readerSeq < gpSeq` comparison inverts. These two tests start the sequence just below the wrap.
 */
describe('rcu check across the wrap of the int32 sequence (H_RCU_SEQ)', () => {
  it('stays silent for a reader begun after the grace period started, when the sequence wraps in between', () => {
    const { h, events, findings } = rig();
    Atomics.store(h.mem.i32, H_RCU_SEQ, 0x7ffffffe);
    const sim1 = h.cpu(1).cpu;
    sim1.rcuReadLock(); // takes 0x7ffffffe
    onRelax(h, 0, (n) => {
      if (n === 1) {
        // The old reader ends (the grace period may end now) and a new one begins: it takes
        // the number after the grace period's 0x7fffffff, which wraps to -2^31.
        sim1.rcuReadUnlock();
        sim1.rcuReadLock();
        events.push('new reader cpu1');
      }
    });
    h.k(0).synchronizeRcu(); // takes 0x7fffffff and waits for the old reader only: correct
    expect(events).toEqual(['new reader cpu1', 'gp-end cpu0']);
    expect(word(h, 1, CPU_RCU_READER_SEQ)).toBe(-0x80000000);
    expect(findings, 'false positive: the wrapped reader number compares as older than the grace period').toEqual([]);
  });

  it('fires for a reader begun before the grace period, when the sequence wraps in between', () => {
    const { h, findings, rcuHooks } = rig();
    Atomics.store(h.mem.i32, H_RCU_SEQ, 0x7ffffffe);
    h.cpu(1).cpu.rcuReadLock(); // takes 0x7ffffffe
    Atomics.add(h.mem.i32, H_RCU_SEQ, 1); // another CPU's reader takes 0x7fffffff
    const gpSeq = Atomics.add(h.mem.i32, H_RCU_SEQ, 1); // a broken grace period takes -2^31 …
    rcuHooks[0]!.gracePeriodEnd!(0, gpSeq); // … and ends with cpu1's older reader inside
    expect(findings.map((f) => f.check), 'missed: the older reader compares as newer than the wrapped grace period').toEqual(['rcu']);
  });
});

describe('variant current: the RCU fix of 91840be8f710', () => {
  /** Whether the CPU a FUNC_SEE_NESTING callback runs on is inside an RCU reader (1 or 0), seen from inside it. */
  function nestingInCallback(variant: string): number[] {
    const { h } = rig({ variant });
    const seen: number[] = [];
    h.k(1).registerFunc(FUNC_SEE_NESTING, () => seen.push(inside(h, 1)));
    const w = h.newWork({ func: FUNC_SEE_NESTING });
    h.k(0).irqWorkQueueOn(w, 1);
    serve(h, 1);
    expect(h.cpu(1).cpu.contextName()).toBe('task');
    return seen;
  }

  it('runs the irq_workd list inside an RCU read-side section', () => {
    expect(nestingInCallback('current')).toEqual([1]);
  });

  it('merged runs the irq_workd list outside any reader (the contrast)', () => {
    expect(nestingInCallback('merged')).toEqual([0]);
  });

  it('irq_work_sync ends with a grace period that comes after irq_work_single is done with the work', () => {
    const { h, events, findings } = rig({ variant: 'current' });
    const w = h.newWork();
    h.k(0).irqWorkQueueOn(w, 1);
    h.k(0).irqWorkSync(w); // sleeps; the harness lets CPU1 take the IPI and run irq_workd
    events.push('sync returned');
    free(h, w);
    expect(h.ranOn(w)).toEqual([{ cpu: 1, work: w, context: 'irq_workd' }]);
    const ours = events.filter((e) => e !== `single-end cpu1 w${h.mem.wakeupWork(1)}`);
    expect(ours).toEqual([`single-end cpu1 w${w}`, 'gp-end cpu0', 'sync returned']);
    expect(findings).toEqual([]);
  });

  /**
   * The use-after-free window: CPU1's irq_workd has cleared BUSY but not yet called
   * rcuwait_wake_up, and the owner on CPU0 syncs there, then frees.
   */
  function syncInTheWindow(variant: string) {
    const { h, findings, running } = rig({ variant });
    const w = h.newWork();
    let syncReturned = false;
    let nestingOfCpu1WhileWaiting = -1;
    const atClearBusy = () => {
      if (running[1] !== w) return h.at(1, 'irq_work_single:after-clear-busy', atClearBusy);
      expect(h.flags(w) & IRQ_WORK_BUSY).toBe(0);
      h.k(0).irqWorkSync(w);
      syncReturned = true;
      free(h, w);
    };
    h.at(1, 'irq_work_single:after-clear-busy', atClearBusy);
    onRelax(h, 0, (n) => {
      nestingOfCpu1WhileWaiting = inside(h, 1);
      // CPU1 cannot go on while CPU0 spins in this one thread: stop after a few spins.
      if (n === 5) throw new Error('still in synchronize_rcu');
    });
    h.k(0).irqWorkQueueOn(w, 1);
    let thrown: unknown = null;
    try {
      serve(h, 1);
    } catch (e) {
      thrown = e;
    }
    return { findings, w, syncReturned, nestingOfCpu1WhileWaiting, thrown };
  }

  it('merged: irq_work_sync returns in the window and rcuwait_wake_up then touches the freed work', () => {
    const r = syncInTheWindow('merged');
    expect(r.thrown).toBeNull();
    expect(r.syncReturned).toBe(true);
    const uaf = r.findings.filter((f) => f.check === 'use-after-free');
    expect(uaf).toHaveLength(1);
    expect(uaf[0]).toMatchObject({ cpu: 1, work: r.w });
    expect(uaf[0]!.message).toContain('rcuwait_wake_up');
  });

  it("current: irq_work_sync in the window waits in synchronize_rcu for irq_workd's reader, so nothing is freed", () => {
    const r = syncInTheWindow('current');
    expect((r.thrown as Error | null)?.message).toBe('still in synchronize_rcu');
    expect(r.syncReturned).toBe(false);
    expect(r.nestingOfCpu1WhileWaiting).toBe(1);
    expect(r.findings).toEqual([]);
  });
});
