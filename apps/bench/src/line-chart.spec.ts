import { isWellFormedXml } from './testing/xml';
import { escapeXml, lineChartSvg } from './line-chart';

describe('lineChartSvg', () => {
  const svg = lineChartSvg({
    title: 'accuracy <per> round & more',
    xLabel: 'round',
    yLabel: 'accuracy',
    series: [
      { name: 'fedavg', points: [{ x: 1, y: 0.6 }, { x: 2, y: 0.7 }, { x: 3, y: 0.72 }] },
      { name: 'personalized', points: [{ x: 1, y: 0.62 }, { x: 2, y: 0.71 }, { x: 3, y: 0.74 }] },
    ],
    references: [{ name: 'local', y: 0.65 }],
  });

  it('is a well-formed SVG document with one polyline per series and a dashed line per reference', () => {
    expect(isWellFormedXml(svg)).toBe(true);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg.match(/stroke-dasharray/g)).toHaveLength(2);
    expect(svg).toContain('accuracy &lt;per&gt; round &amp; more');
  });

  it('draws on a log axis and with a single point without dividing by zero', () => {
    const log = lineChartSvg({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 'a', points: [{ x: 50, y: 0.7 }, { x: 1600, y: 0.8 }] }], xScale: 'log' });
    const single = lineChartSvg({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 'a', points: [{ x: 1, y: 0.5 }] }] });
    for (const text of [log, single]) {
      expect(isWellFormedXml(text)).toBe(true);
      expect(text).not.toMatch(/NaN|Infinity/);
    }
  });

  it('escapes XML text', () => {
    expect(escapeXml('a<b>&"c"')).toBe('a&lt;b&gt;&amp;&quot;c&quot;');
  });
});

describe('isWellFormedXml', () => {
  it('rejects unclosed tags, stray ampersands and two roots', () => {
    expect(isWellFormedXml('<svg><g></svg>')).toBe(false);
    expect(isWellFormedXml('<svg><text>a & b</text></svg>')).toBe(false);
    expect(isWellFormedXml('<svg/><svg/>')).toBe(false);
    expect(isWellFormedXml('<svg><line x="1"/></svg>')).toBe(true);
  });
});
