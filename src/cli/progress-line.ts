/**
 * A live one-line progress indicator for long runs:
 *
 *   irqwork race: 4.2 / 10 s · 1.23M works · 0 findings
 *
 * redrawn in place on stderr. Only on a terminal: a pipe or a file gets nothing at all (a log
 * full of carriage returns helps nobody, and tests read stderr). Only for runs of at least
 * MIN_BUDGET_MS: a shorter run is over before the line would be worth reading. At most one redraw
 * per MIN_REDRAW_MS, however often the caller updates: writing to a terminal is not free, and the
 * main thread that draws also runs the machine's watchdog.
 */

/** The part of a tty.WriteStream the line needs (a test passes a fake). */
export interface ProgressStream {
  readonly isTTY?: boolean;
  /** Terminal width: a line longer than this would wrap, and `\r` only returns to its last row. */
  readonly columns?: number;
  write(text: string): unknown;
}

export interface ProgressSnapshot {
  /** Time since the run started, ms. */
  elapsedMs: number;
  /** Works executed so far (left out of the line when not given). */
  executed?: number;
  /** Findings so far (left out of the line when not given). */
  findings?: number;
  /** What the command is doing now, after the label (left out when not given). */
  stage?: string;
}

export interface ProgressLine {
  update(snapshot: ProgressSnapshot): void;
  /** Clears the line (if one was drawn); later updates are ignored. */
  done(): void;
}

export interface ProgressLineOptions {
  /** Leads the line: `irqwork race`. */
  label: string;
  /**
   * The run's planned length, ms (shown after the elapsed time; shorter than MIN_BUDGET_MS: no
   * line). Undefined for a command whose length is not known ahead (bench): elapsed time only.
   */
  budgetMs: number | undefined;
  stream?: ProgressStream;
  /** Clock for the redraw limit, ms (a test passes its own). */
  now?: () => number;
}

export const MIN_BUDGET_MS = 3000;
export const MIN_REDRAW_MS = 250;

/** Back to the line's start; after the text, erase what a longer earlier line left to the right. */
const CR = '\r';
const CLEAR_TO_END = '\x1b[K';

const NO_LINE: ProgressLine = Object.freeze({ update() {}, done() {} });

export function progressLine(options: ProgressLineOptions): ProgressLine {
  const stream = options.stream ?? process.stderr;
  if (stream.isTTY !== true || (options.budgetMs !== undefined && !(options.budgetMs >= MIN_BUDGET_MS))) return NO_LINE;
  const now = options.now ?? (() => performance.now());
  let lastDraw = -Infinity;
  let drawn = false;
  let finished = false;
  return {
    update(snapshot) {
      if (finished) return;
      const t = now();
      if (t - lastDraw < MIN_REDRAW_MS) return;
      lastDraw = t;
      stream.write(`${CR}${fit(formatProgress(options.label, options.budgetMs, snapshot), stream.columns)}${CLEAR_TO_END}`);
      drawn = true;
    },
    done() {
      if (finished) return;
      finished = true;
      if (drawn) stream.write(`${CR}${CLEAR_TO_END}`);
    },
  };
}

/** The text of the line, without control characters. */
export function formatProgress(label: string, budgetMs: number | undefined, s: ProgressSnapshot): string {
  const head = s.stage ? `${label} · ${s.stage}` : label;
  const elapsed = (Math.max(0, s.elapsedMs) / 1000).toFixed(1);
  const parts = [budgetMs === undefined ? `${head}: ${elapsed} s` : `${head}: ${elapsed} / ${seconds(budgetMs)} s`];
  if (s.executed !== undefined) parts.push(`${compact(s.executed)} works`);
  if (s.findings !== undefined) parts.push(`${s.findings} finding${s.findings === 1 ? '' : 's'}`);
  return parts.join(' · ');
}

/** A budget in seconds without trailing zeros: 10, 2.5. */
function seconds(ms: number): string {
  return String(Number((ms / 1000).toFixed(1)));
}

const UNITS: ReadonlyArray<[number, string]> = [
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'k'],
];

/** Three significant digits and a unit: 812, 12.3k, 1.23M. */
export function compact(n: number): string {
  if (!Number.isFinite(n) || Math.abs(n) < 1000) return String(Math.round(n));
  for (let i = 0; i < UNITS.length; i++) {
    const [div, unit] = UNITS[i]!;
    if (Math.abs(n) < div) continue;
    const digits = (n / div).toPrecision(3);
    if (Math.abs(Number(digits)) < 1000) return `${digits}${unit}`;
    // 999 999 rounds to "1.00e+3" k: that is 1.00M (and past the largest unit, whole units).
    const up = UNITS[i - 1];
    return up ? `${(n / up[0]).toPrecision(3)}${up[1]}` : `${Math.round(n / div)}${unit}`;
  }
  return String(n);
}

/** Cut to the terminal's width (one column spare: writing the last one may wrap on some terminals). */
function fit(text: string, columns: number | undefined): string {
  if (columns === undefined || columns < 2 || text.length < columns) return text;
  return `${text.slice(0, columns - 2)}…`;
}
