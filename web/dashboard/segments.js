// segments.js - the Segments page (admin, analyst, agent): every segment
// with its live member count (GET /v1/segments); an opened segment
// (/?page=segments&segment=ID, GET /v1/segments/{id}) with, for admin and
// agent only, its members (GET /v1/segments/{id}/members, "Load more" with
// the cursor) and a CSV export link (the same route with format=csv); and,
// for admin and analyst, a rule builder: as the rule is typed its member
// count or its error comes from POST /v1/segments/preview (debounced), the
// features it may use from GET /v1/features, and save (POST /v1/segments),
// change (PUT /v1/segments/{id}) and delete (DELETE, after a confirm step).
// The analyst never sees members: the API refuses them (personal data).

import { api, get } from './api.js';
import { table, tableBox } from './charts.js';
import { el, template } from './dom.js';
import { int, none, num, when } from './format.js';

export const ROLES = ['admin', 'analyst', 'agent'];
const WRITERS = ['admin', 'analyst'];
const READERS = ['admin', 'agent'];    // of members: names are personal data
const PAGE = 50;                       // members per page
const DEBOUNCE_MS = 300;

const plural = (n, one, many) => `${int(n)} ${n === 1 ? one : many}`;

// An id from a name: "Lapsed buyers (EU)" -> "lapsed-buyers-eu".
export const slug = (s) => s.toLowerCase().normalize('NFKD').replace(/[\u0300-\u036f]/g, '')
  .replace(/[^a-z0-9_]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 64).replace(/-+$/, '');

function openId() {
  const v = (new URLSearchParams(location.search).get('segment') || '').trim();
  return /^[a-z0-9_-]{1,64}$/.test(v) ? v : '';
}

const hrefOf = (id) => (id ? `/?page=segments&segment=${encodeURIComponent(id)}` : '/?page=segments');

function listTable(segments, open) {
  const t = document.createElement('table');
  t.id = 'seg-table';
  t.createCaption().textContent = `Segments (${segments.length}) with live member counts`;
  const head = t.createTHead().insertRow();
  for (const [label, text] of [['Segment', true], ['Members', false], ['Id', true], ['Rule', true]]) {
    const th = el('th', text ? 'text' : '', label);
    th.scope = 'col';
    head.append(th);
  }
  const body = t.createTBody();
  for (const s of segments) {
    const tr = body.insertRow();
    tr.dataset.id = s.id;
    if (s.id === open) tr.className = 'selected';
    const th = el('th', 'text');
    th.scope = 'row';
    const a = el('a', 'seg-link', s.name || s.id);
    a.href = hrefOf(s.id);
    if (s.id === open) a.setAttribute('aria-current', 'true');
    th.append(a);
    const rule = el('td', 'text');
    rule.append(el('code', '', s.rule));
    tr.append(th, el('td', 'members', int(s.members)), el('td', 'text', s.id), rule);
  }
  return t;
}

function memberTable(rows, total) {
  const t = document.createElement('table');
  t.id = 'seg-member-table';
  t.createCaption().textContent = `Members (${int(total)} in all)`;
  const head = t.createTHead().insertRow();
  for (const [label, text] of [['Name', true], ['Country', true], ['Orders', false], ['Revenue', false], ['Last NPS', false]]) {
    const th = el('th', text ? 'text' : '', label);
    th.scope = 'col';
    head.append(th);
  }
  t.createTBody();
  addMembers(t, rows);
  return t;
}

function addMembers(t, rows) {
  const body = t.tBodies[0];
  for (const r of rows) {
    const tr = body.insertRow();
    const th = el('th', 'text');
    th.scope = 'row';
    const a = el('a', '', r.name || `Customer #${r.id}`);
    a.href = `/?page=customers&customer=${r.id}`;
    th.append(a);
    tr.append(th, el('td', 'text', r.country || none), el('td', '', int(r.orders)),
      el('td', '', num(r.revenue, 2)), el('td', '', Number.isFinite(r.last_nps) ? int(r.last_nps) : none));
  }
}

function featureTable(features) {
  return table(`Features (${features.length})`, [
    { label: 'Feature', text: true, get: (f) => f.name },
    { label: 'Type', text: true, get: (f) => f.type },
    { label: 'Meaning', text: true, get: (f) => f.meaning + (f.time_dependent ? ' (changes with the date)' : '') },
  ], features);
}

export async function mount(main, role) {
  main.replaceChildren(await template('segments'));
  document.title = 'Segments · cxm';
  const canWrite = WRITERS.includes(role);
  const canMembers = READERS.includes(role);
  const $ = (s) => main.querySelector(s);
  const status = $('#status');
  const listBox = $('#seg-list');
  const detail = $('#seg-detail');
  const builder = $('#seg-builder');
  const form = $('#seg-form');
  const f = form.elements;
  const ruleError = $('#seg-rule-error');
  const ruleCount = $('#seg-rule-count');
  const saveError = $('#seg-save-error');
  const saved = $('#seg-saved');
  const confirm = $('#seg-confirm');
  let alive = true;
  let current = null;     // the opened segment
  let listSeq = 0;
  let detailSeq = 0;
  let previewSeq = 0;
  let timer = 0;
  let idTouched = false;
  let cursor = null;      // of the members' next page
  let shown = 0;          // members shown
  let saving = false;
  let fetching = false;   // a page of members

  builder.hidden = !canWrite;

  // ---- the list ----
  async function loadList() {
    const mine = ++listSeq;
    status.textContent = 'Loading…';
    try {
      const d = await get('/v1/segments');
      if (!alive || mine !== listSeq) return;
      const segs = d.segments || [];
      if (!segs.length) listBox.replaceChildren(el('p', '', 'No segments yet.'));
      else tableBox(listBox, listTable(segs, openId()));
      status.textContent = `${plural(segs.length, 'segment', 'segments')}.`;
    } catch (e) {
      if (!alive || mine !== listSeq) return;
      status.textContent = `The segments could not be loaded: ${e.message}`;
    }
  }

  // ---- the opened segment ----
  function facts(s) {
    const dl = $('#seg-facts');
    dl.replaceChildren();
    const code = el('code', '', s.rule);
    const rows = [['Id', s.id], ['Members', int(s.members)], ['Rule', code],
      ['Description', s.description || none], ['Created', when(s.created)], ['Changed', when(s.updated)]];
    if (s.time_dependent) rows.push(['Reads the date', 'yes: members are recomputed every day (UTC)']);
    for (const [k, v] of rows) {
      const dd = el('dd', k === 'Members' ? 'seg-count' : '');
      dd.append(v);
      dl.append(el('dt', '', k), dd);
    }
  }

  async function loadMembers(more) {
    const id = current.id;
    const box = $('#seg-members');
    const btn = $('#seg-more');
    const line = $('#seg-members-status');
    fetching = true;
    try {
      const d = await get(`/v1/segments/${encodeURIComponent(id)}/members`,
        { limit: PAGE, cursor: more ? cursor : undefined });
      if (!alive || !current || current.id !== id) return;
      const rows = d.rows || [];
      if (more) addMembers(box.querySelector('table'), rows);
      else if (rows.length) tableBox(box, memberTable(rows, d.members));
      else box.replaceChildren(el('p', '', 'This segment has no members now.'));
      shown = (more ? shown : 0) + rows.length;
      cursor = d.next_cursor || null;
      btn.hidden = !cursor;
      line.textContent = rows.length || more ? `Showing ${int(shown)} of ${int(d.members)} members.` : '';
      if (more && rows.length) box.querySelector(`tbody tr:nth-child(${shown - rows.length + 1}) a`).focus();
    } catch (e) {
      if (alive) line.textContent = `The members could not be loaded: ${e.message}`;
    } finally {
      fetching = false;
    }
  }

  // Every member in one CSV file (the API reads them page by page).
  function exportLink(s) {
    const a = $('#seg-export');
    a.href = `/v1/segments/${encodeURIComponent(s.id)}/members?format=csv`;
    a.setAttribute('download', `segment-${s.id}.csv`);
    $('#seg-export-help').textContent =
      `All ${plural(s.members, 'member', 'members')} in one file. Columns: id, name, country, orders, revenue, last NPS.`;
  }

  async function loadDetail(id, focus) {
    const mine = ++detailSeq;
    $('#seg-detail-error').textContent = '';
    if (!id) {
      current = null;
      detail.hidden = true;
      fillForm();
      return;
    }
    try {
      const s = await get(`/v1/segments/${encodeURIComponent(id)}`);
      if (!alive || mine !== detailSeq) return;
      current = s;
      detail.hidden = false;
      $('#seg-title').textContent = `Segment: ${s.name || s.id}`;
      facts(s);
      $('#seg-members-part').hidden = !canMembers;
      if (canMembers) {
        exportLink(s);
        loadMembers(false);
      }
      if (focus) $('#seg-title').focus();
    } catch (e) {
      if (!alive || mine !== detailSeq) return;
      current = null;
      detail.hidden = false;
      $('#seg-title').textContent = `Segment ${id}`;
      $('#seg-facts').replaceChildren();
      $('#seg-members-part').hidden = true;
      $('#seg-detail-error').textContent = `Could not load segment ${id}: ${e.message}`;
    }
    fillForm();
  }

  // ---- the builder ----
  function fillForm() {
    if (!canWrite) return;
    const s = current;
    $('#h-builder').textContent = s ? `Change segment ${s.name || s.id}` : 'New segment';
    f.name.value = s ? s.name : '';
    f.id.value = s ? s.id : '';
    f.id.readOnly = !!s;
    f.description.value = s ? s.description || '' : '';
    f.rule.value = s ? s.rule : '';
    idTouched = !!s;
    $('#seg-save').textContent = s ? 'Save changes' : 'Save segment';
    $('#seg-delete').hidden = !s;
    $('#seg-new').hidden = !s;
    confirm.hidden = true;
    saveError.textContent = '';
    setRuleError('');
    preview(true);
  }

  function setRuleError(msg) {
    ruleError.textContent = msg;
    if (msg) f.rule.setAttribute('aria-invalid', 'true');
    else f.rule.removeAttribute('aria-invalid');
  }

  async function preview(now) {
    clearTimeout(timer);
    const mine = ++previewSeq;
    const rule = f.rule.value.trim();
    if (!rule) {
      setRuleError('');
      ruleCount.textContent = 'Write a rule to see how many customers it matches.';
      return;
    }
    if (!now) {
      timer = setTimeout(() => { if (mine === previewSeq) preview(true); }, DEBOUNCE_MS);
      return;
    }
    try {
      const d = await api('POST', '/v1/segments/preview', { rule });
      if (!alive || mine !== previewSeq) return;
      setRuleError('');
      ruleCount.textContent = `${plural(d.members, 'customer matches', 'customers match')} this rule now (of ${int(d.profiles)} profiles).`;
    } catch (e) {
      if (!alive || mine !== previewSeq) return;
      ruleCount.textContent = '';
      setRuleError(`The rule has an error: ${e.message}`);
    }
  }

  f.rule.addEventListener('input', () => preview(false));
  f.name.addEventListener('input', () => { if (!idTouched && !current) f.id.value = slug(f.name.value); });
  f.id.addEventListener('input', () => { idTouched = f.id.value !== ''; });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    saveError.textContent = '';
    saved.textContent = '';
    const body = { name: f.name.value.trim(), rule: f.rule.value.trim(), description: f.description.value.trim() };
    const missing = [['name', 'a name'], ['id', 'an id'], ['rule', 'a rule']].filter(([k]) => !f[k].value.trim());
    for (const k of ['name', 'id']) f[k].removeAttribute('aria-invalid');
    if (missing.length) {
      saveError.textContent = `Not saved: give the segment ${missing.map((m) => m[1]).join(' and ')}.`;
      for (const [k] of missing) if (k !== 'rule') f[k].setAttribute('aria-invalid', 'true');
      f[missing[0][0]].focus();
      return;
    }
    if (saving) return;   // not disabled: the button keeps the focus
    saving = true;
    try {
      let s;
      if (current) {
        s = await api('PUT', `/v1/segments/${encodeURIComponent(current.id)}`, body);
      } else {
        body.id = f.id.value.trim();
        s = await api('POST', '/v1/segments', body);
        history.pushState(null, '', hrefOf(s.id));
      }
      await Promise.all([loadList(), loadDetail(s.id, false)]);
      saved.textContent = `Segment ${s.name || s.id} saved: ${plural(s.members, 'member', 'members')}.`;
    } catch (err) {
      saveError.textContent = `Not saved: ${err.message}`;
      if (err.status === 400) preview(true);   // marks the rule when it is the rule
    } finally {
      saving = false;
    }
  });

  $('#seg-delete').addEventListener('click', () => {
    if (!current) return;
    $('#seg-confirm-text').textContent = `Delete segment ${current.name || current.id} (${current.id})? ` +
      'Reports filtered by it and actions aimed at it stop working. This cannot be undone.';
    confirm.hidden = false;
    $('#seg-confirm-no').focus();
  });
  $('#seg-confirm-no').addEventListener('click', () => {
    confirm.hidden = true;
    $('#seg-delete').focus();
  });
  $('#seg-confirm-yes').addEventListener('click', async () => {
    if (!current) return;
    const s = current;
    saveError.textContent = '';
    try {
      await api('DELETE', `/v1/segments/${encodeURIComponent(s.id)}`);
      history.pushState(null, '', hrefOf(''));
      await Promise.all([loadList(), loadDetail('', false)]);
      status.textContent = `Segment ${s.name || s.id} deleted. ${status.textContent}`;
      $('#h-seg-list').focus();
    } catch (err) {
      confirm.hidden = true;
      saveError.textContent = `Not deleted: ${err.message}`;
      $('#seg-delete').focus();
    }
  });

  // ---- navigation ----
  function go(id, focus) {
    history.pushState(null, '', hrefOf(id));
    return render(focus);
  }

  // Resolves once the list is drawn again.
  function render(focus) {
    saved.textContent = '';
    loadDetail(openId(), focus);
    return loadList();
  }

  listBox.addEventListener('click', (e) => {
    const a = e.target.closest('a.seg-link');
    if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    go(a.closest('tr').dataset.id, true);
  });
  $('#seg-close').addEventListener('click', async () => {
    const id = current && current.id;
    await go('', false);
    const link = listBox.querySelector(`tr[data-id="${id}"] a`);
    if (link) link.focus();
    else $('#h-seg-list').focus();
  });
  $('#seg-new').addEventListener('click', () => {
    go('', false);
    $('#h-builder').focus();
  });
  $('#seg-more').addEventListener('click', () => { if (cursor && !fetching) loadMembers(true); });

  if (canWrite) {
    get('/v1/features').then((d) => {
      if (!alive) return;
      const feats = d.features || [];
      $('#seg-features summary').textContent = `Features the rule can use (${feats.length})`;
      tableBox($('#seg-features-table'), featureTable(feats));
    }).catch((e) => {
      if (alive) $('#seg-features-table').replaceChildren(el('p', 'error', `The features could not be loaded: ${e.message}`));
    });
  }

  render(false);

  return {
    redraw() {},
    pop() { render(false); },
    unmount() {
      alive = false;
      clearTimeout(timer);
    },
  };
}
