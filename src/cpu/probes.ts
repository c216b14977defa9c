/**
 * What a CPU runtime lets the harness observe or perturb, passed in through its constructor the
 * way KernelHooks reach the kernel: the trace ring records the runtime's own events (IPIs taken,
 * ticks, NMIs), chaos stalls at interrupt points and jitters the tick. The runtime never knows
 * who listens; NO_PROBES listens to nothing.
 */
export interface RuntimeProbes {
  /**
   * Called at every interrupt point that takes the slow path, before anything else happens there
   * (chaos delays, random NMIs). null keeps the interrupt point's fast path at one load.
   */
  readonly atInterruptPoint: ((site: string | undefined) => void) | null;
  /** A tick was armed for `ns`; returns when it should really fire (chaos: jitter). */
  tickArmed(ns: number): number;
  /** The CPU took kernel IPIs (`bits` of CPU_IPI_PENDING) in hardirq context. */
  ipiTaken(bits: number): void;
  /** The timer interrupt entered hardirq context. */
  tick(): void;
  /** An NMI entered. */
  nmi(): void;
  /** A hardirq of the workload's own entered (its timer, a device). */
  workloadIrq(): void;
  /** The hardirq entered by ipiTaken, tick or workloadIrq returns. */
  irqExit(): void;
  /** The NMI returns. */
  nmiExit(): void;
  /** irq_workd starts (true) or stops (false) running on the CPU. */
  thread(running: boolean): void;
  /** The CPU enters (true) or leaves (false) its idle loop. */
  idle(entering: boolean): void;
}

const nothing = (): void => {};

export const NO_PROBES: RuntimeProbes = {
  atInterruptPoint: null,
  tickArmed: (ns) => ns,
  ipiTaken: nothing,
  tick: nothing,
  nmi: nothing,
  workloadIrq: nothing,
  irqExit: nothing,
  nmiExit: nothing,
  thread: nothing,
  idle: nothing,
};

/** Probes of several listeners in order; each may supply only some of them. */
export function combineProbes(listeners: ReadonlyArray<Partial<RuntimeProbes>>): RuntimeProbes {
  const all = <K extends keyof RuntimeProbes>(name: K) =>
    listeners.map((l) => l[name]).filter((f): f is NonNullable<RuntimeProbes[K]> => f !== undefined && f !== null);
  const points = all('atInterruptPoint');
  const arms = all('tickArmed');
  const ipis = all('ipiTaken');
  const ticks = all('tick');
  const nmis = all('nmi');
  const each = <K extends 'workloadIrq' | 'irqExit' | 'nmiExit'>(name: K) => {
    const fs = all(name);
    return () => fs.forEach((f) => f());
  };
  const threads = all('thread');
  const idles = all('idle');
  return {
    atInterruptPoint: points.length === 0 ? null : points.length === 1 ? points[0]! : (site) => points.forEach((f) => f(site)),
    tickArmed: (ns) => arms.reduce((at, f) => f(at), ns),
    ipiTaken: (bits) => ipis.forEach((f) => f(bits)),
    tick: () => ticks.forEach((f) => f()),
    nmi: () => nmis.forEach((f) => f()),
    workloadIrq: each('workloadIrq'),
    irqExit: each('irqExit'),
    nmiExit: each('nmiExit'),
    thread: (running) => threads.forEach((f) => f(running)),
    idle: (entering) => idles.forEach((f) => f(entering)),
  };
}
