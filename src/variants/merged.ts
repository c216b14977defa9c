/** `merged`: kernel/irq_work.c as merged in v5.16 — the model's base code, unchanged. */
import { Kernel } from '../kernel/smpboot.js';
import { defineVariant } from './variant.js';

export default defineVariant({
  name: 'merged',
  description: 'irq_work as merged in v5.16 (b4c6f86ec2f6, 09089db79859, 810979682ccc)',
  kernel: Kernel,
});
