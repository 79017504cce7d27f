// cases.js - the Cases page (admin, agent): the inbox, most urgent SLA
// first (GET /v1/cases?sort=urgency), filtered by status and team (kept in
// the URL: /?page=cases&status=all&team=Support&case=3), and a case's
// detail (GET /v1/cases/{id}) with a form that assigns, moves the status
// and adds a note (PATCH /v1/cases/{id}, with the CSRF token of api.js).

import { api, get } from './api.js';
import { tableBox } from './charts.js';
import { el, template } from './dom.js';
import { none, when } from './format.js';

export const ROLES = ['admin', 'agent'];
const STATUSES = ['open', 'in_progress', 'resolved', 'closed'];
export const STATUS_TEXT = { open: 'open', in_progress: 'in progress', resolved: 'resolved', closed: 'closed' };
const KEYS = ['status', 'team', 'case'];



function hours(s) {
  const h = Math.abs(s) / 3600;
  return h >= 48 ? `${Math.round(h / 24)} d` : `${h.toFixed(h < 10 ? 1 : 0)} h`;
}

// An SLA clock as text: "breached 5 h ago", "met", "due in 3 h".
export function sla(c) {
  if (!c) return none;
  if (c.state === 'breached') {
    return c.seconds_left !== undefined && c.seconds_left !== null
      ? `breached, ${hours(c.seconds_left)} over` : 'breached';
  }
  if (c.state === 'pending' || c.state === 'at_risk') return `${c.state.replace(/_/g, ' ')}, ${hours(c.seconds_left || 0)} left`;
  return String(c.state).replace(/_/g, ' ');
}

function fromUrl() {
  const q = new URLSearchParams(location.search);
  const f = {};
  for (const k of KEYS) {
    const v = (q.get(k) || '').trim();
    if (v) f[k] = v;
  }
  if (f.case && !/^\d+$/.test(f.case)) delete f.case;
  return f;
}

function toSearch(f) {
  const q = new URLSearchParams({ page: 'cases' });
  for (const k of KEYS) if (f[k]) q.set(k, f[k]);
  return `?${q}`;
}

function inboxTable(cases, names, open) {
  const t = document.createElement('table');
  t.id = 'case-table';
  t.createCaption().textContent = `Cases, most urgent first (${cases.length} shown)`;
  const cols = ['Case', 'Status', 'Priority', 'Customer', 'Reason', 'Team', 'Assignee',
    'First response', 'First response due', 'Resolution', 'Resolution due'];
  const head = t.createTHead().insertRow();
  for (const c of cols) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.className = 'text';
    th.textContent = c;
    head.append(th);
  }
  const body = t.createTBody();
  for (const c of cases) {
    const tr = body.insertRow();
    tr.dataset.id = String(c.id);
    if (String(c.id) === open) tr.className = 'selected';
    const th = document.createElement('th');
    th.scope = 'row';
    th.className = 'text';
    const a = el('a', 'case-link', `#${c.id}`);
    a.href = `/?page=cases&case=${c.id}`;
    a.setAttribute('aria-label', `Case ${c.id}: ${c.subject || c.reason}`);
    th.append(a);
    tr.append(th);
    const cells = [STATUS_TEXT[c.status] || c.status, c.priority, `#${c.customer}`, c.reason, c.team,
      c.assignee ? (names[c.assignee] || c.assignee) : 'unassigned',
      sla(c.first_response), when(c.first_response && c.first_response.due),
      sla(c.resolution), when(c.resolution && c.resolution.due)];
    cells.forEach((v, i) => {
      const td = el('td', 'text', v === null || v === undefined ? none : String(v));
      if ((i === 6 || i === 8) && /^breached/.test(v)) td.classList.add('breached');
      tr.append(td);
    });
  }
  return t;
}

export async function mount(main) {
  main.replaceChildren(await template('cases'));
  document.title = 'Cases · cxm';
  const form = main.querySelector('#case-filters');
  const status = main.querySelector('#status');
  const box = main.querySelector('#inbox');
  const detail = main.querySelector('#case-detail');
  const edit = main.querySelector('#case-form');
  const error = main.querySelector('#case-error');
  const saved = main.querySelector('#case-saved');
  let names = {};
  let employees = [];
  let current = null;   // the case shown
  let seq = 0;

  const empLoad = get('/v1/employees').then((d) => {
    employees = d.employees || [];
    names = Object.fromEntries(employees.map((e) => [e.id, e.name || e.id]));
    const teams = [...new Set(employees.map((e) => e.team).filter(Boolean))].sort();
    const sel = form.elements.team;
    const v = sel.value;
    sel.replaceChildren(sel.options[0], ...teams.map((t) => new Option(t, t)));
    if (v && !teams.includes(v)) sel.append(new Option(v, v));
    sel.value = v;
  }).catch((e) => { status.textContent = `The employees could not be loaded: ${e.message}`; });

  function showFilters(f) {
    for (const k of ['status', 'team']) {
      const s = form.elements[k];
      if (f[k] && ![...s.options].some((o) => o.value === f[k])) s.append(new Option(f[k], f[k]));
      s.value = f[k] || '';
    }
  }

  async function loadInbox(f) {
    const mine = ++seq;
    status.textContent = 'Loading…';
    try {
      await empLoad;
      const d = await get('/v1/cases', { sort: 'urgency', limit: 50, status: f.status, team: f.team });
      if (mine !== seq) return;
      const cases = d.cases || [];
      if (!cases.length) box.replaceChildren(el('p', '', 'No cases for these filters.'));
      else tableBox(box, inboxTable(cases, names, f.case));
      status.textContent = `Showing ${cases.length} of ${d.total} cases` +
        `${f.status ? `, status ${f.status}` : ', open and in progress'}${f.team ? `, team ${f.team}` : ''}.`;
    } catch (e) {
      if (mine !== seq) return;
      status.textContent = `The cases could not be loaded: ${e.message}`;
    }
  }

  function fillForm(c) {
    const a = edit.elements.assignee;
    const opts = employees.map((e) => new Option(`${e.name || e.id} (${e.team || 'no team'})`, e.id));
    a.replaceChildren(new Option('Unassigned', ''), ...opts);
    if (c.assignee && !employees.some((e) => e.id === c.assignee)) a.append(new Option(c.assignee, c.assignee));
    a.value = c.assignee || '';
    const s = edit.elements.status;
    s.replaceChildren(...STATUSES.map((x) => new Option(STATUS_TEXT[x] + (x === c.status ? ' (now)' : ''), x)));
    s.value = c.status;
    edit.elements.note.value = '';
  }

  async function loadDetail(id, focus) {
    if (!id) {
      detail.hidden = true;
      current = null;
      return;
    }
    try {
      await empLoad;
      const c = await get(`/v1/cases/${id}`);
      current = c;
      detail.hidden = false;
      main.querySelector('#case-title').textContent = `Case #${c.id}: ${c.subject || c.reason}`;
      const dl = main.querySelector('#case-facts');
      dl.replaceChildren();
      const facts = [['Status', STATUS_TEXT[c.status] || c.status], ['Priority', c.priority],
        ['Customer', `#${c.customer}`], ['Reason', c.reason], ['Team', c.team],
        ['Assignee', c.assignee ? (names[c.assignee] || c.assignee) : 'unassigned'],
        ['Opened', when(c.opened)],
        ['First response', `${sla(c.first_response)} (due ${when(c.first_response && c.first_response.due)})`],
        ['Resolution', `${sla(c.resolution)} (due ${when(c.resolution && c.resolution.due)})`],
        ['Reopened', String(c.reopened || 0)]];
      if (c.resolution_text) facts.push(['Resolution text', c.resolution_text]);
      if (c.links && c.links.length) facts.push(['Linked records', c.links.map((s) => `#${s}`).join(', ')]);
      for (const [k, v] of facts) dl.append(el('dt', '', k), el('dd', '', v === null || v === undefined ? none : v));
      const ol = main.querySelector('#case-history');
      ol.replaceChildren(...(c.history || []).map((h) => {
        const li = el('li');
        li.append(el('span', 'when', when(h.ts)), ' ', el('strong', '', h.kind.replace(/_/g, ' ')),
          h.actor ? ` by ${names[h.actor] || h.actor}` : '', h.body ? `: ${h.body}` : '',
          h.link ? ` (record #${h.link})` : '');
        return li;
      }));
      fillForm(c);
      if (focus) main.querySelector('#case-title').focus();
    } catch (e) {
      detail.hidden = false;
      current = null;
      main.querySelector('#case-title').textContent = `Case #${id}`;
      main.querySelector('#case-facts').replaceChildren();
      main.querySelector('#case-history').replaceChildren();
      error.textContent = `Could not load case ${id}: ${e.message}`;
    }
  }

  function render(focus) {
    const f = fromUrl();
    showFilters(f);
    error.textContent = '';
    saved.textContent = '';
    loadInbox(f);
    loadDetail(f.case, focus);
  }

  const go = (f, focus) => {
    history.pushState(null, '', `/${toSearch(f)}`);
    render(focus);
  };

  form.addEventListener('change', () => {
    const f = fromUrl();
    f.status = form.elements.status.value;
    f.team = form.elements.team.value;
    go(f, false);
  });
  form.addEventListener('submit', (e) => e.preventDefault());
  box.addEventListener('click', (e) => {
    const a = e.target.closest('a.case-link');
    if (!a) return;
    e.preventDefault();
    const f = fromUrl();
    f.case = a.closest('tr').dataset.id;
    go(f, true);
  });
  main.querySelector('#case-close').addEventListener('click', () => {
    const f = fromUrl();
    const id = f.case;
    delete f.case;
    go(f, false);
    const link = box.querySelector(`tr[data-id="${id}"] a`);
    if (link) link.focus();
  });

  edit.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!current) return;
    error.textContent = '';
    saved.textContent = '';
    const body = {};
    const a = edit.elements.assignee.value;
    const s = edit.elements.status.value;
    const note = edit.elements.note.value.trim();
    if (a !== (current.assignee || '')) body.assignee = a || null;
    if (s !== current.status) body.status = s;
    if (note) body.note = note;
    if (!Object.keys(body).length) {
      error.textContent = 'Nothing to save: choose an assignee or a status, or write a note.';
      return;
    }
    const btn = edit.querySelector('button[type=submit]');
    btn.disabled = true;
    try {
      await api('PATCH', `/v1/cases/${current.id}`, body);
      const f = fromUrl();
      await Promise.all([loadDetail(current.id, false), loadInbox(f)]);
      saved.textContent = `Case #${current.id} saved.`;
    } catch (err) {
      error.textContent = `Not saved: ${err.message}`;
    } finally {
      btn.disabled = false;
    }
  });

  render(false);

  return {
    redraw() {},
    pop() { render(false); },
    unmount() { seq++; },
  };
}
