// journeys.js - the Journeys page (admin, analyst): how customers move
// through the stages and touchpoints, computed from their real events.
//   - a filter bar: from, to and the customer fields the journey views'
//     `where` takes (country, gender, age_band, nps_category), kept in the
//     URL with the selected touchpoint and the views' choices (links shown,
//     ranked by, measure; left out when they are the default):
//     /?page=journeys&from=..&to=..&country=..&touchpoint=..&outcome=churn
//   - the stage funnel: GET /v1/journeys/funnel (bars, or the table)
//   - the touchpoint flow as a Sankey: GET /v1/journeys/flows?top=N; ECharts
//     draws no cycle, so the chart leaves out the weakest links that close
//     one (the table lists every link and says which)
//   - drop-offs: GET /v1/journeys/dropoffs (bars by last touchpoint and channel)
//   - the friction ranking: GET /v1/journeys/friction?outcome=.. (a table
//     whose touchpoints are buttons: choosing one selects it)
//   - a touchpoint x stage heatmap: GET /v1/metrics?metric=csat|responses|
//     sentiment&by=touchpoint,stage
//   - the selected touchpoint's detail: GET /v1/metrics?metric=nps|csat
//     (and csat by month) and GET /v1/text/themes, with where = the
//     touchpoint and the filters; for roles that may read comments (admin)
//     a link to them on the Feedback page. Analysts get aggregates only.
// filters.js builds a `where` with channel/touchpoint/stage, which the
// journey views refuse, so this page keeps its own small URL <-> where code.

import { get } from './api.js';
import { panel, table, tableBox, trendOption } from './charts.js';
import { el, failure, template } from './dom.js';
import { count, int, margin, none, num, pct, signed } from './format.js';

export const ROLES = ['admin', 'analyst'];
const COMMENTS = ['admin', 'agent'];   // GET /v1/feedback (comment text is personal)
const CUSTOMER = ['country', 'gender', 'age_band', 'nps_category'];
const KEYS = ['from', 'to', ...CUSTOMER, 'touchpoint'];
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const AGE_BANDS = ['18-24', '25-34', '35-44', '45-54', '55-64', '65+'];
const NPS_CATS = ['promoter', 'passive', 'detractor'];
const LABELS = { country: 'country', gender: 'gender', age_band: 'age band', nps_category: 'latest NPS answer' };
const OUTCOMES = {
  detractor: 'detractors', negative_sentiment: 'negative comments',
  high_effort: 'high effort', churn: 'churn',
};
const MEASURES = {
  csat: { label: 'CSAT %', fmt: (v) => pct(v), short: (v) => num(v, 0) },
  responses: { label: 'Responses', fmt: (v) => int(v), short: (v) => int(v) },
  sentiment: { label: 'Sentiment', fmt: (v) => signed(v, 2), short: (v) => signed(v, 2) },
};

// How the views are shown (the selects beside them): their values, the
// first the default, which the URL leaves out.
const VIEW = {
  top: { id: 'j-top', values: ['20', '10', '40'] },
  outcome: { id: 'j-outcome', values: Object.keys(OUTCOMES) },
  measure: { id: 'j-measure', values: Object.keys(MEASURES) },
};

// ---- state <-> URL <-> where ------------------------------------------------

export function fromUrl(search = location.search) {
  const q = new URLSearchParams(search);
  const f = {};
  for (const k of KEYS) {
    const v = (q.get(k) || '').trim();
    if (v && ((k !== 'from' && k !== 'to') || DATE.test(v))) f[k] = v;
  }
  for (const [k, s] of Object.entries(VIEW)) {
    const v = q.get(k);
    if (v && v !== s.values[0] && s.values.includes(v)) f[k] = v;
  }
  return f;
}

function toSearch(f) {
  const q = new URLSearchParams({ page: 'journeys' });
  for (const k of [...KEYS, ...Object.keys(VIEW)]) if (f[k]) q.set(k, f[k]);
  return `?${q}`;
}

// The view selects as f says (their defaults when f leaves them out).
function showView(main, f) {
  for (const [k, s] of Object.entries(VIEW)) main.querySelector(`#${s.id}`).value = f[k] || s.values[0];
}

const quote = (s) => `'${String(s).replace(/'/g, "''")}'`;

// The journey views' where: customer fields only.
export function where(f) {
  return CUSTOMER.filter((k) => f[k]).map((k) => `${k} = ${quote(f[k])}`).join(' and ');
}

// One touchpoint's where for /v1/metrics and /v1/text/themes.
export function touchWhere(f, tp) {
  return [`touchpoint = ${quote(tp)}`, where(f)].filter(Boolean).join(' and ');
}

const params = (f) => ({ from: f.from, to: f.to, where: where(f) });

function describe(f) {
  const bits = [];
  if (f.from || f.to) bits.push(`${f.from || 'the start'} to ${f.to || 'the latest data'}`);
  for (const k of CUSTOMER) if (f[k]) bits.push(`${LABELS[k]} ${f[k]}`);
  return bits.length ? bits.join(', ') : 'all data';
}

function showForm(form, f) {
  for (const k of ['from', 'to', ...CUSTOMER]) {
    const c = form.elements[k];
    const v = f[k] || '';
    if (c.tagName === 'SELECT' && v && ![...c.options].some((o) => o.value === v)) c.append(new Option(v, v));
    c.value = v;
  }
}

function readForm(form, touchpoint) {
  const f = {};
  for (const k of ['from', 'to', ...CUSTOMER]) {
    const v = form.elements[k].value;
    if (v) f[k] = v;
  }
  if (touchpoint) f.touchpoint = touchpoint;
  return f;
}

function fill(select, values) {
  const v = select.value;
  select.replaceChildren(select.options[0], ...values.map((x) => new Option(x, x)));
  if (v && !values.includes(v)) select.append(new Option(v, v));
  select.value = v;
}

// Countries and genders of the customers (GET /v1/dimensions); age bands
// and NPS categories are fixed lists.
async function loadChoices(form) {
  fill(form.elements.age_band, AGE_BANDS);
  fill(form.elements.nps_category, NPS_CATS);
  const d = await get('/v1/dimensions');
  fill(form.elements.country, d.country || []);
  fill(form.elements.gender, d.gender || []);
}

// ---- chart option builders ------------------------------------------------------

const axisText = (t) => ({ color: t.fg, fontSize: t.font });
const tip = (t, extra) => Object.assign({ backgroundColor: t.bg, borderColor: t.fg, textStyle: { color: t.fg } }, extra);

// Vertical bars, one series per entry of series: [{name, values}].
function barsOption(labels, series) {
  return (t) => ({
    grid: { left: 8, right: 16, top: 16, bottom: Math.round(t.font * 4.5), containLabel: true },
    legend: { bottom: 0, textStyle: axisText(t) },
    tooltip: tip(t, { trigger: 'axis' }),
    xAxis: { type: 'category', data: labels, axisLabel: Object.assign({ interval: 0, rotate: 30 }, axisText(t)),
      axisLine: { lineStyle: { color: t.muted } } },
    yAxis: { type: 'value', minInterval: 1, axisLabel: axisText(t), splitLine: { lineStyle: { color: t.grid } } },
    series: series.map((s, i) => ({
      name: s.name, type: 'bar', data: s.values, color: i ? t.line : t.bar,
      itemStyle: i ? { decal: { symbol: 'rect', dashArrayX: [1, 0], dashArrayY: [3, 3], color: t.bg } } : {},
    })),
  });
}

// Horizontal bars, biggest first at the top.
function hbarOption(name, labels, values) {
  return (t) => ({
    grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
    tooltip: tip(t, { trigger: 'axis' }),
    yAxis: { type: 'category', inverse: true, data: labels, axisLabel: axisText(t),
      axisLine: { lineStyle: { color: t.muted } } },
    xAxis: { type: 'value', minInterval: 1, axisLabel: axisText(t), splitLine: { lineStyle: { color: t.grid } } },
    series: [{ name, type: 'bar', data: values, color: t.bar }],
  });
}

// Left to right; on a narrow screen top to bottom, so the labels fit.
function sankeyOption(nodes, links, box) {
  return (t) => {
    const narrow = box.clientWidth < t.font * 40;
    return {
      tooltip: tip(t, { trigger: 'item' }),
      series: [{
        type: 'sankey', orient: narrow ? 'vertical' : 'horizontal',
        left: 8, right: Math.round(t.font * (narrow ? 1 : 7)), top: 8, bottom: narrow ? t.font * 2 : 8,
        nodeAlign: 'left', nodeGap: narrow ? 4 : 10, draggable: false,
        emphasis: { focus: 'adjacency' }, labelLayout: { hideOverlap: narrow },
        data: nodes.map((n) => ({ name: n })),
        links: links.map((l) => ({ source: l.from, target: l.to, value: l.count })),
        itemStyle: { color: t.bar, borderColor: t.fg, borderWidth: 1 },
        lineStyle: { color: 'source', opacity: 0.35 },
        label: Object.assign({ color: t.fg, fontSize: t.font },
          narrow ? { position: 'inside', textBorderColor: t.bg, textBorderWidth: 3 } : {}),
      }],
    };
  };
}

function heatOption(xs, ys, cells, m) {
  return (t) => {
    const vals = cells.map((c) => c[2]);
    const lo = vals.length ? Math.min(...vals) : 0;
    const hi = vals.length ? Math.max(...vals) : 1;
    const dark = document.documentElement.classList.contains('high-contrast');
    return {
      grid: { left: 8, right: 16, top: 8, bottom: Math.round(t.font * 5), containLabel: true },
      tooltip: tip(t, { trigger: 'item', formatter: (p) => `${ys[p.value[1]]} at ${xs[p.value[0]]}<br>${m.label} ${m.fmt(p.value[2])} (${count(p.value[3])})` }),
      xAxis: { type: 'category', data: xs, axisLabel: Object.assign({ interval: 0, rotate: 30 }, axisText(t)) },
      yAxis: { type: 'category', data: ys, axisLabel: axisText(t) },
      visualMap: {
        dimension: 2, min: lo, max: hi === lo ? lo + 1 : hi, calculable: false, orient: 'horizontal',
        left: 'center', bottom: 0, itemHeight: 120, textStyle: axisText(t),
        text: [m.short(hi), m.short(lo)],
        inRange: { color: dark ? ['#1e1e1e', '#2f6f85'] : ['#eef3fb', '#6f9be0'] },
      },
      series: [{
        type: 'heatmap', data: cells,
        label: { show: true, color: t.fg, fontSize: t.font, formatter: (p) => m.short(p.value[2]) },
        itemStyle: { borderColor: t.bg, borderWidth: 1 },
      }],
    };
  };
}

// ---- the sections ---------------------------------------------------------------

const hours = (v) => num(v, 2);

function funnelSpec(doc) {
  const rows = doc.rows;
  const first = rows[0];
  const last = rows[rows.length - 1];
  return {
    caption: `Stage funnel (${int(doc.episodes)} journeys)`,
    description: rows.length
      ? `Stage funnel of ${int(doc.episodes)} journeys: ${rows.map((r) => `${r.stage} reached by ${int(r.reached)}` +
        `${r.next ? `, ${pct(r.conversion)} go on to ${r.next}` : ''}`).join('; ')}. ` +
        `${int(first.reached_or_beyond)} reached ${first.stage} or beyond, ${int(last.reached_or_beyond)} ${last.stage}.`
      : 'Stage funnel: no journeys for these filters.',
    rows,
    option: barsOption(rows.map((r) => r.stage), [
      { name: 'Reached', values: rows.map((r) => r.reached) },
      { name: 'Reached or beyond', values: rows.map((r) => r.reached_or_beyond) },
    ]),
    columns: [
      { label: 'Stage', text: true, get: (r) => r.stage },
      { label: 'Reached', get: (r) => int(r.reached) },
      { label: 'Reached or beyond', get: (r) => int(r.reached_or_beyond) },
      { label: 'Next stage', text: true, get: (r) => r.next || none },
      { label: 'Converted', get: (r) => (r.next ? int(r.converted) : none) },
      { label: 'Conversion', get: (r) => (r.next ? pct(r.conversion) : none) },
      { label: 'Median hours', get: (r) => (r.next ? hours(r.median_hours) : none) },
      { label: '90th percentile hours', get: (r) => (r.next ? hours(r.p90_hours) : none) },
    ],
  };
}

// The links ECharts can draw: strongest first, leaving out each link that
// would close a cycle with those kept. Returns {kept, dropped}.
export function acyclic(links) {
  const out = new Map();
  const reaches = (a, b) => {   // a path a -> ... -> b among the kept links?
    const seen = new Set([a]);
    const stack = [a];
    while (stack.length) {
      const x = stack.pop();
      if (x === b) return true;
      for (const y of out.get(x) || []) if (!seen.has(y)) { seen.add(y); stack.push(y); }
    }
    return false;
  };
  const kept = [];
  const dropped = [];
  for (const l of [...links].sort((a, b) => b.count - a.count)) {
    if (l.from === l.to || reaches(l.to, l.from)) dropped.push(l);
    else {
      kept.push(l);
      if (!out.has(l.from)) out.set(l.from, []);
      out.get(l.from).push(l.to);
    }
  }
  return { kept, dropped };
}

function flowSpec(doc, box) {
  const { kept, dropped } = acyclic(doc.links);
  const gone = new Set(dropped);
  const nodes = [...new Set(kept.flatMap((l) => [l.from, l.to]))];
  const top = kept.slice(0, 5).map((l) => `${l.from} to ${l.to} ${int(l.count)}`).join('; ');
  const other = doc.other && doc.other.links
    ? ` ${int(doc.other.links)} smaller links (${int(doc.other.count)} moves) are not shown.` : '';
  const left = dropped.length
    ? ` Left out of the chart because they close a loop: ${dropped.map((l) => `${l.from} to ${l.to} (${int(l.count)})`).join(', ')}; the table lists them.`
    : '';
  return {
    caption: `Touchpoint flow: the ${doc.links.length} most frequent links`,
    description: doc.links.length
      ? `Touchpoint flow of ${int(doc.episodes)} journeys, ${doc.links.length} links. Strongest: ${top}.${left}${other}`
      : 'Touchpoint flow: no moves between touchpoints for these filters.',
    note: `${left.trim()}${other}`.trim(),
    rows: doc.links,
    option: sankeyOption(nodes, kept, box),
    columns: [
      { label: 'From', text: true, get: (r) => r.from },
      { label: 'To', text: true, get: (r) => r.to },
      { label: 'Moves', get: (r) => int(r.count) },
      { label: 'Share of the source’s moves', get: (r) => pct(r.share) },
      { label: 'In the chart', text: true, get: (r) => (gone.has(r) ? 'no, closes a loop' : 'yes') },
    ],
  };
}

const dropLabel = (r) => `${r.last_touchpoint || 'no touchpoint'} · ${r.channel || 'no channel'}`;

function dropSpec(doc) {
  const rows = doc.rows;
  const shown = rows.slice(0, 10);
  return {
    caption: `Drop-offs: ${int(doc.abandoned)} journeys ended without a purchase`,
    description: rows.length
      ? `${int(doc.abandoned)} of ${int(doc.episodes)} journeys ended without a purchase. Most ended at ` +
        `${shown.slice(0, 5).map((r) => `${dropLabel(r)} ${int(r.count)} (${pct(r.share)})`).join('; ')}.`
      : 'Drop-offs: no journey ended without a purchase for these filters.',
    rows,
    option: hbarOption('Journeys ended here', shown.map(dropLabel), shown.map((r) => r.count)),
    columns: [
      { label: 'Last touchpoint', text: true, get: (r) => r.last_touchpoint || none },
      { label: 'Channel', text: true, get: (r) => r.channel || none },
      { label: 'Journeys', get: (r) => int(r.count) },
      { label: 'Share of drop-offs', get: (r) => pct(r.share) },
    ],
  };
}

function verdict(o) {
  if (o.lift === null || o.lift_low === null) return 'no data';
  if (o.lift_low > 0) return 'higher';
  if (o.lift_high < 0) return 'lower';
  return 'cannot tell';
}

function frictionTable(doc, selected, onPick) {
  const k = doc.ranked_by;
  const t = table(`Touchpoints ranked by the lift in ${OUTCOMES[k] || k}`, [
    { label: 'Touchpoint', text: true, get: (r) => r.touchpoint },
    { label: 'Journeys with it', get: (r) => int(r[k].n_with) },
    { label: 'Rate with', get: (r) => pct(r[k].rate_with) },
    { label: 'Rate without', get: (r) => pct(r[k].rate_without) },
    { label: 'Lift (points)', get: (r) => signed(r[k].lift) },
    { label: '95% interval', get: (r) => (r[k].lift_low === null ? none : `${num(r[k].lift_low)} to ${num(r[k].lift_high)}`) },
    { label: 'With it, the rate is', text: true, get: (r) => verdict(r[k]) },
  ], doc.rows);
  t.id = 'friction-table';
  [...t.tBodies[0].rows].forEach((tr, i) => {
    const tp = doc.rows[i].touchpoint;
    const b = el('button', 'secondary j-tp', tp);
    b.type = 'button';
    b.dataset.touchpoint = tp;
    b.setAttribute('aria-pressed', String(tp === selected));
    if (tp === selected) tr.className = 'selected';
    b.addEventListener('click', () => onPick(tp));
    tr.cells[0].replaceChildren(b);
  });
  return t;
}

function heatSpec(doc, measure, stageOrder) {
  const m = MEASURES[measure];
  const all = doc.rows;
  const rows = all.filter((r) => r.touchpoint !== null && r.stage !== null && r.value !== null);
  const stages = [...new Set(rows.map((r) => r.stage))]
    .sort((a, b) => (stageOrder.indexOf(a) + 1 || 99) - (stageOrder.indexOf(b) + 1 || 99) || a.localeCompare(b));
  const tps = [...new Set(rows.map((r) => r.touchpoint))].sort();
  const cells = rows.map((r) => [stages.indexOf(r.stage), tps.indexOf(r.touchpoint), r.value, r.n]);
  const left = all.length - rows.length;
  const best = rows.reduce((a, b) => (!a || b.value > a.value ? b : a), null);
  const worst = rows.reduce((a, b) => (!a || b.value < a.value ? b : a), null);
  return {
    caption: `${m.label} by touchpoint and stage`,
    description: rows.length
      ? `${m.label} by touchpoint and stage, ${rows.length} cells. Highest ${m.fmt(best.value)} at ` +
        `${best.touchpoint}, ${best.stage} (${count(best.n)}); lowest ${m.fmt(worst.value)} at ${worst.touchpoint}, ${worst.stage} (${count(worst.n)}).`
      : `${m.label} by touchpoint and stage: no answers for these filters.`,
    note: left ? `${left} group${left === 1 ? '' : 's'} of answers without a touchpoint or a stage ${left === 1 ? 'is' : 'are'} left out.` : '',
    rows,
    touchpoints: tps,
    option: heatOption(stages, tps, cells, m),
    columns: [
      { label: 'Touchpoint', text: true, get: (r) => r.touchpoint },
      { label: 'Stage', text: true, get: (r) => r.stage },
      { label: m.label, get: (r) => m.fmt(r.value) },
      { label: 'Margin (95%)', get: (r) => (r.margin === undefined ? none : margin(r.margin, measure === 'sentiment' ? 2 : 1)) },
      { label: 'Answers (n)', get: (r) => int(r.n) },
    ],
  };
}

function showTile(li, row, fmt) {
  li.querySelector('.value').textContent = row && row.value !== null ? fmt(row.value) : none;
  li.querySelector('.margin').textContent = row && row.value !== null ? margin(row.margin) : '';
  li.querySelector('.n').textContent = row ? count(row.n) : 'no answers';
}

function themesTable(doc, tp) {
  const rows = doc.rows.slice(0, 6);
  if (!rows.length) return el('p', '', 'No themed comments at this touchpoint for these filters.');
  const t = table(`Top themes at ${tp}, by pain`, [
    { label: 'Theme', text: true, get: (r) => r.theme_name || r.theme },
    { label: 'Pain', get: (r) => num(r.value) },
    { label: 'Mentions', get: (r) => int(r.n) },
    { label: 'Negative %', get: (r) => `${pct(r.negative_pct)} ${margin(r.negative_pct_margin)}` },
    { label: 'Mean sentiment', get: (r) => signed(r.sentiment, 2) },
  ], rows);
  t.id = 'tp-themes-table';
  const wrap = el('div', 'table-wrap');
  tableBox(wrap, t);
  return wrap;
}

// ---- the page ----------------------------------------------------------------

export async function mount(main, role) {
  main.replaceChildren(await template('journeys'));
  document.title = 'Journeys · cxm';
  const $ = (s) => main.querySelector(s);
  const form = $('#j-filters');
  const status = $('#status');
  const panels = {
    funnel: panel($('#p-funnel')), flow: panel($('#p-flow')), drop: panel($('#p-drop')),
    heat: panel($('#p-heat')), trend: panel($('#p-tp-trend')),
  };
  const detail = $('#j-detail');
  let f = fromUrl();
  let seq = 0;
  let dseq = 0;
  let stageOrder = [];
  let friction = null;
  let heatTps = [];
  let gone = false;

  const fail = (box, e) => box.replaceChildren(failure(e));
  const pick = (tp) => select(tp, true, true);

  // Clicking a Sankey node or a heatmap cell selects its touchpoint too (the
  // keyboard way is the friction table's buttons).
  const bound = new WeakSet();
  function onChartClick(sel, fn) {
    const c = window.echarts && window.echarts.getInstanceByDom($(sel));
    if (!c || bound.has(c)) return;
    bound.add(c);
    c.on('click', fn);
  }

  async function loadFunnel(mine) {
    const d = await get('/v1/journeys/funnel', params(f));
    if (mine !== seq) return null;
    stageOrder = d.rows.map((r) => r.stage);
    panels.funnel.update(funnelSpec(d));
    return d;
  }

  async function loadFlow() {
    const mine = seq;
    const note = $('#flow-note');
    try {
      const d = await get('/v1/journeys/flows', Object.assign({ top: $('#j-top').value }, params(f)));
      if (mine !== seq) return;
      const s = flowSpec(d, $('#p-flow .chart'));
      panels.flow.update(s);
      note.textContent = `Each band is the number of moves from one touchpoint to the next within a journey (repeats of the same touchpoint are not counted). ${s.note}`;
      onChartClick('#p-flow .chart', (p) => { if (p.dataType === 'node') pick(p.name); });
    } catch (e) {
      if (mine === seq) note.textContent = `The flow could not be loaded: ${e.message}`;
    }
  }

  async function loadDrop() {
    const mine = seq;
    try {
      const d = await get('/v1/journeys/dropoffs', params(f));
      if (mine !== seq) return;
      panels.drop.update(dropSpec(d));
      $('#drop-note').textContent = `Journeys that ended without a purchase, by their last touchpoint and channel: ${int(d.abandoned)} of ${int(d.episodes)}. The chart shows the first 10; the table all ${d.rows.length}.`;
    } catch (e) {
      if (mine === seq) $('#drop-note').textContent = `The drop-offs could not be loaded: ${e.message}`;
    }
  }

  function showFriction() {
    const box = $('#p-friction .content');
    if (!friction.rows.length) {
      box.replaceChildren(el('p', '', 'No touchpoints in the journeys for these filters.'));
      return;
    }
    const wrap = el('div', 'table-wrap');
    tableBox(wrap, frictionTable(friction, f.touchpoint, pick));
    box.replaceChildren(wrap);
  }

  async function loadFriction() {
    const mine = seq;
    const box = $('#p-friction .content');
    try {
      const d = await get('/v1/journeys/friction', Object.assign({ outcome: $('#j-outcome').value }, params(f)));
      if (mine !== seq) return;
      friction = d;
      showFriction();
      const r = d.resolution;
      $('#resolution').textContent = r && r.journeys
        ? `Support journeys (with a complaint or ticket): ${int(r.journeys)}, resolved in ${hours(r.median_hours)} hours at the median, ` +
          `${hours(r.p90_hours)} at the 90th percentile (mean ${hours(r.mean_hours)}).`
        : '';
    } catch (e) {
      if (mine === seq) fail(box, e);
    }
  }

  async function loadHeat(funnelDone) {
    const mine = seq;
    const measure = $('#j-measure').value;
    const note = $('#heat-note');
    try {
      const [d] = await Promise.all([
        get('/v1/metrics', Object.assign({ metric: measure, by: 'touchpoint,stage' }, params(f))),
        funnelDone,
      ]);
      if (mine !== seq) return;
      const s = heatSpec(d, measure, stageOrder);
      panels.heat.update(s);
      note.textContent = `Every answer by the touchpoint and stage it was given at; the number in each cell is the value. ${s.note}`.trim();
      heatTps = s.touchpoints;
      onChartClick('#p-heat .chart', (p) => { if (p.value) pick(heatTps[p.value[1]]); });
    } catch (e) {
      if (mine === seq) note.textContent = `The heatmap could not be loaded: ${e.message}`;
    }
  }

  async function render() {
    const mine = ++seq;
    status.textContent = 'Loading…';
    const funnel = loadFunnel(mine).catch((e) => e);
    const [d] = await Promise.all([funnel, loadFlow(), loadDrop(), loadFriction(), loadHeat(funnel)]);
    if (mine !== seq) return;
    if (d instanceof Error) {
      status.textContent = `The funnel could not be loaded: ${d.message}`;
    } else if (d) {
      status.textContent = `Showing ${describe(f)}: ${int(d.episodes)} journeys, ${int(d.events)} events.`;
    }
  }

  // ---- the selected touchpoint ----

  async function showDetail(focus) {
    const tp = f.touchpoint;
    const mine = ++dseq;
    if (!tp) {
      detail.hidden = true;
      return;
    }
    detail.hidden = false;
    $('#h-detail').textContent = `Touchpoint: ${tp}`;
    if (focus) $('#h-detail').focus();
    const themes = $('#tp-themes');
    themes.replaceChildren(el('p', 'status', 'Loading…'));
    const link = $('#tp-comments');
    if (COMMENTS.includes(role)) {
      const q = new URLSearchParams({ page: 'feedback', touchpoint: tp });
      if (f.from) q.set('from', f.from);
      if (f.to) q.set('to', f.to);
      const a = el('a', '', 'Read its comments');
      a.id = 'tp-comments-link';
      a.href = `/?${q}`;
      link.replaceChildren(a, ` on the Feedback page (${f.from || f.to ? 'this period' : 'all time'}; the customer filters do not apply there).`);
    } else {
      link.replaceChildren(el('span', 'help', `Comments are personal data: the ${role} role sees aggregates only.`));
    }
    const p = { from: f.from, to: f.to, where: touchWhere(f, tp) };
    const got = await Promise.allSettled([
      get('/v1/metrics', Object.assign({ metric: 'nps' }, p)),
      get('/v1/metrics', Object.assign({ metric: 'csat' }, p)),
      get('/v1/metrics', Object.assign({ metric: 'csat', by: 'month' }, p)),
      get('/v1/text/themes', p),
    ]);
    if (mine !== dseq || gone) return;
    const [nps, csat, trend, th] = got.map((x) => (x.status === 'fulfilled' ? x.value : null));
    showTile($('#jt-nps'), nps && nps.rows[0], (v) => num(v));
    showTile($('#jt-csat'), csat && csat.rows[0], (v) => pct(v));
    if (trend) {
      const rows = trend.rows;
      const seen = rows.filter((r) => r.value !== null);
      const last = seen[seen.length - 1];
      panels.trend.update({
        caption: `CSAT by month at ${tp}`,
        description: last
          ? `CSAT by month at ${tp}, ${rows[0].month} to ${rows[rows.length - 1].month}; latest ${last.month} ${pct(last.value)} ${margin(last.margin)}, ${count(last.n)}.`
          : `CSAT by month at ${tp}: no answers for these filters.`,
        rows,
        option: trendOption('CSAT %', rows, {
          lo: 0, hi: 100,
          tooltip: (r) => `${r.month}<br>CSAT ${pct(r.value)} ${margin(r.margin)} (${count(r.n)})`,
        }),
        columns: [
          { label: 'Month', get: (r) => r.month },
          { label: 'CSAT %', get: (r) => pct(r.value) },
          { label: 'Margin (95%)', get: (r) => margin(r.margin) },
          { label: 'Answers (n)', get: (r) => int(r.n) },
          { label: 'Significant change', get: (r) => (r.significant ? 'yes' : 'no') },
        ],
      });
    }
    if (th) themes.replaceChildren(themesTable(th, tp));
    else fail(themes, got[3].reason);
    const bad = got.find((x) => x.status === 'rejected');
    if (bad && th) themes.prepend(failure(bad.reason));
  }

  function select(tp, push, focus) {
    f = Object.assign({}, f, { touchpoint: tp || undefined });
    if (!tp) delete f.touchpoint;
    if (push) history.pushState(null, '', `/${toSearch(f)}`);
    if (friction) showFriction();
    showDetail(focus);
  }

  // ---- wiring ----

  const apply = () => {
    const view = Object.fromEntries(Object.keys(VIEW).filter((k) => f[k]).map((k) => [k, f[k]]));
    f = Object.assign(readForm(form, f.touchpoint), view);
    history.pushState(null, '', `/${toSearch(f)}`);
    render();
    showDetail(false);
  };
  form.addEventListener('change', apply);
  form.addEventListener('submit', (e) => e.preventDefault());
  form.addEventListener('reset', (e) => {
    e.preventDefault();
    showForm(form, {});
    apply();
  });
  // A view select: the URL keeps the choice, and that panel reloads.
  const onView = (k, load) => $(`#${VIEW[k].id}`).addEventListener('change', (e) => {
    f = Object.assign({}, f, { [k]: e.target.value });
    if (f[k] === VIEW[k].values[0]) delete f[k];
    history.pushState(null, '', `/${toSearch(f)}`);
    load();
  });
  onView('top', () => loadFlow());
  onView('outcome', () => loadFriction());
  onView('measure', () => loadHeat(Promise.resolve()));
  $('#j-close').addEventListener('click', () => {
    const tp = f.touchpoint;
    select(null, true, false);
    const b = main.querySelector(`#friction-table button[data-touchpoint="${CSS.escape(tp || '')}"]`);
    (b || $('#h-friction')).focus();
  });
  $('#h-friction').tabIndex = -1;

  showForm(form, f);
  showView(main, f);
  loadChoices(form)
    .then(() => showForm(form, f))
    .catch((e) => { status.textContent = `The filter choices could not be loaded: ${e.message}`; });
  render();
  showDetail(false);

  return {
    redraw() { for (const k of ['funnel', 'flow', 'drop', 'heat', 'trend']) panels[k].redraw(); },
    unmount() {
      seq++;
      dseq++;
      gone = true;
      for (const k of ['funnel', 'flow', 'drop', 'heat', 'trend']) panels[k].dispose();
    },
    pop() {
      f = fromUrl();
      showForm(form, f);
      showView(main, f);
      render();
      showDetail(false);
    },
  };
}
