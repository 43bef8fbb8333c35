import { type Cell, type Row, toTable } from './tabular.js';

// ?format=svg: a plain chart of the response (docs/metrics.md "Formats"), so a script or an email can
// show a picture without a frontend. The table is tabular.ts's wide form:
//   - a series (one row per bucket): one line per measure over the periods;
//   - other lists (campaigns, sources, stages…): grouped bars per row, labelled by its name;
//   - a single figure (win rate, kpis…): one bar per measure.
// At most MAX_MEASURES measures are drawn (the first numeric columns). Text is XML-escaped; text holding
// right-to-left script carries direction="rtl" and unicode-bidi="embed", so an Arabic label is laid
// out right to left even inside a left-to-right chart.

const WIDTH = 820;
const HEIGHT = 440;
const PLOT = { left: 80, right: 20, top: 60, bottom: 110 };
const MAX_MEASURES = 6;
const MAX_SINGLE_BARS = 24;
const COLOURS = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2'];
const LABEL_COLUMNS = ['period', 'name', 'source', 'segment', 'key', 'currency', 'status', 'priority'];
const NUMERIC = /^-?\d+(\.\d+)?$/;
/** Hebrew, Arabic, Syriac, Thaana, NKo and the Arabic presentation forms */
const RTL = /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]/;

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

function text(x: number, y: number, content: string, attrs = ''): string {
  const bidi = RTL.test(content) ? ' direction="rtl" unicode-bidi="embed"' : '';
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}"${attrs ? ` ${attrs}` : ''}${bidi}>${escapeXml(content)}</text>`;
}

const valueOf = (c: Cell | undefined): number | null =>
  typeof c === 'number' ? c : typeof c === 'string' && NUMERIC.test(c) ? Number(c) : null;

function measuresOf(columns: string[], rows: Row[], label: string | undefined): string[] {
  return columns.filter((c) => c !== label && c !== 'position' && !/(^|\.)(id|\w+Id)$/.test(c)
    && rows.every((r) => r.get(c) === undefined || r.get(c) === null || valueOf(r.get(c)) !== null)
    && rows.some((r) => valueOf(r.get(c)) !== null));
}

const fmt = (v: number) => (Math.abs(v) >= 1000 || Number.isInteger(v) ? String(Math.round(v * 100) / 100) : String(Number(v.toPrecision(3))));

/** The chart as an SVG document; `title` names the figure. */
export function toSvg(response: unknown, title: string): string {
  const body = response as { series?: unknown };
  const { columns, rows } = toTable(response, 'wide');
  const label = LABEL_COLUMNS.find((c) => columns.includes(c));
  let measures = measuresOf(columns, rows, label);
  let categories: string[];
  let values: (number | null)[][]; // [measure][category]
  const single = rows.length === 1;
  if (single) {
    measures = measures.slice(0, MAX_SINGLE_BARS);
    categories = measures;
    values = [measures.map((m) => valueOf(rows[0]?.get(m)))];
  } else {
    measures = measures.slice(0, MAX_MEASURES);
    categories = rows.map((r, i) => (label && r.get(label) !== undefined ? String(r.get(label) ?? 'none') : String(i + 1)));
    values = measures.map((m) => rows.map((r) => valueOf(r.get(m))));
  }
  const line = !single && Array.isArray(body.series);
  const all = values.flat().filter((v): v is number => v !== null);
  const lo = Math.min(0, ...all);
  const hi = all.length && Math.max(0, ...all) > lo ? Math.max(0, ...all) : lo + 1;
  const plotW = WIDTH - PLOT.left - PLOT.right;
  const plotH = HEIGHT - PLOT.top - PLOT.bottom;
  const y = (v: number) => PLOT.top + plotH - ((v - lo) / (hi - lo)) * plotH;
  const slot = plotW / Math.max(1, categories.length);
  const xMid = (i: number) => PLOT.left + slot * (i + 0.5);

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" font-family="sans-serif" font-size="12">`);
  out.push(`<title>${escapeXml(title)}</title>`, '<rect width="100%" height="100%" fill="#ffffff"/>');
  out.push(text(WIDTH / 2, 22, title, 'text-anchor="middle" font-size="15" font-weight="bold" class="title"'));
  // y axis: five ticks with grid lines, and its title
  for (let i = 0; i <= 4; i++) {
    const v = lo + ((hi - lo) * i) / 4;
    out.push(`<line x1="${PLOT.left}" x2="${WIDTH - PLOT.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e5e7eb"/>`);
    out.push(text(PLOT.left - 6, y(v) + 4, fmt(v), 'text-anchor="end" class="y-tick"'));
  }
  const yTitle = measures.length === 1 && !single ? (measures[0] as string) : 'value';
  out.push(text(16, PLOT.top + plotH / 2, yTitle, `text-anchor="middle" transform="rotate(-90 16 ${(PLOT.top + plotH / 2).toFixed(1)})" class="y-title"`));
  out.push(`<line x1="${PLOT.left}" x2="${PLOT.left}" y1="${PLOT.top}" y2="${PLOT.top + plotH}" stroke="#111827"/>`);
  out.push(`<line x1="${PLOT.left}" x2="${WIDTH - PLOT.right}" y1="${y(0).toFixed(1)}" y2="${y(0).toFixed(1)}" stroke="#111827"/>`);
  // x axis: one label per category (turned when they would crowd), and its title
  const turn = categories.length > 8;
  categories.forEach((c, i) => {
    const at = PLOT.top + plotH + 16;
    out.push(text(xMid(i), at, c, turn ? `text-anchor="end" transform="rotate(-40 ${xMid(i).toFixed(1)} ${at})" class="x-tick"` : 'text-anchor="middle" class="x-tick"'));
  });
  out.push(text(PLOT.left + plotW / 2, HEIGHT - 8, single ? 'figure' : (label ?? 'row'), 'text-anchor="middle" class="x-title"'));

  if (!all.length) out.push(text(PLOT.left + plotW / 2, PLOT.top + plotH / 2, 'no data', 'text-anchor="middle" class="no-data"'));
  values.forEach((series, m) => {
    const colour = COLOURS[m % COLOURS.length] as string;
    if (line) {
      const points = series.map((v, i) => (v === null ? null : `${xMid(i).toFixed(1)},${y(v).toFixed(1)}`)).filter((p) => p !== null);
      if (points.length) out.push(`<polyline class="series" data-measure="${escapeXml(measures[m] as string)}" fill="none" stroke="${colour}" stroke-width="2" points="${points.join(' ')}"/>`);
    } else {
      const barW = (slot * 0.8) / values.length;
      series.forEach((v, i) => {
        if (v === null) return;
        const x = PLOT.left + slot * i + slot * 0.1 + barW * m;
        out.push(`<rect class="bar" data-measure="${escapeXml(single ? categories[i] as string : measures[m] as string)}" data-value="${v}" x="${x.toFixed(1)}" y="${Math.min(y(v), y(0)).toFixed(1)}" width="${barW.toFixed(1)}" height="${Math.abs(y(0) - y(v)).toFixed(1)}" fill="${colour}"/>`);
      });
    }
    // legend: one entry per measure drawn (a single figure's bars are labelled on the axis)
    if (!single) {
      const lx = PLOT.left + m * 125;
      out.push(`<rect x="${lx}" y="36" width="10" height="10" fill="${colour}"/>`, text(lx + 14, 45, measures[m] as string, 'class="legend"'));
    }
  });
  out.push('</svg>');
  return out.join('\n');
}
