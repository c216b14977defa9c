/**
 * The workload driver of one CPU: picks a weighted random operation with this CPU's seeded
 * stream and performs it in the right context, through the kernel API only.
 *
 * With a sync-free weight the works become private to their home CPU (as a kmalloc'ed object
 * is private to its owner): only the home queues them, syncs them, frees them (poisons, in the
 * shadow state) and, after a short quarantine, re-initialises and reuses them. The owner also
 * queues a work only while it is idle (not BUSY): re-queueing a work whose callback still runs on
 * another CPU gives two overlapping executions, and then the kernel's BUSY protocol lets
 * irq_work_sync return early in every variant (the older execution's compare-exchange clears
 * BUSY while the newer one runs: an ABA on the flag word). That is a separate story from the
 * use-after-free this workload hunts; see the README.
 *
 * Which works are freed is the owner's own record: only the owner frees, reuses and queues them.
 * In runs with checks the free is also published in the checks' shadow state, where the
 * use-after-free check of every CPU looks for it; runs without checks have no shadow region.
 *
 * In runs with checks every queue attempt, from every context, is also a caller publishing data
 * (checks/contract-layout.ts): it writes the work's next data number, then calls the kernel, and
 * the callback reads it — what the contract check holds irq_work_queue's "already pending" to.
 */
import type { CpuRuntime } from '../cpu/runtime.js';
import { ContractView } from '../checks/contract-layout.js';
import { ShadowView } from '../checks/shadow-layout.js';
import { W_ARG, W_FLAGS, W_IRQWAIT, W_NEXT } from '../kernel/layout.js';
import { TraceEvent, type TraceRing } from '../race/trace.js';
import type { Random } from '../util/random.js';
import { IRQ_WORK_BUSY } from '../kernel/flags.js';
import { FUNC_REQUEUE } from './callbacks.js';
import { cpusReadLock, cpusReadUnlock, HotplugWords } from './hotplug.js';
import { cpuPoolLayout, type PoolWork } from './pool.js';
import type { OperationWeights, WorkloadSpec } from './spec.js';

const OPS = ['queueTask', 'queueHardirq', 'queueNmi', 'queueRemote', 'sync', 'syncFree'] as const;
type Op = (typeof OPS)[number];

/** How many freed works wait before the oldest is reused (KASAN's quarantine, in miniature). */
const QUARANTINE = 2;
/** Share of irq_work_queue_on calls that name the caller's own CPU (queue_on's local path). */
const QUEUE_ON_SELF = 1 / 16;

export class WorkloadDriver {
  private readonly cumulative: number[];
  private readonly total: number;
  private readonly privateWorks: boolean;
  /** This CPU's works (cpuPoolLayout). In private mode the only ones it queues; otherwise it
   *  queues any work of the pool, and its own block describes the j-th work of every block. */
  private readonly own: PoolWork[];
  private readonly nrCpus: number;
  private readonly quarantine: PoolWork[] = [];
  /** 1 for each work of ours that is freed now (indexed by work). */
  private readonly freed: Uint8Array;
  /** The checks' shadow state, when the run has checks: frees are published there. */
  private readonly shadow: ShadowView | undefined;
  /** The callers' data words (runs with checks): each queue attempt writes one first. */
  private readonly callerData: ContractView | undefined;
  /** The work this CPU is syncing in order to free it: its owner must not queue it meanwhile
   *  (not even from an NMI that hits inside the sync), or the free would be the owner's own bug. */
  private dying = 0;
  /** CPUs may go offline: take the hotplug read lock around remote queueing, skip offline targets. */
  private readonly hotplug: HotplugWords | null;
  /** This CPU's trace ring (race runs), for the workload's own events; null when off. */
  private readonly trace: TraceRing | null;

  constructor(
    private readonly rt: CpuRuntime,
    spec: WorkloadSpec,
    private readonly rng: Random,
    opts: { trace: TraceRing | null; hotplug: boolean } = { trace: null, hotplug: false },
  ) {
    this.trace = opts.trace;
    this.hotplug = opts.hotplug ? new HotplugWords(rt.mem) : null;
    let sum = 0;
    this.cumulative = OPS.map((op) => (sum += (spec.weights as OperationWeights)[op]));
    this.total = sum;
    this.own = cpuPoolLayout(spec, rt.id, rt.mem);
    this.privateWorks = spec.weights.syncFree > 0 || spec.privateWorks === true;
    this.nrCpus = rt.mem.cfg.nrCpus;
    this.freed = new Uint8Array(rt.mem.layout.nrNodes);
    this.shadow = ShadowView.find(rt.mem);
    this.callerData = ContractView.find(rt.mem);
  }

  private pick(): Op {
    const x = this.rng.next() * this.total;
    for (let i = 0; i < OPS.length; i++) if (x < this.cumulative[i]!) return OPS[i]!;
    return OPS[OPS.length - 1]!;
  }

  /** A random live work; asks a re-queueing callback for one re-queue. 0 if none is live. */
  anyWork(): number {
    const own = this.own;
    const perCpu = own.length;
    if (perCpu === 0) return 0;
    let work: number;
    let func: number;
    if (this.privateWorks) {
      const w = own[this.rng.below(perCpu)]!;
      work = w.work;
      func = w.func;
    } else {
      // Any work of the pool, drawn as from poolLayout's list (one draw over all of it), so a
      // seed picks the same works as ever; the j-th work of a block is like our own j-th.
      const i = this.rng.below(perCpu * this.nrCpus);
      work = this.rt.mem.poolWork(i);
      func = own[i % perCpu]!.func;
    }
    const node = this.rt.mem.node(work);
    if (work === this.dying || this.freed[work]) return 0;
    // Private works: no overlapping executions (see above). Only the owner queues them, so a
    // work seen idle here stays idle until our own claim.
    if (this.privateWorks && Atomics.load(this.rt.i32, node + W_FLAGS) & IRQ_WORK_BUSY) return 0;
    if (func === FUNC_REQUEUE) Atomics.store(this.rt.i32, node + W_ARG, 1);
    return work;
  }

  /**
   * A hardirq handler of the workload that queues a work, on whatever the CPU is doing: the timer
   * that ends the task's sleep fires on the idle CPU, often with its tick stopped, as a device
   * interrupt of an idle machine does (and then a LAZY work must raise: nothing else would run it).
   */
  hardirq(): void {
    const w = this.anyWork();
    if (w) this.rt.inHardirq(() => this.queueHere(w));
  }

  /** An NMI handler that queues a work, as perf does (used by chaos). */
  nmi(): void {
    const w = this.anyWork();
    this.rt.inNmi(() => {
      if (w) this.queueHere(w);
    });
  }

  /** irq_work_queue() on this CPU, in whatever context we are in now. */
  private queueHere(work: number): void {
    this.trace?.record(TraceEvent.queue, work);
    this.callerData?.beforeQueue(work, this.rt.id);
    this.rt.k.irqWorkQueue(work);
    this.callerData?.afterQueue(work, this.rt.id);
  }

  /** One operation. */
  step(): void {
    const { rt } = this;
    const k = rt.k;
    const trace = this.trace;
    switch (this.pick()) {
      case 'queueTask': {
        const w = this.anyWork();
        if (w) this.queueHere(w);
        break;
      }
      case 'queueHardirq': {
        const w = this.anyWork();
        if (w) rt.inHardirq(() => this.queueHere(w));
        break;
      }
      case 'queueNmi': {
        const w = this.anyWork();
        if (w) rt.inNmi(() => this.queueHere(w));
        break;
      }
      case 'queueRemote': {
        const w = this.anyWork();
        if (!w) break;
        let target = this.rng.below(this.nrCpus - 1);
        if (target >= rt.id) target++;
        // A caller may name its own CPU too: now and then, so that queue_on's local path runs.
        if (this.nrCpus === 1 || this.rng.chance(QUEUE_ON_SELF)) target = rt.id;
        if (this.hotplug) cpusReadLock(rt, this.hotplug);
        // A caller of irq_work_queue_on must keep the target online (the kernel warns otherwise).
        if (this.hotplug === null || !rt.cpu.cpuIsOffline(target)) {
          trace?.record(TraceEvent.queueOn, w, target);
          this.callerData?.beforeQueue(w, rt.id);
          k.irqWorkQueueOn(w, target);
          this.callerData?.afterQueue(w, rt.id);
        }
        if (this.hotplug) cpusReadUnlock(rt, this.hotplug);
        break;
      }
      case 'sync': {
        const w = this.ownLiveWork();
        if (w) k.irqWorkSync(w.work);
        break;
      }
      case 'syncFree': {
        const w = this.ownLiveWork();
        if (!w) break;
        this.dying = w.work;
        k.irqWorkSync(w.work);
        this.free(w);
        this.dying = 0;
        if (this.quarantine.length > QUARANTINE) this.reuse(this.quarantine.shift()!);
        break;
      }
    }
  }

  private ownLiveWork(): PoolWork | undefined {
    if (this.own.length === 0) return undefined;
    const w = this.own[this.rng.below(this.own.length)]!;
    return this.freed[w.work] ? undefined : w;
  }

  /** kfree(work): poison it (in the shadow state too, if any); the kernel must not touch it from now on. */
  private free(w: PoolWork): void {
    this.freed[w.work] = 1;
    this.shadow?.markFreed(w.work);
    this.trace?.record(TraceEvent.free, w.work);
    this.quarantine.push(w);
  }

  /** kmalloc + init_irq_work() of the same memory: a new life for the work (counters kept). */
  private reuse(w: PoolWork): void {
    const i32 = this.rt.i32;
    const node = this.rt.mem.node(w.work);
    i32[node + W_NEXT] = 0;
    Atomics.store(i32, node + W_IRQWAIT, 0);
    Atomics.store(i32, node + W_ARG, 0);
    Atomics.store(i32, node + W_FLAGS, w.flags);
    this.freed[w.work] = 0;
    this.shadow?.markLive(w.work);
  }
}
