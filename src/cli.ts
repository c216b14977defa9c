/**
 * irqwork — command-line entry. `irqwork <command> [options]`; `--help` on every command.
 * Exit codes: 0 clean, 1 violation / finding, 2 bad usage, 3 internal failure.
 */
import { InternalError, UsageError } from './errors.js';
import { raceCommand } from './cli/race.js';
import { stressCommand } from './cli/stress.js';
import { zooCommand } from './cli/zoo.js';
import { latencyCommand } from './cli/latency.js';
import { benchCommand } from './cli/bench.js';
import { replayCommand } from './cli/replay.js';
import { shrinkCommand } from './cli/shrink.js';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; summary: string }> = {
  stress: { run: stressCommand, summary: 'many CPUs hammering the irq_work API; accounting check' },
  latency: { run: latencyCommand, summary: 'cyclictest for irq_work: queue-to-callback latency per class, RT vs non-RT' },
  bench: { run: benchCommand, summary: 'queue cost, hand-off baselines, works/s scaling, RT / non-RT ratios' },
  race: { run: raceCommand, summary: 'race hunt: shadow checks, chaos, traces, reproducible findings; mutant self-test' },
  replay: { run: replayCommand, summary: 'run a saved finding again under its recorded schedule; its complete history' },
  shrink: { run: shrinkCommand, summary: 'make a saved finding smaller: fewer switches, operations, CPUs, steps' },
  zoo: { run: zooCommand, summary: "irq_work's known bugs reproduced, and their fixed variants shown clean" },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`);
  return `usage: irqwork <command> [options]\n\ncommands:\n${lines.join('\n')}\n\n'irqwork <command> --help' for the options of one.`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) throw new UsageError(`irqwork: unknown command '${name}'; commands: ${Object.keys(COMMANDS).join(', ')}`);
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof UsageError) {
      console.error(e.message);
      process.exit(2);
    }
    if (e instanceof InternalError) {
      console.error(`irqwork: internal failure: ${e.message}`);
      if (e.dump) console.error(e.dump);
      process.exit(3);
    }
    console.error(`irqwork: internal failure: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exit(3);
  },
);
