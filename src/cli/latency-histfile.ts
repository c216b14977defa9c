/**
 * cyclictest `-h` histogram blocks for a latency run: one block per class and configuration, one
 * column per CPU (the CPU the callback ran on), each block preceded by a comment line naming it:
 *
 *   # irqwork latency: class localHard, config rt, 2 CPUs
 *   # Histogram
 *   000000 000000	000000
 *   …
 *
 * A tool that reads one cyclictest block reads the first; splitHistogramBlocks cuts a file back
 * into its blocks, each of which stats/cyclictest.ts's parseHistogramBlock reads.
 */
import { formatHistogramBlock } from '../stats/cyclictest.js';
import type { LatencyClassId } from '../latency/classes.js';
import type { LatencyRun } from '../latency/result.js';

const TITLE_PREFIX = '# irqwork latency: ';

export interface HistogramBlock {
  classId: LatencyClassId;
  config: 'rt' | 'nort';
  text: string;
}

export function formatHistogramBlocks(runs: readonly LatencyRun[], maxUs: number): string {
  const out: string[] = [];
  for (const run of runs) {
    const config = run.options.preemptRt ? 'rt' : 'nort';
    for (const c of run.classes) {
      out.push(`${TITLE_PREFIX}class ${c.cls.id}, config ${config}, ${c.perCpu.length} CPUs\n`);
      out.push(formatHistogramBlock(c.perCpu.map((p) => p.histogram), maxUs));
    }
  }
  return out.join('');
}

/** Cuts text written by formatHistogramBlocks into its blocks. */
export function splitHistogramBlocks(text: string): HistogramBlock[] {
  const blocks: HistogramBlock[] = [];
  const parts = text.split(TITLE_PREFIX).slice(1);
  for (const part of parts) {
    const match = /^class (\w+), config (rt|nort)/.exec(part);
    if (!match) continue;
    blocks.push({ classId: match[1] as LatencyClassId, config: match[2] as 'rt' | 'nort', text: part.slice(part.indexOf('\n') + 1) });
  }
  return blocks;
}
