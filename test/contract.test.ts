/**
 * The contract check (checks/contract.ts) in exact interleavings of the single-thread harness:
 * irq_work_queue() returning false ("already pending") must be answered by a callback that
 * starts after the call and reads the data the caller wrote before it. Each rule fires on the
 * interleaving it exists for and stays silent on the correct kernel in the same script.
 *
 * Every queue here is made the way the workload makes it: announce the attempt and write the
 * next data number (ContractView.beforeQueue), call the kernel, end the attempt. The checks are
 * installed as the CPU worker installs them: the execution shadow, then every CPU check.
 */
import { describe, expect, it } from 'vitest';
import { contract, unansweredFailedClaims } from '../src/checks/contract.js';
import { C_DATA, ContractView } from '../src/checks/contract-layout.js';
import { CPU_CHECKS } from '../src/checks/index.js';
import { shadowHooks } from '../src/checks/shadow.js';
import { Harness, type HarnessOptions } from '../src/harness/single-thread.js';
import { IRQ_WORK_BUSY, IRQ_WORK_PENDING } from '../src/kernel/flags.js';
import { combineHooks } from '../src/kernel/hooks.js';
import { contractViolations } from '../src/stress/report.js';
import { FUNC_REQUEUE } from '../src/workload/callbacks.js';

interface Finding {
  check: string;
  cpu: number;
  work: number;
  context: string;
  message: string;
}

function checkedHarness(opts: HarnessOptions) {
  const findings: Finding[] = [];
  const running: number[] = [];
  const h = new Harness({
    ...opts,
    hooks: (cpu, mem) => {
      const id = cpu.id;
      const report = (check: string, work: number, message: string) => findings.push({ check, cpu: id, work, context: cpu.contextName(), message });
      return combineHooks([
        shadowHooks(mem),
        ...CPU_CHECKS.map((c) => c.hooks({ mem, cpu, report })),
        { singleStart: (_cpu, work) => (running[id] = work) },
      ]);
    },
  });
  const data = new ContractView(h.mem);
  /** irq_work_queue(work) on `cpu` by a caller that publishes its data first. */
  const queue = (cpu: number, work: number): boolean => {
    data.beforeQueue(work, cpu);
    const ok = h.k(cpu).irqWorkQueue(work);
    data.afterQueue(work, cpu);
    return ok;
  };
  /** irq_work_queue_on(work, target) from `cpu`, the same way. */
  const queueOn = (cpu: number, work: number, target: number): boolean => {
    data.beforeQueue(work, cpu);
    const ok = h.k(cpu).irqWorkQueueOn(work, target);
    data.afterQueue(work, cpu);
    return ok;
  };
  /** Run `action` when `cpu` passes `site` during an execution of `work`. */
  const atRunOf = (cpu: number, site: string, work: number, action: () => void) => {
    const once = () => (running[cpu] === work ? action() : h.at(cpu, site, once));
    h.at(cpu, site, once);
  };
  const contractFindings = () => findings.filter((f) => f.check === 'contract');
  return { h, data, findings, contractFindings, queue, queueOn, atRunOf };
}

describe('contract: a failed queue answered by a proper run', () => {
  it('stays silent when a queue fails while the work waits on its list, and the run then reads its data', () => {
    const { h, findings, queue } = checkedHarness({ cpus: 1, preemptRt: false });
    const w = h.newWork();
    expect(queue(0, w)).toBe(true); // data #1
    expect(queue(0, w)).toBe(false); // data #2: already pending
    // Not answered yet: the run has not come. (A stress run asks only once it has drained.)
    expect(unansweredFailedClaims(h.mem)).toEqual([{ work: w, cpu: 0, failed: 2, seen: 0 }]);
    h.cpu(0).takeInterrupts();
    expect(h.ranOn(w)).toHaveLength(1);
    expect(unansweredFailedClaims(h.mem)).toEqual([]);
    expect(findings).toEqual([]);
  });

  it('stays silent on RT when a remote queue fails and irq_workd then runs the work on the target', () => {
    const { h, findings, queueOn } = checkedHarness({ cpus: 2, preemptRt: true });
    const w = h.newWork();
    expect(queueOn(0, w, 1)).toBe(true);
    expect(queueOn(0, w, 1)).toBe(false);
    h.cpu(1).takeInterrupts();
    h.cpu(1).runIrqWorkd();
    expect(h.ranOn(w)).toEqual([{ cpu: 1, work: w, context: 'irq_workd' }]);
    expect(unansweredFailedClaims(h.mem)).toEqual([]);
    expect(findings).toEqual([]);
  });

  it('stays silent when a queue fails on a CPU whose own run of the work is over because another claim succeeded since', () => {
    const { h, findings, queue } = checkedHarness({ cpus: 2, preemptRt: false });
    const w = h.newWork();
    queue(0, w); // claim #1
    h.cpu(0).takeInterrupts(); // CPU0 runs claim #1
    expect(queue(1, w)).toBe(true); // claim #2, pending on CPU1
    // CPU0's run is of claim #1; the PENDING CPU0 now finds is claim #2's, whose run is to come.
    expect(queue(0, w)).toBe(false);
    expect(findings).toEqual([]);
    h.cpu(1).takeInterrupts();
    expect(h.ranOn(w).map((e) => e.cpu)).toEqual([0, 1]);
    expect(unansweredFailedClaims(h.mem)).toEqual([]);
    expect(findings).toEqual([]);
  });
});

describe("contract: the mutant 'pending-cleared-late' (PENDING cleared only after the callback)", () => {
  /** A work whose callback re-queues it once, queued and run on CPU0 (non-RT: in hardirq). */
  function requeueFromOwnCallback(variant: string) {
    const t = checkedHarness({ cpus: 1, preemptRt: false, variant });
    const w = t.h.newWork({ func: FUNC_REQUEUE, arg: 1 });
    expect(t.queue(0, w)).toBe(true);
    t.h.cpu(0).takeInterrupts();
    return { ...t, w };
  }

  it('fires at once when a callback re-queues its own work and the queue fails: the pending run is the running one', () => {
    const { h, findings, contractFindings, w } = requeueFromOwnCallback('pending-cleared-late');
    expect(h.ranOn(w)).toHaveLength(1);
    const found = contractFindings();
    expect(found, JSON.stringify(findings)).toHaveLength(1);
    expect(found[0]).toMatchObject({ cpu: 0, work: w, context: 'hardirq' });
    expect(found[0]!.message).toContain(`irq_work_queue(work ${w}) returned false (already pending)`);
    expect(found[0]!.message).toContain('claim #1');
    // The re-queue is lost for good: no run read its data.
    expect(unansweredFailedClaims(h.mem)).toEqual([{ work: w, cpu: 0, failed: 2, seen: 1 }]);
    // Nothing else notices: every successful claim ran once.
    expect(findings.filter((f) => f.check !== 'contract')).toEqual([]);
    expect(h.claimedCount(w)).toBe(h.executedCount(w));
  });

  it('stays silent for merged in the same script: the re-queue succeeds and runs', () => {
    const { h, findings, w } = requeueFromOwnCallback('merged');
    h.cpu(0).takeInterrupts();
    expect(h.ranOn(w)).toHaveLength(2);
    expect(unansweredFailedClaims(h.mem)).toEqual([]);
    expect(findings).toEqual([]);
  });

  /** CPU1 runs a work queued from CPU0; CPU0 queues it again while CPU1's callback has returned. */
  function queueWhileCallbackDone(variant: string) {
    const t = checkedHarness({ cpus: 2, preemptRt: false, variant });
    const w = t.h.newWork();
    let second: boolean | undefined;
    t.atRunOf(1, 'irq_work_single:after-func', w, () => (second = t.queue(0, w)));
    expect(t.queueOn(0, w, 1)).toBe(true);
    t.h.cpu(1).takeInterrupts();
    return { ...t, w, second };
  }

  it('leaves a failed queue from another CPU to the end-of-run judgement, which reports it', () => {
    const { h, findings, w, second } = queueWhileCallbackDone('pending-cleared-late');
    expect(second).toBe(false); // still PENDING although the callback has run
    expect(h.ranOn(w)).toEqual([{ cpu: 1, work: w, context: 'hardirq' }]);
    expect(findings).toEqual([]); // CPU0 never ran the work: nothing is certain online
    expect(unansweredFailedClaims(h.mem)).toEqual([{ work: w, cpu: 0, failed: 2, seen: 1 }]);
    const v = contractViolations(h.mem);
    expect(v).toHaveLength(1);
    expect(v[0]).toMatchObject({ check: 'contract', cpu: -1, work: w, context: '-' });
    expect(v[0]!.message).toContain(`irq_work_queue(work ${w}) on cpu0 returned false (already pending) after its caller wrote data #2`);
    expect(v[0]!.message).toContain('the newest any callback read is #1');
  });

  it('stays silent for merged in the same script: the second queue succeeds, and its run reads #2', () => {
    const { h, findings, w, second } = queueWhileCallbackDone('merged');
    expect(second).toBe(true);
    h.cpu(0).takeInterrupts();
    expect(h.ranOn(w).map((e) => e.cpu)).toEqual([1, 0]);
    expect(unansweredFailedClaims(h.mem)).toEqual([]);
    expect(contractViolations(h.mem)).toEqual([]);
    expect(findings).toEqual([]);
  });

  it("speaks at once only when no other CPU's queue of the work is in flight (its claim might not be counted yet)", () => {
    const t = checkedHarness({ cpus: 2, preemptRt: false, variant: 'pending-cleared-late' });
    const w = t.h.newWork({ func: FUNC_REQUEUE, arg: 1 });
    t.queue(0, w);
    t.data.beforeQueue(w, 1); // CPU1 is inside a queue attempt of its own on this work
    t.h.cpu(0).takeInterrupts();
    t.data.afterQueue(w, 1);
    expect(t.findings).toEqual([]);
    // The end of the run still sees the lost re-queue.
    expect(unansweredFailedClaims(t.h.mem).map((u) => u.work)).toEqual([w]);
  });
});

describe('contract: a run must read the data of every claim made before it began', () => {
  it('fires when the callback reads a data number older than a claim published before its run began', () => {
    const { h, data, contractFindings, queueOn, atRunOf } = checkedHarness({ cpus: 2, preemptRt: false });
    const w = h.newWork();
    const word = data.slotWord(0, w, C_DATA);
    let hidden = -1;
    // CPU1 does not see CPU0's store yet when its callback reads (what a missing barrier does).
    atRunOf(1, 'irq_work_single:after-clear-pending', w, () => {
      hidden = h.mem.i32[word]!;
      h.mem.i32[word] = hidden - 1;
    });
    atRunOf(1, 'irq_work_single:after-func', w, () => (h.mem.i32[word] = hidden));
    queueOn(0, w, 1); // data #1
    h.cpu(1).takeInterrupts();
    expect(hidden).toBe(1);
    const found = contractFindings();
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ cpu: 1, work: w, context: 'hardirq' });
    expect(found[0]!.message).toContain(`the callback of work ${w} (claim #1) read data #0`);
    expect(found[0]!.message).toContain('had written #1');
  });

  it('stays silent when the callback reads the newest data of several CPUs', () => {
    const { h, findings, queueOn } = checkedHarness({ cpus: 3, preemptRt: false });
    const w = h.newWork();
    expect(queueOn(0, w, 2)).toBe(true); // #1 by CPU0
    expect(queueOn(1, w, 2)).toBe(false); // #2 by CPU1
    h.cpu(2).takeInterrupts();
    expect(h.ranOn(w)).toHaveLength(1);
    expect(unansweredFailedClaims(h.mem)).toEqual([]);
    expect(findings).toEqual([]);
  });
});

describe('contract: a failed claim must have found the work PENDING', () => {
  it('fires when a claim fails although its fetch-or returned the work BUSY but not PENDING', () => {
    const h = new Harness({ cpus: 1, preemptRt: false });
    const w = h.newWork();
    const found: string[] = [];
    const hooks = contract.hooks({ mem: h.mem, cpu: h.cpu(0).cpu, report: (_check, _work, message) => found.push(message) });
    hooks.claim!(0, w, false, IRQ_WORK_PENDING | IRQ_WORK_BUSY);
    expect(found).toEqual([]);
    hooks.claim!(0, w, false, IRQ_WORK_BUSY);
    expect(found).toEqual([`irq_work_queue(work ${w}) failed although its fetch-or found it not PENDING: no run owes this call`]);
  });
});
