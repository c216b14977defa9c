/**
 * The machine's own region of the shared memory: how the main thread runs the CPUs. The kernel
 * model never reads it; the CPU runtime sees only RunControl.aborted().
 *
 *   +0  ┌──────────────────────────────────────────────────────────────────────────────┐
 *       │ PHASE       run phase (PHASE_* below)          main writes, every CPU reads    │
 *       │ BARRIER     start barrier: CPUs count in        each CPU adds 1, main reads    │
 *       │ FINDINGS    findings so far (stop-on-first)      CPUs and main add, main reads │
 *       │ (spare)                                                                       │
 *       │ RUN_START   float64 at words 4-5: when RUNNING began, ns on the shared clock     │
 *       │                                                 main writes before RUNNING     │
 *  +16  ├──────────────────────────────────────────────────────────────────────────────┤
 *       │ LEFT[cpu]   1 once the CPU's program has left RUNNING: it claims nothing more of  │
 *       │             its own accord         the CPU writes, main reads (one word per CPU) │
 *       └──────────────────────────────────────────────────────────────────────────────┘
 *
 * Phases: INIT → RUNNING (the barrier passed) → QUIESCE (the run kind stops producing; CPUs
 * keep taking interrupts and ticks until the machine is quiet) → STOP. ABORT at any time ends
 * every CPU at its next look. A CPU idling in Atomics.wait on its pending-IPI word is kicked
 * with MACHINE_KICK, a bit of that word that no kernel IPI uses, so that it looks at the phase.
 */
import type { RunControl } from '../cpu/run-control.js';
import { CPU_IPI_PENDING, IPI_CALL_FUNCTION_SINGLE, IPI_IRQ_WORK, IPI_RESCHEDULE, WORDS_PER_LINE, type ExtraRegion } from '../kernel/layout.js';
import type { KernelMemory } from '../kernel/memory.js';

export const PHASE_INIT = 0;
export const PHASE_RUNNING = 1;
export const PHASE_QUIESCE = 2;
export const PHASE_STOP = 3;
export const PHASE_ABORT = 4;

export const MACHINE_REGION = 'machine';
const PHASE = 0;
const BARRIER = 1;
const FINDINGS = 2;
const RUN_START_F64 = 4;

/** The machine's bit in a CPU's pending-IPI word: "look at the run phase" (not a kernel IPI). */
export const MACHINE_KICK = 8;
if (MACHINE_KICK & (IPI_CALL_FUNCTION_SINGLE | IPI_IRQ_WORK | IPI_RESCHEDULE)) throw new Error('MACHINE_KICK overlaps a kernel IPI');

const LEFT = WORDS_PER_LINE;

export function machineRegion(nrCpus: number): ExtraRegion {
  return { name: MACHINE_REGION, words: LEFT + nrCpus };
}

/** The machine's words, from the main thread or a CPU worker. */
export class MachineControl implements RunControl {
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly phaseWord: number;
  private readonly barrierWord: number;
  private readonly findingsWord: number;

  constructor(readonly mem: KernelMemory) {
    const region = mem.layout.extra[MACHINE_REGION];
    if (!region) throw new Error('shared memory has no machine region');
    this.i32 = mem.i32;
    this.f64 = mem.f64;
    this.phaseWord = region.base + PHASE;
    this.barrierWord = region.base + BARRIER;
    this.findingsWord = region.base + FINDINGS;
    this.leftBase = region.base + LEFT;
    this.runStartIndex = (region.base + RUN_START_F64) / 2;
  }

  private readonly runStartIndex: number;
  private readonly leftBase: number;

  /**
   * CPU: its program has left RUNNING and will queue nothing more itself (callbacks and
   * interrupts still run). Until every CPU has said so, a quiet moment proves nothing: a CPU the
   * OS descheduled between its look at the phase and its next claim could still claim.
   */
  leaveRunning(cpu: number): void {
    Atomics.store(this.i32, this.leftBase + cpu, 1);
  }

  hasLeftRunning(cpu: number): boolean {
    return Atomics.load(this.i32, this.leftBase + cpu) !== 0;
  }

  phase(): number {
    return Atomics.load(this.i32, this.phaseWord);
  }

  aborted(): boolean {
    return this.phase() === PHASE_ABORT;
  }

  /**
   * Set the phase, and wake every CPU so that it sees it. RUNNING needs no kick: every CPU waits
   * for it at the barrier, on the phase word. A kick then would only land at some moment of the
   * run — under a controlled schedule, at a different step each time, which would break its
   * determinism.
   */
  setPhase(phase: number): void {
    Atomics.store(this.i32, this.phaseWord, phase);
    Atomics.notify(this.i32, this.phaseWord);
    if (phase !== PHASE_RUNNING) this.kickAll();
  }

  /** Wake every CPU so that it looks at the run phase (the bit also keeps a CPU about to wait awake). */
  kickAll(): void {
    for (let cpu = 0; cpu < this.mem.cfg.nrCpus; cpu++) {
      const word = this.mem.cpuBase(cpu) + CPU_IPI_PENDING;
      Atomics.or(this.i32, word, MACHINE_KICK);
      Atomics.notify(this.i32, word);
    }
  }

  /** CPU: count in at the start barrier, then wait until the main thread opens the run. */
  passBarrier(lookMs: number): void {
    Atomics.add(this.i32, this.barrierWord, 1);
    while (this.phase() === PHASE_INIT) Atomics.wait(this.i32, this.phaseWord, PHASE_INIT, lookMs);
  }

  cpusAtBarrier(): number {
    return Atomics.load(this.i32, this.barrierWord);
  }

  /** A finding was made (kept or only counted): stop-on-first runs end at the first. */
  addFinding(): void {
    Atomics.add(this.i32, this.findingsWord, 1);
  }

  findings(): number {
    return Atomics.load(this.i32, this.findingsWord);
  }

  /**
   * When RUNNING began on the shared clock; 0 before. Written before the phase store that opens
   * the run and read after a CPU saw that phase, so the seq-cst phase word orders it.
   */
  get runStartNs(): number {
    return this.f64[this.runStartIndex]!;
  }

  set runStartNs(ns: number) {
    this.f64[this.runStartIndex] = ns;
  }
}
