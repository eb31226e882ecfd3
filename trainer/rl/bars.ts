/**
 * Grouped bar charts with error bars as standalone SVG, for the ablation figure: one group per metric, one
 * bar per method, each bar a mean with its 95% interval.
 *
 * @module
 */

import { escapeXml, niceTicks, PALETTE } from "./svg.ts";

/** One bar: a value and its interval (null: no interval to draw). */
export interface Bar {
  value: number;
  interval: [number, number] | null;
}

/** One group of bars sharing a label (a metric), one bar per series name, null where a series has no value. */
export interface BarGroup {
  label: string;
  bars: (Bar | null)[];
}

/** A bar chart: series names (legend, bar colours) and groups on one y axis. */
export interface BarChart {
  title: string;
  yLabel: string;
  series: string[];
  groups: BarGroup[];
  yMin?: number;
  yMax?: number;
}

/** Renders a grouped bar chart with error bars. Throws when no bar has a value. */
export function renderBars(chart: BarChart): string {
  const values = chart.groups.flatMap((g) =>
    g.bars.flatMap((b) => (b ? [b.value, ...(b.interval ?? [])] : []))
  ).filter(Number.isFinite);
  if (values.length === 0) throw new Error("renderBars: no bars to draw");
  let yMin = chart.yMin ?? Math.min(0, ...values);
  let yMax = chart.yMax ?? Math.max(...values);
  if (yMax === yMin) yMax = yMin + 1;
  const ticks = niceTicks(yMin, yMax, 5);
  yMin = Math.min(yMin, ticks[0]);
  yMax = Math.max(yMax, ticks[ticks.length - 1]);
  const left = 64, right = 170, top = 40, bottom = 60, ph = 300;
  const groupW = Math.max(60, chart.series.length * 16 + 24);
  const plotW = chart.groups.length * groupW;
  const width = left + plotW + right, height = top + ph + bottom;
  const sy = (y: number) => top + ph - ((Math.min(yMax, Math.max(yMin, y)) - yMin) / (yMax - yMin)) * ph;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    `font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">` +
    `${escapeXml(chart.title)}</text>`,
  ];
  for (const t of ticks) {
    const y = sy(t).toFixed(1);
    out.push(
      `<line x1="${left}" x2="${left + plotW}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`,
      `<text x="${left - 6}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end">${t}</text>`,
    );
  }
  const barW = (groupW - 24) / Math.max(1, chart.series.length);
  chart.groups.forEach((g, gi) => {
    const gx = left + gi * groupW + 12;
    g.bars.forEach((b, si) => {
      if (!b || !Number.isFinite(b.value)) return;
      const color = PALETTE[si % PALETTE.length];
      const x = gx + si * barW;
      const y = sy(Math.max(b.value, yMin)), y0 = sy(Math.max(0, yMin));
      out.push(
        `<rect class="bar" x="${x.toFixed(1)}" y="${Math.min(y, y0).toFixed(1)}" width="${
          (barW - 2).toFixed(1)
        }" ` +
          `height="${Math.abs(y0 - y).toFixed(1)}" fill="${color}"/>`,
      );
      if (b.interval) {
        const cx = (x + (barW - 2) / 2).toFixed(1);
        const [lo, hi] = b.interval.map(sy);
        out.push(
          `<path class="err" d="M${cx},${lo.toFixed(1)} L${cx},${hi.toFixed(1)} M${(x + 1).toFixed(1)},${
            lo.toFixed(1)
          } L${(x + barW - 3).toFixed(1)},${lo.toFixed(1)} M${(x + 1).toFixed(1)},${hi.toFixed(1)} L${
            (x + barW - 3).toFixed(1)
          },${hi.toFixed(1)}" stroke="#222" stroke-width="1.2" fill="none"/>`,
        );
      }
    });
    out.push(
      `<text x="${(gx + (groupW - 24) / 2).toFixed(1)}" y="${top + ph + 18}" text-anchor="middle">` +
        `${escapeXml(g.label)}</text>`,
    );
  });
  out.push(
    `<rect x="${left}" y="${top}" width="${plotW}" height="${ph}" fill="none" stroke="#333"/>`,
    `<text transform="translate(${left - 46},${top + ph / 2}) rotate(-90)" text-anchor="middle">` +
      `${escapeXml(chart.yLabel)}</text>`,
  );
  chart.series.forEach((name, si) => {
    const ly = top + 14 + si * 18;
    out.push(
      `<rect x="${left + plotW + 12}" y="${ly - 10}" width="14" height="10" fill="${
        PALETTE[si % PALETTE.length]
      }"/>`,
      `<text x="${left + plotW + 32}" y="${ly}">${escapeXml(name)}</text>`,
    );
  });
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}
