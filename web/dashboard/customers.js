// customers.js - the Customer 360 page (admin, agent): find a customer by
// any identity or the start of a name or e-mail (GET /v1/customers?q=, kept
// in the URL: /?page=customers&q=TEXT), and open a profile
// (/?page=customers&customer=ID, GET /v1/customers/{id}): its facts and
// identities, the merge history with, for admins, an Unmerge per merged
// customer (POST /v1/customers/{id}/unmerge after a confirmation), consent,
// segments (names from GET /v1/segments), CLV, P(alive) and the latest
// scores, open cases (GET /v1/cases?customer=ID), the journey's episodes
// (GET /v1/customers/{id}/journey), the next-best-action for
// a channel (POST /v1/decide with "log": false and "explain": true, the
// channels from GET /v1/actions), recommended items
// (GET /v1/customers/{id}/recommendations) and the cross-channel timeline
// (GET /v1/customers/{id}/timeline, newest first, "Load more" follows
// next_cursor).

import { api, get } from './api.js';
import { appendRow, table, tableBox } from './charts.js';
import { sla, STATUS_TEXT } from './cases.js';
import { el, template } from './dom.js';
import { int, none, num, when } from './format.js';

export const ROLES = ['admin', 'agent'];
const PAGE_SIZE = 20;        // timeline items per "Load more"
const RESULTS = 50;          // search hits shown
const INTERNAL = 'cxm';      // the channel of cxm's own records (case work)

const yesNo = (v) => (v === true ? 'yes' : v === false ? 'no' : 'unknown');
const plural = (n, one, many) => `${int(n)} ${n === 1 ? one : many}`;
const money = (v) => num(v, 2);

function fromUrl() {
  const q = new URLSearchParams(location.search);
  const f = { q: (q.get('q') || '').trim(), customer: (q.get('customer') || '').trim() };
  if (!/^\d+$/.test(f.customer)) f.customer = '';
  return f;
}

function toSearch(f) {
  const q = new URLSearchParams({ page: 'customers' });
  if (f.q) q.set('q', f.q);
  if (f.customer) q.set('customer', f.customer);
  return `/?${q}`;
}

function link(text, href, cls) {
  const a = el('a', cls || '', text);
  a.href = href;
  return a;
}

function empty(target, text) {
  target.removeAttribute('role');
  target.removeAttribute('aria-label');
  target.removeAttribute('tabindex');
  target.replaceChildren(el('p', '', text));
}

// ---- timeline rows -----------------------------------------------------------

export function recordOf(it) {
  return it.kind ? `${it.type} (${String(it.kind).replace(/_/g, ' ')})` : it.type;
}

// The score of an answer, the amount of an order, the outcome of an interaction.
export function resultOf(it) {
  if (it.type === 'order') return it.amount === undefined ? none : `${money(it.amount)}${it.currency ? ` ${it.currency}` : ''}`;
  if (it.type === 'feedback') return it.score === undefined || it.score === null ? 'text only' : `score ${it.score}`;
  return it.outcome ? it.outcome.replace(/_/g, ' ') : none;
}

export function detailOf(it) {
  if (it.type === 'order') {
    const n = (it.items || []).length;
    return [it.order_id, n ? plural(n, 'item', 'items') : ''].filter(Boolean).join(', ');
  }
  if (it.type === 'feedback') return [it.survey ? `survey ${it.survey}` : '', it.comment ? `“${it.comment}”` : ''].filter(Boolean).join(': ');
  const parts = [];
  if (it.duration !== undefined) parts.push(`${int(it.duration)} s`);
  if (it.text) parts.push(it.text);
  return parts.join(': ');
}

const TIMELINE_COLUMNS = [
  { label: 'Time', text: true, get: (it) => when(it.ts) },
  { label: 'Record', text: true, get: recordOf },
  { label: 'Channel', text: true, get: (it) => it.channel },
  { label: 'Touchpoint', text: true, get: (it) => it.touchpoint && it.touchpoint.replace(/_/g, ' ') },
  { label: 'Stage', text: true, get: (it) => it.stage },
  { label: 'Score, amount or outcome', text: true, get: resultOf },
  { label: 'Details', text: true, get: detailOf },
  { label: 'Via customer', get: (it) => `#${it.customer_id}` },
];

// ---- the page --------------------------------------------------------------

export async function mount(main, role) {
  main.replaceChildren(await template('customers'));
  document.title = 'Customers · cxm';
  const $ = (s) => main.querySelector(s);
  const form = $('#cust-search');
  const input = form.elements.q;
  const qError = $('#cust-q-error');
  const status = $('#status');
  const results = $('#results');
  const profileBox = $('#profile');
  const isAdmin = role === 'admin';
  let gen = 0;              // bumped by every render; late answers of older ones are dropped
  let shownQ = null;        // the query whose results are shown
  let profile = null;       // the profile shown
  let cursor = null;        // the timeline's next_cursor
  let timelineRows = 0;
  let unmergeTarget = null; // the customer id the confirmation is about
  let unmergeButton = null; // and the button that asked
  let segmentNames = null;  // id -> name, from GET /v1/segments
  let catalogue = null;     // GET /v1/actions' actions

  const segmentsLoad = () => (segmentNames ? Promise.resolve(segmentNames)
    : get('/v1/segments').then((d) => {
      segmentNames = Object.fromEntries((d.segments || []).map((s) => [s.id, s.name || s.id]));
      return segmentNames;
    }).catch(() => ({})));
  const catalogueLoad = () => (catalogue ? Promise.resolve(catalogue)
    : get('/v1/actions').then((d) => { catalogue = d.actions || []; return catalogue; }).catch(() => []));

  // ---- search ----

  async function search(q, mine) {
    results.hidden = false;
    const list = $('#result-list');
    empty(list, 'Searching…');
    try {
      const d = await get('/v1/customers', { q, limit: RESULTS });
      if (mine !== gen) return null;
      shownQ = q;
      const hits = d.customers || [];
      if (!hits.length) {
        empty(list, `No customer matches “${q}”.`);
      } else {
        tableBox(list, table(`Customers matching “${q}” (${hits.length} shown)`, [
          { label: 'Customer', text: true, get: (c) => link(`${c.name || 'No name'} (#${c.id})`, toSearch({ q, customer: String(c.id) }), 'cust-link') },
          { label: 'E-mail', text: true, get: (c) => c.email },
          { label: 'Country', text: true, get: (c) => c.country },
          { label: 'Matched', text: true, get: (c) => c.matched },
        ], hits, (tr, c) => { tr.dataset.id = String(c.id); }));
      }
      return hits;
    } catch (e) {
      if (mine !== gen) return null;
      shownQ = null;
      empty(list, `The search failed: ${e.message}`);
      return null;
    }
  }

  // ---- profile ----

  function facts(p) {
    const c = p.counts || {};
    const attrs = Object.entries(p.attributes || {})
      .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join('; ');
    return [
      ['id', 'Customer id', `#${p.id}`],
      ['name', 'Name', p.name],
      ['country', 'Country', p.country],
      ['city', 'City', p.city],
      ['language', 'Language', p.language],
      ['birth_year', 'Birth year', p.birth_year],
      ['gender', 'Gender', p.gender],
      ['created', 'Created', when(p.created)],
      ['first_seen', 'First seen', when(p.first_seen)],
      ['last_seen', 'Last seen', when(p.last_seen)],
      ['channels', 'Channels', (p.channels || []).join(', ')],
      ['counts', 'Records', `${plural(c.interactions || 0, 'interaction', 'interactions')}, ` +
        `${plural(c.feedback || 0, 'feedback answer', 'feedback answers')}, ${plural(c.orders || 0, 'order', 'orders')}`],
      ['attributes', 'Attributes', attrs],
    ];
  }

  function fillDl(dl, rows) {
    dl.replaceChildren();
    for (const [key, label, v] of rows) {
      const dd = el('dd', '', v === null || v === undefined || v === '' ? none : String(v));
      dd.dataset.field = key;
      dl.append(el('dt', '', label), dd);
    }
  }

  function tile(id, value, detail) {
    const li = $(`#${id}`);
    li.querySelector('.value').textContent = value;
    if (detail !== undefined) li.querySelector('.detail').textContent = detail;
  }

  function showMerges(p) {
    const target = $('#merges');
    const merges = p.merges || [];
    if (!merges.length) {
      empty(target, 'No other customer is merged into this profile.');
      return;
    }
    const cols = [
      { label: 'Customer', get: (m) => `#${m.customer_id}` },
      { label: 'Merged into', get: (m) => `#${m.into}` },
      { label: 'When', text: true, get: (m) => when(m.ts) },
      { label: 'Cause', text: true, get: (m) => m.cause },
    ];
    if (isAdmin) {
      cols.push({
        label: 'Undo', text: true,
        get: (m) => {
          const b = el('button', 'secondary unmerge', `Unmerge #${m.customer_id}`);
          b.type = 'button';
          b.dataset.customer = String(m.customer_id);
          return b;
        },
      });
    }
    tableBox(target, table(`Merges into profile #${p.id} (${merges.length})`, cols, merges,
      (tr, m) => { tr.dataset.customer = String(m.customer_id); }));
  }

  function showProfile(p, requested) {
    profile = p;
    profileBox.hidden = false;
    $('#profile-title').textContent = `${p.name || 'No name'} (customer #${p.id})`;
    $('#merged-note').textContent = p.requested_id !== undefined && p.requested_id !== null
      ? `Customer #${p.requested_id} was merged into this profile, #${p.id}: its records and identities are shown here.`
      : '';
    fillDl($('#facts'), facts(p));
    const ids = p.identities || [];
    if (ids.length) {
      tableBox($('#identities'), table(`Identities (${ids.length}), in the order they became known`, [
        { label: 'Kind', text: true, get: (i) => i.kind },
        { label: 'Value', text: true, get: (i) => i.value },
        { label: 'Arrived through', get: (i) => `#${i.customer_id}` },
      ], ids));
    } else {
      empty($('#identities'), 'No identities.');
    }
    showMerges(p);
    const c = p.consent || {};
    fillDl($('#consent'), [['marketing', 'Marketing', yesNo(c.marketing)],
      ['surveys', 'Surveys', yesNo(c.surveys)], ['personalisation', 'Personalisation', yesNo(c.personalisation)]]);
    tile('v-clv', money(p.clv_historic));
    const fitted = p.p_alive !== undefined;
    tile('v-pred', fitted ? money(p.clv_predicted) : none,
      fitted ? (p.expected_purchases_52w === null ? 'no orders' : `${num(p.expected_purchases_52w, 4)} expected purchase days`)
        : 'no CLV model fitted yet');
    tile('v-alive', fitted ? num(p.p_alive, 3) : none, fitted ? 'probability still active' : 'no CLV model fitted yet');
    tile('v-nps', p.latest_nps ? String(p.latest_nps.score) : none,
      `${p.latest_nps ? `${when(p.latest_nps.ts)}, ` : ''}n = ${int(p.nps_responses || 0)}`);
    tile('v-csat', p.csat_mean === null || p.csat_mean === undefined ? none : num(p.csat_mean, 2), `n = ${int(p.csat_responses || 0)}`);
    tile('v-ces', p.ces_mean === null || p.ces_mean === undefined ? none : num(p.ces_mean, 2), `n = ${int(p.ces_responses || 0)}`);
    const ul = $('#segments');
    ul.replaceChildren(el('li', '', 'Loading…'));
    segmentsLoad().then((names) => {
      if (profile !== p) return;
      const segs = p.segments || [];
      ul.replaceChildren(...(segs.length ? segs.map((s) => {
        const li = el('li');
        li.append(link(names[s] ? `${names[s]} (${s})` : s, `/?page=segments&segment=${encodeURIComponent(s)}`));
        return li;
      }) : [el('li', '', 'In no segment.')]));
    });
    if (requested !== undefined && String(requested) !== String(p.id) && !p.requested_id) {
      $('#merged-note').textContent = `Customer #${requested} is shown as profile #${p.id}.`;
    }
  }

  async function showCases(p, mine) {
    const target = $('#cases');
    try {
      const [open, all] = await Promise.all([get('/v1/cases', { customer: p.id, sort: 'newest', limit: 50 }),
        get('/v1/cases', { customer: p.id, status: 'all', limit: 1 })]);
      if (mine !== gen) return;
      const rows = open.cases || [];
      const note = `${plural(all.total, 'case', 'cases')} in all, open or not`;
      if (!rows.length) {
        empty(target, `No open cases (${note}).`);
        return;
      }
      tableBox(target, table(`Open cases, newest first (${rows.length} of ${open.total} open; ${note})`, [
        { label: 'Case', text: true, get: (c) => link(`#${c.id}`, `/?page=cases&case=${c.id}`) },
        { label: 'Subject', text: true, get: (c) => c.subject || c.reason },
        { label: 'Status', text: true, get: (c) => STATUS_TEXT[c.status] || c.status },
        { label: 'Priority', text: true, get: (c) => c.priority },
        { label: 'Team', text: true, get: (c) => c.team },
        { label: 'Opened', text: true, get: (c) => when(c.opened) },
        { label: 'Resolution', text: true, get: (c) => sla(c.resolution) },
      ], rows, (tr, c) => { tr.dataset.id = String(c.id); }));
    } catch (e) {
      if (mine === gen) empty(target, `The cases could not be loaded: ${e.message}`);
    }
  }

  async function showJourney(p, mine) {
    const target = $('#journey');
    try {
      const d = await get(`/v1/customers/${p.id}/journey`);
      if (mine !== gen) return;
      const eps = (d.episodes || []).slice().reverse();
      if (!eps.length) {
        empty(target, 'No journey episodes.');
        return;
      }
      tableBox(target, table(`Journey episodes, newest first (${eps.length})`, [
        { label: 'Start', text: true, get: (e) => when(e.start) },
        { label: 'End', text: true, get: (e) => when(e.end) },
        { label: 'Stages reached, in order', text: true, get: (e) => (e.stages || []).join(' → ') },
        { label: 'Purchase', text: true, get: (e) => (e.purchase ? 'yes' : 'no') },
        { label: 'Satisfaction', get: (e) => (e.satisfaction === null || e.satisfaction === undefined ? none : num(e.satisfaction, 2)) },
        { label: 'Records', get: (e) => int((e.events || []).length) },
      ], eps));
    } catch (e) {
      if (mine === gen) empty(target, `The journey could not be loaded: ${e.message}`);
    }
  }

  async function showRecs(p, mine) {
    const target = $('#recs');
    try {
      const d = await get(`/v1/customers/${p.id}/recommendations`, { n: 10 });
      if (mine !== gen) return;
      const items = d.items || [];
      if (!items.length) {
        empty(target, 'No recommendations for this customer.');
        return;
      }
      tableBox(target, table(`Recommended items, best first (${items.length})`, [
        { label: 'Item', text: true, get: (r) => r.sku },
        { label: 'Category', text: true, get: (r) => r.category },
        { label: 'Score', get: (r) => num(r.score, 4) },
        { label: 'Why', text: true, get: (r) => r.text || r.reason },
      ], items));
    } catch (e) {
      if (mine === gen) empty(target, `The recommendations could not be loaded: ${e.message}`);
    }
  }

  // ---- next best action ----

  const nbaSelect = $('#nba-channel');

  // The channels to choose from: the profile's and the catalogue's, without
  // cxm's own (case work is recorded on channel "cxm"); the latest the
  // customer used is chosen first.
  async function fillChannels(p, latest) {
    const acts = await catalogueLoad();
    const set = new Set(p.channels || []);
    for (const a of acts) for (const ch of a.channels || []) set.add(ch);
    set.delete(INTERNAL);
    if (!set.size) set.add('email');
    const list = [...set].sort();
    nbaSelect.replaceChildren(...list.map((ch) => new Option(ch, ch)));
    nbaSelect.value = latest && set.has(latest) ? latest : ((p.channels || []).find((c) => set.has(c)) || list[0]);
  }

  async function decide(p, mine) {
    const st = $('#nba-status');
    const channel = nbaSelect.value;
    st.textContent = `Deciding for channel ${channel}…`;
    try {
      const d = await api('POST', '/v1/decide', { customer: p.id, channel, log: false, explain: true });
      if (mine !== gen || nbaSelect.value !== channel) return;
      const acts = d.actions || [];
      const ex = d.excluded || [];
      const names = Object.fromEntries((catalogue || []).map((a) => [a.id, a.name || a.id]));
      st.textContent = `On ${channel}: ${acts.length ? `${plural(acts.length, 'action', 'actions')} eligible, best first` : 'no action is eligible'}; ` +
        `${plural(ex.length, 'action', 'actions')} excluded.`;
      if (acts.length) {
        tableBox($('#nba-actions'), table(`Eligible actions on ${channel}, best first`, [
          { label: 'Rank', get: (a) => String(acts.indexOf(a) + 1) },
          { label: 'Action', text: true, get: (a) => `${a.name || a.action} (${a.action})` },
          { label: 'Kind', text: true, get: (a) => a.kind.replace(/_/g, ' ') },
          { label: 'Priority', get: (a) => num(a.priority, 1) },
          { label: 'Value', get: (a) => num(a.value, 2) },
          { label: 'Message', text: true, get: (a) => (a.subject ? `${a.subject}: ${a.message}` : a.message) },
        ], acts, (tr, a) => { tr.dataset.action = a.action; }));
      } else {
        empty($('#nba-actions'), 'No action is eligible on this channel now.');
      }
      if (ex.length) {
        tableBox($('#nba-excluded'), table(`Excluded actions on ${channel}, with the rule that left each out`, [
          { label: 'Action', text: true, get: (x) => `${names[x.action] || x.action} (${x.action})` },
          { label: 'Rule', text: true, get: (x) => x.rule },
          { label: 'Why', text: true, get: (x) => x.reason },
          { label: 'Until', text: true, get: (x) => (x.until ? when(x.until) : 'no end') },
        ], ex, (tr, x) => { tr.dataset.action = x.action; }));
      } else {
        empty($('#nba-excluded'), 'No action is excluded.');
      }
    } catch (e) {
      if (mine !== gen) return;
      st.textContent = `The next best action could not be worked out: ${e.message}`;
      $('#nba-actions').replaceChildren();
      $('#nba-excluded').replaceChildren();
    }
  }

  $('#nba-form').addEventListener('submit', (e) => e.preventDefault());
  nbaSelect.addEventListener('change', () => { if (profile) decide(profile, gen); });

  // ---- timeline ----

  const more = $('#timeline-more');

  async function loadTimeline(p, mine, first) {
    const st = $('#timeline-status');
    st.textContent = 'Loading the timeline…';
    more.disabled = true;
    try {
      const d = await get(`/v1/customers/${p.id}/timeline`, { limit: PAGE_SIZE, cursor: first ? undefined : cursor });
      if (mine !== gen) return null;
      const items = d.items || [];
      const target = $('#timeline');
      let tbody = target.querySelector('tbody');
      let firstNew = null;
      if (first || !tbody) {
        timelineRows = 0;
        if (!items.length) {
          empty(target, 'No interactions, feedback or orders yet.');
          tbody = null;
        } else {
          tableBox(target, table('Timeline, newest first', TIMELINE_COLUMNS, []));
          tbody = target.querySelector('tbody');
        }
      }
      if (tbody) {
        for (const it of items) {
          const tr = appendRow(tbody, TIMELINE_COLUMNS, it, (row) => {
            row.dataset.seq = String(it.seq);
            row.dataset.type = it.type;
          });
          if (!firstNew) firstNew = tr;
        }
      }
      timelineRows += items.length;
      cursor = d.next_cursor || null;
      more.hidden = !cursor;
      more.disabled = false;
      st.textContent = `Showing ${int(timelineRows)} of ${int(d.total)} records, newest first.`;
      if (firstNew) {
        const cap = target.querySelector('caption');
        if (cap) cap.textContent = `Timeline, newest first (${int(timelineRows)} of ${int(d.total)})`;
      }
      return { items, firstNew };
    } catch (e) {
      if (mine !== gen) return null;
      more.disabled = false;
      st.textContent = `The timeline could not be loaded: ${e.message}`;
      return null;
    }
  }

  more.addEventListener('click', async () => {
    if (!profile || !cursor) return;
    const r = await loadTimeline(profile, gen, false);
    if (r && r.firstNew) {
      // The focus goes to the first new record, so reading goes on from there.
      const th = r.firstNew.querySelector('th');
      th.tabIndex = -1;
      th.focus();
    } else if (!more.hidden) {
      more.focus();
    }
  });

  // ---- unmerge ----

  const confirmBox = $('#unmerge-confirm');
  const unmergeError = $('#unmerge-error');
  const unmergeDone = $('#unmerge-done');

  function closeConfirm(focusBack) {
    confirmBox.hidden = true;
    const b = unmergeButton;
    unmergeTarget = null;
    unmergeButton = null;
    if (focusBack && b && b.isConnected) b.focus();
  }

  $('#merges').addEventListener('click', (e) => {
    const b = e.target.closest('button.unmerge');
    if (!b || !profile) return;
    unmergeTarget = b.dataset.customer;
    unmergeButton = b;
    unmergeError.textContent = '';
    unmergeDone.replaceChildren();
    $('#unmerge-question').textContent = `Unmerge customer #${unmergeTarget} from profile #${profile.id}? ` +
      `Customer #${unmergeTarget} becomes a profile of its own again, with the identities and records that arrived ` +
      'through it and every customer merged into it. A later record naming identities of both merges them again.';
    $('#unmerge-yes').textContent = `Yes, unmerge #${unmergeTarget}`;
    confirmBox.hidden = false;
    $('#unmerge-question').focus();
  });
  $('#unmerge-no').addEventListener('click', () => closeConfirm(true));
  confirmBox.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') closeConfirm(true);
  });
  $('#unmerge-yes').addEventListener('click', async () => {
    if (!unmergeTarget || !profile) return;
    const id = unmergeTarget;
    const yes = $('#unmerge-yes');
    yes.disabled = true;
    try {
      const r = await api('POST', `/v1/customers/${id}/unmerge`);
      closeConfirm(false);
      await render(false, { keepUnmerge: true, refresh: true });
      unmergeDone.replaceChildren(`Customer #${r.customer_id} was unmerged from profile #${r.unmerged_from} and is a profile of its own again. `,
        link(`Open customer #${r.customer_id}`, toSearch({ q: fromUrl().q, customer: String(r.customer_id) }), 'cust-link'));
      unmergeDone.tabIndex = -1;
      unmergeDone.focus();
    } catch (err) {
      unmergeError.textContent = `Not unmerged: ${err.message}`;
      $('#unmerge-yes').focus();
    } finally {
      yes.disabled = false;
    }
  });

  // ---- render from the URL ----

  async function openProfile(id, mine, focus) {
    cursor = null;
    status.textContent = `Loading customer #${id}…`;
    let p;
    try {
      p = await get(`/v1/customers/${id}`);
    } catch (e) {
      if (mine !== gen) return;
      profile = null;
      profileBox.hidden = true;
      status.textContent = e.status === 404 ? `There is no customer #${id}.` : `Customer #${id} could not be loaded: ${e.message}`;
      return;
    }
    if (mine !== gen) return;
    showProfile(p, id);
    status.textContent = p.requested_id !== undefined && p.requested_id !== null
      ? `Customer #${p.requested_id} was merged into profile #${p.id}: showing #${p.id}, ${p.name || 'no name'}.`
      : `Showing customer #${p.id}, ${p.name || 'no name'}.`;
    if (focus) $('#profile-title').focus();
    $('#nba-actions').replaceChildren();
    $('#nba-excluded').replaceChildren();
    showCases(p, mine);
    showRecs(p, mine);
    showJourney(p, mine);
    const tl = await loadTimeline(p, mine, true);
    if (mine !== gen) return;
    const latest = tl && tl.items.find((it) => it.channel && it.channel !== INTERNAL);
    await fillChannels(p, latest && latest.channel);
    if (mine !== gen) return;
    decide(p, mine);
  }

  async function render(focus, opts = {}) {
    const mine = ++gen;
    const f = fromUrl();
    input.value = f.q;
    qError.textContent = '';
    input.removeAttribute('aria-invalid');
    if (!opts.keepUnmerge) {
      unmergeError.textContent = '';
      unmergeDone.replaceChildren();
    }
    confirmBox.hidden = true;
    if (!f.q) {
      results.hidden = true;
      shownQ = null;
    } else if (f.q !== shownQ || opts.refresh) {
      status.textContent = `Searching for “${f.q}”…`;
      const hits = await search(f.q, mine);
      if (mine !== gen) return;
      if (hits && !f.customer) {
        // One exact identity hit opens that profile (the results stay above it).
        if (hits.length === 1 && hits[0].matched !== 'name') {
          f.customer = String(hits[0].id);
          history.replaceState(null, '', toSearch(f));
        } else {
          status.textContent = `${hits.length === RESULTS ? `The first ${RESULTS}` : int(hits.length)} ` +
            `${hits.length === 1 ? 'customer matches' : 'customers match'} “${f.q}”. Select one to open the profile.`;
        }
      } else if (!hits) {
        status.textContent = `The search for “${f.q}” failed.`;
      }
    }
    if (mine !== gen) return;
    for (const tr of main.querySelectorAll('#result-list tr.selected')) tr.classList.remove('selected');
    if (f.customer) {
      const tr = main.querySelector(`#result-list tr[data-id="${f.customer}"]`);
      if (tr) tr.classList.add('selected');
      await openProfile(f.customer, mine, focus);
    } else {
      profile = null;
      profileBox.hidden = true;
      if (!f.q) status.textContent = 'Search for a customer to open their profile.';
    }
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = input.value.trim();
    if (!q) {
      qError.textContent = 'Enter a name, an e-mail address or another identity to search for.';
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    history.pushState(null, '', toSearch({ q }));
    shownQ = null;
    render(false);
  });

  // Links to a profile within the page: no reload, the focus on the profile.
  main.addEventListener('click', (e) => {
    const a = e.target.closest('a.cust-link');
    if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    history.pushState(null, '', a.getAttribute('href'));
    render(true);
  });

  render(false);

  return {
    redraw() {},
    pop() { render(false); },
    unmount() { gen++; },
  };
}
