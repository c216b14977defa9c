/**
 * KernelMemory: the SharedArrayBuffer of layout.ts with typed views and address helpers.
 * Created once by the main thread (or a test), attached to by every CPU worker.
 */
import { makeKernelConfig, type KernelConfig } from './config.js';
import {
  computeLayout,
  CONFIG_BIT_ARCH_IRQ_WORK,
  CONFIG_BIT_PREEMPT_RT,
  CPU_BLOCK_WORDS,
  CPU_CALL_SINGLE_QUEUE,
  CPU_COUNTERS,
  CPU_LAZY_LIST,
  CPU_RAISED_LIST,
  CPU_IRQWORKD_STATE,
  CPU_ONLINE,
  CPU_TASK_STATE,
  H_CONFIG_BITS,
  H_HZ,
  H_MAGIC,
  H_NR_CPUS,
  H_NR_WORKS,
  H_VERSION,
  LAYOUT_MAGIC,
  LAYOUT_VERSION,
  WORK_NODE_WORDS,
  W_ARG,
  W_FLAGS,
  W_FUNC,
  W_HOME_CPU,
  type ExtraRegion,
  type Layout,
} from './layout.js';
import { IRQ_WORK_HARD_IRQ } from './flags.js';
import { TASK_NONE, TASK_RUNNING } from './cpu.js';

/** Function id of the per-CPU wakeup work's callback (`irq_work_wake`); ids >= FUNC_FIRST_USER are the harness's. */
export const FUNC_NONE = 0;
export const FUNC_IRQ_WORK_WAKE = 1;
export const FUNC_FIRST_USER = 2;

/** What a worker needs to attach: the buffer plus the inputs that produced its layout. */
export interface MemoryHandle {
  sab: SharedArrayBuffer;
  cfg: KernelConfig;
  extra: ExtraRegion[];
}

export class KernelMemory {
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly layout: Layout;

  private constructor(
    readonly sab: SharedArrayBuffer,
    readonly cfg: KernelConfig,
    readonly extra: ExtraRegion[],
  ) {
    this.layout = computeLayout(cfg, extra);
    this.i32 = new Int32Array(sab);
    this.f64 = new Float64Array(sab);
  }

  /** Lays out a fresh memory: header written, every CPU online, per-CPU wakeup works initialised. */
  static create(partial: Partial<KernelConfig> = {}, extra: ExtraRegion[] = []): KernelMemory {
    const cfg = makeKernelConfig(partial);
    const layout = computeLayout(cfg, extra);
    const mem = new KernelMemory(new SharedArrayBuffer(layout.totalWords * 4), cfg, extra);
    mem.init();
    return mem;
  }

  /** Attaches to a memory created elsewhere (in another thread); checks the header matches. */
  static attach(handle: MemoryHandle): KernelMemory {
    const mem = new KernelMemory(handle.sab, handle.cfg, handle.extra);
    if (mem.i32[H_MAGIC] !== LAYOUT_MAGIC || mem.i32[H_VERSION] !== LAYOUT_VERSION) {
      throw new Error('shared memory has no irqwork layout header');
    }
    if (mem.i32[H_NR_CPUS] !== handle.cfg.nrCpus || mem.i32[H_NR_WORKS] !== handle.cfg.nrWorks) {
      throw new Error('shared memory header does not match the configuration');
    }
    return mem;
  }

  get handle(): MemoryHandle {
    return { sab: this.sab, cfg: this.cfg, extra: this.extra };
  }

  private init(): void {
    const { i32, cfg } = this;
    i32[H_MAGIC] = LAYOUT_MAGIC;
    i32[H_VERSION] = LAYOUT_VERSION;
    i32[H_NR_CPUS] = cfg.nrCpus;
    i32[H_NR_WORKS] = cfg.nrWorks;
    i32[H_CONFIG_BITS] =
      (cfg.preemptRt ? CONFIG_BIT_PREEMPT_RT : 0) | (cfg.archHasIrqWorkInterrupt ? CONFIG_BIT_ARCH_IRQ_WORK : 0);
    i32[H_HZ] = cfg.hz;
    for (let cpu = 0; cpu < cfg.nrCpus; cpu++) {
      const base = this.cpuBase(cpu);
      i32[base + CPU_ONLINE] = 1;
      i32[base + CPU_TASK_STATE] = TASK_RUNNING;
      // irq_workd exists only on PREEMPT_RT (irq_work_init_threads registers it there only).
      i32[base + CPU_IRQWORKD_STATE] = TASK_NONE;
      // DEFINE_PER_CPU(struct irq_work, irq_work_wakeup) = IRQ_WORK_INIT_HARD(irq_work_wake)
      const wake = this.wakeupWork(cpu);
      i32[this.node(wake) + W_FLAGS] = IRQ_WORK_HARD_IRQ;
      i32[this.node(wake) + W_FUNC] = FUNC_IRQ_WORK_WAKE;
      i32[this.node(wake) + W_HOME_CPU] = cpu;
    }
  }

  /** First word of a CPU's block. */
  cpuBase(cpu: number): number {
    return this.layout.cpuBase + cpu * CPU_BLOCK_WORDS;
  }

  /** Float64 index of a per-CPU counter (Counter.*). */
  counterIndex(cpu: number, counter: number): number {
    return (this.cpuBase(cpu) + CPU_COUNTERS) / 2 + counter;
  }

  /** First word of a work node. */
  node(work: number): number {
    return this.layout.worksBase + work * WORK_NODE_WORDS;
  }

  /** The per-CPU wakeup work of `cpu` (`per_cpu(irq_work_wakeup, cpu)`). */
  wakeupWork(cpu: number): number {
    return 1 + cpu;
  }

  /** The i-th work of the pool. */
  poolWork(i: number): number {
    return 1 + this.cfg.nrCpus + i;
  }

  get firstPoolWork(): number {
    return 1 + this.cfg.nrCpus;
  }

  isWakeupWork(work: number): boolean {
    return work >= 1 && work <= this.cfg.nrCpus;
  }

  /** Initialises a pool work (`init_irq_work` / `IRQ_WORK_INIT_*`). Not for use while it may be queued. */
  initWork(work: number, flags: number, func: number, homeCpu: number, arg = 0): void {
    const base = this.node(work);
    this.i32.fill(0, base, base + WORK_NODE_WORDS);
    this.i32[base + W_FLAGS] = flags;
    this.i32[base + W_FUNC] = func;
    this.i32[base + W_HOME_CPU] = homeCpu;
    this.i32[base + W_ARG] = arg;
  }

  /** Which CPU and list a list-head word belongs to, for dumps and findings. */
  describeHead(headWord: number): string {
    const rel = headWord - this.layout.cpuBase;
    const cpu = Math.floor(rel / CPU_BLOCK_WORDS);
    const off = rel - cpu * CPU_BLOCK_WORDS;
    const name =
      off === CPU_RAISED_LIST
        ? 'raised_list'
        : off === CPU_LAZY_LIST
          ? 'lazy_list'
          : off === CPU_CALL_SINGLE_QUEUE
            ? 'call_single_queue'
            : `word ${off}`;
    return `cpu${cpu}.${name}`;
  }
}
