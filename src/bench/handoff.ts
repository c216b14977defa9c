/**
 * Raw hand-off baselines between two workers, measured the way the latency classes are: the
 * sender stamps the shared clock and hands over, the receiver reads the clock as soon as it knows
 * and records the difference (one-way). One sample at a time; the sender waits for the receiver's
 * acknowledgement before the next.
 *
 *   spin      receiver spins on Atomics.load(SEQ); sender stores SEQ
 *   skeleton  the irreducible atomic steps of a remote hard irq_work and nothing else (no model
 *             around them): sender claims (fetch-or), stamps, llist_add()s the node (plain
 *             next, compare-exchange of the head), raises the IPI (fetch-or, then the polling
 *             load); receiver spins on the IPI word as a busy CPU's interrupt points do, takes
 *             the IPI (exchange), llist_del_all()s (exchange), reads next and the flags plainly
 *             and records; then clears PENDING and BUSY as irq_work_single() does. What the
 *             protocol itself costs between two cores, as opposed to the model's bookkeeping.
 *   notify    receiver blocks in Atomics.wait(SEQ); sender waits the task's gap, then stores SEQ and
 *             Atomics.notify — a sample where the receiver was not asleep yet ("not-equal") is
 *             skipped, not recorded
 *   port      receiver idles in its event loop; sender waits the gap, then postMessage()s the
 *             stamp on a MessagePort
 *
 * Shared buffer (words):
 *   line 0  SEQ, STAMP (float64 at 2-3)          sender writes
 *   line 1  ACK, READY, WAITING                   receiver writes
 *   line 2  GAP                                   nobody writes (the sender's timed sleep)
 *   line 3  skeleton: IPI pending, polling         sender sets, receiver takes
 *   line 4  skeleton: list head                    sender adds, receiver takes all
 *   line 5  skeleton: node next, flags, stamp      sender claims and links, receiver runs
 *   line 6… the receiver's LatencyHistogram        receiver writes; main reads after both returned
 */
import { monotonicClock, type Clock } from '../cpu/clock.js';
import { IRQ_WORK_BUSY, IRQ_WORK_CLAIMED, IRQ_WORK_PENDING } from '../kernel/flags.js';
import { IPI_CALL_FUNCTION_SINGLE, WORDS_PER_LINE } from '../kernel/layout.js';
import { LatencyHistogram } from '../stats/histogram.js';
import type { HandoffResult, HandoffTask } from './handoff-task.js';

const SEQ = 0;
const STAMP_F64 = 1; // float64 index (words 2-3)
const ACK = WORDS_PER_LINE;
const READY = WORDS_PER_LINE + 1;
const WAITING = WORDS_PER_LINE + 2;
/** A word nobody writes: the sender sleeps on it for the gap between samples. */
const GAP_WORD = 2 * WORDS_PER_LINE;
const SK_PENDING = 3 * WORDS_PER_LINE;
const SK_POLLING = SK_PENDING + 1;
const SK_HEAD = 4 * WORDS_PER_LINE;
const SK_NODE_LINE = 5 * WORDS_PER_LINE;
const SK_NEXT = SK_NODE_LINE;
const SK_FLAGS = SK_NODE_LINE + 1;
const SK_STAMP_F64 = (SK_NODE_LINE + 2) / 2; // float64 index (words 2-3 of the node line)
/** The node's "pointer" in the head word (any non-zero value: there is only one node). */
const SK_NODE = 1;
const HISTOGRAM_WORD = 6 * WORDS_PER_LINE;
/** No baseline may take longer than this; a stuck partner fails the run instead of hanging it. */
const DEADLINE_MS = 30_000;
const LOOK_MS = 100;

export function handoffBuffer(): SharedArrayBuffer {
  const words = HISTOGRAM_WORD + LatencyHistogram.storageLength() * 2;
  return new SharedArrayBuffer(words * 4);
}

export function handoffHistogram(sab: SharedArrayBuffer): LatencyHistogram {
  return new LatencyHistogram(new Float64Array(sab, HISTOGRAM_WORD * 4, LatencyHistogram.storageLength()));
}

let threadClock: Clock | undefined;
function clockOfThisThread(): Clock {
  threadClock ??= monotonicClock();
  return threadClock;
}

class Deadline {
  private readonly atMs = Date.now() + DEADLINE_MS;
  constructor(private readonly what: string) {}
  check(): void {
    if (Date.now() > this.atMs) throw new Error(`hand-off baseline ${this.what}: partner did not answer within ${DEADLINE_MS} ms`);
  }
}

/** Spins until `word` holds `value`, looking at the deadline now and then. */
function spinUntil(i32: Int32Array, word: number, value: number, deadline: Deadline): void {
  let spins = 0;
  while (Atomics.load(i32, word) !== value) if ((++spins & 0xfffff) === 0) deadline.check();
}

/** Blocks until `word` holds `value` (it only ever grows by one from `value - 1`). */
function waitUntil(i32: Int32Array, word: number, value: number, deadline: Deadline): void {
  while (Atomics.load(i32, word) !== value) {
    Atomics.wait(i32, word, value - 1, LOOK_MS);
    deadline.check();
  }
}

export function runHandoff(task: HandoffTask): HandoffResult | Promise<HandoffResult> {
  const i32 = new Int32Array(task.sab);
  const f64 = new Float64Array(task.sab);
  const clock = clockOfThisThread();
  const deadline = new Deadline(`${task.mechanism} ${task.role}`);
  const n = task.samples;

  if (task.role === 'receiver') {
    const h = handoffHistogram(task.sab);
    if (task.mechanism === 'spin') {
      Atomics.store(i32, READY, 1);
      for (let seq = 1; seq <= n; seq++) {
        spinUntil(i32, SEQ, seq, deadline);
        h.record(clock() - f64[STAMP_F64]!);
        Atomics.store(i32, ACK, seq);
      }
      return { skipped: 0 };
    }
    if (task.mechanism === 'skeleton') {
      Atomics.store(i32, READY, 1);
      for (let seq = 1; seq <= n; seq++) {
        spinUntil(i32, SK_PENDING, IPI_CALL_FUNCTION_SINGLE, deadline); // interrupt points
        Atomics.exchange(i32, SK_PENDING, 0); // take the IPI
        const node = Atomics.exchange(i32, SK_HEAD, 0); // flush: llist_del_all()
        if (node !== SK_NODE || i32[SK_NEXT] !== 0) throw new Error('hand-off baseline skeleton: list is not the one node');
        let flags = i32[SK_FLAGS]!; // irq_work_single(): atomic_read()
        h.record(clock() - f64[SK_STAMP_F64]!); // the callback starts
        flags &= ~IRQ_WORK_PENDING;
        Atomics.store(i32, SK_FLAGS, flags);
        Atomics.compareExchange(i32, SK_FLAGS, flags, flags & ~IRQ_WORK_BUSY);
        Atomics.store(i32, ACK, seq);
      }
      return { skipped: 0 };
    }
    if (task.mechanism === 'notify') {
      let skipped = 0;
      Atomics.store(i32, READY, 1);
      for (let seq = 1; seq <= n; seq++) {
        Atomics.store(i32, WAITING, seq);
        let result: string;
        for (;;) {
          result = Atomics.wait(i32, SEQ, seq - 1, LOOK_MS);
          if (result !== 'timed-out') break;
          deadline.check();
        }
        const nowNs = clock();
        if (result === 'ok') h.record(nowNs - f64[STAMP_F64]!);
        else skipped++;
        Atomics.store(i32, ACK, seq);
        Atomics.notify(i32, ACK);
      }
      return { skipped };
    }
    const port = task.port!;
    return new Promise<HandoffResult>((resolve, reject) => {
      let seq = 0;
      const timer = setTimeout(() => {
        port.close();
        reject(new Error(`hand-off baseline port receiver: got ${seq} of ${n} messages in ${DEADLINE_MS} ms`));
      }, DEADLINE_MS);
      port.on('message', (stampNs: number) => {
        h.record(clock() - stampNs);
        seq++;
        Atomics.store(i32, ACK, seq);
        Atomics.notify(i32, ACK);
        if (seq === n) {
          clearTimeout(timer);
          port.close();
          resolve({ skipped: 0 });
        }
      });
      Atomics.store(i32, READY, 1);
    });
  }

  // sender
  waitUntil(i32, READY, 1, deadline);
  for (let seq = 1; seq <= n; seq++) {
    if (task.mechanism === 'spin') {
      f64[STAMP_F64] = clock();
      Atomics.store(i32, SEQ, seq);
      spinUntil(i32, ACK, seq, deadline);
      continue;
    }
    if (task.mechanism === 'skeleton') {
      Atomics.or(i32, SK_FLAGS, IRQ_WORK_CLAIMED); // irq_work_claim()
      f64[SK_STAMP_F64] = clock(); // stamped after the claim, as the model stamps
      let first = i32[SK_HEAD]!; // llist_add()
      for (;;) {
        i32[SK_NEXT] = first;
        const seen = Atomics.compareExchange(i32, SK_HEAD, first, SK_NODE);
        if (seen === first) break;
        first = seen;
      }
      if (first === 0) {
        // send_call_function_single_ipi(): latch the bit, notify only a CPU that waits.
        Atomics.or(i32, SK_PENDING, IPI_CALL_FUNCTION_SINGLE);
        if (Atomics.load(i32, SK_POLLING) !== 0) Atomics.notify(i32, SK_PENDING, 1);
      }
      spinUntil(i32, ACK, seq, deadline);
      continue;
    }
    // The receiver says it is about to wait; the gap lets it sleep as long as it should.
    if (task.mechanism === 'notify') spinUntil(i32, WAITING, seq, deadline);
    if (task.gapUs > 0) Atomics.wait(i32, GAP_WORD, 0, task.gapUs / 1000);
    if (task.mechanism === 'notify') {
      f64[STAMP_F64] = clock();
      Atomics.store(i32, SEQ, seq);
      Atomics.notify(i32, SEQ, 1);
    } else {
      task.port!.postMessage(clock());
    }
    waitUntil(i32, ACK, seq, deadline);
  }
  task.port?.close();
  return { skipped: 0 };
}
