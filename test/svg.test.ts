import { describe, it, expect } from 'vitest';
import { LatencyHistogram } from '../src/stats/histogram.js';
import { renderLatencySvg, type LatencyChartKind } from '../src/stats/svg.js';

const KINDS: LatencyChartKind[] = ['cdf', 'tail', 'histogram'];

function histogramOf(values: number[]): LatencyHistogram {
  const h = LatencyHistogram.allocateShared();
  for (const v of values) h.record(v);
  return h;
}

/** ns values spread log-uniformly over 0.5 µs .. 500 µs. */
function spread(n: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.round(500 * 1000 ** (i / (n - 1))));
}

function polylinePoints(svg: string): Array<Array<[number, number]>> {
  return [...svg.matchAll(/<polyline [^>]*points="([^"]*)"/g)].map((m) =>
    m[1].split(' ').map((pair) => pair.split(',').map(Number) as [number, number]),
  );
}

describe('renderLatencySvg', () => {
  it('produces a standalone SVG document with namespace, size and viewBox', () => {
    const svg = renderLatencySvg({ title: 'irq_work latency', kind: 'cdf', series: [{ label: 'a', histogram: histogramOf(spread(100)) }] });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(svg).toMatch(/width="\d+" height="\d+" viewBox="0 0 \d+ \d+"/);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<text\b/g)?.length).toBe(svg.match(/<\/text>/g)?.length);
  });

  it('draws one polyline per non-empty series for every kind', () => {
    for (const kind of KINDS) {
      const svg = renderLatencySvg({
        title: kind,
        kind,
        series: [
          { label: 'wide', histogram: histogramOf(spread(500)) },
          { label: 'empty', histogram: LatencyHistogram.allocateShared() },
          { label: 'single', histogram: histogramOf([2000]) },
        ],
      });
      expect(polylinePoints(svg)).toHaveLength(2);
      expect(svg).toContain('empty (no samples)');
    }
  });

  it('escapes <, & and " in the title and labels', () => {
    const svg = renderLatencySvg({
      title: 'p99 < 10 & "fast"',
      kind: 'histogram',
      series: [{ label: 'cpu<0> & "lazy"', histogram: histogramOf([1000]) }],
    });
    expect(svg).toContain('p99 &lt; 10 &amp; &quot;fast&quot;');
    expect(svg).toContain('cpu&lt;0&gt; &amp; &quot;lazy&quot;');
    expect(svg).not.toContain('cpu<0>');
    expect(svg).not.toContain('"lazy"');
  });

  it('never writes NaN or Infinity, even with no data, only zeroes or huge values', () => {
    const cases = [[], [0, 0, 0], [2 ** 45], [0, 1, 10 ** 9]];
    for (const kind of KINDS) {
      for (const values of cases) {
        const svg = renderLatencySvg({ title: 't', kind, series: [{ label: 's', histogram: histogramOf(values) }] });
        expect(svg).not.toMatch(/NaN|Infinity/);
      }
      const none = renderLatencySvg({ title: 't', kind, series: [] });
      expect(none).not.toMatch(/NaN|Infinity/);
      expect(polylinePoints(none)).toHaveLength(0);
    }
  });

  it('labels the decades the data spans on a log µs axis', () => {
    const svg = renderLatencySvg({ title: 't', kind: 'cdf', series: [{ label: 's', histogram: histogramOf(spread(50)) }] });
    for (const label of ['0.1', '1', '10', '100', '1000']) expect(svg).toContain(`>${label}</text>`);
    expect(svg).toContain('latency (µs, log scale)');
  });

  it('draws the CDF rising left to right and the tail falling', () => {
    const histogram = histogramOf(spread(300));
    const [cdf] = polylinePoints(renderLatencySvg({ title: 't', kind: 'cdf', series: [{ label: 's', histogram }] }));
    const [tail] = polylinePoints(renderLatencySvg({ title: 't', kind: 'tail', series: [{ label: 's', histogram }] }));
    // SVG y grows downwards: rising means decreasing y.
    expect(cdf.every(([, y], i) => i === 0 || y <= cdf[i - 1][1])).toBe(true);
    expect(cdf.every(([x], i) => i === 0 || x >= cdf[i - 1][0])).toBe(true);
    expect(cdf[cdf.length - 1][1]).toBeLessThan(cdf[0][1]);
    expect(tail.every(([, y], i) => i === 0 || y >= tail[i - 1][1])).toBe(true);
  });
});
