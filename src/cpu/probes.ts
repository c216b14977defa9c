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
  /**
   * A context begins or ends where no other probe says so (ContextEdge): for a timeline. null
   * when nobody listens, so that the runtime's hot paths pay a field test, not a call.
   */
  readonly contextEdge: ((edge: number) => void) | null;
}

/** The edges contextEdge reports. */
export const ContextEdge = {
  /** A hardirq of the workload's own begins (its timer, a device). */
  workloadIrq: 0,
  /** The hardirq begun by ipiTaken, tick or workloadIrq ends. */
  irqExit: 1,
  /** The NMI ends. */
  nmiExit: 2,
  /** irq_workd starts running on the CPU. */
  threadRun: 3,
  /** irq_workd stops running. */
  threadSleep: 4,
  idleEnter: 5,
  idleExit: 6,
} as const;

const nothing = (): void => {};

export const NO_PROBES: RuntimeProbes = {
  atInterruptPoint: null,
  tickArmed: (ns) => ns,
  ipiTaken: nothing,
  tick: nothing,
  nmi: nothing,
  contextEdge: null,
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
  const edges = all('contextEdge');
  return {
    atInterruptPoint: points.length === 0 ? null : points.length === 1 ? points[0]! : (site) => points.forEach((f) => f(site)),
    tickArmed: arms.length === 0 ? NO_PROBES.tickArmed : (ns) => arms.reduce((at, f) => f(at), ns),
    ipiTaken: fanOut(ipis),
    tick: fanOut(ticks),
    nmi: fanOut(nmis),
    contextEdge: edges.length === 0 ? null : edges.length === 1 ? edges[0]! : (edge) => edges.forEach((f) => f(edge)),
  };
}

/**
 * One probe calling each listener's in order: nothing when there are none and the one itself when
 * there is one, since ipiTaken runs with every IPI (an empty forEach per IPI was measurable).
 */
function fanOut<A extends unknown[]>(fns: ReadonlyArray<(...args: A) => void>): (...args: A) => void {
  if (fns.length === 0) return nothing;
  if (fns.length === 1) return fns[0]!;
  return (...args: A) => {
    for (const f of fns) f(...args);
  };
}
