import { describe, it, expect } from 'vitest';
import { Harness } from '../src/harness/single-thread.js';
import {
  CSD_TYPE_IRQ_WORK,
  IRQ_WORK_BUSY,
  IRQ_WORK_CLAIMED,
  IRQ_WORK_HARD_IRQ,
  IRQ_WORK_PENDING,
} from '../src/kernel/flags.js';
import { IPI_IRQ_WORK, W_FLAGS } from '../src/kernel/layout.js';
import { FUNC_FIRST_USER } from '../src/kernel/memory.js';

describe('irqWorkClaim', () => {
  it('succeeds on an idle work and sets PENDING|BUSY|CSD_TYPE_IRQ_WORK', () => {
    const h = new Harness({ cpus: 1 });
    const w = h.newWork();
    expect(h.k(0).irqWorkClaim(w)).toBe(true);
    expect(h.flags(w)).toBe(IRQ_WORK_PENDING | IRQ_WORK_BUSY | CSD_TYPE_IRQ_WORK);
    expect(h.claimedCount(w)).toBe(1);
  });

  it('keeps the work’s own flag bits (HARD_IRQ) when it claims', () => {
    const h = new Harness({ cpus: 1 });
    const w = h.newWork({ flags: IRQ_WORK_HARD_IRQ });
    expect(h.k(0).irqWorkClaim(w)).toBe(true);
    expect(h.flags(w)).toBe(IRQ_WORK_CLAIMED | IRQ_WORK_HARD_IRQ | CSD_TYPE_IRQ_WORK);
  });

  it('fails when the work is already PENDING and counts no new claim', () => {
    const h = new Harness({ cpus: 2 });
    const w = h.newWork();
    expect(h.k(0).irqWorkClaim(w)).toBe(true);
    expect(h.k(1).irqWorkClaim(w)).toBe(false);
    expect(h.flags(w)).toBe(IRQ_WORK_CLAIMED | CSD_TYPE_IRQ_WORK);
    expect(h.claimedCount(w)).toBe(1);
  });

  it('succeeds when only BUSY is set (callback running, PENDING already cleared)', () => {
    const h = new Harness({ cpus: 1 });
    const w = h.newWork();
    h.mem.i32[h.mem.node(w) + W_FLAGS] = IRQ_WORK_BUSY | CSD_TYPE_IRQ_WORK;
    expect(h.k(0).irqWorkClaim(w)).toBe(true);
    expect(h.flags(w)).toBe(IRQ_WORK_CLAIMED | CSD_TYPE_IRQ_WORK);
  });

  it('succeeds from the work’s own callback, seeing BUSY without PENDING', () => {
    const claims: Array<{ ok: boolean; oldFlags: number }> = [];
    const h = new Harness({ cpus: 1, preemptRt: false, hooks: { claim: (_c, _w, ok, oldFlags) => claims.push({ ok, oldFlags }) } });
    const requeueOnce = FUNC_FIRST_USER + 10;
    let requeued = false;
    h.k(0).registerFunc(requeueOnce, (_k, work) => {
      if (!requeued) requeued = h.k(0).irqWorkQueue(work);
    });
    const w = h.newWork({ func: requeueOnce });
    h.k(0).irqWorkQueue(w);
    h.cpu(0).takeInterrupts(); // the callback re-queues itself once
    expect(claims).toEqual([
      { ok: true, oldFlags: 0 },
      { ok: true, oldFlags: IRQ_WORK_BUSY | CSD_TYPE_IRQ_WORK },
    ]);
    expect(h.claimedCount(w)).toBe(2);
    expect(h.pendingIpis(0) & IPI_IRQ_WORK).toBe(IPI_IRQ_WORK);
  });
});
