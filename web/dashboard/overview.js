// overview.js - the Overview page: filter bar, KPI tiles, NPS and CSAT
// trends with margin bands, response volume, top pain points and revenue
// at risk. Each number comes from the API as it answers it; the page only
// formats. Routes the role may not use are not called (an analyst sees no
// personal data, an agent no aggregates).

import { get } from './api.js';
import { barOption, panel, table, tableBox, trendOption } from './charts.js';
import { el, failure, template } from './dom.js';
import * as filters from './filters.js';
import { count, int, margin, none, num, pct, signed } from './format.js';

const METRICS = ['admin', 'analyst'];   // /v1/metrics, /v1/text/themes, /v1/churn/drivers
const PERSONAL = ['admin', 'agent'];    // /v1/churn/at-risk (names)

// ---- KPI tiles -------------------------------------------------------------

const TILES = {
  nps: (r) => [num(r.value), margin(r.margin)],
  csat: (r) => [pct(r.value), margin(r.margin)],
  ces: (r) => [num(r.value, 2), margin(r.margin, 2)],
  sentiment: (r) => [signed(r.value, 2), margin(r.margin, 2)],
};

function showTile(root, name, doc) {
  const li = root.querySelector(`#kpi-${name}`);
  const row = doc && doc.rows && doc.rows[0];
  const [value, m] = row && row.value !== null ? TILES[name](row) : [none, ''];
  li.querySelector('.value').textContent = value;
  li.querySelector('.margin').textContent = m;
  li.querySelector('.n').textContent = row ? count(row.n) : 'no answers';
}

// ---- trends ----------------------------------------------------------------

// A text alternative of a monthly series: span, latest, extremes and the
// significant changes.
function describeTrend(title, rows, fmt) {
  const seen = rows.filter((r) => r.value !== null);
  if (!seen.length) return `${title}: no answers for these filters.`;
  const last = seen[seen.length - 1];
  const hi = seen.reduce((a, b) => (b.value > a.value ? b : a));
  const lo = seen.reduce((a, b) => (b.value < a.value ? b : a));
  const sig = rows.filter((r) => r.significant);
  return `${title}, ${rows[0].month} to ${rows[rows.length - 1].month}. ` +
    `Latest ${last.month}: ${fmt(last.value)} ${margin(last.margin)}, ${count(last.n)}. ` +
    `Highest ${fmt(hi.value)} in ${hi.month}; lowest ${fmt(lo.value)} in ${lo.month}. ` +
    (sig.length ? `Significant changes: ${sig.map((r) => `${r.month} ${signed(r.change)}`).join(', ')}.`
      : 'No significant change from one month to the next.');
}

function trendSpec(title, label, doc, fmt, range) {
  const rows = doc.rows;
  const tip = (r) => `${r.month}<br>${label} ${fmt(r.value)} ${margin(r.margin)} (${count(r.n)})` +
    (r.change === null ? '' : `<br>change ${signed(r.change)}${r.significant ? ', significant' : ''}`);
  return {
    description: describeTrend(title, rows, fmt),
    caption: title,
    rows,
    option: trendOption(label, rows, Object.assign({ tooltip: tip }, range)),
    columns: [
      { label: 'Month', get: (r) => r.month },
      { label, get: (r) => fmt(r.value) },
      { label: 'Margin (95%)', get: (r) => margin(r.margin) },
      { label: 'Answers (n)', get: (r) => int(r.n) },
      { label: 'Change', get: (r) => (r.change === null ? none : signed(r.change)) },
      { label: 'Significant', get: (r) => (r.significant ? 'yes' : 'no') },
    ],
  };
}

function volumeSpec(doc) {
  const rows = doc.rows;
  const total = rows.reduce((s, r) => s + r.n, 0);
  const top = rows.reduce((a, b) => (!a || b.n > a.n ? b : a), null);
  const description = rows.length
    ? `Responses by month, ${rows[0].month} to ${rows[rows.length - 1].month}: ` +
      `${int(total)} in all; most ${int(top.n)} in ${top.month}; ` +
      `latest ${int(rows[rows.length - 1].n)} in ${rows[rows.length - 1].month}.`
    : 'Responses by month: none for these filters.';
  return {
    description,
    caption: 'Responses by month',
    rows,
    option: barOption('Responses', rows.map((r) => r.month), rows.map((r) => r.n)),
    columns: [
      { label: 'Month', get: (r) => r.month },
      { label: 'Responses', get: (r) => int(r.n) },
    ],
  };
}

// ---- pain points and revenue at risk ---------------------------------------

function showPain(box, doc, what) {
  const rows = doc.rows.slice(0, 8);
  if (!rows.length) {
    box.replaceChildren(el('p', '', 'No themed comments for these filters.'));
    return;
  }
  const t = table(`Top pain points, ${what}`, [
    { label: 'Theme', text: true, get: (r) => r.theme_name || r.theme },
    { label: 'Pain', get: (r) => num(r.value) },
    { label: 'Mentions', get: (r) => int(r.n) },
    { label: 'Negative', get: (r) => int(r.negative) },
    { label: 'Negative %', get: (r) => `${pct(r.negative_pct)} ${margin(r.negative_pct_margin)}` },
    { label: 'Mean sentiment', get: (r) => signed(r.sentiment, 2) },
  ], rows);
  const wrap = el('div', 'table-wrap');
  tableBox(wrap, t);
  box.replaceChildren(wrap);
}

function showRisk(box, drivers, atRisk, role) {
  const parts = [];
  if (drivers) {
    parts.push(el('p', 'big', num(drivers.value_at_risk, 0)));
    parts.push(el('p', '', `Value at risk over the next ${num(drivers.horizon, 0)} ` +
      `${drivers.unit}s, as of ${drivers.as_of}: ${pct(100 * drivers.at_risk_share)} of ` +
      `${int(drivers.customers)} customers with orders are likely lost (P(alive) below ` +
      `${num(drivers.at_risk_threshold, 1)}). In the orders' currency.`));
  }
  if (atRisk) {
    if (!drivers) {
      parts.push(el('p', 'big', num(atRisk.value_at_risk, 0)));
      parts.push(el('p', '', `Value at risk of the ${int(atRisk.matched)} customers likely ` +
        `lost, as of ${atRisk.as_of}.`));
    }
    const rows = atRisk.rows.slice(0, 5);
    if (rows.length) {
      const t = table('The 5 customers with the most value at risk', [
        { label: 'Customer', text: true, get: (r) => r.name || `#${r.customer}` },
        { label: 'Value at risk', get: (r) => num(r.value_at_risk, 0) },
        { label: 'P(alive)', get: (r) => num(r.p_alive, 2) },
        { label: 'Last purchase', get: (r) => r.last_purchase },
        { label: 'Last NPS', get: (r) => (r.last_nps ? String(r.last_nps.score) : none) },
        { label: 'Spent so far', get: (r) => num(r.clv_historic, 0) },
      ], rows);
      const wrap = el('div', 'table-wrap');
      tableBox(wrap, t);
      parts.push(wrap);
    }
  } else if (!PERSONAL.includes(role)) {
    parts.push(el('p', 'help', `Customer names are not shown to the ${role} role: aggregates only.`));
  }
  box.replaceChildren(...parts);
}

// ---- the page ----------------------------------------------------------------

// Renders the page into main for a session of role. Returns {redraw(),
// unmount()}: redraw after a display mode changes the colours or sizes.
export const ROLES = null;

export async function mount(main, role) {
  main.replaceChildren(await template('overview'));
  document.title = 'Overview · cxm';
  const form = main.querySelector('#filters');
  const status = main.querySelector('#status');
  const panels = {
    nps: panel(main.querySelector('#p-nps')),
    csat: panel(main.querySelector('#p-csat')),
    volume: panel(main.querySelector('#p-volume')),
  };
  const canMetrics = METRICS.includes(role);
  const canPersonal = PERSONAL.includes(role);
  let seq = 0;
  let riskLoaded = false;

  if (!canMetrics) {
    for (const s of main.querySelectorAll('#filters, section:not(#p-risk)')) s.hidden = true;
    status.textContent = canPersonal
      ? `The ${role} role does not see aggregate metrics: sign in with an analyst or admin key for them.`
      : `The ${role} role can only send data: sign in with another key to use the dashboard.`;
    if (!canPersonal) main.querySelector('#p-risk').hidden = true;
  }

  async function loadRisk() {
    if (riskLoaded || (!canMetrics && !canPersonal)) return;
    riskLoaded = true;
    const box = main.querySelector('#p-risk .content');
    const [d, a] = await Promise.allSettled([
      canMetrics ? get('/v1/churn/drivers') : null,
      canPersonal ? get('/v1/churn/at-risk', { limit: 5 }) : null,
    ]);
    if (d.status === 'rejected' || a.status === 'rejected') {
      box.replaceChildren(failure(d.reason || a.reason));
      return;
    }
    showRisk(box, d.value, a.value, role);
  }

  async function render(f) {
    const mine = ++seq;
    loadRisk();
    if (!canMetrics) return;
    status.textContent = 'Loading…';
    const p = filters.params(f);
    const m = (metric, by) => get('/v1/metrics', Object.assign({ metric, by }, p));
    const names = ['nps', 'csat', 'ces', 'sentiment', 'npsT', 'csatT', 'volume', 'pain'];
    const got = await Promise.allSettled([m('nps'), m('csat'), m('ces'), m('sentiment'),
      m('nps', 'month'), m('csat', 'month'), m('responses', 'month'), get('/v1/text/themes', p)]);
    if (mine !== seq) return;   // a newer render started meanwhile
    const r = {};
    names.forEach((n, i) => { r[n] = got[i]; });
    const bad = got.find((x) => x.status === 'rejected');
    const what = filters.describe(f, form);
    for (const k of ['nps', 'csat', 'ces', 'sentiment']) {
      showTile(main, k, r[k].status === 'fulfilled' ? r[k].value : null);
    }
    if (r.npsT.status === 'fulfilled') {
      panels.nps.update(trendSpec('NPS by month', 'NPS', r.npsT.value, (v) => num(v),
        { lo: -100, hi: 100 }));
    }
    if (r.csatT.status === 'fulfilled') {
      panels.csat.update(trendSpec('CSAT by month', 'CSAT %', r.csatT.value, (v) => pct(v),
        { lo: 0, hi: 100 }));
    }
    if (r.volume.status === 'fulfilled') panels.volume.update(volumeSpec(r.volume.value));
    const pain = main.querySelector('#p-pain .content');
    if (r.pain.status === 'fulfilled') showPain(pain, r.pain.value, what);
    else pain.replaceChildren(failure(r.pain.reason));
    const nps = r.nps.status === 'fulfilled' ? r.nps.value.rows[0] : null;
    status.textContent = bad ? `Some figures could not be loaded: ${bad.reason.message}`
      : `Showing ${what}: ${int(nps ? nps.n : 0)} NPS answers.`;
  }

  const apply = (f, push) => {
    if (push) history.pushState(null, '', `/${filters.toSearch(f)}`);
    render(f);
  };
  const onChange = () => apply(filters.read(form), true);
  const onReset = (e) => {
    e.preventDefault();
    filters.show(form, {});
    apply({}, true);
  };
  const onPop = () => {
    const f = filters.fromUrl();
    filters.show(form, f);
    render(f);
  };
  form.addEventListener('change', onChange);
  form.addEventListener('reset', onReset);
  form.addEventListener('submit', (e) => e.preventDefault());

  const start = filters.fromUrl();
  filters.show(form, start);
  if (canMetrics) {
    filters.loadChoices(form)
      .then(() => filters.show(form, filters.fromUrl()))
      .catch((e) => { status.textContent = `The filter choices could not be loaded: ${e.message}`; });
  }
  render(start);

  return {
    redraw() { for (const p of Object.values(panels)) p.redraw(); },
    pop: onPop,
    unmount() {
      seq++;
      for (const p of Object.values(panels)) p.dispose();
    },
  };
}
