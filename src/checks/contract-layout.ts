/**
 * The contract check's region: the callers' data around each work, and what the contract check
 * (contract.ts) keeps about it. The kernel model never reads or writes it (the caller's data is
 * not kernel state: think of the struct a real caller wraps around its irq_work and reaches with
 * container_of); runs without checks do not have it, and their callers publish nothing.
 *
 * The caller's data. Every queue attempt of the workload (driver.ts, and the re-queueing
 * callback) draws the next number of its work's sequence (SEQ) and writes it, with a plain store,
 * into its own CPU's data word of the work; every callback reads all of them, plainly, and takes
 * the newest. One word per CPU rather than one per work: several CPUs queue one work at the same
 * time, and two plain stores of one word race — a caller that drew an older number can store
 * after one that drew a newer number, so a correct kernel's run could then see "less than what
 * was written before the claim". A word with one writer goes only forward (the number is drawn
 * and stored with no interrupt point in between, so even an NMI on the same CPU cannot slip an
 * older store in after a newer one), and the newest of all words is what the callback saw.
 *
 *   base   ┌────────────────────────────────────────────────────────────────────────────┐
 *          │ work lines, one per node at the node's index (line 0, like node 0, unused): │
 *          │   0 SEQ        data numbers drawn so far          callers (Atomics.add)     │
 *          │   1 IN_FLIGHT  queue attempts announced and not   callers (Atomics.add/sub) │
 *          │                yet returned                                                 │
 *          │   2 REQ        newest data number of a claim      claim hooks (CAS max)     │
 *          │                whose hook has run                                           │
 *          │   3 SEEN_MAX   newest data number a callback      callbacks (CAS max)       │
 *          │                of the work read                                             │
 *          │   4-15 spare                                                                │
 *   +nrNodes·16 ──────────────────────────────────────────────────────────────────────────┤
 *          │ CPU 0 block: a slot of SLOT_WORDS per node (four slots a line), then CPU 1 … │
 *          │   0 DATA       the caller's data word of this CPU  this CPU's callers       │
 *          │                                                    (PLAIN store)            │
 *          │   1 OWN        this CPU's attempts in IN_FLIGHT    this CPU's callers       │
 *          │   2 SEEN       what this CPU's latest callback of  its run's start (UNSEEN),│
 *          │                the work read                       then its callback        │
 *          │   3 FAIL       newest data number of this CPU's    this CPU's claim hooks   │
 *          │                failed claims                                                │
 *          └────────────────────────────────────────────────────────────────────────────┘
 *
 * The CPU blocks grow with CPUs × nodes (about 10 MB for 256 CPUs of the default workload), so
 * a slot is kept to four words. Every word but DATA is bookkeeping and accessed with Atomics (the
 * main thread reads SEEN_MAX and FAIL after the run; IN_FLIGHT, REQ and SEEN_MAX are written by
 * every CPU). DATA is the caller's own data and is written and read plainly on purpose: see
 * callbackReads.
 */
import { WORDS_PER_LINE, type ExtraRegion } from '../kernel/layout.js';
import type { KernelMemory } from '../kernel/memory.js';

export const CONTRACT_REGION = 'contract';

// ── work line ─────────────────────────────────────────────────────────────────
export const C_SEQ = 0;
export const C_IN_FLIGHT = 1;
export const C_REQ = 2;
export const C_SEEN_MAX = 3;

// ── per-CPU slot ──────────────────────────────────────────────────────────────
export const SLOT_WORDS = 4;
export const C_DATA = 0;
export const C_OWN = 1;
export const C_SEEN = 2;
export const C_FAIL = 3;

/** SEEN from a run's start until its callback has read the data (data numbers start at 1). */
export const UNSEEN = -1;

/** The extra region a run with checks asks KernelMemory.create for. */
export function contractRegion(cfg: { nrCpus: number; nrWorks: number }): ExtraRegion {
  const nrNodes = 1 + cfg.nrCpus + cfg.nrWorks;
  return { name: CONTRACT_REGION, words: nrNodes * WORDS_PER_LINE + cfg.nrCpus * cpuBlockWords(nrNodes) };
}

function cpuBlockWords(nrNodes: number): number {
  return Math.ceil((nrNodes * SLOT_WORDS) / WORDS_PER_LINE) * WORDS_PER_LINE;
}

/** Typed access to the region, for the workload's callers and callbacks, the check and the report. */
export class ContractView {
  readonly i32: Int32Array;
  readonly base: number;
  private readonly cpusBase: number;
  private readonly blockWords: number;
  private readonly nrCpus: number;

  constructor(mem: KernelMemory) {
    const region = mem.layout.extra[CONTRACT_REGION];
    if (!region) throw new Error('shared memory has no contract region (checks need contractRegion)');
    const nrNodes = mem.layout.nrNodes;
    this.blockWords = cpuBlockWords(nrNodes);
    if (region.words < nrNodes * WORDS_PER_LINE + mem.cfg.nrCpus * this.blockWords) {
      throw new Error(`contract region has ${region.words} words, too few for ${nrNodes} nodes and ${mem.cfg.nrCpus} CPUs`);
    }
    this.i32 = mem.i32;
    this.base = region.base;
    this.cpusBase = region.base + nrNodes * WORDS_PER_LINE;
    this.nrCpus = mem.cfg.nrCpus;
  }

  /** The view of `mem`'s contract region, or undefined when the run has none (checks off). */
  static find(mem: KernelMemory): ContractView | undefined {
    return mem.layout.extra[CONTRACT_REGION] ? new ContractView(mem) : undefined;
  }

  /** Word `field` (C_SEQ … C_SEEN_MAX) of work `work`'s line. */
  workWord(work: number, field: number): number {
    return this.base + work * WORDS_PER_LINE + field;
  }

  /** Word `field` (C_DATA … C_FAIL) of CPU `cpu`'s slot for work `work`. */
  slotWord(cpu: number, work: number, field: number): number {
    return this.cpusBase + cpu * this.blockWords + work * SLOT_WORDS + field;
  }

  // ── the caller (workload/driver.ts, the re-queueing callback) ────────────────

  /**
   * Before a queue attempt by CPU `cpu`, from any context: announce the attempt (until
   * afterQueue), draw the work's next data number and write it into this CPU's data word.
   * Returns the number. There is no interrupt point inside, so no nested context of this CPU
   * (an NMI) can store between our draw and our store: this CPU's word only goes forward.
   */
  beforeQueue(work: number, cpu: number): number {
    const i32 = this.i32;
    Atomics.add(i32, this.slotWord(cpu, work, C_OWN), 1);
    Atomics.add(i32, this.workWord(work, C_IN_FLIGHT), 1);
    const n = Atomics.add(i32, this.workWord(work, C_SEQ), 1) + 1;
    // A PLAIN store, as a caller writes its data before irq_work_queue(): nothing of ours orders
    // it for the run that will read it. Only the kernel may: the claim's fetch-or (a full barrier
    // even when it fails) pairs with the barrier after irq_work_single() clears PENDING. The
    // locked add just above is no help there: it comes before the store, not after it.
    i32[this.slotWord(cpu, work, C_DATA)] = n;
    return n;
  }

  /** After the queue call returned (whatever it returned): the attempt is no longer in flight. */
  afterQueue(work: number, cpu: number): void {
    Atomics.sub(this.i32, this.workWord(work, C_IN_FLIGHT), 1);
    Atomics.sub(this.i32, this.slotWord(cpu, work, C_OWN), 1);
  }

  // ── the callback (workload/callbacks.ts) ─────────────────────────────────────

  /**
   * What the callback of `work` running on CPU `cpu` reads first: every CPU's data word, with
   * PLAIN loads, as a callback reads the data its callers published. These words are written by
   * other CPUs, and a stale value is exactly what the check looks for — so they must not be
   * Atomics.load: an acquire of our own would order the read by itself and hide a kernel that
   * fails to. What orders it in a correct kernel is irq_work_single()'s clear of PENDING (an
   * Atomics.store, the model's atomic_set + smp_mb(), a locked instruction on x86-64) before the
   * callback, pairing with the claimer's fetch-or after its store. Returns the newest number seen,
   * and records it for the check (SEEN) and for the end-of-run judgement (SEEN_MAX).
   */
  callbackReads(work: number, cpu: number): number {
    const i32 = this.i32;
    let newest = 0;
    for (let c = 0; c < this.nrCpus; c++) {
      const v = i32[this.slotWord(c, work, C_DATA)]!;
      if (v > newest) newest = v;
    }
    Atomics.store(i32, this.slotWord(cpu, work, C_SEEN), newest);
    this.raise(this.workWord(work, C_SEEN_MAX), newest);
    return newest;
  }

  // ── the check (contract.ts) and the end-of-run judgement ─────────────────────

  /** This CPU's own data word, read by this CPU (its own stores: a plain read sees them). */
  ownData(work: number, cpu: number): number {
    return this.i32[this.slotWord(cpu, work, C_DATA)]!;
  }

  /** Raise `work`'s REQ to `n` if it is lower. */
  raiseReq(work: number, n: number): void {
    this.raise(this.workWord(work, C_REQ), n);
  }

  /** Raise word `word` to `n` if it is lower: several CPUs race on it, so compare-exchange. */
  private raise(word: number, n: number): void {
    let cur = Atomics.load(this.i32, word);
    while (cur < n) {
      const was = Atomics.compareExchange(this.i32, word, cur, n);
      if (was === cur) return;
      cur = was;
    }
  }

  req(work: number): number {
    return Atomics.load(this.i32, this.workWord(work, C_REQ));
  }

  /** A failed claim of CPU `cpu` whose caller had written `n` (only this CPU writes its FAIL). */
  recordFailed(work: number, cpu: number, n: number): void {
    const word = this.slotWord(cpu, work, C_FAIL);
    if (n > Atomics.load(this.i32, word)) Atomics.store(this.i32, word, n);
  }

  /** A run of `work` starts on `cpu`: its callback has not read anything yet. */
  markUnseen(work: number, cpu: number): void {
    Atomics.store(this.i32, this.slotWord(cpu, work, C_SEEN), UNSEEN);
  }

  seen(work: number, cpu: number): number {
    return Atomics.load(this.i32, this.slotWord(cpu, work, C_SEEN));
  }

  /** Queue attempts on `work` in flight on other CPUs than `cpu` (as far as `cpu` can tell now). */
  othersInFlight(work: number, cpu: number): number {
    return Atomics.load(this.i32, this.workWord(work, C_IN_FLIGHT)) - Atomics.load(this.i32, this.slotWord(cpu, work, C_OWN));
  }

  /** Newest data number of a failed claim of `work` on any CPU, and that CPU (-1 if none). */
  newestFailed(work: number): { n: number; cpu: number } {
    let n = 0;
    let cpu = -1;
    for (let c = 0; c < this.nrCpus; c++) {
      const v = Atomics.load(this.i32, this.slotWord(c, work, C_FAIL));
      if (v > n) {
        n = v;
        cpu = c;
      }
    }
    return { n, cpu };
  }

  /** Newest data number any callback of `work` read, on any CPU. */
  newestSeen(work: number): number {
    return Atomics.load(this.i32, this.workWord(work, C_SEEN_MAX));
  }
}
