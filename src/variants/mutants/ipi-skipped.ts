/** Mutant: __smp_call_single_queue sends the IPI when the queue was NOT empty — the needed one is skipped. */
import { CPU_CALL_SINGLE_QUEUE } from '../../kernel/layout.js';
import { Kernel } from '../../kernel/smpboot.js';
import { defineMutant } from './mutant.js';

class IpiSkipped extends Kernel {
  override smpCallSingleQueue(cpu: number, node: number): void {
    if (!this.llistAdd(node, this.perCpu(CPU_CALL_SINGLE_QUEUE, cpu))) this.sendCallFunctionSingleIpi(cpu);
  }
}

export default defineMutant({
  name: 'ipi-skipped',
  description: 'the remote IPI is sent only when the queue was not empty',
  expectedCheck: 'liveness',
  kernel: IpiSkipped,
});
