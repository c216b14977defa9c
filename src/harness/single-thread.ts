/**
 * The deterministic single-thread harness: several CPUs over one memory, in one thread, stepped
 * by hand. A test drives an exact interleaving by calling kernel functions on chosen CPUs and by
 * scripting what happens when a CPU reaches a named interrupt point:
 *
 *   const h = new Harness({ cpus: 2, preemptRt: true });
 *   const w = h.newWork({ flags: 0 });
 *   h.at(0, 'irq_work_queue_on:after-lazy-add', () => h.cpu(1).takeInterrupts());
 *   h.k(0).irqWorkQueueOn(w, 1);
 *
 * Nothing happens by itself: IPIs stay latched until `takeInterrupts`, the tick runs on `tick`,
 * irq_workd on `runIrqWorkd`. A CPU that blocks (sync) or spins lets the others progress.
 */
import { manualClock } from '../cpu/clock.js';
import { CpuRuntime } from '../cpu/runtime.js';
import type { SimCpu } from '../cpu/sim-cpu.js';
import { contractRegion } from '../checks/contract-layout.js';
import { shadowRegion } from '../checks/shadow-layout.js';
import { makeKernelConfig, type KernelConfig } from '../kernel/config.js';
import { TASK_RUNNING } from '../kernel/cpu.js';
import { newCoverageSink, type CoverageSink } from '../kernel/coverage.js';
import { combineHooks, type KernelHooks } from '../kernel/hooks.js';
import { combineProbes, type RuntimeProbes } from '../cpu/probes.js';
import { CPU_CALL_SINGLE_QUEUE, CPU_IPI_PENDING, CPU_LAZY_LIST, CPU_RAISED_LIST, CPU_TICK_STOPPED, W_CLAIMED, W_EXECUTED, W_FLAGS, W_NEXT } from '../kernel/layout.js';
import { KernelMemory } from '../kernel/memory.js';
import type { Kernel } from '../kernel/smpboot.js';
import { findVariant, DEFAULT_VARIANT } from '../variants/index.js';
import { FUNC_COUNT, registerCallbacks } from '../workload/callbacks.js';
import { hotplugRegion } from '../workload/hotplug.js';

export interface HarnessOptions extends Partial<KernelConfig> {
  cpus?: number;
  variant?: string;
  /**
   * The kernel's hooks on every CPU, or a factory called once per CPU while it is built — for
   * listeners that need that CPU (its context, its id) or the memory, such as the checks. Either
   * way they are in place from boot on, so the kernel's hooks never change after construction.
   */
  hooks?: Partial<KernelHooks> | HooksFactory;
  /** Runtime probes of CPU `cpu` (e.g. an action at each of its real-time interrupt points). */
  probes?: (cpu: number) => Partial<RuntimeProbes>;
  /** Tick stopped on every CPU from the start (NO_HZ idle). */
  tickStopped?: boolean;
  /** Count the kernel's branch coverage on every CPU (kernel/coverage.ts); read it with `coverage(cpu)`. */
  coverage?: boolean;
}

/** Builds the hooks of one CPU: `cpu` is the CPU they run on, `mem` the memory it shares. */
export type HooksFactory = (cpu: SimCpu, mem: KernelMemory) => Partial<KernelHooks>;

export interface Execution {
  cpu: number;
  work: number;
  context: string;
}

/** How many times a blocked or spinning CPU lets the others progress before we call it a hang. */
const MAX_SPINS = 10_000;

export class Harness {
  readonly mem: KernelMemory;
  readonly runtimes: CpuRuntime[] = [];
  readonly clock = manualClock(1_000_000);
  readonly executions: Execution[] = [];
  readonly warnings: Array<{ cpu: number; what: string }> = [];
  readonly sleptInAtomic: Execution[] = [];
  private readonly scripts = new Map<string, Array<() => void>>();
  private readonly everyTime = new Map<string, Array<() => void>>();
  private nextWork = 0;
  private readonly coverageSinks: CoverageSink[] = [];

  constructor(opts: HarnessOptions = {}) {
    const { cpus, variant, hooks, probes, tickStopped, coverage, ...cfg } = opts;
    const kcfg = makeKernelConfig({ nrCpus: cpus ?? 2, nrWorks: 16, ...cfg });
    // Always with the checks' shadow and contract regions and the hotplug region: a test installs
    // whichever checks it needs, and may take CPUs offline.
    this.mem = KernelMemory.create(kcfg, [shadowRegion(kcfg), contractRegion(kcfg), hotplugRegion()]);
    const v = findVariant(variant ?? DEFAULT_VARIANT);
    const env = {
      clock: this.clock,
      schedule: (cpu: SimCpu) => this.block(cpu),
      warn: (cpu: SimCpu, what: string) => this.warnings.push({ cpu: cpu.id, what }),
    };
    const sink = {
      ran: (cpu: number, work: number, context: string) => this.executions.push({ cpu, work, context }),
      sleptInAtomic: (cpu: number, work: number, context: string) => this.sleptInAtomic.push({ cpu, work, context }),
    };
    for (let id = 0; id < this.mem.cfg.nrCpus; id++) {
      const rt = new CpuRuntime(this.mem, id, v.kernel, env, {
        nohz: true,
        instrument: (cpu) => ({
          ...(hooks ? { hooks: combineHooks([typeof hooks === 'function' ? hooks(cpu, this.mem) : hooks]) } : {}),
          ...(probes ? { probes: combineProbes([probes(id)]) } : {}),
          ...(coverage ? { coverage: (this.coverageSinks[id] = newCoverageSink(() => cpu.coverageSlot())) } : {}),
        }),
        rcuReaderSeq: true, // the rcu check's numbering, always on in tests
        manualInterruptPoint: (site) => this.reached(id, site),
      });
      registerCallbacks(rt.k, rt.cpu, sink);
      rt.boot();
      this.runtimes.push(rt);
      if (tickStopped) this.mem.i32[this.mem.cpuBase(id) + CPU_TICK_STOPPED] = 1;
    }
    // Threads created at boot go to sleep at once (smpboot_thread_fn finds nothing to do).
    for (const rt of this.runtimes) if (rt.irqWorkdRunnable()) rt.runIrqWorkd();
  }

  cpu(id: number): CpuRuntime {
    return this.runtimes[id]!;
  }

  /** CPU `id`'s coverage counts (point × slot, kernel/coverage.ts); the harness must count coverage. */
  coverage(id: number): Float64Array {
    const sink = this.coverageSinks[id];
    if (!sink) throw new Error('harness: built without coverage');
    return sink.counts;
  }

  /** The kernel code running on CPU `id`. */
  k(id: number): Kernel {
    return this.runtimes[id]!.k;
  }

  /** A fresh work from the pool (`init_irq_work`), with a counting callback by default. */
  newWork(opts: { flags?: number; func?: number; home?: number; arg?: number } = {}): number {
    const work = this.mem.poolWork(this.nextWork++);
    this.mem.initWork(work, opts.flags ?? 0, opts.func ?? FUNC_COUNT, opts.home ?? 0, opts.arg ?? 0);
    return work;
  }

  /** Run `action` the next time CPU `cpu` passes interrupt point `site` (once). */
  at(cpu: number, site: string, action: () => void): void {
    const key = `${cpu}:${site}`;
    const list = this.scripts.get(key) ?? [];
    list.push(action);
    this.scripts.set(key, list);
  }

  /** Run `action` every time CPU `cpu` passes interrupt point `site` (before any `at` script). */
  every(cpu: number, site: string, action: () => void): void {
    const key = `${cpu}:${site}`;
    const list = this.everyTime.get(key) ?? [];
    list.push(action);
    this.everyTime.set(key, list);
  }

  private reached(cpu: number, site: string | undefined): void {
    for (const action of this.everyTime.get(`${cpu}:${site}`) ?? []) action();
    if (site === 'cpu_relax') return this.spin(cpu);
    const list = this.scripts.get(`${cpu}:${site}`);
    const action = list?.shift();
    if (action) action();
  }

  /** A spinning CPU lets every other CPU take its interrupts and run its irq_workd. */
  private spins = 0;
  private spin(cpu: number): void {
    if (++this.spins > MAX_SPINS) throw new Error(`harness: cpu${cpu} spins forever`);
    this.progress(cpu);
    this.progressOthers(cpu);
  }

  private block(cpu: SimCpu): void {
    const word = cpu.taskStateWord(cpu.currentTask());
    for (let i = 0; i < MAX_SPINS; i++) {
      // The blocked CPU itself may run irq_workd and interrupts while its task sleeps.
      this.progress(cpu.id);
      this.progressOthers(cpu.id);
      if (Atomics.load(this.mem.i32, word) === TASK_RUNNING) return;
    }
    throw new Error(`harness: cpu${cpu.id}'s task sleeps forever`);
  }

  /** Let CPU `id` take its latched interrupts and run a woken irq_workd. */
  progress(id: number): void {
    const rt = this.cpu(id);
    rt.takeInterrupts(); // nothing with irqs off: the IPIs stay latched
    rt.preemptionPoint(); // nothing unless preemptible

  }

  private progressOthers(except: number): void {
    for (let id = 0; id < this.runtimes.length; id++) if (id !== except) this.progress(id);
  }

  // ── state inspection for tests ───────────────────────────────────────────────

  /** The nodes on a list, first to last. Stops after a cycle or 1000 nodes. */
  listNodes(cpu: number, list: 'raised' | 'lazy' | 'callSingle'): number[] {
    const off = list === 'raised' ? CPU_RAISED_LIST : list === 'lazy' ? CPU_LAZY_LIST : CPU_CALL_SINGLE_QUEUE;
    const out: number[] = [];
    let node = Atomics.load(this.mem.i32, this.mem.cpuBase(cpu) + off);
    while (node !== 0 && out.length < 1000 && !out.includes(node)) {
      out.push(node);
      node = this.mem.i32[this.mem.node(node) + W_NEXT]!;
    }
    return out;
  }

  flags(work: number): number {
    return Atomics.load(this.mem.i32, this.mem.node(work) + W_FLAGS);
  }

  pendingIpis(cpu: number): number {
    return Atomics.load(this.mem.i32, this.mem.cpuBase(cpu) + CPU_IPI_PENDING);
  }

  claimedCount(work: number): number {
    return this.mem.i32[this.mem.node(work) + W_CLAIMED]!;
  }

  executedCount(work: number): number {
    return this.mem.i32[this.mem.node(work) + W_EXECUTED]!;
  }

  /** Where `work` ran, in order. */
  ranOn(work: number): Execution[] {
    return this.executions.filter((e) => e.work === work);
  }
}
