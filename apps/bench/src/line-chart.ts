// A small, dependency-free SVG line chart: series of points, optional horizontal reference lines, axes with
// ticks, a legend. Enough for the benchmark plots, which must render in a README on GitHub.

export interface ChartSeries {
  name: string;
  points: Array<{ x: number; y: number }>;
}

export interface ReferenceLine {
  name: string;
  y: number;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: ChartSeries[];
  references?: ReferenceLine[];
  /** 'log' spaces x by its logarithm (budgets such as 50, 200, 1600); default linear. */
  xScale?: 'linear' | 'log';
  /** Label the x ticks at exactly these values (default: the values the series use). */
  xTicks?: number[];
}

const WIDTH = 720;
const HEIGHT = 420;
const MARGIN = { left: 64, right: 190, top: 44, bottom: 52 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf', '#7f7f7f'];

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function niceStep(span: number): number {
  const raw = span / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((step) => step >= raw) ?? 10 * magnitude;
}

export function lineChartSvg(options: LineChartOptions): string {
  const references = options.references ?? [];
  const xs = options.series.flatMap((s) => s.points.map((p) => p.x));
  const ys = [...options.series.flatMap((s) => s.points.map((p) => p.y)), ...references.map((r) => r.y)].filter(Number.isFinite);
  const toX = options.xScale === 'log' ? (x: number) => Math.log10(x) : (x: number) => x;
  const xMin = Math.min(...xs.map(toX));
  const xMax = Math.max(...xs.map(toX));
  const xSpan = xMax - xMin || 1;
  const yStep = niceStep(Math.max(Math.max(...ys) - Math.min(...ys), 0.02));
  const yMin = Math.floor(Math.min(...ys) / yStep) * yStep;
  const yTop = Math.ceil(Math.max(...ys) / yStep) * yStep;
  const yMax = yTop > yMin ? yTop : yMin + yStep;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const px = (x: number) => MARGIN.left + ((toX(x) - xMin) / xSpan) * plotW;
  const py = (y: number) => MARGIN.top + (1 - (y - yMin) / (yMax - yMin)) * plotH;
  const fmt = (v: number) => v.toFixed(1);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`);
  parts.push(`<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15">${escapeXml(options.title)}</text>`);
  for (let y = yMin; y <= yMax + yStep / 1000; y += yStep) {
    parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${fmt(py(y))}" y2="${fmt(py(y))}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${fmt(py(y) + 4)}" text-anchor="end">${y.toFixed(yStep < 0.01 ? 3 : 2)}</text>`);
  }
  const xTicks = options.xTicks ?? [...new Set(xs)].sort((a, b) => a - b);
  const everyNth = Math.max(1, Math.ceil(xTicks.length / 12));
  xTicks.forEach((x, i) => {
    if (i % everyNth !== 0 && i !== xTicks.length - 1) return;
    parts.push(`<text x="${fmt(px(x))}" y="${MARGIN.top + plotH + 18}" text-anchor="middle">${x}</text>`);
  });
  parts.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 12}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
  parts.push(`<text transform="translate(16 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`);
  const legend: string[] = [];
  options.series.forEach((series, i) => {
    const color = COLORS[i % COLORS.length];
    const points = series.points.map((p) => `${fmt(px(p.x))},${fmt(py(p.y))}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${points}"/>`);
    for (const p of series.points) parts.push(`<circle cx="${fmt(px(p.x))}" cy="${fmt(py(p.y))}" r="2.5" fill="${color}"/>`);
    legend.push(legendEntry(legend.length, color, series.name, false));
  });
  references.forEach((reference, i) => {
    const color = COLORS[(options.series.length + i) % COLORS.length];
    parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${fmt(py(reference.y))}" y2="${fmt(py(reference.y))}" stroke="${color}" stroke-width="2" stroke-dasharray="6 4"/>`);
    legend.push(legendEntry(legend.length, color, reference.name, true));
  });
  parts.push(...legend);
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

function legendEntry(index: number, color: string, name: string, dashed: boolean): string {
  const x = WIDTH - MARGIN.right + 14;
  const y = MARGIN.top + 10 + index * 20;
  const dash = dashed ? ' stroke-dasharray="6 4"' : '';
  return `<line x1="${x}" x2="${x + 24}" y1="${y}" y2="${y}" stroke="${color}" stroke-width="2"${dash}/><text x="${x + 30}" y="${y + 4}">${escapeXml(name)}</text>`;
}
