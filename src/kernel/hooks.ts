/**
 * Named hooks the kernel model calls at the points the shadow checks and the trace care about.
 * The kernel model never knows who listens; the default listens to nothing. Each hook is called
 * on the CPU that performs the step, from the context that performs it.
 */
export interface KernelHooks {
  /** irq_work_claim() finished: `ok` is its result, `oldFlags` what the fetch-or returned. */
  claim(cpu: number, work: number, ok: boolean, oldFlags: number): void;
  /** llist_add() is about to link `node` on `head` (before the node can be seen there). */
  listLink(cpu: number, head: number, node: number): void;
  /** llist_add() linked `work` on the list whose head word is `head`. */
  listAdd(cpu: number, head: number, work: number, wasEmpty: boolean): void;
  /** llist_del_all() took the chain starting at `first` off `head`. */
  listDelAll(cpu: number, head: number, first: number): void;
  /** irq_work_run_list() is about to run `head` (irqs-off rule). */
  runList(cpu: number, head: number): void;
  /** irq_work_single() entered, before PENDING is cleared: the work is still ours here. */
  singleStart(cpu: number, work: number, flags: number): void;
  /** irq_work_single() is about to clear BUSY (the callback has returned). */
  singleClearBusy(cpu: number, work: number): void;
  /** The kernel is about to read or write `work` outside the list and flag operations (e.g. rcuwait_wake_up). */
  touch(cpu: number, work: number, what: string): void;
  /** irq_work_single() is done with the work (after BUSY cleared and any wake-up). */
  singleEnd(cpu: number, work: number): void;
  /** A self or remote IPI was sent. */
  ipiSent(cpu: number, target: number, kind: number): void;
  /** irq_work_sync() entered / returned. */
  syncStart(cpu: number, work: number): void;
  syncEnd(cpu: number, work: number): void;
  /**
   * rcuwait_wait_event() on `work`'s rcuwait (irq_work_sync) is about to schedule(): the running
   * task's state is set (TASK_UNINTERRUPTIBLE) and it found the condition false. Called for every
   * sleep of the wait, so a listener can tell one sleep from the next (khungtaskd's switch count).
   */
  rcuwaitSleep(cpu: number, work: number): void;
  /** rcuwait_wait_event() on `work` returned: the condition held and the task runs again. */
  rcuwaitDone(cpu: number, work: number): void;
  /** synchronize_rcu() is about to return; `gpSeq` is the grace period's number (H_RCU_SEQ). */
  gracePeriodEnd(cpu: number, gpSeq: number): void;
  /** wake_up_process() on an irq_workd thread actually woke it. */
  irqWorkdWoken(cpu: number): void;
}

const nothing = (): void => {};

export const NO_HOOKS: KernelHooks = {
  claim: nothing,
  listLink: nothing,
  listAdd: nothing,
  listDelAll: nothing,
  runList: nothing,
  singleStart: nothing,
  singleClearBusy: nothing,
  touch: nothing,
  singleEnd: nothing,
  ipiSent: nothing,
  syncStart: nothing,
  syncEnd: nothing,
  rcuwaitSleep: nothing,
  rcuwaitDone: nothing,
  gracePeriodEnd: nothing,
  irqWorkdWoken: nothing,
};

/** Calls each listener's hooks in order; listeners may implement only some hooks. */
export function combineHooks(listeners: ReadonlyArray<Partial<KernelHooks>>): KernelHooks {
  const out = { ...NO_HOOKS };
  for (const name of Object.keys(NO_HOOKS) as Array<keyof KernelHooks>) {
    const fns = listeners.map((l) => l[name]).filter((f): f is NonNullable<typeof f> => !!f);
    if (fns.length === 1) out[name] = fns[0] as never;
    else if (fns.length > 1) {
      out[name] = ((...args: unknown[]) => {
        for (const fn of fns) (fn as (...a: unknown[]) => void)(...args);
      }) as never;
    }
  }
  return out;
}
