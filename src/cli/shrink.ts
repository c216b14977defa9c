/**
 * `irqwork shrink F`: a smaller replay that still raises the same check (stress/shrink.ts),
 * written next to the input (or to --out), with the sizes before and after.
 */
import { writeFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { Machine } from '../machine/machine.js';
import { kernelLayoutOf } from '../stress/kind.js';
import { readReplayFile, replayRunOptions, type ReplayFile } from '../stress/replay-file.js';
import { DoesNotReproduce, shrinkReplay, type ShrinkSize } from '../stress/shrink.js';
import { table } from '../util/table.js';
import { parseFlagsAndFiles, positiveFlag, type Options } from './args.js';
import { checkOutputPath } from './output-path.js';
import { replayOnce, replayVerdict } from './replay.js';
import { CommandProgress } from './run-progress.js';

const FLAGS: Options = { out: { type: 'string' }, json: { type: 'boolean' }, budget: { type: 'string' } };

const HELP = `usage: irqwork shrink F [--out G] [--budget S] [--json]

Searches, delta-debugging style, for a smaller replay of F that still raises the same check:
a machine of fewer CPUs, CPUs left idle from the start, fewer operations per CPU, fewer
scheduling decisions. Writes the smallest found (possibly F's own schedule, when nothing
smaller raises the check) and prints CPUs (all, and active), steps, switches, operations and
history events before and after.

  --out G             where to write it (default: F with .shrunk.json)
  --budget S          seconds of searching (default 60)
  --json              one JSON object on stdout

exit: 0 written, 3 F does not reproduce, 2 bad usage or F is not a replay file`;

export async function shrinkCommand(argv: string[]): Promise<number> {
  const { values, files } = parseFlagsAndFiles('shrink', argv, FLAGS);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (files.length !== 1) throw new UsageError('usage: irqwork shrink F [--out G] [--budget S] [--json] (one replay file)');
  const input = readReplayFile(files[0]!);
  const budgetS = positiveFlag('budget', values.budget, 60, 86_400);
  const outPath = checkOutputPath('out', values.out ?? files[0]!.replace(/(\.json)?$/, '.shrunk.json'))!;
  const layout = kernelLayoutOf(replayRunOptions(input, false, false));
  // One machine per CPU count the search tries (a candidate may run on fewer CPUs).
  const machines = new Map<number, Machine>();
  const machineFor = (cpus: number): Machine => {
    let m = machines.get(cpus);
    if (!m) machines.set(cpus, (m = Machine.start(cpus)));
    return m;
  };
  const progress = new CommandProgress('irqwork shrink', budgetS * 1000, false);
  const strict = async (file: ReplayFile) => {
    const run = await replayOnce(machineFor(file.cpus), file, true);
    return { reproduced: replayVerdict(file, run).reproduced, run };
  };
  try {
    const result = await shrinkReplay(machineFor, layout, input, budgetS * 1000, strict, (tries, kept, best) =>
      progress.setStage(`${tries} tried, ${kept} kept: ${best.cpus} CPUs, ${best.steps} steps, ${best.switches} switches`),
    );
    // The shrunk schedule is what a lenient run really did; it must replay exactly too.
    let file = result.file;
    let shrunk = result.shrunk;
    if (file !== input && !(await strict(file)).reproduced) {
      file = input;
      shrunk = result.original;
    }
    progress.done();
    writeFileSync(outPath, JSON.stringify(file, null, 1) + '\n');
    if (values.json) {
      const brief = (s: ShrinkSize) => ({ cpus: s.cpus, activeCpus: s.activeCpus, steps: s.steps, switches: s.switches, ops: s.ops, events: s.events });
      console.log(JSON.stringify({ command: 'shrink', original: brief(result.original), shrunk: brief(shrunk), file: outPath, check: input.finding.check, tries: result.tries }, null, 2));
    } else {
      console.log(`irqwork shrink ${files[0]}: [${input.finding.check}] ${input.finding.message}`);
      console.log(
        table(
          ['', 'CPUs', 'active CPUs', 'steps', 'switches', 'operations', 'history events'],
          [
            ['before', ...sizeCells(result.original)],
            ['after', ...sizeCells(shrunk)],
          ],
          'lrrrrrr',
        ),
      );
      console.log(`${result.tries} candidates run, ${result.kept} kept; written: ${outPath}  (irqwork replay ${outPath})`);
    }
    return 0;
  } catch (e) {
    progress.done();
    if (e instanceof DoesNotReproduce) {
      console.error(`irqwork shrink: ${files[0]} does not reproduce its finding (irqwork replay ${files[0]} names the first divergent step)`);
      return 3;
    }
    throw e;
  } finally {
    progress.done();
    await Promise.all([...machines.values()].map((m) => m.close()));
  }
}

function sizeCells(s: ShrinkSize): string[] {
  return [s.cpus, s.activeCpus, s.steps, s.switches, s.ops, s.events].map(String);
}
