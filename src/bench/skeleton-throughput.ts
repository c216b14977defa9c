/**
 * The skeleton throughput baseline: how many works per second the irq_work protocol itself can
 * push through T threads, with nothing of the model around it — the throughput counterpart of
 * the "irq_work skeleton" hand-off (handoff.ts). Each thread does, per work, only the protocol's
 * atomic steps, as the cpu-bound workload's CPUs do them through the model:
 *
 *   queue   claim: fetch-or CLAIMED on the work's flags (fails if PENDING: nothing queued)
 *           llist_add: plain `next`, compare-exchange of the head — its own raised list, or (in
 *             the preset's remote share) another thread's call-single queue
 *           the IPI if the list was empty: fetch-or of the target's pending word, and for a
 *             remote target the load of its polling word (notify only a thread that waits)
 *   poll    between its own operations, one Atomics.load of its pending word (a busy CPU's
 *           interrupt point); when set:
 *   take    the IPI (exchange with 0), the list (llist_del_all: exchange with 0), and per node
 *           irq_work_single's flag updates: read the flags, clear PENDING (store), the
 *           callback would start here (counted), clear BUSY (compare-exchange)
 *
 * Left out on purpose, because they are no step between threads: contexts, the callback itself,
 * the flush's llist_reverse_order (plain writes to nodes the flusher owns), the RT paths
 * (lazy_list, the wakeup work, irq_workd: the skeleton is the hard path of both configurations),
 * random picking (each thread takes its works in turn and its remote targets round robin).
 * Kept, because the model pays them too: a plain claim counter and executed counter per work,
 * in the work's own line (the conservation check: every successful claim ran exactly once).
 *
 * Shared buffer (32-bit words; a line is 16 words, 64 bytes — the model's layout habits: a line
 * per hot word, a block per thread, a line per work):
 *
 *   word 0  ┌───────────────────────────────────────────────────────────────────────────┐
 *           │ control line: GO, STOP            main stores, threads load               │
 *           │               READY, STOPPED      each thread adds 1 once; main loads     │
 *   16      ├───────────────────────────────────────────────────────────────────────────┤
 *           │ thread 0 block, 3 lines:                                                  │
 *           │   line 0  raised list head      the owner adds (local queue) and takes    │
 *           │   line 1  call-single queue     other threads add (remote); owner takes   │
 *           │   line 2  IPI pending, polling  senders fetch-or pending; the owner       │
 *           │                                 exchanges it, and sets polling only while │
 *           │                                 it waits in Atomics.wait (after STOP)     │
 *           ├───────────────────────────────────────────────────────────────────────────┤
 *           │ thread 1 block … thread T-1 block                                         │
 *           ├───────────────────────────────────────────────────────────────────────────┤
 *           │ work nodes, one line each; node 0 is NULL (never used);                   │
 *           │   thread t owns nodes 1 + t·W … (t+1)·W                                   │
 *           │   words: next, flags, claimed, executed                                   │
 *           │   next: the adder writes it before its compare-exchange publishes the     │
 *           │   node; flags: claimers fetch-or, the runner stores / compare-exchanges;  │
 *           │   claimed / executed: plain, serialised by PENDING                        │
 *           └───────────────────────────────────────────────────────────────────────────┘
 *
 * A run: every thread adds READY and waits for GO; the main thread stores GO, sleeps the
 * duration, stores STOP. A thread looks at STOP every BATCH operations; from then on it queues
 * nothing, adds STOPPED, and keeps taking IPIs until STOPPED reaches T (no add can come after
 * that); then it takes both of its lists once more and returns. The figure is the works run
 * between GO and each thread's sight of STOP, over the main thread's GO→STOP window. A thread
 * whose remote works sit on the list of a thread the OS is not running finds them PENDING and
 * spins through failed claims: the time spent so is reported (stalledShare), since the figure of
 * such a run is the scheduler's.
 */
import { IRQ_WORK_BUSY, IRQ_WORK_CLAIMED, IRQ_WORK_HARD_IRQ, IRQ_WORK_PENDING, CSD_TYPE_IRQ_WORK } from '../kernel/flags.js';
import { IPI_CALL_FUNCTION_SINGLE, IPI_IRQ_WORK, WORDS_PER_LINE } from '../kernel/layout.js';
import type { Machine } from '../machine/machine.js';
import { lowerThisThreadPriority } from '../util/thread-priority.js';
import type { SkeletonThroughputResult, SkeletonThroughputTask } from './skeleton-throughput-task.js';

// ── control line ──────────────────────────────────────────────────────────────
const GO = 0;
const STOP = 1;
const READY = 2;
const STOPPED = 3;
// ── a thread's block ──────────────────────────────────────────────────────────
const T_RAISED = 0 * WORDS_PER_LINE;
const T_CSQ = 1 * WORDS_PER_LINE;
const T_PENDING = 2 * WORDS_PER_LINE;
const T_POLLING = T_PENDING + 1;
const THREAD_LINES = 3;
const THREAD_WORDS = THREAD_LINES * WORDS_PER_LINE;
// ── a work node ───────────────────────────────────────────────────────────────
const N_NEXT = 0;
const N_FLAGS = 1;
const N_CLAIMED = 2;
const N_EXECUTED = 3;

/** Operations between two looks at STOP (the model looks at its clock every 64 interrupt points). */
const BATCH = 256;
/** How long a stopped thread waits for an IPI at a time while the others finish, ms. */
const DRAIN_WAIT_MS = 1;
/** No thread may take longer than this beyond the run; a stuck partner fails the run instead of hanging it. */
const DEADLINE_MS = 30_000;
const POLL_MS = 1;

/** Where everything is, for T threads of W works each. */
export class SkeletonLayout {
  readonly threadsBase = WORDS_PER_LINE;
  readonly nodesBase: number;
  readonly words: number;

  constructor(
    readonly threads: number,
    readonly worksPerThread: number,
  ) {
    this.nodesBase = this.threadsBase + threads * THREAD_WORDS;
    this.words = this.nodesBase + (1 + threads * worksPerThread) * WORDS_PER_LINE;
  }

  thread(t: number): number {
    return this.threadsBase + t * THREAD_WORDS;
  }

  /** First word of node `n` (1 … T·W). */
  node(n: number): number {
    return this.nodesBase + n * WORDS_PER_LINE;
  }

  /** The first node thread `t` owns. */
  firstNode(t: number): number {
    return 1 + t * this.worksPerThread;
  }
}

/** A zeroed buffer; the second half of each thread's works are HARD_IRQ, as in the preset (no step reads it). */
export function skeletonBuffer(layout: SkeletonLayout, hardShare = 0.5): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(layout.words * 4);
  const i32 = new Int32Array(sab);
  const hardFrom = Math.round(layout.worksPerThread * (1 - hardShare));
  for (let t = 0; t < layout.threads; t++) {
    for (let j = hardFrom; j < layout.worksPerThread; j++) i32[layout.node(layout.firstNode(t) + j) + N_FLAGS] = IRQ_WORK_HARD_IRQ;
  }
  return sab;
}

class Deadline {
  private readonly atMs = Date.now() + DEADLINE_MS;
  constructor(private readonly what: string) {}
  check(): void {
    if (Date.now() > this.atMs) throw new Error(`skeleton throughput ${this.what}: no progress within ${DEADLINE_MS} ms`);
  }
}

/** One thread of the baseline: its own operations and its interrupt points. */
class SkeletonThread {
  claims = 0;
  failedClaims = 0;
  runs = 0;
  ipisSent = 0;
  selfIpis = 0;
  ipisTaken = 0;
  private readonly raised: number;
  private readonly csq: number;
  private readonly pending: number;
  private readonly firstNode: number;
  private cursor = 0;
  /** Bresenham accumulator: exactly `remoteShare` of the operations go remote, evenly spread. */
  private remoteAcc = 0;
  private targetStep = 0;

  constructor(
    private readonly i32: Int32Array,
    private readonly layout: SkeletonLayout,
    private readonly id: number,
    private readonly remoteShare: number,
  ) {
    const own = layout.thread(id);
    this.raised = own + T_RAISED;
    this.csq = own + T_CSQ;
    this.pending = own + T_PENDING;
    this.firstNode = layout.firstNode(id);
  }

  /** irq_work_queue() or irq_work_queue_on() of this thread's next work. */
  queueOne(): void {
    const i32 = this.i32;
    const layout = this.layout;
    const node = this.firstNode + this.cursor;
    if (++this.cursor === layout.worksPerThread) this.cursor = 0;
    const nodeWord = layout.node(node);
    // irq_work_claim(): one fetch-or; a work still PENDING is already on its way.
    const old = Atomics.or(i32, nodeWord + N_FLAGS, IRQ_WORK_CLAIMED | CSD_TYPE_IRQ_WORK);
    if (old & IRQ_WORK_PENDING) {
      this.failedClaims++;
      return;
    }
    this.claims++;
    // Plain: the next successful claim of this work needs PENDING clear, which only the run that
    // follows our list add can do, so no two threads ever increment this word at once.
    i32[nodeWord + N_CLAIMED]!++;

    let head = this.raised;
    let target = this.id;
    if (layout.threads > 1) {
      this.remoteAcc += this.remoteShare;
      if (this.remoteAcc >= 1) {
        this.remoteAcc -= 1;
        // Round robin over the other threads.
        target = (this.id + 1 + this.targetStep) % layout.threads;
        if (++this.targetStep === layout.threads - 1) this.targetStep = 0;
        head = layout.thread(target) + T_CSQ;
      }
    }
    // llist_add(). The head is read plainly, as the model's llist_add does (READ_ONCE): the
    // compare-exchange checks it, and a stale value only costs one more round.
    let first = i32[head]!;
    for (;;) {
      // Plain: nobody sees the node before the compare-exchange publishes it, and that seq-cst
      // operation orders this store before the publication.
      i32[nodeWord + N_NEXT] = first;
      const seen = Atomics.compareExchange(i32, head, first, node);
      if (seen === first) break;
      first = seen;
    }
    if (first !== 0) return; // not first: whoever made the list non-empty has raised the IPI
    if (target === this.id) {
      // arch_irq_work_raise(): latch the self-IPI; our own next interrupt point takes it.
      Atomics.or(i32, this.pending, IPI_IRQ_WORK);
      this.selfIpis++;
    } else {
      // send_call_function_single_ipi(): latch the bit, then notify only a thread that waits
      // (the fetch-or is seq-cst, so a waiter that set polling before its wait is seen here,
      // and one that sets it later finds the bit already latched).
      const pending = layout.thread(target) + T_PENDING;
      Atomics.or(i32, pending, IPI_CALL_FUNCTION_SINGLE);
      if (Atomics.load(i32, pending + 1) !== 0) Atomics.notify(i32, pending, 1);
      this.ipisSent++;
    }
  }

  /** A busy CPU's interrupt point: one load of the pending word. */
  interruptPoint(): void {
    if (Atomics.load(this.i32, this.pending) !== 0) this.takeInterrupts();
  }

  /** Takes every latched IPI and runs the list it stands for. */
  takeInterrupts(): void {
    const bits = Atomics.exchange(this.i32, this.pending, 0);
    if (bits === 0) return;
    this.ipisTaken++;
    // flush_smp_call_function_queue() and irq_work_run(): straight to the exchange, as the
    // kernel's flush does. The exchange pairs with the adders' compare-exchange: every node
    // handed over, and what its adder wrote before (next, the claim), is visible from here on.
    if (bits & IPI_CALL_FUNCTION_SINGLE) this.runList(Atomics.exchange(this.i32, this.csq, 0));
    if (bits & IPI_IRQ_WORK) this.runList(Atomics.exchange(this.i32, this.raised, 0));
  }

  /** After every thread stopped queueing: whatever is still on our lists. */
  takeAll(): void {
    Atomics.exchange(this.i32, this.pending, 0);
    this.runList(Atomics.exchange(this.i32, this.csq, 0));
    this.runList(Atomics.exchange(this.i32, this.raised, 0));
  }

  /** irq_work_single() of every node of a chain taken by llist_del_all(). */
  private runList(node: number): void {
    const i32 = this.i32;
    while (node !== 0) {
      const nodeWord = this.layout.node(node);
      // llist_next(), plain: the chain was handed to us by the exchange. Read before the work
      // can be claimed again (clearing PENDING below), since a new add rewrites it.
      const next = i32[nodeWord + N_NEXT]!;
      const flagsWord = nodeWord + N_FLAGS;
      // atomic_read(): claimers may fetch-or this word at any time (failing claims leave it as is).
      let flags = Atomics.load(i32, flagsWord);
      // Plain, and before PENDING is cleared: the next run of this work needs a claim that only
      // succeeds after our clear, so runs of one work never increment this word at once.
      i32[nodeWord + N_EXECUTED]!++;
      // Clear PENDING: from here the work may be claimed again. Atomics.store is seq-cst: also
      // the smp_mb() after it, pairing with the claimers' fetch-or.
      flags &= ~IRQ_WORK_PENDING;
      Atomics.store(i32, flagsWord, flags);
      this.runs++; // the callback would start here
      // Clear BUSY unless the work was claimed again meanwhile (then the new run clears it).
      Atomics.compareExchange(i32, flagsWord, flags, flags & ~IRQ_WORK_BUSY);
      node = next;
    }
  }
}

/** The per-thread program (workers/cpu-worker.ts). */
export function runSkeletonThroughput(task: SkeletonThroughputTask): SkeletonThroughputResult {
  if (task.lowPriority) lowerThisThreadPriority();
  const i32 = new Int32Array(task.sab);
  const layout = new SkeletonLayout(task.threads, task.worksPerThread);
  const me = new SkeletonThread(i32, layout, task.thread, task.remoteShare);
  const deadline = new Deadline(`thread ${task.thread}`);

  Atomics.add(i32, READY, 1);
  while (Atomics.load(i32, GO) === 0) {
    Atomics.wait(i32, GO, 0, 50);
    deadline.check();
  }
  let batches = 0;
  let stalledMs = 0;
  let batchStart = performance.now();
  for (;;) {
    const failedBefore = me.failedClaims;
    for (let i = 0; i < BATCH; i++) {
      me.queueOne();
      me.interruptPoint();
    }
    // A batch where most claims failed: our works sat on the lists of threads that did not run.
    // One clock read per batch (about 60 ns per BATCH operations).
    const now = performance.now();
    if (me.failedClaims - failedBefore > BATCH / 2) stalledMs += now - batchStart;
    batchStart = now;
    if (Atomics.load(i32, STOP) !== 0) break;
    if ((++batches & 0x3ff) === 0) deadline.check();
  }
  const runsInWindow = me.runs;
  // Every add of ours happened before this: once STOPPED reaches T, no list gets a node again.
  Atomics.add(i32, STOPPED, 1);
  const polling = layout.thread(task.thread) + T_POLLING;
  const pending = layout.thread(task.thread) + T_PENDING;
  while (Atomics.load(i32, STOPPED) < task.threads) {
    me.interruptPoint();
    // Let the threads still queueing have the core; a remote IPI ends the wait (see queueOne).
    Atomics.store(i32, polling, 1);
    Atomics.wait(i32, pending, 0, DRAIN_WAIT_MS);
    Atomics.store(i32, polling, 0);
    deadline.check();
  }
  me.takeAll();
  return {
    thread: task.thread,
    claims: me.claims,
    failedClaims: me.failedClaims,
    runs: me.runs,
    runsInWindow,
    ipisSent: me.ipisSent,
    selfIpis: me.selfIpis,
    ipisTaken: me.ipisTaken,
    stalledMs,
  };
}

/** One run of the baseline, as the main thread sees it. */
export interface SkeletonRun {
  threads: number;
  worksPerThread: number;
  remoteShare: number;
  /** GO → STOP on the main thread, ms. */
  windowMs: number;
  /** Works run in the window per second, all threads. */
  worksPerSec: number;
  /** CPU time of the whole process in the window / the window: how many cores the run had. */
  coresUsed: number;
  claims: number;
  failedClaims: number;
  runs: number;
  ipisSent: number;
  selfIpis: number;
  ipisTaken: number;
  /**
   * Share of the threads' time in the window spent with their works stuck on other threads' lists
   * (batches where most claims failed): near 0 when the threads run side by side, near 1 when
   * the OS runs them in turns.
   */
  stalledShare: number;
  /** Every successful claim ran exactly once: per work claimed == executed, and no work left claimed. */
  conserved: boolean;
  /** What broke conservation, if anything (the first few works). */
  problems: string[];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Per work claimed == executed and the flags idle; totals of claims and runs equal. */
export function conservationProblems(sab: SharedArrayBuffer, layout: SkeletonLayout, claims: number, runs: number): string[] {
  const i32 = new Int32Array(sab);
  const out: string[] = [];
  for (let n = 1; n <= layout.threads * layout.worksPerThread; n++) {
    const w = layout.node(n);
    const claimed = i32[w + N_CLAIMED]!;
    const executed = i32[w + N_EXECUTED]!;
    const flags = i32[w + N_FLAGS]!;
    if (claimed !== executed || flags & IRQ_WORK_CLAIMED) {
      if (out.length < 5) out.push(`work ${n}: claimed ${claimed}, executed ${executed}, flags 0x${flags.toString(16)}`);
    }
  }
  if (claims !== runs) out.push(`in total: claimed ${claims}, run ${runs}`);
  return out;
}

/**
 * One run of the skeleton on every thread of `machine` (T = machine.cpus), for `durationMs`.
 * The machine must not be running anything else.
 */
export async function runSkeletonOnMachine(
  machine: Machine,
  durationMs: number,
  opts: { worksPerThread: number; remoteShare: number },
): Promise<SkeletonRun> {
  const threads = machine.cpus;
  const layout = new SkeletonLayout(threads, opts.worksPerThread);
  const sab = skeletonBuffer(layout);
  const i32 = new Int32Array(sab);
  let failure: unknown = null;
  const tasks = Array.from({ length: threads }, (_, thread) => {
    const task: SkeletonThroughputTask = {
      program: 'skeleton-throughput',
      sab,
      thread,
      threads,
      worksPerThread: opts.worksPerThread,
      remoteShare: opts.remoteShare,
      lowPriority: machine.machineOptions.lowPriority,
    };
    return machine.runTask<SkeletonThroughputResult>(task).catch((e: unknown) => {
      failure ??= e;
      // Let the others go and stop, so that nothing hangs on a barrier a dead thread never reaches.
      Atomics.store(i32, GO, 1);
      Atomics.notify(i32, GO);
      Atomics.store(i32, STOP, 1);
      Atomics.add(i32, STOPPED, 1);
      return null;
    });
  });
  const readyBy = Date.now() + DEADLINE_MS;
  while (Atomics.load(i32, READY) < threads && failure === null) {
    if (Date.now() > readyBy) throw new Error(`skeleton throughput: only ${Atomics.load(i32, READY)} of ${threads} threads started`);
    await sleep(POLL_MS);
  }
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  Atomics.store(i32, GO, 1);
  Atomics.notify(i32, GO);
  if (failure === null) await sleep(durationMs);
  Atomics.store(i32, STOP, 1);
  const windowMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const results = await Promise.all(tasks);
  if (failure !== null) throw failure instanceof Error ? failure : new Error(String(failure));
  const done = results.filter((r): r is SkeletonThroughputResult => r !== null);
  const sum = (f: (r: SkeletonThroughputResult) => number) => done.reduce((a, r) => a + f(r), 0);
  const claims = sum((r) => r.claims);
  const runs = sum((r) => r.runs);
  const problems = conservationProblems(sab, layout, claims, runs);
  return {
    threads,
    worksPerThread: opts.worksPerThread,
    remoteShare: opts.remoteShare,
    windowMs,
    worksPerSec: sum((r) => r.runsInWindow) / (windowMs / 1000),
    coresUsed: (cpu.user + cpu.system) / 1000 / windowMs,
    claims,
    failedClaims: sum((r) => r.failedClaims),
    runs,
    ipisSent: sum((r) => r.ipisSent),
    selfIpis: sum((r) => r.selfIpis),
    ipisTaken: sum((r) => r.ipisTaken),
    stalledShare: Math.min(1, sum((r) => r.stalledMs) / (threads * windowMs)),
    conserved: problems.length === 0,
    problems,
  };
}
