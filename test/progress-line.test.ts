/**
 * The live progress line, against a fake stream and a fake clock: nothing at all off a terminal
 * or for a short run; on a terminal one line redrawn in place at most four times a second, cut to
 * the terminal's width, and cleared at the end.
 */
import { describe, expect, it } from 'vitest';
import { compact, formatProgress, MIN_REDRAW_MS, progressLine, type ProgressStream } from '../src/cli/progress-line.js';
import { CommandProgress } from '../src/cli/run-progress.js';

class FakeStream implements ProgressStream {
  readonly writes: string[] = [];
  constructor(
    readonly isTTY: boolean,
    readonly columns?: number,
  ) {}
  write(text: string): boolean {
    this.writes.push(text);
    return true;
  }
}

/** A clock the test moves by hand. */
function fakeClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 0;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('progressLine', () => {
  it('writes nothing when the stream is not a terminal', () => {
    const stream = new FakeStream(false);
    const line = progressLine({ label: 'irqwork race', budgetMs: 10_000, stream });
    line.update({ elapsedMs: 1000, executed: 5, findings: 0 });
    line.done();
    expect(stream.writes).toEqual([]);
  });

  it('writes nothing for a run shorter than about 3 s', () => {
    const stream = new FakeStream(true);
    const line = progressLine({ label: 'irqwork race', budgetMs: 2000, stream });
    line.update({ elapsedMs: 1000, executed: 5, findings: 0 });
    line.done();
    expect(stream.writes).toEqual([]);
  });

  it('redraws one line in place: carriage return, the text, clear to the end of the line', () => {
    const stream = new FakeStream(true);
    const clock = fakeClock();
    const line = progressLine({ label: 'irqwork race', budgetMs: 10_000, stream, now: clock.now });
    line.update({ elapsedMs: 4200, executed: 1_234_567, findings: 0 });
    expect(stream.writes).toEqual(['\rirqwork race: 4.2 / 10 s · 1.23M works · 0 findings\x1b[K']);
    expect(stream.writes[0]).not.toContain('\n');
  });

  it('redraws at most once per 250 ms, however often it is updated', () => {
    const stream = new FakeStream(true);
    const clock = fakeClock();
    const line = progressLine({ label: 'irqwork race', budgetMs: 10_000, stream, now: clock.now });
    for (let i = 0; i < 100; i++) {
      line.update({ elapsedMs: i * 10, executed: i, findings: 0 });
      clock.advance(10); // 100 updates over 1 s
    }
    expect(MIN_REDRAW_MS).toBe(250);
    expect(stream.writes.length).toBeGreaterThanOrEqual(3);
    expect(stream.writes.length).toBeLessThanOrEqual(4);
  });

  it('clears the line when done, and ignores updates after it', () => {
    const stream = new FakeStream(true);
    const clock = fakeClock();
    const line = progressLine({ label: 'irqwork race', budgetMs: 10_000, stream, now: clock.now });
    line.update({ elapsedMs: 500, executed: 10, findings: 1 });
    line.done();
    expect(stream.writes.at(-1)).toBe('\r\x1b[K');
    clock.advance(1000);
    line.update({ elapsedMs: 1500, executed: 20, findings: 1 });
    line.done();
    expect(stream.writes).toHaveLength(2);
  });

  it('leaves the terminal alone when done without having drawn', () => {
    const stream = new FakeStream(true);
    progressLine({ label: 'irqwork race', budgetMs: 10_000, stream }).done();
    expect(stream.writes).toEqual([]);
  });

  it('cuts the line to the terminal width so that it never wraps', () => {
    const stream = new FakeStream(true, 20);
    const line = progressLine({ label: 'irqwork race', budgetMs: 10_000, stream, now: fakeClock().now });
    line.update({ elapsedMs: 4200, executed: 1_234_567, findings: 0 });
    const text = stream.writes[0]!.replace('\r', '').replace('\x1b[K', '');
    expect(text.length).toBeLessThan(20);
    expect(text).toBe('irqwork race: 4.2 …');
  });
});

describe('the progress text', () => {
  it('leaves out what it is not given and says "1 finding"', () => {
    expect(formatProgress('irqwork latency', 2500, { elapsedMs: 1000 })).toBe('irqwork latency: 1.0 / 2.5 s');
    expect(formatProgress('irqwork race', 30_000, { elapsedMs: 12_345, findings: 1 })).toBe('irqwork race: 12.3 / 30 s · 1 finding');
  });

  it('counts works with three significant digits and a unit', () => {
    expect(compact(0)).toBe('0');
    expect(compact(812)).toBe('812');
    expect(compact(12_345)).toBe('12.3k');
    expect(compact(123_456)).toBe('123k');
    expect(compact(999_999)).toBe('1.00M');
    expect(compact(1_234_567)).toBe('1.23M');
    expect(compact(4_560_000_000)).toBe('4.56G');
  });
});

describe('the progress text, with a stage and without a budget', () => {
  it('shows the stage after the label, and only the elapsed time when the length is not known', () => {
    expect(formatProgress('irqwork bench', undefined, { elapsedMs: 12_300, stage: 'hand-off baselines' })).toBe('irqwork bench · hand-off baselines: 12.3 s');
  });
});

describe('one line over a command of several runs (CommandProgress)', () => {
  it('adds each run\'s works and findings to those of the runs before it', () => {
    const stream = new FakeStream(true);
    const clock = fakeClock();
    const progress = new CommandProgress('irqwork zoo', 20_000, true, { stream, now: clock.now });
    progress.run().onProgress!({ elapsedMs: 100, executed: 999, findings: 1 });
    clock.advance(MIN_REDRAW_MS);
    progress.run().onProgress!({ elapsedMs: 100, executed: 500, findings: 2 });
    progress.done();
    const drawn = stream.writes.filter((w) => w.includes('works'));
    expect(drawn).toHaveLength(2);
    expect(drawn[0]).toContain('999 works · 1 finding');
    expect(drawn[1]).toContain('1.50k works · 3 findings');
    expect(stream.writes.at(-1)).toBe('\r\x1b[K');
  });

  it('leaves findings out for measurements', () => {
    const stream = new FakeStream(true);
    const progress = new CommandProgress('irqwork latency', 10_000, false, { stream });
    progress.run().onProgress!({ elapsedMs: 100, executed: 10, findings: 0 });
    progress.done();
    expect(stream.writes[0]).toContain('10 works');
    expect(stream.writes[0]).not.toContain('finding');
  });
});
