/**
 * Workload specs: the presets, the JSON scenario validation (every error is a one-line
 * UsageError naming the file and the field), and loadWorkload's name-or-file lookup.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { DEFAULT_WORKLOAD, loadWorkload, parseScenario, PRESET_NAMES, PRESETS, worksPerCpu } from '../src/workload/spec.js';

const FILE = 'scenario.json';

/** The UsageError parseScenario throws for `raw` (fails the test if it does not throw one). */
function scenarioError(raw: unknown): UsageError {
  try {
    parseScenario(raw, FILE);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return e as UsageError;
  }
  throw new Error(`parseScenario accepted ${JSON.stringify(raw)}`);
}

describe('presets', () => {
  it('the default workload is a preset and PRESET_NAMES lists every preset', () => {
    expect(PRESET_NAMES).toEqual(Object.keys(PRESETS));
    expect(PRESET_NAMES).toContain(DEFAULT_WORKLOAD);
  });

  it.each(PRESET_NAMES)('preset %s is named after its key and passes scenario validation unchanged', (name) => {
    const preset = PRESETS[name]!;
    expect(preset.name).toBe(name);
    expect(parseScenario(JSON.parse(JSON.stringify(preset)), `${name}.json`)).toEqual(preset);
  });

  it.each(PRESET_NAMES)('preset %s has an operation, a work, and shares that add up to at most 1', (name) => {
    const preset = PRESETS[name]!;
    expect(Object.values(preset.weights).some((w) => w > 0)).toBe(true);
    expect(worksPerCpu(preset)).toBeGreaterThan(0);
    expect(preset.maySleepShare + preset.requeueShare).toBeLessThanOrEqual(1);
    expect(preset.description.length).toBeGreaterThan(0);
  });
});

describe('parseScenario: what a valid scenario becomes', () => {
  it('an empty object is the default preset, named after the file', () => {
    const spec = parseScenario({}, FILE);
    const { name: _n, description: _d, ...rest } = PRESETS[DEFAULT_WORKLOAD]!;
    expect(spec).toMatchObject(rest);
    expect(spec.name).toBe(FILE);
    expect(spec.description).toContain(FILE);
  });

  it('unset fields come from `extends`; given weights and works override only their own keys', () => {
    const spec = parseScenario({ name: 'mine', extends: 'lazy', weights: { sync: 5 }, works: { hard: 3 } }, FILE);
    expect(spec.name).toBe('mine');
    expect(spec.weights).toEqual({ ...PRESETS.lazy!.weights, sync: 5 });
    expect(spec.works).toEqual({ ...PRESETS.lazy!.works, hard: 3 });
    expect(spec.idleUs).toBe(PRESETS.lazy!.idleUs);
  });

  it('accepts the bounds themselves (0 and the maximum)', () => {
    const spec = parseScenario(
      { weights: { queueTask: 1e6 }, works: { plain: 1024, lazy: 0, hard: 0 }, maySleepShare: 0, requeueShare: 1, idleChance: 1, idleUs: 0 },
      FILE,
    );
    expect(spec.works.plain).toBe(1024);
    expect(spec.requeueShare).toBe(1);
  });
});

describe('parseScenario: every error names the field', () => {
  const cases: Array<[string, string, unknown]> = [
    ['null', '(top level)', null],
    ['an array', '(top level)', []],
    ['a string', '(top level)', 'mixed'],
    ['an unknown top-level field', 'wieghts', { wieghts: {} }],
    ['an unknown preset in extends', 'extends', { extends: 'nope' }],
    ['a non-string extends', 'extends', { extends: 3 }],
    ['weights that are not an object', 'weights', { weights: [1, 2] }],
    ['an unknown weight', 'weights.queueBogus', { weights: { queueBogus: 1 } }],
    ['a negative weight', 'weights.queueTask', { weights: { queueTask: -1 } }],
    ['a weight given as a string', 'weights.sync', { weights: { sync: '1' } }],
    ['a weight above 1e6', 'weights.queueNmi', { weights: { queueNmi: 1e6 + 1 } }],
    ['an infinite weight', 'weights.queueRemote', { weights: { queueRemote: Infinity } }],
    ['all weights zero', 'weights', { weights: { queueTask: 0, queueHardirq: 0, queueNmi: 0, queueRemote: 0, sync: 0, syncFree: 0 } }],
    ['works that are not an object', 'works', { works: 4 }],
    ['an unknown kind of work', 'works.nmi', { works: { nmi: 1 } }],
    ['a fractional work count', 'works.plain', { works: { plain: 1.5 } }],
    ['a negative work count', 'works.lazy', { works: { lazy: -1 } }],
    ['too many works', 'works.hard', { works: { hard: 1025 } }],
    ['no works at all', 'works', { works: { plain: 0, lazy: 0, hard: 0 } }],
    ['maySleepShare above 1', 'maySleepShare', { maySleepShare: 1.5 }],
    ['a negative requeueShare', 'requeueShare', { requeueShare: -0.1 }],
    ['shares adding up to more than 1', 'requeueShare', { maySleepShare: 0.6, requeueShare: 0.6 }],
    ['idleChance given as a string', 'idleChance', { idleChance: '0.1' }],
    ['idleUs above 1e6', 'idleUs', { idleUs: 2e6 }],
  ];

  it.each(cases)('%s is rejected, naming "%s"', (_what, field, raw) => {
    const e = scenarioError(raw);
    expect(e.message).toContain(`field "${field}"`);
    expect(e.message).toContain(FILE);
    expect(e.message).not.toContain('\n');
  });

  it('an unknown field lists the allowed ones', () => {
    expect(scenarioError({ weights: { queueBogus: 1 } }).message).toMatch(/allowed: queueTask, queueHardirq, queueNmi, queueRemote, sync, syncFree/);
  });

  it('the shares error says which two fields it adds up', () => {
    expect(scenarioError({ maySleepShare: 0.6, requeueShare: 0.6 }).message).toContain('maySleepShare');
  });
});

describe('loadWorkload', () => {
  const dir = mkdtempSync(join(tmpdir(), 'irqwork-spec-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('a preset name gives the preset itself', () => {
    for (const name of PRESET_NAMES) expect(loadWorkload(name)).toBe(PRESETS[name]);
  });

  it('an unknown name (not a .json path) is a UsageError naming --workload, the value and the presets', () => {
    expect(() => loadWorkload('nope')).toThrow(UsageError);
    expect(() => loadWorkload('nope')).toThrow(new RegExp(`--workload "nope".*${PRESET_NAMES.join(', ')}.*JSON scenario file`));
  });

  it('a .json path is read and validated as a scenario', () => {
    const path = write('good.json', JSON.stringify({ name: 'good', extends: 'local', works: { hard: 0 } }));
    const spec = loadWorkload(path);
    expect(spec.name).toBe('good');
    expect(spec.weights).toEqual(PRESETS.local!.weights);
    expect(spec.works.hard).toBe(0);
  });

  it('a missing file is a one-line UsageError naming the file', () => {
    const path = join(dir, 'missing.json');
    expect(() => loadWorkload(path)).toThrow(UsageError);
    expect(() => loadWorkload(path)).toThrow(new RegExp(`^scenario ${path}: cannot be read as JSON \\(ENOENT[^\\n]*\\)$`));
  });

  it('malformed JSON is a one-line UsageError naming the file', () => {
    const path = write('bad.json', '{"weights": {');
    expect(() => loadWorkload(path)).toThrow(UsageError);
    expect(() => loadWorkload(path)).toThrow(new RegExp(`^scenario ${path}: cannot be read as JSON \\([^\\n]+\\)$`));
  });

  it('a file with a bad field is the parseScenario error, naming the file and the field', () => {
    const path = write('neg.json', JSON.stringify({ weights: { queueRemote: -2 } }));
    expect(() => loadWorkload(path)).toThrow(`scenario ${path}: field "weights.queueRemote" must be a number from 0 to 1000000`);
  });
});
