/**
 * Branch coverage of the kernel model: one named point per branch of each modelled kernel
 * function, counted per context and CPU state, so that a run can say which paths its workload
 * drove — a check can only catch a bug on a path the run took.
 *
 * A kernel function counts a branch with one line, `this.cover(Cov.queueOnLazyNotEmpty)`
 * (KernelBase.cover). The counts go to a per-CPU, thread-local Float64Array — no shared memory,
 * no atomics — indexed by (point, slot), where a slot is (context, CPU state). A CPU counts only
 * when its kernel was built with a sink (runs with checks); otherwise `cover` is a null test.
 *
 * Each point declares where it lives (the model method holding the line, and the variant whose
 * override holds it: none for the base kernel) and the configurations in which a clean run can
 * reach it at all, so that a run reports as "unreached" only the branches it could have taken.
 * `never` marks the branches no clean run reaches, with the reason (docs/FIDELITY.md lists them).
 */

/** The contexts of a count, in the order of the CPU's context numbers (cpu/sim-cpu.ts CTX_*). */
export const COVERAGE_CONTEXTS = ['task', 'irq_workd', 'hardirq', 'nmi', 'idle'] as const;
/** The CPU states of a count: running a task or irq_workd; in the idle loop with the tick running; idle with the tick stopped. */
export const COVERAGE_CPU_STATES = ['busy', 'idle', 'idle-nohz'] as const;
export const COV_BUSY = 0;
export const COV_IDLE = 1;
export const COV_IDLE_NOHZ = 2;
/** Slots per point: every (context, CPU state). */
export const COV_SLOTS = COVERAGE_CONTEXTS.length * COVERAGE_CPU_STATES.length;

/** The slot of a count in context `context` (CTX_*) and CPU state `state` (COV_BUSY …). */
export function coverageSlot(context: number, state: number): number {
  return context * COVERAGE_CPU_STATES.length + state;
}

/** What a run's configuration says about which branches exist to be reached. */
export interface CoverageConfig {
  readonly preemptRt: boolean;
  readonly archHasIrqWorkInterrupt: boolean;
  /** NO_HZ idle: the tick may stop. */
  readonly nohz: boolean;
  /** CPUs go offline and come back. */
  readonly hotplug: boolean;
  readonly cpus: number;
  /**
   * Whose code runs model method `method` in this run: `'base'` (src/kernel), or the name of
   * the variant whose override runs instead.
   */
  codeOf(method: string): string;
}

type Reach = (c: CoverageConfig) => boolean;

interface PointSpec {
  /** The kernel function, as in the C source. */
  readonly fn: string;
  /** The branch, in a few words: the condition, then what it leads to. */
  readonly branch: string;
  /** The model method holding the coverage line. */
  readonly method: string;
  /** The variant whose override holds the line; absent for the base kernel (src/kernel). */
  readonly variant?: string;
  /** The configurations where a run can reach it (absent: all). */
  readonly reach?: Reach;
  /** A branch no clean run reaches, and why (a WARN path, or a case the model excludes). */
  readonly never?: string;
}

const RT: Reach = (c) => c.preemptRt;
const NORT: Reach = (c) => !c.preemptRt;
const ARCH: Reach = (c) => c.archHasIrqWorkInterrupt;
const NOARCH: Reach = (c) => !c.archHasIrqWorkInterrupt;
const NOHZ: Reach = (c) => c.nohz;
/** Another CPU to queue on. */
const SMP: Reach = (c) => c.cpus > 1;
const RT_SMP: Reach = (c) => c.preemptRt && c.cpus > 1;
const NORT_SMP: Reach = (c) => !c.preemptRt && c.cpus > 1;
/** CPU 0 never goes offline: hotplug needs a second CPU. */
const HOTPLUG: Reach = (c) => c.hotplug && c.cpus > 1;
/** irq_work_run runs from the irq_work self-IPI, which needs the arch's interrupt, and from the dying step. */
const IRQ_WORK_RUN: Reach = (c) => c.archHasIrqWorkInterrupt || HOTPLUG(c);
/** irq_work_sync sleeps in rcuwait: merged and current for RT non-hard work; v2 only without an arch interrupt. */
const SYNC_SLEEPS: Reach = (c) => !c.archHasIrqWorkInterrupt || (c.preemptRt && c.codeOf('irqWorkSync') !== 'v2');
/** irq_work_single wakes the rcuwait: the same split. */
const SINGLE_WAKES: Reach = (c) => !c.archHasIrqWorkInterrupt || (c.preemptRt && c.codeOf('irqWorkSingle') !== 'v2');

const WARN = 'a WARN_ON_ONCE / BUG_ON: only a caller breaking the rule gets here (a kernel-warning finding), and the workload does not';

/**
 * The point ids, in the order of the kernel files: `this.cover(Cov.queueOnLazyNotEmpty)`. An enum,
 * so that the bundler writes the number itself at each branch (worker code is bundled): with the
 * counting off, a branch's line then costs nothing at all. POINTS below describes each one.
 */
export enum Cov {
  // lib/llist.c
  llistAddEmpty, llistAddNotEmpty, llistAddRetry, llistDelAllTook, llistDelAllEmpty,
  // kernel/rcu (synchronize_rcu)
  gpCpuQuiet, gpCpuReader,
  // include/linux/rcuwait.h, kernel/exit.c
  rcuwaitWaitDone, rcuwaitWaitSleep, rcuwaitWakeNone, rcuwaitWakeWoke, rcuwaitWakeAwake,
  // kernel/smp.c
  callSingleQueueIpi, callSingleQueueNoIpi, callSingleInterrupt, dyingCpu, flushIrqWork, flushOtherCsd,
  // kernel/irq_work.c
  wakeIrqWorkdWoke, wakeIrqWorkdAwake, wakeIrqWorkdNothing, irqWorkWake, claimOk, claimPending,
  queueLocalRaisedFirst, queueLocalRaisedNotFirst, queueLocalRtLazyFirst, queueLocalRtLazyNotFirst,
  queueLocalLazyNotFirst, queueLocalLazyTick, queueLocalLazyNohz, queueClaimed, queuePending, queueOnOffline,
  queueOnPending, queueOnLocal, queueOnRemoteNmi, queueOnRemoteHard, queueOnRemoteNoRt, queueOnLazyNotEmpty,
  queueOnWakeupPending, queueOnWakeupQueued, needsCpuNo, needsCpuLazy, needsCpuRaised, needsCpuOffline,
  singleBusyCleared, singleBusyKept, singleNoWake, runListEmpty, runListTook, runListIrqsOn, irqWorkRunRt,
  irqWorkRunNoRt, tickRunsRaised, tickRtWake, tickNoRtLazy, syncIrqsOff, syncSleep, syncSpin, syncSpinRelax,
  runIrqWorkd, initThreadsRt, initThreadsNoRt,
  // kernel/smpboot.c
  threadFnSleep, threadFnRun, parkSleeping, parkRunnable, parkNoThread, unparkWoke, unparkNoThread,
  // variants/v2.ts
  v2QueueOnOffline, v2QueueOnPending, v2QueueOnLocal, v2QueueOnRemoteNmi, v2QueueOnWakeupQueued,
  v2QueueOnWakeupPending, v2QueueOnDirect, v2QueueOnDoubleAdd, v2SingleBusyCleared, v2SingleBusyKept,
  v2SingleNoWake, v2SyncIrqsOff, v2SyncSleep, v2SyncSpin, v2SyncSpinRelax,
  // variants/current.ts
  currentRunIrqWorkd, currentSyncIrqsOff, currentSyncSleep, currentSyncSpin, currentSyncSpinRelax,
}

/** What each point is: its branch, where it lives, where it can be reached. */
const POINTS: { readonly [K in keyof typeof Cov]: PointSpec } = {
  // ── lib/llist.c ──
  llistAddEmpty: { fn: 'llist_add', branch: 'list was empty → true', method: 'llistAdd' },
  llistAddNotEmpty: { fn: 'llist_add', branch: 'list was not empty → false', method: 'llistAdd' },
  llistAddRetry: { fn: 'llist_add', branch: 'cmpxchg lost to another change of the head → retry', method: 'llistAdd' },
  llistDelAllTook: { fn: 'llist_del_all', branch: 'took the chain', method: 'llistDelAll' },
  // Every flush follows an IPI sent for a node nobody had taken, except the dying CPU's own flush.
  llistDelAllEmpty: { fn: 'llist_del_all', branch: 'list was empty (a flush with nothing queued)', method: 'llistDelAll', reach: HOTPLUG },

  // ── kernel/rcu (synchronize_rcu: only current's irq_work_sync calls it, on its sleeping branch) ──
  gpCpuQuiet: {
    fn: 'synchronize_rcu',
    branch: 'another CPU outside any reader → nothing to wait for',
    method: 'synchronizeRcu',
    reach: (c) => c.cpus > 1 && c.codeOf('irqWorkSync') === 'current' && SYNC_SLEEPS(c),
  },
  gpCpuReader: {
    fn: 'synchronize_rcu',
    branch: 'another CPU inside a reader → wait for its quiescent state',
    method: 'synchronizeRcu',
    reach: (c) => c.cpus > 1 && c.codeOf('irqWorkSync') === 'current' && SYNC_SLEEPS(c),
  },

  // ── include/linux/rcuwait.h, kernel/exit.c ──
  rcuwaitWaitDone: { fn: 'rcuwait_wait_event', branch: 'condition true → finish_rcuwait', method: 'rcuwaitWaitEvent', reach: SYNC_SLEEPS },
  rcuwaitWaitSleep: { fn: 'rcuwait_wait_event', branch: 'condition false → schedule()', method: 'rcuwaitWaitEvent', reach: SYNC_SLEEPS },
  rcuwaitWakeNone: { fn: 'rcuwait_wake_up', branch: 'no waiter → nothing', method: 'rcuwaitWakeUp', reach: SINGLE_WAKES },
  rcuwaitWakeWoke: { fn: 'rcuwait_wake_up', branch: 'a waiter, asleep → wake_up_process woke it', method: 'rcuwaitWakeUp', reach: SINGLE_WAKES },
  rcuwaitWakeAwake: {
    fn: 'rcuwait_wake_up',
    branch: 'a waiter, not asleep (not yet, or already woken) → nothing to wake',
    method: 'rcuwaitWakeUp',
    reach: SINGLE_WAKES,
  },

  // ── kernel/smp.c ──
  callSingleQueueIpi: { fn: '__smp_call_single_queue', branch: 'queue was empty → send_call_function_single_ipi', method: 'smpCallSingleQueue', reach: SMP },
  callSingleQueueNoIpi: { fn: '__smp_call_single_queue', branch: 'queue was not empty → no IPI (one is on its way)', method: 'smpCallSingleQueue', reach: SMP },
  callSingleInterrupt: {
    fn: 'generic_smp_call_function_single_interrupt',
    branch: 'the IPI → flush_smp_call_function_queue',
    method: 'genericSmpCallFunctionSingleInterrupt',
    reach: SMP,
  },
  dyingCpu: { fn: 'smpcfd_dying_cpu', branch: 'CPU going offline → flush, then irq_work_run', method: 'smpcfdDyingCpu', reach: HOTPLUG },
  flushIrqWork: { fn: 'flush_smp_call_function_queue', branch: 'irq_work node → irq_work_single', method: 'flushSmpCallFunctionQueue', reach: SMP },
  flushOtherCsd: {
    fn: 'flush_smp_call_function_queue',
    branch: 'node of another csd type → WARN',
    method: 'flushSmpCallFunctionQueue',
    never: 'only irq_work nodes are ever queued on call_single_queue in the model (FIDELITY difference 7)',
  },

  // ── kernel/irq_work.c ──
  wakeIrqWorkdWoke: { fn: 'wake_irq_workd', branch: 'lazy_list not empty → wake_up_process woke irq_workd', method: 'wakeIrqWorkd', reach: RT },
  wakeIrqWorkdAwake: {
    fn: 'wake_irq_workd',
    branch: 'lazy_list not empty, irq_workd already runnable (or parked) → nothing to wake',
    method: 'wakeIrqWorkd',
    reach: RT,
  },
  wakeIrqWorkdNothing: { fn: 'wake_irq_workd', branch: 'lazy_list empty → nothing to do', method: 'wakeIrqWorkd', reach: RT },
  irqWorkWake: { fn: 'irq_work_wake', branch: 'the wakeup work runs on its CPU → wake_irq_workd', method: 'irqWorkWake', reach: RT_SMP },
  claimOk: { fn: 'irq_work_claim', branch: 'PENDING was clear → claimed', method: 'irqWorkClaim' },
  claimPending: { fn: 'irq_work_claim', branch: 'already PENDING → false (its run will see our data)', method: 'irqWorkClaim' },
  queueLocalRaisedFirst: {
    fn: '__irq_work_queue_local',
    branch: 'raised_list (HARD_IRQ, or !RT), was empty → arch_irq_work_raise',
    method: 'irqWorkQueueLocal',
  },
  queueLocalRaisedNotFirst: {
    fn: '__irq_work_queue_local',
    branch: 'raised_list (HARD_IRQ, or !RT), was not empty → return',
    method: 'irqWorkQueueLocal',
  },
  queueLocalRtLazyFirst: {
    fn: '__irq_work_queue_local',
    branch: 'RT, non-hard work → lazy_list, was empty → arch_irq_work_raise',
    method: 'irqWorkQueueLocal',
    reach: RT,
  },
  queueLocalRtLazyNotFirst: {
    fn: '__irq_work_queue_local',
    branch: 'RT, non-hard work → lazy_list, was not empty → return (behind LAZY work it waits for the tick)',
    method: 'irqWorkQueueLocal',
    reach: RT,
  },
  queueLocalLazyNotFirst: { fn: '__irq_work_queue_local', branch: 'LAZY → lazy_list, was not empty → return', method: 'irqWorkQueueLocal' },
  queueLocalLazyTick: {
    fn: '__irq_work_queue_local',
    branch: 'LAZY → lazy_list, was empty, tick running → no raise (the tick runs it)',
    method: 'irqWorkQueueLocal',
  },
  // Only idle stops the tick: an interrupt on an idle CPU queued it.
  queueLocalLazyNohz: {
    fn: '__irq_work_queue_local',
    branch: 'LAZY → lazy_list, was empty, tick stopped → arch_irq_work_raise',
    method: 'irqWorkQueueLocal',
    reach: NOHZ,
  },
  queueClaimed: { fn: 'irq_work_queue', branch: 'claimed → __irq_work_queue_local', method: 'irqWorkQueue' },
  queuePending: { fn: 'irq_work_queue', branch: 'already pending → false', method: 'irqWorkQueue' },
  queueOnOffline: { fn: 'irq_work_queue_on', branch: 'target CPU offline → WARN', method: 'irqWorkQueueOn', never: WARN },
  queueOnPending: { fn: 'irq_work_queue_on', branch: 'already pending → false', method: 'irqWorkQueueOn' },
  queueOnLocal: { fn: 'irq_work_queue_on', branch: 'target is this CPU → __irq_work_queue_local', method: 'irqWorkQueueOn' },
  queueOnRemoteNmi: { fn: 'irq_work_queue_on', branch: 'remote, from NMI → WARN', method: 'irqWorkQueueOn', never: WARN },
  queueOnRemoteHard: {
    fn: 'irq_work_queue_on',
    branch: 'remote, HARD_IRQ work, RT → the work on call_single_queue',
    method: 'irqWorkQueueOn',
    reach: RT_SMP,
  },
  queueOnRemoteNoRt: { fn: 'irq_work_queue_on', branch: 'remote, !RT → the work on call_single_queue', method: 'irqWorkQueueOn', reach: NORT_SMP },
  queueOnLazyNotEmpty: {
    fn: 'irq_work_queue_on',
    branch: 'remote, !hard, RT: lazy_list was not empty → return',
    method: 'irqWorkQueueOn',
    reach: RT_SMP,
  },
  queueOnWakeupPending: {
    fn: 'irq_work_queue_on',
    branch: 'remote, !hard, RT: lazy_list was empty, wakeup work already pending → return',
    method: 'irqWorkQueueOn',
    reach: RT_SMP,
  },
  queueOnWakeupQueued: {
    fn: 'irq_work_queue_on',
    branch: 'remote, !hard, RT: lazy_list was empty, wakeup work claimed → it goes on call_single_queue',
    method: 'irqWorkQueueOn',
    reach: RT_SMP,
  },
  needsCpuNo: {
    fn: 'irq_work_needs_cpu',
    branch: 'lazy_list empty, raised_list empty or the arch has the interrupt → false (the tick may stop)',
    method: 'irqWorkNeedsCpu',
    reach: NOHZ,
  },
  needsCpuLazy: { fn: 'irq_work_needs_cpu', branch: 'lazy_list not empty → true', method: 'irqWorkNeedsCpu', reach: NOHZ },
  needsCpuRaised: {
    fn: 'irq_work_needs_cpu',
    branch: 'raised_list not empty, no arch irq_work interrupt → true',
    method: 'irqWorkNeedsCpu',
    reach: (c) => c.nohz && !c.archHasIrqWorkInterrupt,
  },
  needsCpuOffline: {
    fn: 'irq_work_needs_cpu',
    branch: 'this CPU offline → WARN',
    method: 'irqWorkNeedsCpu',
    never: 'only the idle loop asks, and an offline simulated CPU runs no idle loop (FIDELITY difference 11)',
  },
  singleBusyCleared: { fn: 'irq_work_single', branch: 'nobody claimed it meanwhile → BUSY cleared', method: 'irqWorkSingle' },
  singleBusyKept: {
    fn: 'irq_work_single',
    branch: 'claimed again while its callback ran → BUSY left to the new claim',
    method: 'irqWorkSingle',
  },
  singleNoWake: {
    fn: 'irq_work_single',
    branch: 'HARD_IRQ work or !RT, arch has the interrupt → no rcuwait_wake_up',
    method: 'irqWorkSingle',
    reach: ARCH,
  },
  // On RT only irq_work_run finds a list empty (irq_workd and the tick look first).
  runListEmpty: { fn: 'irq_work_run_list', branch: 'list empty → return', method: 'irqWorkRunList', reach: (c) => !c.preemptRt || IRQ_WORK_RUN(c) },
  runListTook: { fn: 'irq_work_run_list', branch: 'llist_del_all → irq_work_single for each', method: 'irqWorkRunList' },
  runListIrqsOn: { fn: 'irq_work_run_list', branch: '!RT, irqs enabled → BUG', method: 'irqWorkRunList', never: WARN },
  irqWorkRunRt: { fn: 'irq_work_run', branch: 'RT: raised_list, then wake_irq_workd', method: 'irqWorkRun', reach: (c) => c.preemptRt && IRQ_WORK_RUN(c) },
  irqWorkRunNoRt: { fn: 'irq_work_run', branch: '!RT: raised_list and lazy_list', method: 'irqWorkRun', reach: (c) => !c.preemptRt && IRQ_WORK_RUN(c) },
  tickRunsRaised: { fn: 'irq_work_tick', branch: 'raised_list not empty, no arch interrupt → run it', method: 'irqWorkTick', reach: NOARCH },
  tickRtWake: { fn: 'irq_work_tick', branch: 'RT → wake_irq_workd', method: 'irqWorkTick', reach: RT },
  tickNoRtLazy: { fn: 'irq_work_tick', branch: '!RT → run lazy_list', method: 'irqWorkTick', reach: NORT },
  syncIrqsOff: { fn: 'irq_work_sync', branch: 'irqs disabled → WARN', method: 'irqWorkSync', never: WARN },
  syncSleep: {
    fn: 'irq_work_sync',
    branch: 'RT non-hard work, or no arch interrupt → rcuwait_wait_event',
    method: 'irqWorkSync',
    reach: (c) => c.preemptRt || !c.archHasIrqWorkInterrupt,
  },
  syncSpin: { fn: 'irq_work_sync', branch: 'HARD_IRQ work or !RT, arch has the interrupt → spin on BUSY', method: 'irqWorkSync', reach: ARCH },
  syncSpinRelax: { fn: 'irq_work_sync', branch: 'spinning: still BUSY → cpu_relax()', method: 'irqWorkSync', reach: ARCH },
  runIrqWorkd: { fn: 'run_irq_workd', branch: 'irq_workd runs lazy_list', method: 'runIrqWorkd', reach: RT },
  initThreadsRt: { fn: 'irq_work_init_threads', branch: 'RT → create irq_workd', method: 'irqWorkInitThreads', reach: RT },
  initThreadsNoRt: { fn: 'irq_work_init_threads', branch: '!RT → no thread', method: 'irqWorkInitThreads', reach: NORT },

  // ── kernel/smpboot.c ──
  threadFnSleep: { fn: 'smpboot_thread_fn', branch: 'irq_workd_should_run() false → schedule()', method: 'smpbootThreadFn', reach: RT },
  threadFnRun: { fn: 'smpboot_thread_fn', branch: 'irq_workd_should_run() true → run_irq_workd', method: 'smpbootThreadFn', reach: RT },
  parkSleeping: { fn: 'smpboot_park_threads', branch: 'irq_workd asleep → parked', method: 'smpbootParkThreads', reach: (c) => c.preemptRt && HOTPLUG(c) },
  parkRunnable: {
    fn: 'smpboot_park_threads',
    branch: 'irq_workd runnable → parked before it ran',
    method: 'smpbootParkThreads',
    never: 'the CPU parks its irq_workd from its own task, and every interrupt point before that runs a woken irq_workd first',
  },
  parkNoThread: { fn: 'smpboot_park_threads', branch: '!RT: no thread → nothing', method: 'smpbootParkThreads', reach: (c) => !c.preemptRt && HOTPLUG(c) },
  unparkWoke: { fn: 'smpboot_unpark_threads', branch: 'parked → TASK_RUNNING', method: 'smpbootUnparkThreads', reach: (c) => c.preemptRt && HOTPLUG(c) },
  unparkNoThread: { fn: 'smpboot_unpark_threads', branch: '!RT: no thread → nothing', method: 'smpbootUnparkThreads', reach: (c) => !c.preemptRt && HOTPLUG(c) },

  // ── variants/v2.ts: the seed as posted ──
  v2QueueOnOffline: { fn: 'irq_work_queue_on', branch: 'target CPU offline → WARN', method: 'irqWorkQueueOn', variant: 'v2', never: WARN },
  v2QueueOnPending: { fn: 'irq_work_queue_on', branch: 'already pending → false', method: 'irqWorkQueueOn', variant: 'v2' },
  v2QueueOnLocal: { fn: 'irq_work_queue_on', branch: 'target is this CPU → __irq_work_queue_local', method: 'irqWorkQueueOn', variant: 'v2' },
  v2QueueOnRemoteNmi: { fn: 'irq_work_queue_on', branch: 'remote, from NMI → WARN', method: 'irqWorkQueueOn', variant: 'v2', never: WARN },
  v2QueueOnWakeupQueued: {
    fn: 'irq_work_queue_on',
    branch: 'remote, !hard, RT: lazy_list was empty, wakeup work claimed → it goes on call_single_queue',
    method: 'irqWorkQueueOn',
    variant: 'v2',
    reach: RT_SMP,
  },
  v2QueueOnWakeupPending: {
    fn: 'irq_work_queue_on',
    branch: 'remote, !hard, RT: lazy_list was empty, wakeup work already pending → nothing more',
    method: 'irqWorkQueueOn',
    variant: 'v2',
    reach: RT_SMP,
  },
  v2QueueOnDirect: {
    fn: 'irq_work_queue_on',
    branch: 'remote, HARD_IRQ work or !RT → the work on call_single_queue',
    method: 'irqWorkQueueOn',
    variant: 'v2',
    reach: SMP,
  },
  v2QueueOnDoubleAdd: {
    fn: 'irq_work_queue_on',
    branch: 'remote, !hard, RT: lazy_list was not empty → the same node on call_single_queue too (the seed bug)',
    method: 'irqWorkQueueOn',
    variant: 'v2',
    reach: RT_SMP,
  },
  v2SingleBusyCleared: { fn: 'irq_work_single', branch: 'nobody claimed it meanwhile → BUSY cleared', method: 'irqWorkSingle', variant: 'v2' },
  v2SingleBusyKept: {
    fn: 'irq_work_single',
    branch: 'claimed again while its callback ran → BUSY left to the new claim',
    method: 'irqWorkSingle',
    variant: 'v2',
  },
  v2SingleNoWake: { fn: 'irq_work_single', branch: 'arch has the interrupt → no rcuwait_wake_up', method: 'irqWorkSingle', variant: 'v2', reach: ARCH },
  v2SyncIrqsOff: { fn: 'irq_work_sync', branch: 'irqs disabled → WARN', method: 'irqWorkSync', variant: 'v2', never: WARN },
  v2SyncSleep: { fn: 'irq_work_sync', branch: 'no arch interrupt → rcuwait_wait_event', method: 'irqWorkSync', variant: 'v2', reach: NOARCH },
  v2SyncSpin: { fn: 'irq_work_sync', branch: 'arch has the interrupt → spin on BUSY', method: 'irqWorkSync', variant: 'v2', reach: ARCH },
  v2SyncSpinRelax: { fn: 'irq_work_sync', branch: 'spinning: still BUSY → cpu_relax()', method: 'irqWorkSync', variant: 'v2', reach: ARCH },

  // ── variants/current.ts: merged + 91840be8f710 ──
  currentRunIrqWorkd: { fn: 'run_irq_workd', branch: 'irq_workd runs lazy_list inside rcu_read_lock()', method: 'runIrqWorkd', variant: 'current', reach: RT },
  currentSyncIrqsOff: { fn: 'irq_work_sync', branch: 'irqs disabled → WARN', method: 'irqWorkSync', variant: 'current', never: WARN },
  currentSyncSleep: {
    fn: 'irq_work_sync',
    branch: 'RT non-hard work, or no arch interrupt → rcuwait_wait_event, then synchronize_rcu',
    method: 'irqWorkSync',
    variant: 'current',
    reach: (c) => c.preemptRt || !c.archHasIrqWorkInterrupt,
  },
  currentSyncSpin: {
    fn: 'irq_work_sync',
    branch: 'HARD_IRQ work or !RT, arch has the interrupt → spin on BUSY',
    method: 'irqWorkSync',
    variant: 'current',
    reach: ARCH,
  },
  currentSyncSpinRelax: { fn: 'irq_work_sync', branch: 'spinning: still BUSY → cpu_relax()', method: 'irqWorkSync', variant: 'current', reach: ARCH },
};

export type CoverageName = keyof typeof Cov;

export interface CoveragePoint extends PointSpec {
  /** Index of the point (its row in the counts). */
  readonly id: number;
  /** Short name, as in `Cov.name`. */
  readonly name: CoverageName;
}

/** Every point, by id. */
export const COVERAGE_POINTS: readonly CoveragePoint[] = Object.freeze(
  (Object.entries(POINTS) as Array<[CoverageName, PointSpec]>)
    .map(([name, spec]) => Object.freeze({ ...spec, id: Cov[name], name }))
    .sort((a, b) => a.id - b.id),
);

/**
 * Whether a clean run with configuration `c` can reach point `p`: its line is in code this run
 * executes (the base kernel's, or the variant's override), the configuration has the branch, and
 * it is not a branch no clean run reaches.
 */
export function pointReachable(p: CoveragePoint, c: CoverageConfig): boolean {
  if (p.never !== undefined) return false;
  if (c.codeOf(p.method) !== (p.variant ?? 'base')) return false;
  return p.reach === undefined || p.reach(c);
}

/** Where a CPU's kernel counts: the counts (point × slot) and what runs now (a slot). */
export interface CoverageSink {
  readonly counts: Float64Array;
  /** The slot of what runs now on this CPU: coverageSlot(context, CPU state). */
  slot(): number;
}

/** A sink with zeroed counts; `slot` is the CPU's. */
export function newCoverageSink(slot: () => number): CoverageSink {
  return { counts: new Float64Array(COVERAGE_POINTS.length * COV_SLOTS), slot };
}
