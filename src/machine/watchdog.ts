/**
 * The soft-lockup watchdog: a CPU that is not idle (nor offline) and whose progress (interrupt
 * points passed with irqs on, plus ticks) has not moved for `stallMs` is stuck — in the kernel
 * code (a cycle in a corrupted list run with irqs off, a sync that spins forever), since the
 * harness itself never spins without passing interrupt points. A worker that the OS does not run
 * for `stallMs` looks the same; the default of 10 s keeps that apart on a loaded 2-core machine.
 */
import { CPU_IDLE_POLLING, CPU_ONLINE, CPU_PROGRESS, CPU_TICKS } from '../kernel/layout.js';
import type { KernelMemory } from '../kernel/memory.js';
import { PHASE_ABORT, PHASE_INIT, type MachineControl } from './control.js';

const WATCHDOG_MS = 100;

export function startWatchdog(
  mem: KernelMemory,
  control: MachineControl,
  stallMs: number,
  lockup: (cpu: number, message: string) => void,
): NodeJS.Timeout {
  const last = Array.from({ length: mem.cfg.nrCpus }, () => ({ progress: -1, sinceMs: performance.now() }));
  return setInterval(() => {
    const phase = control.phase();
    if (phase === PHASE_INIT || phase === PHASE_ABORT) return;
    const now = performance.now();
    for (let cpu = 0; cpu < mem.cfg.nrCpus; cpu++) {
      const b = mem.cpuBase(cpu);
      // Plain reads of words their owner bumps: a stale value only delays the verdict by a look.
      const progress = (mem.i32[b + CPU_PROGRESS]! + mem.i32[b + CPU_TICKS]!) | 0;
      // Idle and offline CPUs make no progress by design.
      const idle = Atomics.load(mem.i32, b + CPU_IDLE_POLLING) !== 0 || Atomics.load(mem.i32, b + CPU_ONLINE) === 0;
      const seen = last[cpu]!;
      if (progress !== seen.progress || idle) {
        seen.progress = progress;
        seen.sinceMs = now;
      } else if (now - seen.sinceMs > stallMs) {
        lockup(cpu, `watchdog: BUG: soft lockup - cpu${cpu} stuck for ${Math.round(now - seen.sinceMs)} ms, making no progress with irqs on`);
        return;
      }
    }
  }, WATCHDOG_MS);
}

/**
 * The watchdog of a run under a controlled schedule: the schedule's step count must move (each
 * CPU waits for its turn most of the time, so its own progress says nothing). `step` returns NaN
 * once the schedule has let go (CPUs unwinding in real time): nothing to watch then.
 */
export function startStepWatchdog(control: MachineControl, stallMs: number, step: () => number, stalled: (message: string) => void): NodeJS.Timeout {
  let last = -1;
  let sinceMs = performance.now();
  return setInterval(() => {
    const phase = control.phase();
    const now = performance.now();
    const at = step();
    if (phase === PHASE_INIT || phase === PHASE_ABORT || Number.isNaN(at) || at !== last) {
      last = at;
      sinceMs = now;
    } else if (now - sinceMs > stallMs) {
      stalled(`watchdog: the controlled schedule made no step for ${Math.round(now - sinceMs)} ms (at step ${at}): a worker stopped answering`);
      sinceMs = Infinity;
    }
  }, WATCHDOG_MS);
}
