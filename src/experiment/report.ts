/**
 * The experiment's files: results.json / results.csv / results.md, the SVG plots and
 * report.html that shows them (self-contained text files; the plots render offline).
 * Plots: test accuracy per epoch (every run); per-layer density over training (each pruned run
 * of the first seed); one layer's activation-gradient histogram with the normal and lognormal
 * fits; measured per-layer backward speed-up (each pruned run of the first seed).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../train/runlog.js';
import { barChart, histogram, lineChart, type Series } from '../report/svg.js';
import type { GradientFit } from './gradient.js';
import { resultsCsv, resultsMarkdown, type ResultRow } from './results.js';
import type { ExperimentConfig, PlannedRun } from './run.js';

interface EpochRec {
  epoch: number;
  testAccuracy: number;
}

/**
 * Per-epoch, per-layer density records ('prune' lines) of a run's log. A resumed run's log also
 * holds the records of epochs it repeated after its last checkpoint: the last record of each
 * (layer, epoch) wins.
 */
function densityByLayer(run: PlannedRun): Map<string, [number, number][]> {
  const byLayer = new Map<string, Map<number, number>>();
  const text = readFileSync(path.join(run.config.out!, 'log.jsonl'), 'utf8');
  for (const line of text.split('\n')) {
    if (!line.includes('"type":"prune"')) continue;
    const r = JSON.parse(line) as { epoch: number; layer: string; density: number; excluded: boolean; steps: number };
    if (r.excluded || r.steps === 0) continue;
    const epochs = byLayer.get(r.layer) ?? new Map<number, number>();
    epochs.set(r.epoch, r.density);
    byLayer.set(r.layer, epochs);
  }
  return new Map([...byLayer].map(([layer, e]) => [layer, [...e].sort((x, y) => x[0] - y[0])]));
}

function history(run: PlannedRun): EpochRec[] {
  return (JSON.parse(readFileSync(path.join(run.config.out!, 'summary.json'), 'utf8')) as { history: EpochRec[] }).history;
}

const slug = (s: string): string => s.replace(/[^A-Za-z0-9.-]+/g, '_');

/** Writes results.* and report.html (plus its SVGs) into e.out; returns the plot file names. */
export function writeReport(
  e: ExperimentConfig, runs: PlannedRun[], rows: ResultRow[], gradient: { layer: string; run: string; fit: GradientFit } | null,
): string[] {
  const out = e.out;
  writeFileAtomic(path.join(out, 'results.json'), `${JSON.stringify({ experiment: { ...e, base: e.base }, rows }, null, 2)}\n`);
  writeFileAtomic(path.join(out, 'results.csv'), resultsCsv(rows));
  writeFileAtomic(path.join(out, 'results.md'), resultsMarkdown(rows));
  const plots: { file: string; caption: string }[] = [];
  const save = (file: string, svg: string, caption: string): void => {
    writeFileAtomic(path.join(out, file), svg);
    plots.push({ file, caption });
  };

  const accSeries: Series[] = runs.map((r) => ({ name: r.name, points: history(r).map((h): [number, number] => [h.epoch, 100 * h.testAccuracy]) }));
  save('accuracy.svg', lineChart({ title: `Test accuracy, ${e.base.model} on ${e.base.dataset}`, xLabel: 'epoch', yLabel: 'test accuracy (%)', series: accSeries }), 'Test accuracy after every epoch, dense and pruned runs (same seed, schedule and budget).');

  const firstSeed = runs.filter((r) => r.seed === e.base.seed && r.rate > 0);
  for (const r of firstSeed) {
    const byLayer = densityByLayer(r);
    const series = [...byLayer].map(([layer, pts]) => ({ name: layer, points: pts }));
    if (series.length === 0) continue;
    save(`density-${slug(r.name)}.svg`, lineChart({ title: `Per-layer gradient density, ${r.name}`, xLabel: 'epoch', yLabel: 'density (non-zero fraction)', series, yRange: [0, 1], height: 460 + 16 * Math.ceil(series.length / 3) }), `Density of each pruned layer's activation gradient per epoch (${r.name}).`);
  }

  if (gradient !== null) {
    const f = gradient.fit;
    save('gradient-histogram.svg', histogram({
      title: `Activation gradient of ${gradient.layer} (${gradient.run}, final weights, one batch)`,
      xLabel: 'log10 |g|',
      edges: f.edges,
      density: f.density,
      curves: [
        { name: `normal fit (sigma = ${f.sigma.toExponential(2)})`, points: f.normalCurve },
        { name: `lognormal fit (ln|g| ~ N(${f.mu.toFixed(2)}, ${f.s.toFixed(2)}^2))`, points: f.lognormalCurve, dashed: true },
      ],
    }), `Histogram of log10|g| at the output of ${gradient.layer} (${f.count} values, ${f.zeros} exact zeros), with the densities the paper's normal fit and a lognormal fit imply.`);
  }

  const withSpeed = rows.filter((r) => r.seed === e.base.seed && r.rate > 0 && Object.keys(r.perLayerSpeedup).length > 0);
  if (withSpeed.length > 0) {
    const layers = Object.keys(withSpeed[0].perLayerSpeedup);
    save('speedup.svg', barChart({
      title: 'Measured backward speed-up per layer (prune + sparse backward vs dense)',
      yLabel: 'speed-up (x)',
      categories: layers,
      groups: withSpeed.map((r) => ({ name: r.run, values: layers.map((l) => r.perLayerSpeedup[l] ?? null) })),
      reference: 1,
    }), 'Per-layer backward speed-up measured during training (1 = as fast as dense).');
  }

  const html = [
    '<!doctype html>',
    '<html><head><meta charset="utf-8"><title>leantrain experiment</title>',
    '<style>body{font-family:Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}th{background:#f3f3f3}td:first-child{text-align:left}figure{margin:2em 0}img{max-width:100%}</style>',
    '</head><body>',
    `<h1>${e.base.model} on ${e.base.dataset}: dense vs ${e.policy} pruning</h1>`,
    `<p>${e.base.epochs} epochs, batch ${e.base.batchSize}, lr ${e.base.lr} (${e.base.schedule}), ${e.seeds} seed(s) from ${e.base.seed}; rates ${e.rates.join(', ')}. ` +
      'Speed-ups are wall-clock measurements from training (runs one after another on the same machine); the MAC ratio is analytic.</p>',
    htmlTable(rows),
    ...plots.map((p) => `<figure><img src="${p.file}" alt="${p.file}"><figcaption>${p.caption}</figcaption></figure>`),
    '</body></html>',
    '',
  ].join('\n');
  writeFileAtomic(path.join(out, 'report.html'), html);
  return plots.map((p) => p.file);
}

function htmlTable(rows: readonly ResultRow[]): string {
  const md = resultsMarkdown(rows).trim().split('\n');
  const cells = (line: string): string[] => line.split('|').slice(1, -1).map((c) => c.trim());
  const head = cells(md[0]);
  return [
    '<table>',
    `<tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr>`,
    ...md.slice(2).map((l) => `<tr>${cells(l).map((c) => `<td>${c}</td>`).join('')}</tr>`),
    '</table>',
  ].join('\n');
}
