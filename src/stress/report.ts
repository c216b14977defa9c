/**
 * After a run: per-CPU figures from the counters, totals, the accounting check (every successful
 * claim executed exactly once, in total and per work) and the contract check's end-of-run half
 * (every failed claim answered by a callback that read its data).
 */
import { describeUnanswered, unansweredFailedClaims } from '../checks/contract.js';
import { COUNTER_NAMES, Counter, W_CLAIMED, W_EXECUTED, type CounterName } from '../kernel/layout.js';
import type { KernelMemory } from '../kernel/memory.js';
import type { Violation } from './task.js';

export type CpuStats = Record<CounterName, number> & { cpu: number; idleShare: number };

export interface Totals {
  queueCalls: number;
  claimed: number;
  executed: number;
  executedHardirq: number;
  executedIrqWorkd: number;
  executedOther: number;
  ipisSent: number;
  ipisReceived: number;
  selfIpis: number;
  irqWorkdWakeups: number;
  ticks: number;
  syncs: number;
}

export function collectCpuStats(mem: KernelMemory, elapsedNs: number): CpuStats[] {
  const out: CpuStats[] = [];
  for (let cpu = 0; cpu < mem.cfg.nrCpus; cpu++) {
    const stats = { cpu } as CpuStats;
    for (const name of COUNTER_NAMES) stats[name] = mem.f64[mem.counterIndex(cpu, Counter[name])]!;
    stats.idleShare = elapsedNs > 0 ? Math.min(1, stats.idleNs / elapsedNs) : 0;
    out.push(stats);
  }
  return out;
}

export function totalsOf(perCpu: readonly CpuStats[]): Totals {
  const sum = (name: CounterName) => perCpu.reduce((s, c) => s + c[name], 0);
  const executedHardirq = sum('executedHardirq');
  const executedIrqWorkd = sum('executedIrqWorkd');
  const executedOther = sum('executedOther');
  return {
    queueCalls: sum('queueCalls'),
    claimed: sum('claimed'),
    executed: executedHardirq + executedIrqWorkd + executedOther,
    executedHardirq,
    executedIrqWorkd,
    executedOther,
    ipisSent: sum('ipisSent'),
    ipisReceived: sum('ipisReceived'),
    selfIpis: sum('selfIpis'),
    irqWorkdWakeups: sum('irqWorkdWakeups'),
    ticks: sum('ticks'),
    syncs: sum('syncs'),
  };
}

/**
 * The contract check's end-of-run judgement (checks/contract.ts, rule 4): each work whose newest
 * failed claim no callback answered. Only for a run that drained — nothing pending, every CPU
 * home — so that no failed claim can still be waiting for its run; empty for a run without
 * checks (no contract region).
 */
export function contractViolations(mem: KernelMemory): Violation[] {
  return unansweredFailedClaims(mem).map((u) => ({ check: 'contract', cpu: -1, work: u.work, context: '-', message: describeUnanswered(u) }));
}

/** claimed == executed for every work; a mismatch names the work. */
export function accountingViolations(mem: KernelMemory, totals: Totals): Violation[] {
  const out: Violation[] = [];
  for (let w = 1; w < mem.layout.nrNodes; w++) {
    const claimed = mem.i32[mem.node(w) + W_CLAIMED]!;
    const executed = mem.i32[mem.node(w) + W_EXECUTED]!;
    if (claimed !== executed) {
      const what = claimed > executed ? `${claimed - executed} claimed but never executed` : `${executed - claimed} executed more often than claimed`;
      out.push({
        check: 'accounting',
        cpu: -1,
        work: w,
        context: '-',
        message: `work ${w}${mem.isWakeupWork(w) ? ' (wakeup)' : ''}: claimed ${claimed}, executed ${executed} (${what})`,
      });
    }
  }
  if (totals.claimed !== totals.executed) {
    out.push({
      check: 'accounting',
      cpu: -1,
      work: 0,
      context: '-',
      message: `in total: claimed ${totals.claimed}, executed ${totals.executed}`,
    });
  }
  return out;
}
