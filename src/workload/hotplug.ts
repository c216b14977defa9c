/**
 * CPU hotplug for stress and race runs: at random moments a CPU (never CPU 0) takes itself
 * offline — park irq_workd, then the dying step (flush call_single_queue, irq_work_run) with irqs
 * off, then CPU_ONLINE = 0 — stays away for a while, and comes back (online, unpark irq_workd,
 * restart the tick). Remote queueing takes the hotplug lock for reading (cpus_read_lock), so no
 * CPU is targeted while it changes state; one CPU at a time is offline.
 *
 * On RT, lazy work still on a CPU's lazy_list when it parks irq_workd is stranded until the CPU
 * returns: known, accepted kernel behaviour, reported as a `stranded` finding that does not fail
 * the run.
 *
 * Non-lazy work is another matter: smpcfd_dying_cpu must run everything on the CPU's
 * call_single_queue and raised_list, or it waits, offline, for the CPU's return (what other CPUs
 * queued there was lost before the flush came, and the kernel warns "IPI on offline CPU"). The
 * CPU going down checks that right after its dying step and reports what is left as an `offline`
 * finding, which fails the run.
 */
import type { CpuRuntime } from '../cpu/runtime.js';
import {
  CPU_CALL_SINGLE_QUEUE,
  CPU_LAZY_LIST,
  CPU_ONLINE,
  CPU_RAISED_LIST,
  W_EXECUTED,
  W_NEXT,
  WORDS_PER_LINE,
  type ExtraRegion,
} from '../kernel/layout.js';
import type { KernelMemory } from '../kernel/memory.js';
import type { Random } from '../util/random.js';

export interface HotplugOptions {
  /** Mean time between two offline periods of one CPU. */
  everyMs: number;
  /** How long a CPU stays offline. */
  offlineMs: number;
}

export const DEFAULT_HOTPLUG: HotplugOptions = { everyMs: 300, offlineMs: 20 };

/**
 * The hotplug region of the shared memory (one line), present in runs with CPU hotplug:
 *
 *   +0  LOCK      cpu_hotplug_lock, modelled as a counter: readers (remote queueing) add 1,
 *                 a CPU changing state holds HOTPLUG_WRITER; compare-exchange by all CPUs
 *   +1  OFFLINE   CPUs offline right now (one at a time); the CPU going down or up writes
 */
export const HOTPLUG_REGION = 'hotplug';
export const HOTPLUG_WRITER = 1 << 30;

export function hotplugRegion(): ExtraRegion {
  return { name: HOTPLUG_REGION, words: WORDS_PER_LINE };
}

/** Addresses of the hotplug region's words. */
export class HotplugWords {
  readonly lock: number;
  readonly offlineCpus: number;

  constructor(mem: KernelMemory) {
    const region = mem.layout.extra[HOTPLUG_REGION];
    if (!region) throw new Error('shared memory has no hotplug region');
    this.lock = region.base;
    this.offlineCpus = region.base + 1;
  }
}

/** cpus_read_lock(): wait while a CPU changes state (taking interrupts meanwhile). */
export function cpusReadLock(rt: CpuRuntime, words: HotplugWords): void {
  const i32 = rt.i32;
  for (;;) {
    const v = Atomics.load(i32, words.lock);
    if (!(v & HOTPLUG_WRITER) && Atomics.compareExchange(i32, words.lock, v, v + 1) === v) return;
    rt.cpu.cpuRelax();
  }
}

export function cpusReadUnlock(rt: CpuRuntime, words: HotplugWords): void {
  Atomics.sub(rt.i32, words.lock, 1);
}

/** The lists whose work smpcfd_dying_cpu must run (the lazy_list is the `stranded` story on RT). */
const DYING_LISTS = [
  { off: CPU_CALL_SINGLE_QUEUE, name: 'call_single_queue' },
  { off: CPU_RAISED_LIST, name: 'raised_list' },
] as const;

/**
 * The nodes on the list whose head word is `head`, first to last. Other CPUs linked them, so head
 * and `next` words are read with Atomics.load. Bounded: a chain a broken variant corrupted into a
 * cycle ends at the first node seen twice.
 */
export function listNodes(mem: KernelMemory, head: number): number[] {
  const out: number[] = [];
  const seen = new Set<number>();
  let node = Atomics.load(mem.i32, head);
  while (node !== 0 && !seen.has(node)) {
    seen.add(node);
    out.push(node);
    node = Atomics.load(mem.i32, mem.node(node) + W_NEXT);
  }
  return out;
}

/** Nodes for a message: all of them up to 16, else the first 16 and how many more. */
function shortList(nodes: readonly number[]): string {
  const MAX = 16;
  return nodes.length <= MAX ? nodes.join(', ') : `${nodes.slice(0, MAX).join(', ')}, … ${nodes.length - MAX} more`;
}

/** What a list held when the dying step began: each node with its execution count then. */
interface OwedList {
  name: string;
  head: number;
  nodes: Array<{ node: number; executed: number }>;
}

export class HotplugDriver {
  private nextNs: number;
  private readonly words: HotplugWords;

  constructor(
    private readonly rt: CpuRuntime,
    private readonly rng: Random,
    private readonly opts: HotplugOptions,
    private readonly reportStranded: (work: number, message: string) => void,
    /** Reports non-lazy work the dying step left behind (a finding that fails the run). */
    private readonly reportOffline: (work: number, message: string) => void,
    /** Whether the workload still runs: a CPU waiting to go offline gives up when it ends. */
    private readonly running: () => boolean,
  ) {
    this.words = new HotplugWords(rt.mem);
    this.nextNs = this.draw();
  }

  private draw(): number {
    return this.rt.cpu.nowNs() + (0.5 + this.rng.next()) * this.opts.everyMs * 1e6;
  }

  /** Called between two operations of the workload (task context, nothing held). */
  maybeCycle(): void {
    if (this.rt.id === 0 || this.rt.cpu.nowNs() < this.nextNs) return;
    this.nextNs = this.draw();
    if (this.takeDown()) this.bringUp();
  }

  /** cpu_down() on ourselves; false if another CPU is offline already. */
  private takeDown(): boolean {
    const { rt, words } = this;
    const i32 = rt.i32;
    // cpus_write_lock(): no remote queueing is between its online check and its queue_on now.
    while (Atomics.compareExchange(i32, words.lock, 0, HOTPLUG_WRITER) !== 0) {
      if (!this.running()) return false;
      rt.cpu.cpuRelax();
    }
    if (Atomics.load(i32, words.offlineCpus) > 0) {
      Atomics.sub(i32, words.lock, HOTPLUG_WRITER);
      return false;
    }
    const k = rt.k;
    k.smpbootParkThreads();
    if (rt.hasIrqWorkd() && !k.llistEmpty(k.thisCpu(CPU_LAZY_LIST))) {
      const first = Atomics.load(i32, k.thisCpu(CPU_LAZY_LIST));
      this.reportStranded(first, `cpu${rt.id} goes offline with lazy work (first: work ${first}) on its lazy_list: stranded until it returns`);
    }
    // Taken under the write lock and with no interrupt point before the dying step: no other CPU
    // can add to our lists now (remote queueing holds the read lock), so this is all the dying
    // step must run.
    const owed = this.owedWork();
    // The dying step runs with irqs off on the CPU itself (stop_machine); we run it as a hardirq
    // so that the context check sees an interrupt context.
    rt.inHardirq(() => k.smpcfdDyingCpu());
    this.reportLeftBehind(owed);
    Atomics.store(i32, k.thisCpu(CPU_ONLINE), 0);
    Atomics.add(i32, words.offlineCpus, 1);
    Atomics.sub(i32, words.lock, HOTPLUG_WRITER);
    return true;
  }

  /** The non-lazy work on this CPU's lists now, with how often each node has run so far. */
  private owedWork(): OwedList[] {
    const { rt } = this;
    return DYING_LISTS.map(({ off, name }) => {
      const head = rt.k.thisCpu(off);
      const nodes = listNodes(rt.mem, head).map((node) => ({ node, executed: Atomics.load(rt.i32, rt.mem.node(node) + W_EXECUTED) }));
      return { name, head, nodes };
    });
  }

  /**
   * After the dying step: every node that was owed and has not run since is left behind. Only
   * owed nodes count. During the dying step itself an NMI may queue a work on the raised_list
   * (after irq_work_run took it), and a callback may re-queue its work there; the kernel leaves
   * those too, so they are not reported. A node that ran and was re-queued has a higher count.
   * Nobody else runs an owed node meanwhile: it is PENDING on our list, so no claim succeeds.
   * Counts only grow, so an error can only hide a finding, never invent one: an earlier run of
   * the node on another CPU counts itself just after clearing PENDING (irq_work_single), and if
   * that lands during our dying step it hides a node left behind (rare; the next offline finds
   * the next one).
   */
  private reportLeftBehind(owed: readonly OwedList[]): void {
    const { rt } = this;
    for (const list of owed) {
      const left = list.nodes.filter(({ node, executed }) => Atomics.load(rt.i32, rt.mem.node(node) + W_EXECUTED) === executed).map((n) => n.node);
      if (left.length === 0) continue;
      const now = listNodes(rt.mem, list.head);
      this.reportOffline(
        left[0]!,
        `cpu${rt.id} goes offline leaving work ${shortList(left)} on its ${list.name}: queued before its dying step, ` +
          `not run by smpcfd_dying_cpu (${list.name} after the dying step: [${shortList(now)}]); it waits, offline, until the CPU returns`,
      );
    }
  }

  /** Offline for a while (not running anything, taking no IPIs), then cpu_up(). */
  private bringUp(): void {
    const { rt } = this;
    rt.pause(this.opts.offlineMs * 1e6);
    Atomics.store(rt.i32, rt.k.thisCpu(CPU_ONLINE), 1);
    Atomics.sub(rt.i32, this.words.offlineCpus, 1);
    rt.k.smpbootUnparkThreads();
    rt.rearmTick();
  }
}
