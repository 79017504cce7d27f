// charts.js - a chart panel: an ECharts chart with an aria description and
// a "Show as table" button that shows the same numbers as an accessible
// table; and the option builders of the dashboard's chart kinds. Colours and
// font sizes come from the page's CSS, so both display modes apply.

import { none } from './format.js';

const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

function theme() {
  const base = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
  return {
    fg: css('--fg'), muted: css('--muted'), grid: css('--chart-grid'),
    line: css('--chart-line'), band: css('--chart-band'), mark: css('--chart-mark'),
    bar: css('--chart-bar'), bg: css('--bg'), font: Math.round(base * 0.8),
  };
}

// A <table> with a caption, column headers and the first cell of each row
// as its row header. columns: [{label, get(row) -> text or a Node, text:
// bool}]; rowAttrs(tr, row), if given, decorates each row.
export function table(caption, columns, rows, rowAttrs) {
  const t = document.createElement('table');
  t.createCaption().textContent = caption;
  const head = t.createTHead().insertRow();
  for (const c of columns) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = c.label;
    if (c.text) th.className = 'text';
    head.append(th);
  }
  const body = t.createTBody();
  for (const r of rows) appendRow(body, columns, r, rowAttrs);
  return t;
}

// Adds row r to a table body made by table(): the same columns and rowAttrs.
export function appendRow(body, columns, r, rowAttrs) {
  const tr = body.insertRow();
  columns.forEach((c, i) => {
    const cell = document.createElement(i === 0 ? 'th' : 'td');
    if (i === 0) cell.scope = 'row';
    if (c.text) cell.className = 'text';
    const v = c.get(r);
    if (v instanceof Node) cell.append(v);
    else cell.textContent = v === null || v === undefined || v === '' ? none : String(v);
    tr.append(cell);
  });
  if (rowAttrs) rowAttrs(tr, r);
  return tr;
}

// A table in a scrolling box that keyboard users can reach.
export function tableBox(box, tbl) {
  box.replaceChildren(tbl);
  box.tabIndex = 0;
  box.setAttribute('role', 'region');
  box.setAttribute('aria-label', tbl.caption ? tbl.caption.textContent : 'Table');
}

// Wires one <section> of the page: .chart, .table-wrap, button.as-table.
// Returns {update(spec), redraw(), dispose()}; spec is {option(theme),
// description, caption, columns, rows}.
export function panel(section) {
  const el = section.querySelector('.chart');
  const box = section.querySelector('.table-wrap');
  const btn = section.querySelector('.as-table');
  let chart = null;
  let spec = null;
  let asTable = false;

  const draw = () => {
    if (!spec || asTable || !window.echarts) return;
    if (!chart) chart = window.echarts.init(el, null, { renderer: 'canvas' });
    const t = theme();
    const opt = spec.option(t);
    opt.aria = { enabled: true, label: { description: spec.description } };
    opt.textStyle = Object.assign({ color: t.fg, fontSize: t.font }, opt.textStyle);
    opt.animation = false;
    chart.setOption(opt, true);
    chart.resize();
  };
  const showTable = () => {
    if (!spec) return;
    tableBox(box, table(spec.caption, spec.columns, spec.rows));
  };

  btn.addEventListener('click', () => {
    asTable = !asTable;
    btn.textContent = asTable ? 'Show as chart' : 'Show as table';
    el.hidden = asTable;
    box.hidden = !asTable;
    if (asTable) showTable();
    else draw();
  });
  const ro = new ResizeObserver(() => { if (chart && !asTable) chart.resize(); });
  ro.observe(el);

  return {
    update(s) {
      spec = s;
      el.setAttribute('aria-label', s.description);
      if (asTable) showTable();
      else draw();
    },
    redraw: draw,
    dispose() {
      ro.disconnect();
      if (chart) chart.dispose();
      chart = null;
    },
  };
}

// ---- option builders ------------------------------------------------------

const axisText = (t) => ({ color: t.fg, fontSize: t.font });

function axes(t, labels, yAxis) {
  return {
    grid: { left: 8, right: 16, top: 16, bottom: Math.round(t.font * 4.5), containLabel: true },
    xAxis: {
      type: 'category', data: labels,
      axisLabel: axisText(t), axisLine: { lineStyle: { color: t.muted } },
    },
    yAxis: Object.assign({
      type: 'value', axisLabel: axisText(t),
      splitLine: { lineStyle: { color: t.grid } },
    }, yAxis),
  };
}

// The value axis over the bands, in round steps (at most 6) within [lo, hi]
// (ECharts' own would pass -100 for NPS or crowd a label at the edge).
function niceRange(low, band, lo, hi) {
  const tops = low.map((v, i) => (v === null ? null : v + band[i])).filter((v) => v !== null);
  const bottoms = low.filter((v) => v !== null);
  if (!tops.length) return { min: lo, max: hi };
  const dmin = Math.min(...bottoms);
  const dmax = Math.max(...tops);
  const step = [5, 10, 20, 25, 50].find((s) =>
    (Math.ceil(dmax / s) - Math.floor(dmin / s)) <= 6) || 50;
  let min = Math.floor(dmin / step) * step;
  let max = Math.ceil(dmax / step) * step;
  if (max === min) {             // one flat value
    if (max + step <= hi) max += step;
    else min -= step;
  }
  return { min: Math.max(lo, min), max: Math.min(hi, max), interval: step };
}

// A monthly line with its margin band (a stacked area from value - margin
// to value + margin, clamped to [lo, hi]) and diamonds on the months whose
// change from the month before is significant. rows: /v1/metrics rows with
// month, value, margin, n, change, significant.
export function trendOption(name, rows, { lo, hi, digits = 1, tooltip }) {
  return (t) => {
    const clamp = (v) => Math.min(hi, Math.max(lo, v));
    const r = (v) => (Number.isFinite(v) ? Number(v.toFixed(digits)) : null);
    const low = rows.map((x) => (x.value === null ? null : r(clamp(x.value - (x.margin || 0)))));
    const band = rows.map((x, i) => (x.value === null ? null
      : r(clamp(x.value + (x.margin || 0)) - low[i])));
    const o = axes(t, rows.map((x) => x.month), niceRange(low, band, lo, hi));
    o.legend = { bottom: 0, textStyle: axisText(t), data: [name, '95% margin', 'Significant change'] };
    o.tooltip = {
      trigger: 'axis',
      formatter: (ps) => tooltip(rows[ps[0].dataIndex]),
      backgroundColor: t.bg, borderColor: t.fg, textStyle: { color: t.fg },
    };
    o.series = [
      { name: 'lower', type: 'line', data: low, stack: 'band', stackStrategy: 'all',
        symbol: 'none', lineStyle: { opacity: 0 }, silent: true },
      { name: '95% margin', type: 'line', data: band, stack: 'band', stackStrategy: 'all',
        symbol: 'none', lineStyle: { opacity: 0 }, areaStyle: { color: t.band }, color: t.band,
        silent: true },
      { name, type: 'line', data: rows.map((x) => r(x.value)), color: t.line,
        symbol: 'circle', symbolSize: 6, lineStyle: { width: 2.5 } },
      { name: 'Significant change', type: 'scatter', color: t.mark, symbol: 'diamond',
        symbolSize: 16, z: 5, data: rows.map((x) => (x.significant ? r(x.value) : null)) },
    ];
    return o;
  };
}

export function barOption(name, labels, values) {
  return (t) => {
    const o = axes(t, labels, { minInterval: 1 });
    o.tooltip = { trigger: 'axis', backgroundColor: t.bg, borderColor: t.fg, textStyle: { color: t.fg } };
    o.series = [{ name, type: 'bar', data: values, color: t.bar }];
    return o;
  };
}
