#!/usr/bin/env node
// settings.test.js - the dashboard's Settings page (web/dashboard/
// settings.js, admin only) in a real browser against the real server on
// demo data: the API keys table against GET /v1/keys; a key created by
// keyboard shown once (it works against the API, a reload no longer shows
// it), revoked through the in-page confirm (the API then refuses it), the
// last admin key's 409 in the alert; a webhook endpoint added (its secret
// shown once), delivered to a tiny local receiver, its delivery log against
// GET .../deliveries, disabled and deleted; the alert rules and the contact
// policy: a broken document's API error inline with nothing changed, a
// valid change saved; the surveys table against GET /v1/surveys and a
// survey's results; a keyboard-only walk; axe in the normal, larger-text
// and high-contrast modes; 320 px; the analyst and the agent without
// Settings; no console errors beyond the 4xx answers provoked on purpose.
//
// Run: CXM_BIN=/tmp/cxm-dev/cxm CXM_WEB_DIR=web/dashboard node tests/browser/settings.test.js
// Env as in harness.js (CXM_BROWSER_SHOTS=DIR saves screenshots).
'use strict';

const http = require('http');
const { assert, eq, createHarness, dashboardHelpers } = require('./harness');

const TOTAL_MS = 60000;
let receiver = null;   // the local webhook receiver
const received = [];
const h = createHarness({
  tmpPrefix: 'cxm-settings-', shotPrefix: 'settings-', totalMs: TOTAL_MS, axeMessages: true,
  state: { analyst: '', agent: '' },
  onStop: () => { if (receiver) receiver.close(); },
});
const { state, test, startServer, axe, shot } = h;
const {
  problems, apiCall, apiGet, watch, noProblems, signIn, signOut, setMode, scrolls,
} = dashboardHelpers(state, { allow: [[409, /\/v1\/keys\/[0-9a-f]{16}$/], [400, /\/v1\/(alert-rules|contact-policy|settings\/email)$/]] });
const DB = h.db;

// ---- plumbing --------------------------------------------------------------

const int = (v) => new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 }).format(v);
const fixed = (v, d) => new Intl.NumberFormat('en-US',
  { minimumFractionDigits: d, maximumFractionDigits: d }).format(v);
const NONE = '–';
const when = (ts) => (ts ? ts.replace('T', ' ').replace(/Z$/, ' UTC') : NONE);

async function open(page) {
  await page.goto(`${state.base}/?page=settings`);
  await page.waitForFunction(() => /^Settings loaded/.test((document.querySelector('#status') || {}).textContent || ''));
}

// Presses Tab until pred() holds in the page, at most max times.
async function tabTo(page, pred, max = 60, arg) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(pred, arg)) return;
  }
  throw new Error(`Tab never reached ${String(pred)} ${arg || ''}`);
}

// A table's body rows as [[cell texts]], with each row's data-id.
const rowsOf = (page, sel) => page.$$eval(`${sel} tbody tr`, (trs) => trs.map((tr) => ({
  id: tr.dataset.id || tr.dataset.outbox || '',
  cells: [...tr.querySelectorAll('th, td')].map((c) => c.textContent),
})));

async function keysMatch(page) {
  const want = (await apiGet('/v1/keys')).keys;
  await page.waitForFunction((n) => document.querySelectorAll('#keys-list tbody tr').length === n, want.length);
  const got = await rowsOf(page, '#keys-list');
  eq(got.length, want.length, 'keys listed');
  want.forEach((k, i) => {
    eq(got[i].id, k.id, `key ${i} id`);
    eq(got[i].cells[0], k.name || NONE, `name of ${k.id}`);
    eq(got[i].cells[1], k.id, `id cell of ${k.id}`);
    eq(got[i].cells[2], k.role, `role of ${k.id}`);
    eq(got[i].cells[3], when(k.created), `created of ${k.id}`);
    eq(got[i].cells[4], k.hint ? `…${k.hint}` : NONE, `hint of ${k.id}`);
    eq(got[i].cells[5], k.current ? 'yes' : NONE, `the signed-in key ${k.id}`);
  });
  return want;
}

// ---- the tests ----------------------------------------------------------------

async function main() {
  let page;
  const ok = await test('server starts on demo data; analyst and agent keys; a webhook receiver', async () => {
    await h.cxm(['demo', '--db', DB, '--customers', '2000']);
    await startServer();
    state.analyst = (await h.cxm(['keys', 'create', '--db', DB, '--role', 'analyst'])).trim();
    state.agent = (await h.cxm(['keys', 'create', '--db', DB, '--role', 'agent'])).trim();
    assert(/^cxm_/.test(state.analyst) && /^cxm_/.test(state.agent), 'keys');
    receiver = http.createServer((req, res) => {
      let b = '';
      req.on('data', (c) => { b += c; });
      req.on('end', () => { received.push({ url: req.url, headers: req.headers, body: b }); res.end('ok'); });
    });
    await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
    page = await h.launchBrowser({ width: 1280, height: 900 });
    watch(page);
  });
  if (!ok || !page) return;

  if (!await test('sign in by keyboard; the Settings page with its sections and contents', async () => {
    await signIn(page, state.key);
    await page.locator('#nav a[data-page=settings]').click();
    await page.waitForFunction(() => /^Settings loaded/.test((document.querySelector('#status') || {}).textContent || ''));
    eq(await page.locator('#nav a[aria-current=page]').innerText(), 'Settings', 'nav');
    eq(await page.locator('main h1').count(), 1, 'one h1');
    eq(await page.evaluate(() => document.activeElement.tagName), 'H1', 'focus on the h1');
    const toc = await page.$$eval('.set-toc a', (as) => as.map((a) => a.getAttribute('href')));
    eq(JSON.stringify(toc), JSON.stringify(['#keys', '#webhooks', '#alerts', '#surveys', '#policy', '#email']), 'contents');
    for (const id of ['keys', 'webhooks', 'alerts', 'surveys', 'policy', 'email']) {
      eq(await page.locator(`section#${id} h2`).count(), 1, `h2 of ${id}`);
    }
    await shot(page, 'page');
    noProblems('open');
  })) return;

  let created = null;
  await test('keys: the table is GET /v1/keys; one admin key in the demo', async () => {
    const keys = await keysMatch(page);
    eq(keys.filter((k) => k.role === 'admin').length, 1, 'admin keys');
    eq(await page.locator('#keys-list caption').count(), 1, 'caption');
    eq(await page.locator('#keys-list thead th[scope=col]').count(), 7, 'column headers');
    eq(keys.filter((k) => k.current).length, 1, 'one key marked as the sign-in (the admin key here)');
    assert(keys.find((k) => k.current).role === 'admin', 'the admin key is the current one');
    eq(await page.locator('#keys-list tbody th[scope=row]').count(), keys.length, 'row headers');
  });

  await test('keys: create one by keyboard; shown once, it works, a reload hides it', async () => {
    await page.locator('main h1').focus();
    await tabTo(page, () => document.activeElement.id === 'key-name');
    const name = `bi tool ${Date.now() % 100000}`;
    await page.keyboard.type(name);
    await page.keyboard.press('Tab');
    eq(await page.evaluate(() => document.activeElement.id), 'key-role', 'role next');
    eq(await page.locator('#key-role').inputValue(), 'analyst', 'default role');
    await page.keyboard.press('Tab');
    eq(await page.evaluate(() => document.activeElement.textContent), 'Create key', 'button next');
    await page.keyboard.press('Enter');
    await page.locator('#key-new').waitFor();
    const key = await page.locator('#key-value').inputValue();
    assert(/^cxm_/.test(key), `key ${key}`);
    eq(await page.evaluate(() => document.activeElement.id), 'key-value', 'focus on the key');
    eq(await page.locator('#key-value').getAttribute('readonly'), '', 'read-only');
    eq(await page.locator('label[for=key-value]').innerText(), 'New API key, shown only this once', 'label');
    assert(/will not be shown again/.test(await page.locator('#key-new-warn').innerText()), 'warning');
    const keys = await apiGet('/v1/keys');
    const k = keys.keys.find((x) => x.name === name);
    assert(k && k.role === 'analyst' && k.hint === key.slice(-4), `in GET /v1/keys: ${JSON.stringify(k)}`);
    created = { key, id: k.id, name };
    await keysMatch(page);
    const m = await apiCall('GET', '/v1/metrics?metric=nps', undefined, key);
    eq(m.status, 200, 'the new key works');
    await shot(page, 'key-created');
    // Copy: the clipboard may be refused headless; either way a status.
    await page.locator('#key-copy').focus();
    await page.keyboard.press('Enter');
    await page.locator('#key-copied:not(:empty)').waitFor();
    // Leaving the section hides it.
    await page.locator('.set-toc a[href="#alerts"]').focus();
    await page.locator('#key-new').waitFor({ state: 'hidden' });
    eq(await page.locator('#key-value').inputValue(), '', 'emptied');
    await page.reload();
    await page.waitForFunction(() => /^Settings loaded/.test((document.querySelector('#status') || {}).textContent || ''));
    eq(await page.locator('#key-new').isHidden(), true, 'hidden after reload');
    assert(!(await page.content()).includes(key), 'the key is on the page after a reload');
    await page.locator(`#keys-list tr[data-id="${k.id}"]`).waitFor();
    noProblems('create key');
  });

  await test('keys: revoke through the confirm step; the API refuses the key', async () => {
    assert(created, 'no key from the step before');
    await page.locator('main h1').focus();
    await tabTo(page, (id) => document.activeElement.closest && !!document.activeElement.closest(`tr[data-id="${id}"]`), 60, created.id);
    eq(await page.evaluate(() => document.activeElement.textContent), 'Revoke', 'on Revoke');
    await page.keyboard.press('Enter');
    await page.locator('#key-confirm').waitFor();
    eq(await page.evaluate(() => document.activeElement.id), 'key-confirm-text', 'focus on the question');
    const q = await page.locator('#key-confirm-text').innerText();
    assert(q.includes(created.id) && /refused from now on/.test(q) && !/signs you out/.test(q),
      `confirm text (not the signed-in key): ${q}`);
    // Cancel first: nothing happens, focus back.
    await page.keyboard.press('Escape');
    await page.locator('#key-confirm').waitFor({ state: 'hidden' });
    eq(await page.evaluate(() => document.activeElement.textContent), 'Revoke', 'focus back');
    eq((await apiCall('GET', '/v1/metrics?metric=nps', undefined, created.key)).status, 200, 'still works');
    await page.keyboard.press('Enter');
    await page.locator('#key-confirm').waitFor();
    await page.keyboard.press('Tab');
    eq(await page.evaluate(() => document.activeElement.id), 'key-confirm-yes', 'on the confirm button');
    await shot(page, 'key-confirm');
    await page.keyboard.press('Enter');
    await page.locator('#key-msg', { hasText: 'revoked' }).waitFor();
    await page.locator(`#keys-list tr[data-id="${created.id}"]`).waitFor({ state: 'detached' });
    eq((await apiCall('GET', '/v1/metrics?metric=nps', undefined, created.key)).status, 401, 'the API refuses it');
    const keys = await keysMatch(page);
    assert(!keys.some((k) => k.id === created.id), 'still in GET /v1/keys');
    noProblems('revoke');
  });

  await test('keys: revoking the last admin key shows the 409 in the alert', async () => {
    const admins = (await apiGet('/v1/keys')).keys.filter((k) => k.role === 'admin');
    eq(admins.length, 1, 'one admin key');
    const id = admins[0].id;
    await page.locator(`#keys-list tr[data-id="${id}"] button`).click();
    assert(/signs you out/.test(await page.locator('#key-confirm-text').innerText()),
      'the signed-in key: the question says it signs you out');
    await page.locator('#key-confirm-yes').click();
    await page.locator('#key-error:not(:empty)').waitFor();
    const r = await apiCall('DELETE', `/v1/keys/${id}`);
    eq(r.status, 409, 'API status');
    const msg = await page.locator('#key-error').innerText();
    assert(msg.includes(r.json.error.message), `alert: ${msg} / API: ${r.json.error.message}`);
    eq(await page.locator('#key-error').getAttribute('role'), 'alert', 'role');
    eq((await apiGet('/v1/keys')).keys.length, (await rowsOf(page, '#keys-list')).length, 'nothing revoked');
    eq(await page.evaluate(() => document.activeElement.closest('tr') && document.activeElement.closest('tr').dataset.id), id, 'focus back on the row');
    await shot(page, 'key-409');
    noProblems('last admin');
  });

  let hook = null;
  await test('webhooks: add one; secret once; list is GET /v1/webhooks; delivered', async () => {
    const url = `http://127.0.0.1:${receiver.address().port}/hook`;
    await page.fill('#hook-url', url);
    await page.fill('#hook-desc', 'test receiver');
    await page.locator('#hook-form button[type=submit]').click();
    await page.locator('#hook-new').waitFor();
    const secret = await page.locator('#hook-secret').inputValue();
    assert(/^whsec_/.test(secret), `secret ${secret}`);
    const want = (await apiGet('/v1/webhooks')).webhooks;
    eq(want.length, 1, 'one endpoint');
    hook = want[0];
    eq(hook.url, url, 'url');
    const got = await rowsOf(page, '#hooks-list');
    eq(got.length, 1, 'rows');
    eq(got[0].id, hook.id, 'id');
    eq(JSON.stringify(got[0].cells.slice(0, 6)), JSON.stringify([hook.id, hook.url, hook.events.join(', '),
      hook.description, hook.enabled ? 'yes' : 'no', when(hook.created)]), 'cells');
    // An event for it: a new customer.
    const ev = await apiCall('POST', '/v1/events', { type: 'customer', crm: `T-${Date.now()}`, email: 'hook@example.com' });
    eq(ev.status, 200, `POST /v1/events ${ev.text}`);
    for (let i = 0; i < 50 && !received.length; i++) await new Promise((r) => setTimeout(r, 100));
    assert(received.length > 0, 'nothing received');
    assert(received[0].headers['webhook-signature'], 'signed');
    noProblems('add webhook');
  });

  await test('webhooks: the delivery log is GET .../deliveries; disable; delete', async () => {
    assert(hook, 'no endpoint');
    let d;
    for (let i = 0; i < 30; i++) {
      d = await apiGet(`/v1/webhooks/${hook.id}/deliveries?attempts=true`);
      if (d.deliveries.length && d.deliveries.every((x) => x.status !== 'pending')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await page.locator(`#hooks-list tr[data-id="${hook.id}"] button`, { hasText: 'Delivery log' }).click();
    await page.locator('#hook-log-table table').waitFor();
    eq(await page.evaluate(() => document.activeElement.id), 'hook-log-title', 'focus on the log');
    const got = await rowsOf(page, '#hook-log-table');
    eq(got.length, d.deliveries.length, 'deliveries');
    d.deliveries.forEach((x, i) => {
      const c = got[i].cells;
      eq(c[0], String(x.outbox), `outbox ${i}`);
      eq(c[1], x.type, `type ${i}`);
      eq(c[4], x.status, `status ${i}`);
      eq(c[5], int(x.attempts), `attempts ${i}`);
      eq(c[6], x.last_code ? String(x.last_code) : NONE, `last code ${i}`);
    });
    assert(d.deliveries.some((x) => x.status === 'delivered'), 'a delivered one');
    await shot(page, 'webhook-log');
    await axe(page, 'settings with a delivery log');
    // disable
    await page.locator(`#hooks-list tr[data-id="${hook.id}"] button`, { hasText: 'Disable' }).click();
    await page.locator('#hook-msg', { hasText: 'disabled' }).waitFor();
    eq((await apiGet(`/v1/webhooks/${hook.id}`)).enabled, false, 'disabled in the API');
    eq((await rowsOf(page, '#hooks-list'))[0].cells[4], 'no', 'enabled cell');
    // delete
    await page.locator(`#hooks-list tr[data-id="${hook.id}"] button`, { hasText: 'Delete' }).click();
    await page.locator('#hook-confirm').waitFor();
    await page.locator('#hook-confirm-yes').click();
    await page.locator('#hook-msg', { hasText: 'deleted' }).waitFor();
    eq((await apiGet('/v1/webhooks')).webhooks.length, 0, 'gone from the API');
    eq(await page.locator('#hooks-list table').count(), 0, 'gone from the page');
    eq(await page.locator('#hook-log').isHidden(), true, 'log closed');
    noProblems('webhook log');
  });

  // A JSON editor: a broken document shows the API's error and changes
  // nothing; a valid one is saved and read back.
  async function editor(name, path, breakIt, change, check) {
    const before = await apiGet(path);
    eq(await page.locator(`#${name}-json`).inputValue(), JSON.stringify(before, null, 2), 'textarea is GET');
    const broken = breakIt(JSON.parse(JSON.stringify(before)));
    await page.fill(`#${name}-json`, JSON.stringify(broken, null, 2));
    await page.locator(`#${name}-form button[type=submit]`).click();
    await page.locator(`#${name}-error:not(:empty)`).waitFor();
    const r = await apiCall('PUT', path, broken);
    eq(r.status, 400, 'API refuses');
    const msg = await page.locator(`#${name}-error`).innerText();
    assert(msg.includes(r.json.error.message) && msg.includes(r.json.error.field), `alert ${msg} / API ${r.text}`);
    eq(await page.locator(`#${name}-error`).getAttribute('role'), 'alert', 'role');
    eq(await page.locator(`#${name}-json`).getAttribute('aria-invalid'), 'true', 'aria-invalid');
    eq(JSON.stringify(await apiGet(path)), JSON.stringify(before), 'nothing changed');
    const good = change(JSON.parse(JSON.stringify(before)));
    await page.fill(`#${name}-json`, JSON.stringify(good, null, 2));
    await page.locator(`#${name}-form button[type=submit]`).click();
    await page.locator(`#${name}-saved`, { hasText: 'saved' }).waitFor();
    eq(await page.locator(`#${name}-saved`).getAttribute('role'), 'status', 'status role');
    eq(await page.locator(`#${name}-json`).getAttribute('aria-invalid'), null, 'valid again');
    eq(await page.locator(`#${name}-error`).innerText(), '', 'no error');
    const after = await apiGet(path);
    await check(after);
    eq(await page.locator(`#${name}-json`).inputValue(), JSON.stringify(after, null, 2), 'textarea is GET after');
  }

  await test('alert rules: the table is GET; a broken rule refused inline; a change saved', async () => {
    const doc = await apiGet('/v1/alert-rules');
    const rows = await rowsOf(page, '#rules-list');
    eq(rows.length, doc.rules.length, 'rules');
    doc.rules.forEach((r, i) => {
      eq(rows[i].cells[1], r.id, `id ${i}`);
      eq(rows[i].cells[2], r.when, `when ${i}`);
      eq(rows[i].cells[3], r.priority || 'normal', `priority ${i}`);
      eq(rows[i].cells[4], r.team || NONE, `team ${i}`);
      eq(rows[i].cells[5], r.open_case === false ? 'no' : 'yes', `opens ${i}`);
    });
    await editor('rules', '/v1/alert-rules',
      (d) => { d.rules[1].when = 'nps <='; return d; },
      (d) => { d.rules[0].priority = 'urgent'; return d; },
      async (after) => {
        eq(after.rules[0].priority, 'urgent', 'priority in the API');
        eq((await rowsOf(page, '#rules-list'))[0].cells[3], 'urgent', 'priority in the table');
      });
    await shot(page, 'rules');
    noProblems('alert rules');
  });

  await test('contact policy: a summary; a broken cap refused inline; a change saved', async () => {
    const p = await apiGet('/v1/contact-policy');
    const sum = await page.locator('#policy-summary').innerText();
    assert(sum.includes(p.consent.marketing.join(', ')), `marketing consent in ${sum}`);
    assert(sum.includes(`at most ${p.caps[0].max}`), 'caps');
    await editor('policy', '/v1/contact-policy',
      (d) => { d.caps[0].max = -1; return d; },
      (d) => { d.gaps[0].days = 5; return d; },
      async (after) => {
        eq(after.gaps[0].days, 5, 'gap in the API');
        assert((await page.locator('#policy-summary').innerText()).includes('5 days between two of'), 'gap in the summary');
      });
    noProblems('policy');
  });

  await test('e-mail: a refused server inline; saved; the password never shown, kept', async () => {
    eq((await apiGet('/v1/settings/email')).smtp_url, null, 'none in the demo');
    await page.fill('#email-url', 'http://mail.example.com');
    await page.fill('#email-from', 'care@example.com');
    await page.locator('#email-form button[type=submit]').click();
    await page.locator('#email-error:not(:empty)').waitFor();
    assert(/smtp_url/.test(await page.locator('#email-error').innerText()), 'names smtp_url');
    eq(await page.locator('#email-url').getAttribute('aria-invalid'), 'true', 'aria-invalid');
    eq((await apiGet('/v1/settings/email')).smtp_url, null, 'nothing changed');
    const secret = `pw-${Date.now()}`;
    await page.fill('#email-url', 'smtp://127.0.0.1:9');
    await page.fill('#email-user', 'care');
    await page.fill('#email-pass', secret);
    await page.locator('#email-form button[type=submit]').click();
    await page.locator('#email-saved', { hasText: 'saved' }).waitFor();
    const d = await apiGet('/v1/settings/email');
    eq(d.smtp_url, 'smtp://127.0.0.1:9', 'url');
    eq(d.from, 'care@example.com', 'from');
    eq(d.username, 'care', 'user');
    eq(d.password_set, true, 'password set');
    eq(await page.locator('#email-pass').inputValue(), '', 'password field emptied');
    assert(!(await page.content()).includes(secret), 'the password is on the page');
    assert(/a password is stored/.test(await page.locator('#email-now').innerText()), 'says stored');
    // Saving again without a password keeps it.
    await page.fill('#email-timeout', '5000');
    await page.locator('#email-form button[type=submit]').click();
    await page.locator('#email-now', { hasText: 'timeout 5,000 ms' }).waitFor();
    const d2 = await apiGet('/v1/settings/email');
    eq(d2.password_set, true, 'still set');
    eq(d2.timeout_ms, 5000, 'timeout');
    noProblems('e-mail');
  });

  await test('surveys: the table is GET /v1/surveys; results on demand', async () => {
    const want = (await apiGet('/v1/surveys')).surveys;
    const got = await rowsOf(page, '#surveys-list');
    eq(got.length, want.length, 'surveys');
    want.forEach((s, i) => {
      const c = got[i].cells;
      eq(got[i].id, s.id, `id ${i}`);
      eq(c[0], s.name || s.id, `name ${i}`);
      eq(c[2], s.kind, `kind ${i}`);
      eq(c[3], s.enabled ? 'yes' : 'no', `enabled ${i}`);
      eq(c[4], int(s.questions), `questions ${i}`);
      eq(c[5], int(s.invited), `invited ${i}`);
      eq(c[6], int(s.responded), `responded ${i}`);
      eq(c[7], int(s.completed), `completed ${i}`);
    });
    const s = want.find((x) => x.invited > 0) || want[0];
    await page.locator(`#surveys-list tr[data-id="${s.id}"] button`).click();
    await page.locator('#survey-facts dd[data-k="Invited"]').waitFor();
    const r = await apiGet(`/v1/surveys/${s.id}/results`);
    eq(await page.locator('#survey-facts dd[data-k="Invited"]').innerText(), int(r.invited), 'invited');
    eq(await page.locator('#survey-facts dd[data-k="Response rate"]').innerText(),
      r.response_rate === null ? NONE : `${fixed(r.response_rate, 1)}%`, 'response rate');
    if (r.metrics && r.metrics.nps) {
      const n = r.metrics.nps;
      const t = await page.locator('#survey-facts dd[data-k="NPS"]').innerText();
      assert(t.startsWith(fixed(n.value, 1)) && t.includes(`n = ${int(n.n)}`), `NPS ${t}`);
    }
    eq(await page.locator('#survey-json').inputValue(), JSON.stringify(await apiGet(`/v1/surveys/${s.id}`), null, 2), 'document');
    await shot(page, 'survey');
    noProblems('surveys');
  });

  await test('keyboard only: the contents move the focus; every control is reached', async () => {
    await open(page);
    await page.locator('main h1').focus();
    await tabTo(page, () => document.activeElement.getAttribute('href') === '#policy');
    await page.keyboard.press('Enter');
    eq(await page.evaluate(() => document.activeElement.id), 'policy', 'focus on the section');
    await page.keyboard.press('Tab');
    eq(await page.evaluate(() => document.activeElement.id), 'policy-json', 'next: the policy JSON');
    await page.locator('main h1').focus();
    const want = await page.$$eval('main a[href], main button, main input, main select, main textarea, main [tabindex="0"]',
      (els) => els.filter((e) => e.offsetParent !== null && !e.disabled).length);
    const seen = new Set();
    for (let i = 0; i < want + 5; i++) {
      await page.keyboard.press('Tab');
      const a = await page.evaluate(() => {
        const e = document.activeElement;
        if (!e || !document.querySelector('main').contains(e)) return null;
        const s = getComputedStyle(e);
        const all = [...document.querySelectorAll('main *')];
        return { i: all.indexOf(e), outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2 };
      });
      if (!a) break;
      assert(a.outline, `no visible focus on element ${a.i}`);
      seen.add(a.i);
    }
    eq(seen.size, want, 'controls reached by Tab');
    noProblems('keyboard');
  });

  await test('axe in normal, larger-text and high-contrast modes', async () => {
    await page.locator('#surveys-list tbody tr button').first().click();
    await page.locator('#survey-facts dd').first().waitFor();
    await axe(page, 'settings');
    await setMode(page, 'pref-large', true);
    await axe(page, 'settings, larger text');
    await shot(page, 'large');
    await setMode(page, 'pref-large', false);
    await setMode(page, 'pref-contrast', true);
    await axe(page, 'settings, high contrast');
    await shot(page, 'contrast');
    await setMode(page, 'pref-contrast', false);
    noProblems('axe');
  });

  await test('320 px wide: no horizontal scroll, in larger text too', async () => {
    await page.setViewportSize({ width: 320, height: 640 });
    await page.waitForTimeout(100);
    assert(!(await scrolls(page)), 'scrolls sideways');
    await shot(page, 'phone');
    await setMode(page, 'pref-large', true);
    await page.waitForTimeout(100);
    assert(!(await scrolls(page)), 'larger text scrolls sideways');
    await setMode(page, 'pref-large', false);
    await page.setViewportSize({ width: 1280, height: 900 });
    noProblems('320 px');
  });

  await test('analyst and agent: no Settings link; ?page=settings shows the Overview', async () => {
    await signOut(page);
    for (const key of [state.analyst, state.agent]) {
      await signIn(page, key);
      eq(await page.locator('#nav a[data-page=settings]').isHidden(), true, 'no Settings nav item');
      await page.goto(`${state.base}/?page=settings`);
      await page.locator('main h1', { hasText: 'Overview' }).waitFor();
      eq(await page.locator('#keys').count(), 0, 'no keys section');
      await signOut(page);
    }
    noProblems('roles');
  });
}

h.run(main);
