// feedback.js - the Feedback page: a search-and-filter form (search words,
// theme, sentiment, channel, touchpoint, stage, from, to; kept in the URL:
// /?page=feedback&search=late&touchpoint=delivery; customer=ID narrows to
// one customer's comments, as a link may ask), the comments newest
// first with "Load more" (admin, agent: comments are personal data), each
// with a link to its customer and a button that finds the case it opened or
// joined; the themes ranked by pain as a chart or table (admin, analyst)
// whose themes set the theme filter; and the emerging topics (phrases
// rising in the latest week) for every role.
//
// API calls: GET /v1/feedback (comments, cursor pages), GET /v1/text/themes
// (pain points, where = channel/touchpoint/stage), GET /v1/text/emerging,
// GET /v1/text/taxonomy (theme names for the theme filter) and GET
// /v1/dimensions (the channels, touchpoints and stages answers were given
// at: the filter's choices); on demand GET /v1/cases?customer=ID&status=all
// (each case with the records it links). Routes the role may not call are
// not called: an agent sees theme ids, not names (no taxonomy).

import { get } from './api.js';
import { panel, table, tableBox } from './charts.js';
import { el, failure, template } from './dom.js';
import { where as whereOf } from './filters.js';
import { int, margin, none, num, pct, signed, when } from './format.js';

export const ROLES = ['admin', 'analyst', 'agent'];
const COMMENTS = ['admin', 'agent'];   // GET /v1/feedback, /v1/cases
const AGGREGATES = ['admin', 'analyst'];   // /v1/text/themes, /v1/text/taxonomy, /v1/metrics
const KEYS = ['search', 'theme', 'sentiment', 'channel', 'touchpoint', 'stage', 'from', 'to'];
const DIMS = ['channel', 'touchpoint', 'stage'];
const SENTIMENTS = ['positive', 'neutral', 'negative'];
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const PAGE_SIZE = 50;
const KIND = { nps: 'NPS', csat: 'CSAT', ces: 'CES', enps: 'eNPS', rating: 'Rating', text: 'Text' };

// ---- state <-> URL -------------------------------------------------------------

export function fromUrl(search = location.search) {
  const q = new URLSearchParams(search);
  const f = {};
  for (const k of KEYS) {
    const v = (q.get(k) || '').trim();
    if (!v) continue;
    if ((k === 'from' || k === 'to') && !DATE.test(v)) continue;
    if (k === 'sentiment' && !SENTIMENTS.includes(v)) continue;
    f[k] = v;
  }
  const c = (q.get('customer') || '').trim();
  if (/^\d+$/.test(c)) f.customer = c;
  return f;
}

function toSearch(f) {
  const q = new URLSearchParams({ page: 'feedback' });
  for (const k of KEYS) if (f[k]) q.set(k, f[k]);
  if (f.customer) q.set('customer', f.customer);
  return `?${q}`;
}

function read(form) {
  const f = {};
  for (const k of KEYS) {
    const v = form.elements[k].value.trim();
    if (v) f[k] = v;
  }
  return f;
}

// Puts f into the form, adding a select option the URL named that the
// choices lack (so the state shown is the state used).
function show(form, f) {
  for (const k of KEYS) {
    const c = form.elements[k];
    const v = f[k] || '';
    if (c.tagName === 'SELECT' && v && ![...c.options].some((o) => o.value === v)) c.append(new Option(v, v));
    c.value = v;
  }
}

function fill(select, pairs) {
  const v = select.value;
  select.replaceChildren(select.options[0], ...pairs.map(([value, label]) => new Option(label, value)));
  if (v && !pairs.some(([value]) => value === v)) select.append(new Option(v, v));
  select.value = v;
}

// A short text of the filters in use, for the status line.
function describe(f, names) {
  const bits = [];
  if (f.customer) bits.push(`customer #${f.customer}`);
  if (f.search) bits.push(`words "${f.search}"`);
  if (f.theme) bits.push(`theme ${names[f.theme] || f.theme}`);
  if (f.sentiment) bits.push(`${f.sentiment} sentiment`);
  for (const d of DIMS) if (f[d]) bits.push(`${d} ${f[d]}`);
  if (f.from || f.to) bits.push(`${f.from || 'the start'} to ${f.to || 'the latest data'}`);
  return bits.length ? bits.join(', ') : 'all feedback';
}

// ---- comments ------------------------------------------------------------------


export function scoreText(it) {
  const kind = KIND[it.kind] || it.kind || 'Feedback';
  if (it.score === null || it.score === undefined) return `${kind}, no score`;
  return `${kind} ${Number.isInteger(it.score) ? int(it.score) : num(it.score, 1)}`;
}

export function sentimentText(it) {
  if (it.sentiment === null || it.sentiment === undefined) return 'not scored';
  return `${it.label || 'unknown'} (${signed(it.sentiment, 2)})`;
}

function fact(dl, term, value) {
  const dd = el('dd');
  if (value instanceof Node) dd.append(value);
  else dd.textContent = value === null || value === undefined || value === '' ? none : value;
  const pair = el('div');
  pair.append(el('dt', '', term), dd);
  dl.append(pair);
}

function commentItem(it, names) {
  const li = el('li', 'comment');
  li.tabIndex = -1;
  li.dataset.seq = String(it.seq);
  li.dataset.customer = String(it.customer_id);
  const head = el('p', 'comment-head');
  const time = el('time', 'when', when(it.ts));
  time.dateTime = it.ts || '';
  head.append(time, ' · ', el('span', 'score', scoreText(it)));
  if (it.survey) head.append(' · ', el('span', 'survey', `survey ${it.survey}`));
  const text = el('blockquote', 'comment-text', it.comment || none);
  const dl = el('dl', 'comment-facts');
  fact(dl, 'Sentiment', sentimentText(it));
  fact(dl, 'Themes', (it.themes || []).map((t) => names[t] || t).join(', ') || 'none');
  fact(dl, 'Channel', it.channel);
  fact(dl, 'Touchpoint', it.touchpoint);
  fact(dl, 'Stage', it.stage);
  const a = el('a', 'customer-link', `Customer #${it.customer_id}`);
  a.href = `/?page=customers&customer=${encodeURIComponent(it.customer_id)}`;
  fact(dl, 'Customer', a);
  const find = el('div', 'case-find');
  const btn = el('button', 'secondary find-case', 'Find its case');
  btn.type = 'button';
  btn.setAttribute('aria-label', `Find its case: comment ${it.seq} of customer #${it.customer_id}`);
  const out = el('p', 'case-result');
  out.setAttribute('aria-live', 'polite');
  find.append(btn, out);
  li.append(head, text, dl, find);
  return li;
}

const caseLink = (c) => {
  const a = el('a', 'case-link', `Case #${c.id}`);
  a.href = `/?page=cases&case=${c.id}`;
  return a;
};

function caseList(cases) {
  const span = el('span');
  cases.forEach((c, i) => {
    if (i) span.append(', ');
    span.append(caseLink(c), ` (${String(c.status).replace(/_/g, ' ')}, ${c.subject || c.reason})`);
  });
  return span;
}

// The cases whose links hold the comment's seq, among the customer's
// cases (GET /v1/cases?customer=ID&status=all: each row has its links).
async function findCase(it, out) {
  out.textContent = 'Looking up the customer\'s cases…';
  try {
    const d = await get('/v1/cases', { customer: it.customer_id, status: 'all', limit: 100 });
    const all = d.cases || [];
    const hits = all.filter((c) => (c.links || []).includes(it.seq) || c.source_seq === it.seq);
    out.replaceChildren();
    if (hits.length) {
      out.append(hits.length === 1 ? 'This comment is linked from ' : 'This comment is linked from cases ',
        caseList(hits), '.');
    } else {
      out.append('No case links this comment.');
      if (all.length) out.append(` The customer's other ${all.length === 1 ? 'case' : 'cases'}: `, caseList(all), '.');
    }
  } catch (e) {
    out.textContent = `The cases could not be looked up: ${e.message}`;
  }
}

// ---- themes (pain points) ------------------------------------------------------

function painOption(rows) {
  return (t) => ({
    grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
    tooltip: {
      trigger: 'axis', axisPointer: { type: 'shadow' },
      backgroundColor: t.bg, borderColor: t.fg, textStyle: { color: t.fg },
    },
    xAxis: {
      type: 'value', axisLabel: { color: t.fg, fontSize: t.font },
      splitLine: { lineStyle: { color: t.grid } },
    },
    yAxis: {
      type: 'category', inverse: true, data: rows.map((r) => r.theme_name || r.theme),
      axisLabel: { color: t.fg, fontSize: t.font, width: t.font * 9, overflow: 'break', lineHeight: Math.round(t.font * 1.2) },
      axisLine: { lineStyle: { color: t.muted } },
    },
    series: [{ name: 'Pain', type: 'bar', color: t.bar, data: rows.map((r) => Number(r.value.toFixed(1))) }],
  });
}

function themeSpec(doc, what) {
  const rows = doc.rows || [];
  const top = rows.slice(0, 3).map((r) => `${r.theme_name || r.theme} ${num(r.value)}`);
  const description = rows.length
    ? `Pain by theme, ${what}: ${rows.length} themes, the most painful ${top.join('; ')}.`
    : `Pain by theme, ${what}: no themed comments.`;
  const columns = [
    { label: 'Theme', text: true, get: (r) => r.theme_name || r.theme },
    { label: 'Pain', get: (r) => num(r.value) },
    { label: 'Mentions', get: (r) => int(r.n) },
    { label: 'Negative', get: (r) => int(r.negative) },
    { label: 'Negative %', get: (r) => `${pct(r.negative_pct)} ${margin(r.negative_pct_margin)}`.trim() },
    { label: 'Mean sentiment', get: (r) => signed(r.sentiment, 2) },
  ];
  if (rows.some((r) => 'change' in r)) {
    columns.push(
      { label: 'Change of negative % (points)', get: (r) => (r.change === null || r.change === undefined ? none : signed(r.change)) },
      { label: 'Significant', get: (r) => (r.significant ? 'yes' : 'no') },
    );
  }
  return { description, caption: `Pain by theme, ${what}`, rows, columns, option: painOption(rows) };
}

function themeLinks(ul, rows, f) {
  ul.replaceChildren(...rows.map((r) => {
    const li = el('li');
    const a = el('a', 'theme-link', r.theme_name || r.theme);
    a.href = `/${toSearch(Object.assign({}, f, { theme: r.theme }))}`;
    a.dataset.theme = r.theme;
    if (r.theme === f.theme) a.setAttribute('aria-current', 'true');
    li.append(a);
    return li;
  }));
}

// ---- emerging topics -----------------------------------------------------------

const day = (ts) => (ts ? ts.slice(0, 10) : none);
const dayBefore = (ts) => (ts ? new Date(Date.parse(ts) - 86400000).toISOString().slice(0, 10) : none);

function showEmerging(box, d) {
  const span = `${day(d.from)} to ${dayBefore(d.to)}`;
  const base = `${day(d.baseline_from)} to ${dayBefore(d.from)}`;
  const intro = el('p', '', `The ${d.period} ${span} (${int(d.comments)} comments) against ${base} ` +
    `(${int(d.baseline_comments)} comments).`);
  const rows = d.rows || [];
  if (!rows.length) {
    box.replaceChildren(intro, el('p', '', 'No phrase is rising significantly.'));
    return;
  }
  const columns = [
    { label: 'Phrase', text: true, get: (r) => r.phrase },
    { label: 'Comments', get: (r) => int(r.count) },
    { label: 'Share', get: (r) => pct(100 * r.rate) },
    { label: 'Comments before', get: (r) => int(r.baseline_count) },
    { label: 'Share before', get: (r) => pct(100 * r.baseline_rate) },
    { label: 'G²', get: (r) => num(r.g2, 2) },
  ];
  const wrap = el('div', 'table-wrap');
  tableBox(wrap, table(`Rising phrases, ${span}`, columns, rows));
  wrap.id = 'emerging-table';
  box.replaceChildren(intro, wrap);
}

// ---- the page ------------------------------------------------------------------

export async function mount(main, role) {
  main.replaceChildren(await template('feedback'));
  document.title = 'Feedback · cxm';
  const form = main.querySelector('#fb-filters');
  const status = main.querySelector('#status');
  const error = main.querySelector('#fb-error');
  const list = main.querySelector('#comments');
  const more = main.querySelector('#comments-more');
  const moreStatus = main.querySelector('#comments-more-status');
  const themesSection = main.querySelector('#p-themes');
  const emerging = main.querySelector('#p-emerging .content');
  const canComments = COMMENTS.includes(role);
  const canAggregates = AGGREGATES.includes(role);
  const themes = canAggregates ? panel(themesSection) : null;
  const names = {};       // theme id -> name
  const seen = { theme: new Set() };   // an agent's theme choices: those of the comments read
  let seq = 0;            // bumped by every render, so a late answer is dropped
  let cursor = null;
  let current = {};

  if (!canComments) {
    main.querySelector('.fb-layout').classList.add('single');
    main.querySelector('#p-comments').hidden = true;
    const note = main.querySelector('#no-comments');
    note.hidden = false;
    note.textContent = `Comments are personal data: they are not shown to the ${role} role. ` +
      'Themes and emerging topics are aggregates.';
    form.querySelector('.fb-search').hidden = true;   // the words search comments only
    form.querySelector('#fb-search-help').hidden = true;
  }
  if (!canAggregates) themesSection.hidden = true;   // an agent: emerging topics only

  function remember(items) {
    let grew = false;
    for (const it of items) {
      for (const t of it.themes || []) if (!seen.theme.has(t)) { seen.theme.add(t); grew = true; }
    }
    if (!grew || canAggregates) return;
    fill(form.elements.theme, [...seen.theme].sort().map((t) => [t, names[t] || t]));
  }

  // The taxonomy (admin, analyst) names the themes; the dimensions' values
  // (every role here) fill channel, touchpoint and stage.
  async function loadChoices() {
    const [tax, dims] = await Promise.all([canAggregates ? get('/v1/text/taxonomy') : null,
      get('/v1/dimensions')]);
    if (tax) {
      for (const t of tax.themes || []) names[t.id] = t.name || t.id;
      fill(form.elements.theme, (tax.themes || []).map((t) => [t.id, t.name || t.id]));
    }
    for (const d of DIMS) fill(form.elements[d], (dims[d] || []).map((v) => [v, v]));
  }

  const commentParams = (f, after) => ({
    search: f.search, theme: f.theme, sentiment: f.sentiment, from: f.from, to: f.to,
    channel: f.channel, touchpoint: f.touchpoint, stage: f.stage, customer_id: f.customer,
    limit: PAGE_SIZE, cursor: after,
  });

  function commentsStatus(n, what) {
    return `${int(n)} ${n === 1 ? 'comment' : 'comments'} shown for ${what}` +
      (cursor ? '; more can be loaded.' : '.');
  }

  async function loadComments(f, mine) {
    const d = await get('/v1/feedback', commentParams(f));
    if (mine !== seq) return null;
    cursor = d.next_cursor || null;
    const items = d.items || [];
    remember(items);
    list.replaceChildren(...items.map((it) => commentItem(it, names)));
    more.hidden = !cursor;
    moreStatus.textContent = '';
    return items.length;
  }

  async function loadMore() {
    if (!cursor) return;
    const mine = seq;
    more.disabled = true;
    moreStatus.textContent = 'Loading more comments…';
    try {
      const d = await get('/v1/feedback', commentParams(current, cursor));
      if (mine !== seq) return;
      cursor = d.next_cursor || null;
      const items = d.items || [];
      remember(items);
      const added = items.map((it) => commentItem(it, names));
      list.append(...added);
      more.hidden = !cursor;
      moreStatus.textContent = `${int(items.length)} more loaded. ` +
        commentsStatus(list.children.length, describe(current, names));
      if (added.length) added[0].focus();
    } catch (e) {
      moreStatus.textContent = `More comments could not be loaded: ${e.message}`;
    } finally {
      more.disabled = false;
    }
  }

  async function loadThemes(f, mine) {
    const d = await get('/v1/text/themes', { from: f.from, to: f.to, where: whereOf(f) });
    if (mine !== seq) return;
    for (const r of d.rows || []) names[r.theme] = r.theme_name || names[r.theme] || r.theme;
    const what = describe({ channel: f.channel, touchpoint: f.touchpoint, stage: f.stage, from: f.from, to: f.to }, names);
    themes.update(themeSpec(d, what));
    themeLinks(main.querySelector('#theme-links'), d.rows || [], f);
  }

  async function loadEmerging(f, mine) {
    const d = await get('/v1/text/emerging', {
      period: 'week', theme: f.theme, at: f.to,
      sentiment: f.sentiment === 'negative' ? 'negative' : undefined,
    });
    if (mine !== seq) return;
    showEmerging(emerging, d);
  }

  function showCustomer(f) {
    const p = main.querySelector('#fb-customer');
    p.hidden = !f.customer;
    if (!f.customer) return;
    const all = Object.assign({}, f);
    delete all.customer;
    const a = el('a', 'all-customers', 'Show every customer\'s comments');
    a.href = `/${toSearch(all)}`;
    p.replaceChildren(`Only the comments of customer #${f.customer}. `, a);
  }

  async function render(f) {
    const mine = ++seq;
    await ready;
    if (mine !== seq) return;
    current = f;
    showCustomer(f);
    cursor = null;
    error.textContent = '';
    status.textContent = 'Loading…';
    const jobs = [
      canComments ? loadComments(f, mine) : Promise.resolve(null),
      canAggregates ? loadThemes(f, mine) : Promise.resolve(),
      loadEmerging(f, mine),
    ];
    const got = await Promise.allSettled(jobs);
    if (mine !== seq) return;
    const [c, t, e] = got;
    if (c.status === 'rejected') {
      list.replaceChildren(el('li', 'error', `Could not load: ${c.reason.message}`));
      more.hidden = true;
    }
    if (t.status === 'rejected') {
      themesSection.querySelector('.table-wrap').hidden = false;
      themesSection.querySelector('.table-wrap').replaceChildren(failure(t.reason));
    }
    if (e.status === 'rejected') emerging.replaceChildren(failure(e.reason));
    const bad = got.find((x) => x.status === 'rejected');
    const what = describe(canComments ? f : Object.assign({}, f, { customer: '', search: '' }), names);
    if (bad) status.textContent = `Some parts could not be loaded: ${bad.reason.message}`;
    else if (canComments) {
      const n = c.value || 0;
      status.textContent = n ? commentsStatus(n, what) : `No comments for ${what}.`;
      if (!n) more.hidden = true;
    } else status.textContent = `Showing themes and emerging topics for ${what}.`;
  }

  const go = (f) => {
    history.pushState(null, '', `/${toSearch(f)}`);
    render(f);
  };

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const f = read(form);
    if (current.customer) f.customer = current.customer;
    if (f.from && f.to && f.from > f.to) {
      error.textContent = 'The "From" date must not be after the "To" date.';
      form.elements.from.focus();
      return;
    }
    go(f);
  });
  form.addEventListener('change', (e) => {
    const t = e.target;
    if (t.tagName !== 'SELECT' && t.type !== 'date') return;   // words: on Enter
    form.requestSubmit();
  });
  form.addEventListener('reset', (e) => {
    e.preventDefault();
    show(form, {});
    go({});
  });
  more.addEventListener('click', loadMore);
  list.addEventListener('click', (e) => {
    const btn = e.target.closest('button.find-case');
    if (!btn) return;
    const li = btn.closest('li.comment');
    findCase({ seq: Number(li.dataset.seq), customer_id: Number(li.dataset.customer) },
      li.querySelector('.case-result'));
  });
  main.querySelector('#fb-customer').addEventListener('click', (e) => {
    const a = e.target.closest('a.all-customers');
    if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    const f = Object.assign({}, current);
    delete f.customer;
    go(f);
    form.elements.search.focus();
  });
  themesSection.addEventListener('click', (e) => {
    const a = e.target.closest('a.theme-link');
    if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    const f = Object.assign({}, current, { theme: a.dataset.theme });
    show(form, f);
    go(f);
    form.elements.theme.focus();
  });

  // The theme names are in the taxonomy: comments wait for it, so they
  // name their themes.
  const start = fromUrl();
  show(form, start);
  const ready = loadChoices()
    .then(() => show(form, fromUrl()))
    .catch((e) => { error.textContent = `The filter choices could not be loaded: ${e.message}`; });
  render(start);

  return {
    redraw() { if (themes) themes.redraw(); },
    pop() {
      const f = fromUrl();
      show(form, f);
      render(f);
    },
    unmount() {
      seq++;
      if (themes) themes.dispose();
    },
  };
}
