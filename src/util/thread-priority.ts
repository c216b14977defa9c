/**
 * Lowering the OS priority (raising the nice value) of the calling thread — a simulated CPU's
 * worker — so that the process's own infrastructure threads win the cores when there are more
 * simulated CPUs than cores.
 *
 * Why: each worker is a V8 isolate that JIT-compiles its own copy of the model. Its optimizing
 * compiles run on V8's few background threads, which the OS schedules like any other thread.
 * With 64 busy workers on 2 cores those threads get about 1/70 of the machine, the compiles
 * never catch up, and the workers run baseline code for as long as a run lasts. At nice 19 the
 * workers leave the cores to the compiler first (docs/LATENCY.md, "What limits the figures", has
 * the measurements). The main thread (watchdog, liveness) keeps its priority too.
 *
 * Linux only: the thread's kernel id comes from /proc/thread-self, and setpriority() on a thread
 * id affects that thread alone. Elsewhere, or if it fails, nothing changes.
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** The nice value of a worker that lets V8's compiler and GC threads and the main thread go first. */
export const LOW_PRIORITY_NICE = 19;

/** Sets the calling thread's nice value to at least `nice`; returns whether it now has it. */
export function lowerThisThreadPriority(nice: number = LOW_PRIORITY_NICE): boolean {
  if (process.platform !== 'linux') return false;
  try {
    // "<pid>/task/<tid>"
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return false;
    if (getPriority(tid) < nice) setPriority(tid, nice);
    return getPriority(tid) >= nice;
  } catch {
    return false;
  }
}
