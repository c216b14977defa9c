/**
 * The part of kernel/smp.c that irq_work uses: the per-CPU `call_single_queue`, the remote IPI,
 * and its flush in the IPI handler. Only irq_work nodes are ever queued here in this model, so
 * the other csd types (sync / async function calls, TTWU) are not modelled.
 */
import { CSD_TYPE_IRQ_WORK, CSD_TYPE_MASK } from './flags.js';
import { CPU_CALL_SINGLE_QUEUE, IPI_CALL_FUNCTION_SINGLE } from './layout.js';
import { Rcuwait } from './rcuwait.js';
import { Cov } from './coverage.js';

export abstract class Smp extends Rcuwait {
  /** irq_work_single() and irq_work_run(): provided by irq_work.ts. */
  abstract irqWorkSingle(work: number): void;
  abstract irqWorkRun(): void;

  /** __smp_call_single_queue(cpu, node): queue on `cpu`, IPI only if its queue was empty. */
  smpCallSingleQueue(cpu: number, node: number): void {
    // A non-empty queue means an IPI is already on its way (or the flush has not taken the list
    // yet): the flush takes the whole list, so it will find our node too.
    if (this.llistAdd(node, this.perCpu(CPU_CALL_SINGLE_QUEUE, cpu))) {
      this.cover(Cov.callSingleQueueIpi);
      this.sendCallFunctionSingleIpi(cpu);
    } else this.cover(Cov.callSingleQueueNoIpi);
  }

  /** send_call_function_single_ipi(cpu). */
  sendCallFunctionSingleIpi(cpu: number): void {
    this.cpu.sendCallFunctionSingleIpi(cpu);
    this.hooks.ipiSent(this.cpu.id, cpu, IPI_CALL_FUNCTION_SINGLE);
  }

  /** generic_smp_call_function_single_interrupt(): the IPI handler, hardirq context. */
  genericSmpCallFunctionSingleInterrupt(): void {
    this.cover(Cov.callSingleInterrupt);
    this.flushSmpCallFunctionQueue();
  }

  /**
   * smpcfd_dying_cpu(): the last step on a CPU going offline (irqs off): run what other CPUs
   * queued here, then this CPU's own irq_work (irq_work_run; on RT that only tries to wake the
   * already parked irq_workd).
   */
  smpcfdDyingCpu(): void {
    this.cover(Cov.dyingCpu);
    this.flushSmpCallFunctionQueue();
    this.irqWorkRun();
  }

  /**
   * flush_smp_call_function_queue(): take all, oldest first, run each irq_work. Straight to the
   * exchange, as the kernel does: a peek first would fetch the queue's line once more from the
   * CPU that just wrote it.
   */
  flushSmpCallFunctionQueue(): void {
    const head = this.thisCpu(CPU_CALL_SINGLE_QUEUE);
    let node = this.llistReverseOrder(this.llistDelAll(head));
    while (node !== 0) {
      // Safe iteration: read next first, the callback may re-queue the node.
      const next = this.llistNext(node);
      const type = Atomics.load(this.i32, this.flagsOf(node)) & CSD_TYPE_MASK;
      if (type === CSD_TYPE_IRQ_WORK) {
        this.cover(Cov.flushIrqWork);
        this.irqWorkSingle(node);
      } else {
        this.cover(Cov.flushOtherCsd);
        this.cpu.warnOnce(`call_single_queue: node ${node} has csd type 0x${type.toString(16)}`);
      }
      node = next;
    }
  }
}
