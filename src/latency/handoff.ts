/**
 * Raw hand-off baselines between two workers, measured the way the latency classes are: the
 * sender stamps the shared clock and hands over, the receiver reads the clock as soon as it knows
 * and records the difference (one-way). One sample at a time; the sender waits for the receiver's
 * acknowledgement before the next.
 *
 *   spin    receiver spins on Atomics.load(SEQ); sender stores SEQ
 *   notify  receiver blocks in Atomics.wait(SEQ); sender stores SEQ and Atomics.notify — a sample
 *           where the receiver was not asleep yet ("not-equal") is skipped, not recorded
 *   port    receiver idles in its event loop; sender postMessage()s the stamp on a MessagePort
 *
 * Shared buffer (words):
 *   line 0  SEQ, STAMP (float64 at 2-3)          sender writes
 *   line 1  ACK, READY, WAITING                   receiver writes
 *   line 2  GAP                                   nobody writes (the sender's timed sleep)
 *   line 3… the receiver's LatencyHistogram        receiver writes; main reads after both returned
 */
import { monotonicClock, type Clock } from '../cpu/clock.js';
import { WORDS_PER_LINE } from '../kernel/layout.js';
import { LatencyHistogram } from '../stats/histogram.js';
import type { HandoffResult, HandoffTask } from './task.js';

const SEQ = 0;
const STAMP_F64 = 1; // float64 index (words 2-3)
const ACK = WORDS_PER_LINE;
const READY = WORDS_PER_LINE + 1;
const WAITING = WORDS_PER_LINE + 2;
/** A word nobody writes: the sender sleeps on it for the gap between samples. */
const GAP_WORD = 2 * WORDS_PER_LINE;
const HISTOGRAM_WORD = 3 * WORDS_PER_LINE;
/** Gap before a wake-up sample, so that the receiver has really gone to sleep. */
const GAP_MS = 0.05;
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
    // The receiver says it is about to wait; the gap lets it get there.
    if (task.mechanism === 'notify') spinUntil(i32, WAITING, seq, deadline);
    Atomics.wait(i32, GAP_WORD, 0, GAP_MS);
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
