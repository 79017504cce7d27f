// settings.js - the Settings page (admin only), one page in five sections
// with a table of contents (ids keys, webhooks, alerts, surveys, policy):
//   - API keys: GET /v1/keys, POST /v1/keys (the new key shown once, in a
//     read-only field with a Copy button), DELETE /v1/keys/{id} after an
//     in-page confirm step (409: the last admin key).
//   - Webhooks: GET /v1/webhooks, POST /v1/webhooks (the signing secret
//     shown once), PATCH /v1/webhooks/{id} {enabled}, DELETE after a
//     confirm; per endpoint its delivery log (GET /v1/webhooks/{id}/
//     deliveries?attempts=true) and POST /v1/webhooks/{id}/replay.
//   - Alert rules: GET /v1/alert-rules as a table and as JSON, PUT to save.
//   - Surveys: GET /v1/surveys; on demand GET /v1/surveys/{id}/results and
//     GET /v1/surveys/{id} (its JSON, saved with PUT /v1/surveys/{id}).
//   - Contact policy: GET /v1/contact-policy as a summary and JSON, PUT.
//   - E-mail: GET /v1/settings/email, PUT (the password is never shown;
//     left out it is kept, "" removes it).
// A 400 names the member in ApiError's `field` (rules[2].when), shown with
// the message.

import { api, get } from './api.js';
import { table, tableBox } from './charts.js';
import { el, failure, template } from './dom.js';
import { int, margin, none, num, pct } from './format.js';

export const ROLES = ['admin'];

const when = (ts) => (ts ? ts.replace('T', ' ').replace(/Z$/, ' UTC') : none);
// Seconds as "45 s", "12.5 min", "3.2 h" or "2.1 d".
function duration(s) {
  if (s === null || s === undefined || !Number.isFinite(s)) return none;
  if (s < 120) return `${int(s)} s`;
  if (s < 7200) return `${num(s / 60, 1)} min`;
  if (s < 172800) return `${num(s / 3600, 1)} h`;
  return `${num(s / 86400, 1)} d`;
}
const yesNo = (v) => (v ? 'yes' : 'no');
const list = (a) => (Array.isArray(a) ? a.join(', ') : (a === undefined || a === null ? none : String(a)));

// "rules[0].when: column 7: expected a value" (the member once).
function errorText(e) {
  const f = e.field;
  const m = e.message || '';
  return f && !m.startsWith(f) ? `${f}: ${m}` : m;
}

// ---- small builders ------------------------------------------------------------

function button(text, cls, label) {
  const b = el('button', cls, text);
  b.type = 'button';
  if (label) b.setAttribute('aria-label', label);
  return b;
}

// A table whose last column holds buttons: columns as charts.js table(),
// actions(row) -> [button...].
function actionTable(caption, columns, rows, actions) {
  const t = table(caption, columns.concat([{ label: 'Actions', text: true, get: () => '' }]), rows);
  const trs = t.tBodies[0].rows;
  rows.forEach((r, i) => {
    const cell = trs[i].cells[trs[i].cells.length - 1];
    cell.textContent = '';
    cell.className = 'text actions-cell';
    cell.append(...actions(r));
  });
  return t;
}

// A value shown once (a new key, a webhook secret): the box, its field and
// the Copy and hide buttons. Hidden again by hide(), when the focus leaves
// the section, and on unmount.
function onceBox(section, box) {
  const input = box.querySelector('input');
  const copied = box.querySelector('[role=status]');
  const hide = () => {
    input.value = '';
    copied.textContent = '';
    box.hidden = true;
  };
  box.querySelector('button.secondary:not([id$=done])').addEventListener('click', async () => {
    try {
      if (!navigator.clipboard) throw new Error('no clipboard');
      await navigator.clipboard.writeText(input.value);
      copied.textContent = 'Copied to the clipboard.';
    } catch (e) {
      input.select();
      copied.textContent = 'Copying is not allowed here: the text is selected, copy it with Ctrl+C (⌘C).';
    }
  });
  box.querySelector('button[id$=done]').addEventListener('click', () => {
    hide();
    section.focus();
  });
  section.addEventListener('focusout', (e) => {
    if (!box.hidden && e.relatedTarget && !section.contains(e.relatedTarget)) hide();
  });
  return {
    show(value) {
      input.value = value;
      copied.textContent = '';
      box.hidden = false;
      input.focus();
      input.select();
    },
    hide,
  };
}

// The in-page confirm step: ask(text, onYes, back) shows it and moves the
// focus to its text; Cancel (or Escape) hides it and focuses back.
function confirmBox(box) {
  const text = box.querySelector('p');
  const yes = box.querySelector('button.danger-solid');
  const no = box.querySelector('button.secondary');
  let action = null;
  let back = null;
  const close = (focus) => {
    box.hidden = true;
    action = null;
    if (focus && back && back.isConnected) back.focus();
  };
  yes.addEventListener('click', async () => {
    const a = action;
    if (!a) return;
    yes.disabled = true;
    try { await a(); } finally { yes.disabled = false; close(false); }
  });
  no.addEventListener('click', () => close(true));
  box.addEventListener('keydown', (e) => { if (e.key === 'Escape') close(true); });
  return {
    ask(msg, fn, from) {
      text.textContent = msg;
      action = fn;
      back = from;
      box.hidden = false;
      text.focus();
    },
    close,
  };
}

// A JSON document editor: load() GETs it into the textarea (pretty), Save
// PUTs it; the API's 400 inline (role=alert, aria-invalid), success in the
// form's status. onDoc(doc) draws the readable view.
function jsonEditor(form, path, onDoc, what) {
  const area = form.elements.doc;
  const error = form.querySelector('.error');
  const saved = form.querySelector('.status');
  let shown = null;
  const clear = () => {
    error.textContent = '';
    saved.textContent = '';
    area.removeAttribute('aria-invalid');
  };
  const show = (doc) => {
    shown = JSON.stringify(doc, null, 2);
    area.value = shown;
    onDoc(doc);
  };
  const fail = (msg) => {
    error.textContent = msg;
    area.setAttribute('aria-invalid', 'true');
    area.focus();
  };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clear();
    let doc;
    try { doc = JSON.parse(area.value); } catch (err) {
      fail(`Not saved: this is not valid JSON (${err.message}).`);
      return;
    }
    const btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    try {
      show(await api('PUT', path(), doc));
      saved.textContent = `${what()} saved.`;
    } catch (err) {
      fail(`Not saved, nothing changed: ${errorText(err)}`);
    } finally {
      btn.disabled = false;
    }
  });
  form.querySelector('button.reset').addEventListener('click', () => {
    clear();
    if (shown !== null) area.value = shown;
  });
  return {
    async load() {
      clear();
      show(await get(path()));
    },
    clear,
  };
}

// ---- API keys ------------------------------------------------------------------

function keysPart(main) {
  const section = main.querySelector('#keys');
  const box = main.querySelector('#keys-list');
  const error = main.querySelector('#key-error');
  const msg = main.querySelector('#key-msg');
  const form = main.querySelector('#key-form');
  const once = onceBox(section, main.querySelector('#key-new'));
  const confirm = confirmBox(main.querySelector('#key-confirm'));

  const label = (k) => (k.name ? `${k.name} (${k.id})` : k.id);

  async function load() {
    const keys = (await get('/v1/keys')).keys || [];
    tableBox(box, actionTable(`API keys (${keys.length})`, [
      { label: 'Name', text: true, get: (k) => k.name || none },
      { label: 'Id', text: true, get: (k) => k.id },
      { label: 'Role', text: true, get: (k) => k.role },
      { label: 'Created', text: true, get: (k) => when(k.created) },
      { label: 'Ends with', text: true, get: (k) => (k.hint ? `…${k.hint}` : none) },
      { label: 'Your sign-in', text: true, get: (k) => (k.current ? 'yes' : none) },
    ], keys, (k) => {
      const b = button('Revoke', 'secondary danger', `Revoke key ${label(k)}`);
      b.addEventListener('click', () => ask(k, b));
      return [b];
    }));
    const rows = box.querySelectorAll('tbody tr');
    keys.forEach((k, i) => { rows[i].dataset.id = k.id; });
  }

  function ask(k, from) {
    error.textContent = '';
    msg.textContent = '';
    confirm.ask(`Revoke the ${k.role} key ${label(k)}${k.hint ? `, ending with ${k.hint}` : ''}? ` +
      'Every program using it is refused from now on.' +
      (k.current ? ' You signed in with this key: revoking it signs you out now.' : ''),
    async () => {
      try {
        await api('DELETE', `/v1/keys/${encodeURIComponent(k.id)}`);
        msg.textContent = `Key ${label(k)} revoked.`;
        await load();
        section.focus();
      } catch (e) {
        error.textContent = `Not revoked: ${e.message}`;
        if (from.isConnected) from.focus();
      }
    }, from);
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    msg.textContent = '';
    const body = { role: form.elements.role.value };
    const name = form.elements.name.value.trim();
    if (name) body.name = name;
    const btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    try {
      const k = await api('POST', '/v1/keys', body);
      form.elements.name.value = '';
      msg.textContent = `Key ${label(k)} created for the ${k.role} role.`;
      await load();
      once.show(k.key);
    } catch (err) {
      error.textContent = `Not created: ${err.message}`;
    } finally {
      btn.disabled = false;
    }
  });

  return { load, unmount() { once.hide(); } };
}

// ---- webhooks ------------------------------------------------------------------

function hooksPart(main) {
  const section = main.querySelector('#webhooks');
  const box = main.querySelector('#hooks-list');
  const error = main.querySelector('#hook-error');
  const msg = main.querySelector('#hook-msg');
  const form = main.querySelector('#hook-form');
  const formError = main.querySelector('#hook-form-error');
  const log = main.querySelector('#hook-log');
  const logTable = main.querySelector('#hook-log-table');
  const logTitle = main.querySelector('#hook-log-title');
  const replay = main.querySelector('#replay-form');
  const once = onceBox(section, main.querySelector('#hook-new'));
  const confirm = confirmBox(main.querySelector('#hook-confirm'));
  let open = null;   // the endpoint whose log is shown

  const say = (m) => { error.textContent = ''; msg.textContent = m; };

  async function load() {
    const hooks = (await get('/v1/webhooks')).webhooks || [];
    if (!hooks.length) {
      box.replaceChildren(el('p', '', 'No webhook endpoints yet.'));
      box.removeAttribute('role');
      box.removeAttribute('tabindex');
      box.removeAttribute('aria-label');
    } else {
      tableBox(box, actionTable(`Webhook endpoints (${hooks.length})`, [
        { label: 'Id', text: true, get: (w) => w.id },
        { label: 'URL', text: true, get: (w) => w.url },
        { label: 'Event types', text: true, get: (w) => list(w.events) },
        { label: 'Description', text: true, get: (w) => w.description || none },
        { label: 'Enabled', text: true, get: (w) => yesNo(w.enabled) },
        { label: 'Created', text: true, get: (w) => when(w.created) },
      ], hooks, (w) => {
        const logB = button('Delivery log', 'secondary', `Delivery log of ${w.id}`);
        logB.addEventListener('click', () => showLog(w.id, true));
        const tog = button(w.enabled ? 'Disable' : 'Enable', 'secondary', `${w.enabled ? 'Disable' : 'Enable'} ${w.id}`);
        tog.addEventListener('click', () => toggle(w));
        const del = button('Delete', 'secondary danger', `Delete ${w.id}`);
        del.addEventListener('click', () => ask(w, del));
        return [logB, tog, del];
      }));
      const rows = box.querySelectorAll('tbody tr');
      hooks.forEach((w, i) => { rows[i].dataset.id = w.id; });
    }
    if (open && !hooks.some((w) => w.id === open)) closeLog();
  }

  const focusRow = (id, sel) => {
    const b = box.querySelector(`tr[data-id="${CSS.escape(id)}"] ${sel}`);
    if (b) b.focus();
  };

  async function toggle(w) {
    try {
      await api('PATCH', `/v1/webhooks/${encodeURIComponent(w.id)}`, { enabled: !w.enabled });
      await load();
      say(`Endpoint ${w.id} ${w.enabled ? 'disabled' : 'enabled'}.`);
      focusRow(w.id, 'button:nth-of-type(2)');
    } catch (e) {
      error.textContent = `Not changed: ${e.message}`;
    }
  }

  function ask(w, from) {
    error.textContent = '';
    msg.textContent = '';
    confirm.ask(`Delete the endpoint ${w.id} (${w.url})? Its delivery log goes with it and nothing more is sent to it.`,
      async () => {
        try {
          await api('DELETE', `/v1/webhooks/${encodeURIComponent(w.id)}`);
          if (open === w.id) closeLog();
          await load();
          say(`Endpoint ${w.id} deleted.`);
          section.focus();
        } catch (e) {
          error.textContent = `Not deleted: ${e.message}`;
          if (from.isConnected) from.focus();
        }
      }, from);
  }

  const tries = (d) => (d.attempts_log || []).map((a) =>
    `#${a.n} ${when(a.ts)}: ${a.code ? `HTTP ${a.code}` : 'no answer'}, ${int(a.ms)} ms${a.error ? `, ${a.error}` : ''}`).join('; ');

  async function showLog(id, focus) {
    open = id;
    log.hidden = false;
    logTitle.textContent = `Delivery log of ${id}`;
    replay.querySelector('.error').textContent = '';
    replay.querySelector('.status').textContent = '';
    logTable.replaceChildren(el('p', 'status', 'Loading…'));
    if (focus) logTitle.focus();
    try {
      const d = await get(`/v1/webhooks/${encodeURIComponent(id)}/deliveries`, { attempts: 'true' });
      if (open !== id) return;
      const rows = d.deliveries || [];
      if (!rows.length) {
        logTable.replaceChildren(el('p', '', 'Nothing sent to this endpoint yet.'));
        logTable.removeAttribute('role');
        logTable.removeAttribute('tabindex');
        return;
      }
      tableBox(logTable, table(`Deliveries to ${id}, newest first (${rows.length} shown)`, [
        { label: 'Outbox id', get: (r) => String(r.outbox) },
        { label: 'Event type', text: true, get: (r) => r.type },
        { label: 'Event time', text: true, get: (r) => when(r.ts) },
        { label: 'Customer', text: true, get: (r) => (r.customer ? `#${r.customer}` : none) },
        { label: 'Status', text: true, get: (r) => r.status },
        { label: 'Attempts', get: (r) => int(r.attempts) },
        { label: 'Last code', get: (r) => (r.last_code ? String(r.last_code) : none) },
        { label: 'Error', text: true, get: (r) => r.error || none },
        { label: 'Next attempt', text: true, get: (r) => when(r.next_attempt) },
        { label: 'Tries', text: true, get: (r) => tries(r) || none },
      ], rows));
      const trs = logTable.querySelectorAll('tbody tr');
      rows.forEach((r, i) => { trs[i].dataset.outbox = String(r.outbox); });
    } catch (e) {
      if (open === id) logTable.replaceChildren(failure(e));
    }
  }

  function closeLog() {
    open = null;
    log.hidden = true;
    logTable.replaceChildren();
  }

  main.querySelector('#hook-log-refresh').addEventListener('click', () => { if (open) showLog(open, false); });
  main.querySelector('#hook-log-close').addEventListener('click', () => {
    const id = open;
    closeLog();
    if (id) focusRow(id, 'button');
  });

  replay.addEventListener('submit', async (e) => {
    e.preventDefault();
    const err = replay.querySelector('.error');
    const ok = replay.querySelector('.status');
    err.textContent = '';
    ok.textContent = '';
    const from = Number(replay.elements.from.value);
    const to = Number(replay.elements.to.value);
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < 1 || to < from) {
      err.textContent = 'Give two outbox ids, the first not above the second.';
      return;
    }
    try {
      const r = await api('POST', `/v1/webhooks/${encodeURIComponent(open)}/replay`, { from, to });
      ok.textContent = `${int(r.replayed)} events queued again for ${open}.`;
      await showLog(open, false);
    } catch (x) {
      err.textContent = `Not replayed: ${errorText(x)}`;
    }
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    formError.textContent = '';
    msg.textContent = '';
    for (const f of ['url', 'events']) form.elements[f].removeAttribute('aria-invalid');
    const url = form.elements.url.value.trim();
    const ev = form.elements.events.value.trim();
    const body = {
      url,
      events: ev === '*' ? '*' : ev.split(',').map((s) => s.trim()).filter(Boolean),
    };
    const d = form.elements.description.value.trim();
    if (d) body.description = d;
    const bad = (f, m) => {
      formError.textContent = m;
      form.elements[f].setAttribute('aria-invalid', 'true');
      form.elements[f].focus();
    };
    if (!url) { bad('url', 'Enter the URL the events are sent to.'); return; }
    if (!ev) { bad('events', 'Enter * or at least one event type.'); return; }
    const btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    try {
      const w = await api('POST', '/v1/webhooks', body);
      form.reset();
      await load();
      say(`Endpoint ${w.id} added.`);
      if (w.secret) once.show(w.secret);
    } catch (err) {
      const f = /^events/.test(err.field || '') ? 'events' : 'url';
      bad(f, `Not added: ${errorText(err)}`);
    } finally {
      btn.disabled = false;
    }
  });

  return { load, unmount() { once.hide(); open = null; } };
}

// ---- alert rules -----------------------------------------------------------------

function rulesPart(main) {
  const box = main.querySelector('#rules-list');
  const draw = (doc) => {
    const rules = doc.rules || [];
    if (!rules.length) {
      box.replaceChildren(el('p', '', 'No alert rules: no case opens by itself.'));
      return;
    }
    tableBox(box, table(`Alert rules (${rules.length})`, [
      { label: 'Name', text: true, get: (r) => r.name || r.id },
      { label: 'Id', text: true, get: (r) => r.id },
      { label: 'When', text: true, get: (r) => r.when },
      { label: 'Priority', text: true, get: (r) => r.priority || 'normal' },
      { label: 'Team', text: true, get: (r) => r.team || none },
      { label: 'Opens a case', text: true, get: (r) => yesNo(r.open_case !== false) },
      { label: 'Emits an alert', text: true, get: (r) => yesNo(r.emit === true) },
      { label: 'Enabled', text: true, get: (r) => yesNo(r.enabled !== false) },
    ], rules));
  };
  return jsonEditor(main.querySelector('#rules-form'), () => '/v1/alert-rules', draw, () => 'The alert rules');
}

// ---- contact policy --------------------------------------------------------------

const kinds = (k) => (k === 'all' ? 'every kind' : list(k));

function policyPart(main) {
  const dl = main.querySelector('#policy-summary');
  const draw = (p) => {
    const c = p.consent || {};
    const s = p.suppress || {};
    const days = (n) => (n ? `${int(n)} days` : 'off');
    const facts = [
      ['Need marketing consent', list(c.marketing) || none],
      ['Need survey consent', list(c.surveys) || none],
      ['Consent never given counts as', c.unknown_is_yes ? 'yes' : 'no'],
      ['Not while a case is open', list(s.open_case) || none],
      ['No survey after an answer within', days(s.survey_answered_days)],
      ['No acquisition action after a purchase within', days(s.recent_purchase_days)],
      ['Caps', (p.caps || []).map((x) => `at most ${int(x.max)} of ${kinds(x.kinds)} in ${int(x.days)} days`).join('; ') || 'none'],
      ['Gaps', (p.gaps || []).map((x) => `${int(x.days)} days between two of ${kinds(x.kinds)}`).join('; ') || 'none'],
    ];
    dl.replaceChildren();
    for (const [k, v] of facts) dl.append(el('dt', '', k), el('dd', '', v === '' ? none : v));
  };
  return jsonEditor(main.querySelector('#policy-form'), () => '/v1/contact-policy', draw, () => 'The contact policy');
}

// ---- surveys -------------------------------------------------------------------

function surveysPart(main) {
  const box = main.querySelector('#surveys-list');
  const detail = main.querySelector('#survey-detail');
  const title = main.querySelector('#survey-title');
  const facts = main.querySelector('#survey-facts');
  const links = main.querySelector('#survey-links');
  let open = null;
  const editor = jsonEditor(main.querySelector('#survey-form'), () => `/v1/surveys/${encodeURIComponent(open)}`,
    (doc) => {
      links.replaceChildren();
      if (doc.anonymous) {
        const a = el('a', '', `Open link of ${doc.name || doc.id} (public page)`);
        a.href = `/s/open/${encodeURIComponent(doc.id)}`;
        links.append(el('p', '', ''));
        links.firstChild.append(a);
      } else {
        links.append(el('p', 'help', 'No open link: respondents get a personal link by invitation.'));
      }
    }, () => `Survey ${open}`);

  async function load() {
    const surveys = (await get('/v1/surveys')).surveys || [];
    if (!surveys.length) {
      box.replaceChildren(el('p', '', 'No surveys yet.'));
      return;
    }
    tableBox(box, actionTable(`Surveys (${surveys.length})`, [
      { label: 'Name', text: true, get: (s) => s.name || s.id },
      { label: 'Id', text: true, get: (s) => s.id },
      { label: 'Kind', text: true, get: (s) => s.kind },
      { label: 'Enabled', text: true, get: (s) => yesNo(s.enabled) },
      { label: 'Questions', get: (s) => int(s.questions) },
      { label: 'Invited', get: (s) => int(s.invited) },
      { label: 'Responded', get: (s) => int(s.responded) },
      { label: 'Completed', get: (s) => int(s.completed) },
    ], surveys, (s) => {
      const b = button('Results', 'secondary', `Results of ${s.name || s.id}`);
      b.addEventListener('click', () => show(s));
      return [b];
    }));
    const rows = box.querySelectorAll('tbody tr');
    surveys.forEach((s, i) => { rows[i].dataset.id = s.id; });
  }

  const metric = (m, fmt) => [fmt(m.value), margin(m.margin), `(n = ${int(m.n)})`].filter(Boolean).join(' ');

  async function show(s) {
    open = s.id;
    detail.hidden = false;
    title.textContent = `Results of ${s.name || s.id}`;
    facts.replaceChildren(el('dt', '', 'Loading…'));
    title.focus();
    try {
      const [r] = await Promise.all([get(`/v1/surveys/${encodeURIComponent(s.id)}/results`), editor.load()]);
      if (open !== s.id) return;
      const m = r.metrics || {};
      const rows = [
        ['Invited', int(r.invited)], ['Responded', int(r.responded)], ['Completed', int(r.completed)],
        ['Response rate', pct(r.response_rate)], ['Completion rate', pct(r.completion_rate)],
        ['Median time to respond', duration(r.median_seconds_to_respond)],
      ];
      if (m.nps) rows.push(['NPS', metric(m.nps, (v) => num(v))]);
      if (m.csat) rows.push(['CSAT', metric(m.csat, (v) => pct(v))]);
      if (m.ces) rows.push(['CES', metric(m.ces, (v) => num(v))]);
      const sk = Object.entries(r.skipped || {});
      rows.push(['Not invited', sk.length ? sk.map(([k, v]) => `${k}: ${int(v)}`).join(', ') : none]);
      facts.replaceChildren();
      for (const [k, v] of rows) {
        const dd = el('dd', '', v);
        dd.dataset.k = k;
        facts.append(el('dt', '', k), dd);
      }
    } catch (e) {
      if (open === s.id) facts.replaceChildren(el('dd', 'error', `Could not load: ${e.message}`));
    }
  }

  main.querySelector('#survey-close').addEventListener('click', () => {
    const id = open;
    open = null;
    detail.hidden = true;
    const b = id && box.querySelector(`tr[data-id="${CSS.escape(id)}"] button`);
    if (b) b.focus();
  });

  return { load, unmount() { open = null; } };
}

// ---- e-mail settings -------------------------------------------------------------

function emailPart(main) {
  const form = main.querySelector('#email-form');
  const now = main.querySelector('#email-now');
  const error = main.querySelector('#email-error');
  const saved = main.querySelector('#email-saved');
  const fields = ['smtp_url', 'from', 'username', 'password', 'timeout_ms'];
  const show = (d) => {
    now.textContent = d.smtp_url
      ? `In use: ${d.smtp_url}, from ${d.from}${d.username ? `, user ${d.username}` : ''}, ` +
        `${d.password_set ? 'a password is stored' : 'no password'}, timeout ${int(d.timeout_ms)} ms.`
      : 'No SMTP server yet: no e-mail is sent.';
    form.elements.smtp_url.value = d.smtp_url || '';
    form.elements.from.value = d.from || '';
    form.elements.username.value = d.username || '';
    form.elements.password.value = '';
    form.elements.clear.checked = false;
    form.elements.clear.closest('.check').hidden = !d.password_set;
    form.elements.timeout_ms.value = d.timeout_ms || '';
  };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    saved.textContent = '';
    for (const f of fields) form.elements[f].removeAttribute('aria-invalid');
    const body = { smtp_url: form.elements.smtp_url.value.trim(), from: form.elements.from.value.trim() };
    const user = form.elements.username.value.trim();
    if (user) body.username = user;
    const pass = form.elements.password.value;
    if (pass) body.password = pass;
    else if (form.elements.clear.checked) body.password = '';
    const t = form.elements.timeout_ms.value.trim();
    if (t) body.timeout_ms = Number(t);
    const btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    try {
      show(await api('PUT', '/v1/settings/email', body));
      saved.textContent = 'The e-mail settings saved.';
    } catch (err) {
      error.textContent = `Not saved, nothing changed: ${errorText(err)}`;
      const f = fields.includes(err.field) ? err.field : 'smtp_url';
      form.elements[f].setAttribute('aria-invalid', 'true');
      form.elements[f].focus();
    } finally {
      btn.disabled = false;
      form.elements.password.value = '';
    }
  });
  return { async load() { show(await get('/v1/settings/email')); }, unmount() { form.elements.password.value = ''; } };
}

// ---- the page ------------------------------------------------------------------

export async function mount(main) {
  main.replaceChildren(await template('settings'));
  document.title = 'Settings · cxm';
  const status = main.querySelector('#status');
  status.textContent = 'Loading…';

  // The table of contents: move the focus to the section, not only the view.
  main.querySelector('.set-toc').addEventListener('click', (e) => {
    const a = e.target.closest('a[href^="#"]');
    if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    const s = main.querySelector(a.getAttribute('href'));
    if (!s) return;
    e.preventDefault();
    history.replaceState(history.state, '', a.getAttribute('href'));
    s.focus();
    s.scrollIntoView();
  });

  const parts = [
    ['API keys', keysPart(main)],
    ['webhooks', hooksPart(main)],
    ['alert rules', rulesPart(main)],
    ['surveys', surveysPart(main)],
    ['contact policy', policyPart(main)],
    ['e-mail settings', emailPart(main)],
  ];
  const targets = ['#keys-list', '#hooks-list', '#rules-list', '#surveys-list', '#policy-error', '#email-now'];
  const done = await Promise.allSettled(parts.map(([, p]) => p.load()));
  const bad = [];
  done.forEach((d, i) => {
    if (d.status === 'rejected') {
      bad.push(`${parts[i][0]} (${d.reason.message})`);
      main.querySelector(targets[i]).replaceChildren(failure(d.reason));
    }
  });
  status.textContent = bad.length ? `Could not load: ${bad.join(', ')}.` : 'Settings loaded.';
  if (location.hash) {
    const s = main.querySelector(location.hash.replace(/[^#\w-]/g, ''));
    if (s && s.classList.contains('set-section')) s.scrollIntoView();
  }

  return {
    redraw() {},
    pop() {},
    unmount() { for (const [, p] of parts) if (p.unmount) p.unmount(); },
  };
}
