/**
 * irqwork — command-line entry. `irqwork <command> [options]`; `--help` on every command.
 * Exit codes: 0 clean, 1 violation / finding, 2 bad usage, 3 internal failure.
 */
import { InternalError, UsageError } from './errors.js';
import { raceCommand } from './cli/race.js';
import { stressCommand } from './cli/stress.js';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; summary: string }> = {
  stress: { run: stressCommand, summary: 'many CPUs hammering the irq_work API; accounting check' },
  race: { run: raceCommand, summary: 'race hunt: shadow checks, chaos, traces, reproducible findings; mutant self-test' },
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
