/**
 * Line charts as standalone SVG (axes, ticks, labels, legend), drawn without any plotting library, for
 * `curve.svg` of a run and the ablation figure.
 *
 * @module
 */

/** One line of a chart. */
export interface Series {
  name: string;
  points: [number, number][];
  color?: string;
  /** Draw a dot on every point (for sparse series such as evaluations). */
  markers?: boolean;
  /** An interval [low, high] per point (same order as `points`), drawn as a vertical error bar. */
  intervals?: [number, number][];
  dashed?: boolean;
}

/** One panel: its own y axis, sharing the x axis label of the chart. */
export interface Panel {
  yLabel: string;
  series: Series[];
  /** Fixed y range; default: the data's range with some margin. */
  yMin?: number;
  yMax?: number;
}

/** A chart of stacked panels. */
export interface Chart {
  title: string;
  xLabel: string;
  panels: Panel[];
  width?: number;
  panelHeight?: number;
}

/** Colours used in order for series without one. */
export const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"];

/** Escapes text for an SVG text node or attribute. */
export function escapeXml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!,
  );
}

/** Round tick values covering [lo, hi] (about `count` of them). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + 1e-9 * step; t += step) {
    ticks.push(Math.abs(t) < step * 1e-9 ? 0 : Number(t.toPrecision(12)));
  }
  return ticks;
}

function fmtTick(t: number): string {
  return Number.isInteger(t) ? String(t) : String(Number(t.toPrecision(4)));
}

/** Renders a chart as an SVG document. Throws if a panel has no points at all. */
export function renderChart(chart: Chart): string {
  const width = chart.width ?? 720;
  const ph = chart.panelHeight ?? 260;
  const left = 64, right = 170, top = 40, gap = 46, bottom = 48;
  const plotW = width - left - right;
  const height = top + chart.panels.length * ph + (chart.panels.length - 1) * gap + bottom;
  const allX = chart.panels.flatMap((p) => p.series.flatMap((s) => s.points.map((q) => q[0])));
  if (allX.length === 0) throw new Error("renderChart: no points to draw");
  let xMin = Math.min(...allX), xMax = Math.max(...allX);
  if (xMax === xMin) xMax = xMin + 1;
  const xTicks = niceTicks(xMin, xMax, 8);
  xMin = Math.min(xMin, xTicks[0]);
  xMax = Math.max(xMax, xTicks[xTicks.length - 1]);
  const sx = (x: number) => left + ((x - xMin) / (xMax - xMin)) * plotW;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    `font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">` +
    `${escapeXml(chart.title)}</text>`,
  ];
  let colorIndex = 0;
  chart.panels.forEach((panel, pi) => {
    const y0 = top + pi * (ph + gap);
    const ys = panel.series.flatMap((s) => s.points.map((q) => q[1]));
    let yMin = panel.yMin ?? (ys.length ? Math.min(...ys) : 0);
    let yMax = panel.yMax ?? (ys.length ? Math.max(...ys) : 1);
    if (yMax === yMin) [yMin, yMax] = [yMin - 0.5, yMax + 0.5];
    const yTicks = niceTicks(yMin, yMax, 5);
    if (panel.yMin === undefined) yMin = Math.min(yMin, yTicks[0]);
    if (panel.yMax === undefined) yMax = Math.max(yMax, yTicks[yTicks.length - 1]);
    const sy = (y: number) => y0 + ph - ((y - yMin) / (yMax - yMin)) * ph;
    out.push(`<g>`);
    for (const t of yTicks) {
      if (t < yMin - 1e-12 || t > yMax + 1e-12) continue;
      out.push(
        `<line x1="${left}" x2="${left + plotW}" y1="${sy(t).toFixed(1)}" y2="${
          sy(t).toFixed(1)
        }" stroke="#e5e5e5"/>`,
        `<text x="${left - 6}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end">${fmtTick(t)}</text>`,
      );
    }
    for (const t of xTicks) {
      out.push(
        `<line x1="${sx(t).toFixed(1)}" x2="${sx(t).toFixed(1)}" y1="${y0 + ph}" y2="${
          y0 + ph + 4
        }" stroke="#333"/>`,
        `<text x="${sx(t).toFixed(1)}" y="${y0 + ph + 17}" text-anchor="middle">${fmtTick(t)}</text>`,
      );
    }
    out.push(
      `<rect x="${left}" y="${y0}" width="${plotW}" height="${ph}" fill="none" stroke="#333"/>`,
      `<text transform="translate(${left - 46},${y0 + ph / 2}) rotate(-90)" text-anchor="middle">` +
        `${escapeXml(panel.yLabel)}</text>`,
    );
    panel.series.forEach((s, si) => {
      const color = s.color ?? PALETTE[colorIndex++ % PALETTE.length];
      const pts = s.points.filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1]));
      if (pts.length > 0) {
        const d = pts.map((p, i) => `${i ? "L" : "M"}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(
          " ",
        );
        out.push(
          `<path d="${d}" fill="none" stroke="${color}" stroke-width="2"` +
            `${s.dashed ? ' stroke-dasharray="6 4"' : ""}/>`,
        );
        for (const [i, p] of s.points.entries()) {
          const iv = s.intervals?.[i];
          if (!iv || !Number.isFinite(p[0]) || !iv.every(Number.isFinite)) continue;
          const x = sx(p[0]).toFixed(1), lo = sy(iv[0]).toFixed(1), hi = sy(iv[1]).toFixed(1);
          out.push(
            `<path class="err" d="M${x},${lo} L${x},${hi} M${(sx(p[0]) - 4).toFixed(1)},${lo} L${
              (sx(p[0]) + 4).toFixed(1)
            },${lo} M${(sx(p[0]) - 4).toFixed(1)},${hi} L${
              (sx(p[0]) + 4).toFixed(1)
            },${hi}" stroke="${color}"/>`,
          );
        }
        if (s.markers || pts.length === 1) {
          for (const p of pts) {
            out.push(
              `<circle cx="${sx(p[0]).toFixed(1)}" cy="${sy(p[1]).toFixed(1)}" r="3" fill="${color}"/>`,
            );
          }
        }
      }
      const ly = y0 + 14 + si * 18;
      out.push(
        `<line x1="${left + plotW + 12}" x2="${left + plotW + 36}" y1="${ly - 4}" y2="${
          ly - 4
        }" stroke="${color}" ` +
          `stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ""}/>`,
        `<text x="${left + plotW + 42}" y="${ly}">${escapeXml(s.name)}</text>`,
      );
    });
    out.push(`</g>`);
  });
  out.push(
    `<text x="${left + plotW / 2}" y="${height - 10}" text-anchor="middle">${escapeXml(chart.xLabel)}</text>`,
    `</svg>`,
  );
  return out.join("\n") + "\n";
}
