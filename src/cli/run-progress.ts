/**
 * One live progress line over all the runs of a command (a zoo, a mutant self-test, a latency
 * run per configuration), fed by the machine's progress reports: each run's elapsed time, works
 * and findings add to those of the runs before it.
 */
import type { RunOptionsOfMachine, RunProgress } from '../machine/machine.js';
import { progressLine, type ProgressLine, type ProgressStream } from './progress-line.js';

const TICK_MS = 500;

export class CommandProgress {
  private readonly line: ProgressLine;
  private readonly startMs = performance.now();
  private doneExecuted = 0;
  private doneFindings = 0;
  private last: RunProgress = { elapsedMs: 0, executed: 0, findings: 0 };
  private stage: string | undefined;

  /** `budgetMs`: the command's planned length (undefined: not known ahead, elapsed time only). */
  constructor(
    label: string,
    budgetMs: number | undefined,
    /** Show findings (race checks): not for measurements, which have none. */
    private readonly withFindings = true,
    /** Where to draw and the redraw clock (a test passes its own). */
    io: { stream?: ProgressStream; now?: () => number } = {},
  ) {
    this.line = progressLine({ label, budgetMs, ...io });
    // Between the machine's reports (and while nothing runs on it) the elapsed time still moves.
    this.ticker = setInterval(() => this.draw(), TICK_MS);
    this.ticker.unref();
  }

  private readonly ticker: NodeJS.Timeout;

  /** Machine runs started so far. */
  runs = 0;

  /** Options for the next machine run: its reports update the line. */
  run(): RunOptionsOfMachine {
    this.runs++;
    this.doneExecuted += this.last.executed;
    this.doneFindings += this.last.findings;
    this.last = { elapsedMs: 0, executed: 0, findings: 0 };
    return {
      onProgress: (p) => {
        this.last = p;
        this.draw();
      },
    };
  }

  /** What the command does now (shown after the label). */
  setStage(stage: string): void {
    this.stage = stage;
    this.draw();
  }

  private draw(): void {
    this.line.update({
      elapsedMs: performance.now() - this.startMs,
      executed: this.doneExecuted + this.last.executed,
      ...(this.withFindings ? { findings: this.doneFindings + this.last.findings } : {}),
      ...(this.stage ? { stage: this.stage } : {}),
    });
  }

  /** Clears the line; call before printing results. */
  done(): void {
    clearInterval(this.ticker);
    this.line.done();
  }
}
