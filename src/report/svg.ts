/**
 * Small, dependency-free SVG charts for experiment reports: line charts, grouped bar charts and
 * histograms with overlaid curves. Output is a standalone SVG document (renders in any browser
 * or converter offline). Axes get "nice" ticks (1, 2, 5 x 10^k).
 */

export interface Series {
  name: string;
  /** [x, y] points, drawn in order; NaN y values break the line. */
  points: [number, number][];
  /** Dashed line (e.g. a fitted curve). */
  dashed?: boolean;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Fixed y range (default: the data's, padded). */
  yRange?: [number, number];
  width?: number;
  height?: number;
}

export interface BarChartOptions {
  title: string;
  yLabel: string;
  /** Category labels along x (e.g. layer names). */
  categories: string[];
  /** One value per category per group (null: no bar). */
  groups: { name: string; values: (number | null)[] }[];
  /** A horizontal reference line (e.g. 1.0 = no speed-up). */
  reference?: number;
  width?: number;
  height?: number;
}

export interface HistogramOptions {
  title: string;
  xLabel: string;
  /** Bin edges (length = counts.length + 1) and densities per bin. */
  edges: number[];
  density: number[];
  /** Curves drawn over the bars (same x units; y as a density). */
  curves: Series[];
  width?: number;
  height?: number;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** Color of series i (cycles through a 10-color palette). */
export function color(i: number): string {
  return COLORS[i % COLORS.length];
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Ticks at 1, 2 or 5 x 10^k covering [lo, hi] (about `n` of them). */
export function niceTicks(lo: number, hi: number, n = 6): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(1);
  return String(Number(v.toPrecision(4)));
}

interface Frame {
  w: number;
  h: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
  x: (v: number) => number;
  y: (v: number) => number;
}

function frame(w: number, h: number, xr: [number, number], yr: [number, number], legendRows: number): Frame {
  const left = 70, right = w - 20, top = 40, bottom = h - 50 - 16 * Math.ceil(legendRows / 2); // room for a 2-column legend
  const sx = (right - left) / (xr[1] - xr[0] || 1);
  const sy = (bottom - top) / (yr[1] - yr[0] || 1);
  return { w, h, left, right, top, bottom, x: (v) => left + (v - xr[0]) * sx, y: (v) => bottom - (v - yr[0]) * sy };
}

function axes(f: Frame, xTicks: { v: number; label: string }[], yTicks: number[], title: string, xLabel: string, yLabel: string): string[] {
  const o: string[] = [];
  o.push(`<text x="${f.w / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`);
  for (const t of yTicks) {
    const y = f.y(t).toFixed(1);
    o.push(`<line x1="${f.left}" x2="${f.right}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`);
    o.push(`<text x="${f.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" font-size="11">${fmt(t)}</text>`);
  }
  for (const t of xTicks) {
    const x = f.x(t.v).toFixed(1);
    o.push(`<line x1="${x}" x2="${x}" y1="${f.bottom}" y2="${f.bottom + 4}" stroke="#333"/>`);
    o.push(`<text x="${x}" y="${f.bottom + 16}" text-anchor="middle" font-size="11">${esc(t.label)}</text>`);
  }
  o.push(`<rect x="${f.left}" y="${f.top}" width="${f.right - f.left}" height="${f.bottom - f.top}" fill="none" stroke="#333"/>`);
  o.push(`<text x="${(f.left + f.right) / 2}" y="${f.bottom + 34}" text-anchor="middle" font-size="12">${esc(xLabel)}</text>`);
  o.push(`<text transform="translate(16 ${(f.top + f.bottom) / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(yLabel)}</text>`);
  return o;
}

function legend(f: Frame, items: { name: string; color: string; dashed?: boolean; box?: boolean }[]): string[] {
  const o: string[] = [];
  // As many columns (at most 3) as the longest label leaves room for (~6.5 px a character).
  const longest = Math.max(...items.map((it) => it.name.length));
  const cols = Math.max(1, Math.min(3, Math.floor((f.right - f.left) / (longest * 6.5 + 30))));
  const colW = (f.right - f.left) / cols;
  items.forEach((it, i) => {
    const x = f.left + (i % cols) * colW;
    const y = f.bottom + 50 + 16 * Math.floor(i / cols);
    o.push(
      it.box
        ? `<rect x="${x}" y="${y - 8}" width="18" height="10" fill="${it.color}"/>`
        : `<line x1="${x}" x2="${x + 18}" y1="${y - 3}" y2="${y - 3}" stroke="${it.color}" stroke-width="2.5"${it.dashed ? ' stroke-dasharray="5 3"' : ''}/>`,
    );
    o.push(`<text x="${x + 24}" y="${y}" font-size="11">${esc(it.name)}</text>`);
  });
  return o;
}

function doc(w: number, h: number, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${w}" height="${h}" fill="white"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

function range(vals: number[], pad = 0.05): [number, number] {
  const f = vals.filter(Number.isFinite);
  if (f.length === 0) return [0, 1];
  let lo = Math.min(...f), hi = Math.max(...f);
  if (lo === hi) [lo, hi] = [lo - 0.5, hi + 0.5];
  const p = (hi - lo) * pad;
  return [lo - p, hi + p];
}

function path(f: Frame, pts: [number, number][]): string {
  let d = '';
  let pen = false;
  for (const [x, y] of pts) {
    if (!Number.isFinite(y)) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${f.x(x).toFixed(1)} ${f.y(y).toFixed(1)}`;
    pen = true;
  }
  return d;
}

/** A line chart of several series. */
export function lineChart(o: LineChartOptions): string {
  const w = o.width ?? 720, h = o.height ?? 420;
  const xs = o.series.flatMap((s) => s.points.map((p) => p[0]));
  const xr = range(xs, 0);
  const yr = o.yRange ?? range(o.series.flatMap((s) => s.points.map((p) => p[1])));
  const f = frame(w, h, xr, yr, o.series.length);
  // Integer x data (epochs) gets integer ticks only.
  let xt = niceTicks(xr[0], xr[1]);
  if (xs.every(Number.isInteger)) xt = xt.filter(Number.isInteger);
  const body = axes(f, xt.map((v) => ({ v, label: fmt(v) })), niceTicks(yr[0], yr[1]), o.title, o.xLabel, o.yLabel);
  o.series.forEach((s, i) => {
    body.push(`<path d="${path(f, s.points)}" fill="none" stroke="${color(i)}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    if (s.points.length <= 40) {
      for (const [x, y] of s.points) if (Number.isFinite(y)) body.push(`<circle cx="${f.x(x).toFixed(1)}" cy="${f.y(y).toFixed(1)}" r="2.5" fill="${color(i)}"/>`);
    }
  });
  body.push(...legend(f, o.series.map((s, i) => ({ name: s.name, color: color(i), dashed: s.dashed }))));
  return doc(w, h, body);
}

/** Grouped bars: one group of bars per category. */
export function barChart(o: BarChartOptions): string {
  // Extra room on the right: the last category's label is drawn rotated, running past its bar.
  const labelRoom = 8 * Math.max(0, ...o.categories.map((c) => c.length));
  const w = o.width ?? Math.max(720, 60 + o.categories.length * (14 * o.groups.length + 12)) + labelRoom, h = o.height ?? 460;
  const vals = o.groups.flatMap((g) => g.values.filter((v): v is number => v !== null));
  const hi = Math.max(...vals, o.reference ?? 0, 0) * 1.08 || 1;
  const f = { ...frame(w - labelRoom, h - 40, [0, o.categories.length], [0, hi], o.groups.length), w };
  const body = axes(f, [], niceTicks(0, hi), o.title, '', o.yLabel);
  const slot = (f.right - f.left) / o.categories.length;
  const bw = Math.min(36, (slot * 0.8) / Math.max(1, o.groups.length));
  const pad = (slot - bw * o.groups.length) / 2;
  o.categories.forEach((c, ci) => {
    o.groups.forEach((g, gi) => {
      const v = g.values[ci];
      if (v === null || !Number.isFinite(v)) return;
      const x = f.left + ci * slot + pad + gi * bw;
      body.push(`<rect x="${x.toFixed(1)}" y="${f.y(v).toFixed(1)}" width="${bw.toFixed(1)}" height="${(f.bottom - f.y(v)).toFixed(1)}" fill="${color(gi)}"/>`);
    });
    const cx = f.left + (ci + 0.5) * slot;
    body.push(`<text transform="translate(${cx.toFixed(1)} ${f.bottom + 8}) rotate(40)" font-size="10">${esc(c)}</text>`);
  });
  if (o.reference !== undefined) {
    const y = f.y(o.reference).toFixed(1);
    body.push(`<line x1="${f.left}" x2="${f.right}" y1="${y}" y2="${y}" stroke="#333" stroke-dasharray="6 4"/>`);
  }
  const lf = { ...f, bottom: f.bottom + 40 };
  body.push(...legend(lf, o.groups.map((g, i) => ({ name: g.name, color: color(i), box: true }))));
  return doc(w, h, body);
}

/** A histogram (bars as densities) with curves over it. */
export function histogram(o: HistogramOptions): string {
  const w = o.width ?? 720, h = o.height ?? 420;
  const xr: [number, number] = [o.edges[0], o.edges[o.edges.length - 1]];
  const hi = Math.max(...o.density, ...o.curves.flatMap((c) => c.points.map((p) => p[1])).filter(Number.isFinite)) * 1.08 || 1;
  const f = frame(w, h, xr, [0, hi], o.curves.length + 1);
  const body = axes(f, niceTicks(xr[0], xr[1]).map((v) => ({ v, label: fmt(v) })), niceTicks(0, hi), o.title, o.xLabel, 'density');
  o.density.forEach((d, i) => {
    const x0 = f.x(o.edges[i]), x1 = f.x(o.edges[i + 1]);
    body.push(`<rect x="${x0.toFixed(1)}" y="${f.y(d).toFixed(1)}" width="${Math.max(0.5, x1 - x0).toFixed(1)}" height="${(f.bottom - f.y(d)).toFixed(1)}" fill="#9ecae1" stroke="#6baed6" stroke-width="0.3"/>`);
  });
  o.curves.forEach((c, i) => {
    body.push(`<path d="${path(f, c.points)}" fill="none" stroke="${color(i + 1)}" stroke-width="2"${c.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
  });
  body.push(...legend(f, [{ name: 'measured', color: '#9ecae1', box: true }, ...o.curves.map((c, i) => ({ name: c.name, color: color(i + 1), dashed: c.dashed }))]));
  return doc(w, h, body);
}
