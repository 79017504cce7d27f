// filters.js - the filter bar's state: read from and written to the URL's
// query (so a link shares the view and back/forward restore it), and turned
// into the API's parameters: from, to and a `where` expression of the
// filter language (docs/metrics.md).

import { get } from './api.js';

export const DIMENSIONS = ['channel', 'touchpoint', 'stage', 'country'];
export const KEYS = ['from', 'to', ...DIMENSIONS, 'segment'];
const DATE = /^\d{4}-\d{2}-\d{2}$/;

// The filters in a URL's query: {from, to, channel, ...}, only those set.
export function fromUrl(search = location.search) {
  const q = new URLSearchParams(search);
  const f = {};
  for (const k of KEYS) {
    const v = (q.get(k) || '').trim();
    if (v && ((k !== 'from' && k !== 'to') || DATE.test(v))) f[k] = v;
  }
  return f;
}

// The URL query of filters f on a page (none: the Overview, at /).
export function toSearch(f, page) {
  const q = new URLSearchParams();
  if (page) q.set('page', page);
  for (const k of KEYS) if (f[k]) q.set(k, f[k]);
  const s = q.toString();
  return s ? `?${s}` : '';
}

// A text literal of the filter language: single quotes, inner ones doubled.
const quote = (s) => `'${String(s).replace(/'/g, "''")}'`;

export function where(f) {
  const parts = DIMENSIONS.filter((k) => f[k]).map((k) => `${k} = ${quote(f[k])}`);
  if (f.segment) parts.push(`segment(${quote(f.segment)})`);
  return parts.join(' and ');
}

// The query parameters every filtered call takes.
export const params = (f) => ({ from: f.from, to: f.to, where: where(f) });

// Fills the selects with the values the data has (GET /v1/dimensions:
// where answers were given, the customers' countries), segments from GET
// /v1/segments. Values missing from the data but in the URL are kept.
export async function loadChoices(form) {
  const [dims, segs] = await Promise.all([get('/v1/dimensions'), get('/v1/segments')]);
  for (const d of DIMENSIONS) fill(form.elements[d], (dims[d] || []).map((v) => [v, v]));
  fill(form.elements.segment, segs.segments.map((s) => [s.id, s.name || s.id]));
}

function fill(select, pairs) {
  const first = select.options[0];
  const opts = pairs.map(([value, label]) => new Option(label, value));
  select.replaceChildren(first, ...opts);
}

// Puts f into the form's controls (adding an option a link named that the
// data lacks, so the state shown is the state used).
export function show(form, f) {
  for (const k of KEYS) {
    const el = form.elements[k];
    const v = f[k] || '';
    if (el.tagName === 'SELECT' && v && ![...el.options].some((o) => o.value === v)) {
      el.append(new Option(v, v));
    }
    el.value = v;
  }
}

export function read(form) {
  const f = {};
  for (const k of KEYS) {
    const v = form.elements[k].value;
    if (v) f[k] = v;
  }
  return f;
}

// A short text of the filters in use, for the status line.
export function describe(f, form) {
  const bits = [];
  if (f.from || f.to) bits.push(`${f.from || 'the start'} to ${f.to || 'the latest data'}`);
  for (const k of [...DIMENSIONS, 'segment']) {
    if (!f[k]) continue;
    const el = form.elements[k];
    const o = [...el.options].find((x) => x.value === f[k]);
    bits.push(`${k} ${o ? o.textContent : f[k]}`);
  }
  return bits.length ? bits.join(', ') : 'all data';
}
