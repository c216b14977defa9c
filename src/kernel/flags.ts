/**
 * Flag bits of `struct irq_work`'s `node.a_flags` (include/linux/irq_work.h and
 * include/linux/smp_types.h). One word per work.
 */

/** IRQ_WORK_PENDING: claimed and on a list, the callback has not started yet. */
export const IRQ_WORK_PENDING = 0x01;
/** IRQ_WORK_BUSY: claimed and its callback has not finished yet. */
export const IRQ_WORK_BUSY = 0x02;
/** IRQ_WORK_LAZY: no IPI; run from the next tick (unless the tick is stopped). */
export const IRQ_WORK_LAZY = 0x04;
/** IRQ_WORK_HARD_IRQ: runs in hard interrupt context even on PREEMPT_RT. */
export const IRQ_WORK_HARD_IRQ = 0x08;
/** IRQ_WORK_CLAIMED = PENDING | BUSY, set together by a claim. */
export const IRQ_WORK_CLAIMED = IRQ_WORK_PENDING | IRQ_WORK_BUSY;
/** CSD_TYPE_IRQ_WORK: tells the call-single-queue flush that the node is an irq_work. */
export const CSD_TYPE_IRQ_WORK = 0x20;
/** CSD_FLAG_TYPE_MASK: the csd type field of the flag word. */
export const CSD_TYPE_MASK = 0xf0;

/** Human-readable flag word, for dumps and findings: `PENDING|BUSY|HARD_IRQ|csd=0x20`. */
export function describeFlags(flags: number): string {
  const names: string[] = [];
  if (flags & IRQ_WORK_PENDING) names.push('PENDING');
  if (flags & IRQ_WORK_BUSY) names.push('BUSY');
  if (flags & IRQ_WORK_LAZY) names.push('LAZY');
  if (flags & IRQ_WORK_HARD_IRQ) names.push('HARD_IRQ');
  const csd = flags & CSD_TYPE_MASK;
  if (csd) names.push(`csd=0x${csd.toString(16)}`);
  const other = flags & ~(IRQ_WORK_CLAIMED | IRQ_WORK_LAZY | IRQ_WORK_HARD_IRQ | CSD_TYPE_MASK);
  if (other) names.push(`0x${other.toString(16)}`);
  return names.length ? names.join('|') : 'idle';
}
