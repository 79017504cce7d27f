#!/usr/bin/env node
// segments.test.js - the dashboard's Segments page (web/dashboard/
// segments.js) in a real browser against the real server on demo data: the
// list against GET /v1/segments, the live count of a typed rule against
// POST /v1/segments/preview, a broken rule's error inline (aria-invalid,
// aria-describedby), the features against GET /v1/features, create, change
// and delete (the API agrees after each; a refused delete in the alert),
// the members table and "Load more" against GET .../members, the CSV export
// link (a real download with the session cookie) against the API, back and
// forward, building and saving by keyboard only, axe in the normal,
// larger-text and high-contrast modes, 320 px, the analyst (counts and the
// builder, never a member) and the agent (members, no builder), and no
// console errors.
//
// Run: CXM_BIN=/tmp/cxm-dev/cxm CXM_WEB_DIR=web/dashboard node tests/browser/segments.test.js
// Env as in harness.js (CXM_BROWSER_SHOTS=DIR saves screenshots).
'use strict';

const fs = require('fs');
const { assert, eq, createHarness, dashboardHelpers } = require('./harness');

const TOTAL_MS = 60000;
const h = createHarness({
  tmpPrefix: 'cxm-segments-', shotPrefix: 'segments-', totalMs: TOTAL_MS, axeMessages: true,
  state: { analyst: '', agent: '' },
});
const { state, test, startServer, axe, shot } = h;
const {
  problems, apiCall, apiGet, watch, noProblems, signIn, signOut, setMode, scrolls,
} = dashboardHelpers(state, { allow: [[400, /\/v1\/segments\/preview$/]] });
const DB = h.db;

// ---- plumbing --------------------------------------------------------------

// Numbers as the page writes them (web/dashboard/format.js).
const int = (v) => new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 }).format(v);
const fixed = (v, d) => new Intl.NumberFormat('en-US',
  { minimumFractionDigits: d, maximumFractionDigits: d }).format(v);
const NONE = '–';
const countText = (p) => `${int(p.members)} ${p.members === 1 ? 'customer matches' : 'customers match'}` +
  ` this rule now (of ${int(p.profiles)} profiles).`;

// Opens the page (optionally a segment) by URL and waits for the list.
async function open(page, id) {
  await page.goto(`${state.base}/?page=segments${id ? `&segment=${id}` : ''}`);
  await page.locator('#seg-table').waitFor();
  if (id) await page.locator('#seg-title', { hasText: 'Segment: ' }).waitFor();
}

// The list's rows: [{name, id, members, rule}].
const listRows = (page) => page.$$eval('#seg-table tbody tr', (trs) => trs.map((tr) => {
  const c = [...tr.querySelectorAll('th, td')].map((x) => x.textContent);
  return { name: c[0], members: c[1], id: c[2], rule: c[3], href: tr.querySelector('a').getAttribute('href') };
}));

async function listMatches(page, key = state.key) {
  const want = (await apiGet('/v1/segments', key)).segments;
  await page.waitForFunction((n) => document.querySelectorAll('#seg-table tbody tr').length === n, want.length);
  const got = await listRows(page);
  eq(got.length, want.length, 'segments listed');
  want.forEach((s, i) => {
    eq(got[i].name, s.name, `name of ${s.id}`);
    eq(got[i].id, s.id, `id of ${s.id}`);
    eq(got[i].members, int(s.members), `members of ${s.id}`);
    eq(got[i].rule, s.rule, `rule of ${s.id}`);
    eq(got[i].href, `/?page=segments&segment=${s.id}`, `link of ${s.id}`);
  });
  return want;
}

// The members table's rows: [{name, href, country, orders, revenue, nps}].
const memberRows = (page) => page.$$eval('#seg-member-table tbody tr', (trs) => trs.map((tr) => {
  const c = [...tr.querySelectorAll('th, td')].map((x) => x.textContent);
  return { name: c[0], href: tr.querySelector('a').getAttribute('href'),
    country: c[1], orders: c[2], revenue: c[3], nps: c[4] };
}));

function rowsMatch(got, want, what) {
  eq(got.length, want.length, `${what}: rows`);
  want.forEach((r, i) => {
    const g = got[i];
    eq(g.name, r.name, `${what}: name ${i}`);
    eq(g.href, `/?page=customers&customer=${r.id}`, `${what}: link ${i}`);
    eq(g.country, r.country || NONE, `${what}: country ${i}`);
    eq(g.orders, int(r.orders), `${what}: orders ${i}`);
    eq(g.revenue, fixed(r.revenue, 2), `${what}: revenue ${i}`);
    eq(g.nps, r.last_nps === null || r.last_nps === undefined ? NONE : int(r.last_nps), `${what}: NPS ${i}`);
  });
}

// RFC 4180 enough for the export: quoted fields with "" inside.
function parseCsv(text) {
  const rows = [];
  let row = [];
  let f = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') { f += '"'; i++; } else if (c === '"') q = false; else f += c;
    } else if (c === '"') q = true;
    else if (c === ',') { row.push(f); f = ''; } else if (c === '\n') { row.push(f); rows.push(row); row = []; f = ''; } else if (c !== '\r') f += c;
  }
  if (f || row.length) { row.push(f); rows.push(row); }
  return rows;
}

// Types a rule into the cleared textarea, as a person would.
async function typeRule(page, rule) {
  await page.locator('#seg-rule').fill('');
  await page.locator('#seg-rule').focus();
  await page.keyboard.type(rule);
}

async function preview(rule) {
  const r = await apiCall('POST', '/v1/segments/preview', { rule });
  return r;
}

const waitText = (page, sel, text) => page.waitForFunction(([s, t]) => {
  const e = document.querySelector(s);
  return e && e.textContent === t;
}, [sel, text]);

// ---- the tests ----------------------------------------------------------------

async function main() {
  let page;
  const ok = await test('server starts on demo data; analyst and agent keys', async () => {
    await h.cxm(['demo', '--db', DB, '--customers', '2000']);
    await startServer();
    state.analyst = (await h.cxm(['keys', 'create', '--db', DB, '--role', 'analyst'])).trim();
    state.agent = (await h.cxm(['keys', 'create', '--db', DB, '--role', 'agent'])).trim();
    assert(/^cxm_/.test(state.analyst) && /^cxm_/.test(state.agent), 'keys');
  });
  if (!ok) return;

  const started = await test('browser starts; admin signs in by keyboard; the Segments nav item', async () => {
    page = await h.launchBrowser({ width: 1280, height: 900 });
    watch(page);
    await signIn(page, state.key);
    await page.locator('#nav a[data-page=segments]').click();
    await page.locator('#seg-table').waitFor();
    eq(await page.locator('#nav a[aria-current=page]').innerText(), 'Segments', 'nav');
    eq(await page.locator('main h1').count(), 1, 'one h1');
    eq(await page.locator('main h1').innerText(), 'Segments', 'h1');
    eq(await page.evaluate(() => document.activeElement.tagName), 'H1', 'focus on the h1');
    noProblems('sign-in');
  });
  if (!started) return;

  await test('the list is GET /v1/segments: names, ids, live counts, rules, links', async () => {
    const want = await listMatches(page);
    assert(want.length >= 3, `demo segments: ${want.length}`);
    eq(await page.locator('#seg-table caption').innerText(), `Segments (${want.length}) with live member counts`, 'caption');
    eq(await page.locator('#seg-table thead th[scope=col]').count(), 4, 'column headers');
    eq(await page.locator('#seg-table tbody th[scope=row]').count(), want.length, 'row headers');
    eq(await page.locator('#seg-list').getAttribute('role'), 'region', 'scroll region');
    await shot(page, 'list');
  });

  await test('a typed valid rule shows the count POST /v1/segments/preview answers', async () => {
    const rule = "orders >= 2 and country in ('DE', 'FR')";
    const p = await preview(rule);
    eq(p.status, 200, 'preview status');
    await typeRule(page, rule);
    await waitText(page, '#seg-rule-count', countText(p.json));
    eq(await page.locator('#seg-rule-count').getAttribute('role'), 'status', 'polite status');
    eq(await page.locator('#seg-rule').getAttribute('aria-invalid'), null, 'not invalid');
    eq(await page.locator('#seg-rule-error').innerText(), '', 'no error');
    eq(await page.locator('label[for=seg-rule]').innerText(), 'Rule', 'label');
    // another rule: the count follows
    const rule2 = "nps_category = 'promoter'";
    const p2 = await preview(rule2);
    await typeRule(page, rule2);
    await waitText(page, '#seg-rule-count', countText(p2.json));
    noProblems('valid rule');
  });

  await test('a broken rule: the API\'s error inline, aria-invalid, described by', async () => {
    for (const rule of ["orders >= 1 and (country = 'DE'", 'ordrs > 2']) {
      const p = await preview(rule);
      eq(p.status, 400, `preview of ${rule}`);
      const msg = p.json.error.message;
      assert(/column \d+/.test(msg), `message names the column: ${msg}`);
      await typeRule(page, rule);
      await page.waitForFunction((m) => document.querySelector('#seg-rule-error').textContent.includes(m), msg);
      eq(await page.locator('#seg-rule').getAttribute('aria-invalid'), 'true', 'aria-invalid');
      eq(await page.locator('#seg-rule-count').innerText(), '', 'no count');
    }
    const described = (await page.locator('#seg-rule').getAttribute('aria-describedby')).split(' ');
    assert(described.includes('seg-rule-error') && described.includes('seg-rule-count'), `aria-describedby ${described}`);
    await shot(page, 'rule-error');
    await axe(page, 'a rule error');
    const rule = 'orders > 2';
    const p = await preview(rule);
    await typeRule(page, rule);
    await waitText(page, '#seg-rule-count', countText(p.json));
    eq(await page.locator('#seg-rule').getAttribute('aria-invalid'), null, 'valid again');
    noProblems('broken rule');
  });

  await test('the features are GET /v1/features: name, type, meaning', async () => {
    const feats = (await apiGet('/v1/features')).features;
    const details = page.locator('#seg-features');
    eq(await details.getAttribute('open'), null, 'closed at first');
    await page.locator('#seg-features summary').focus();
    await page.keyboard.press('Enter');
    await page.locator('#seg-features table').waitFor({ state: 'visible' });
    const rows = await page.$$eval('#seg-features tbody tr', (trs) => trs.map((tr) =>
      [...tr.children].map((c) => c.textContent)));
    eq(rows.length, feats.length, 'features');
    feats.forEach((f, i) => {
      eq(rows[i][0], f.name, `name ${i}`);
      eq(rows[i][1], f.type, `type ${i}`);
      assert(rows[i][2].startsWith(f.meaning), `meaning of ${f.name}: ${rows[i][2]}`);
    });
    await page.keyboard.press('Enter');   // closes it again
  });

  const NEW = 'test-big-spenders';
  await test('save creates the segment; GET /v1/segments/{id} agrees; the list shows it', async () => {
    await page.locator('#seg-name').fill('Test big spenders');
    eq(await page.locator('#seg-id').inputValue(), NEW, 'id made from the name');
    await page.locator('#seg-description').fill('spent 500 or more');
    const rule = 'revenue >= 500';
    await typeRule(page, rule);
    await waitText(page, '#seg-rule-count', countText((await preview(rule)).json));
    await page.locator('#seg-save').click();
    await page.locator('#seg-saved:not(:empty)').waitFor();
    const s = await apiGet(`/v1/segments/${NEW}`);
    eq(s.name, 'Test big spenders', 'name');
    eq(s.rule, rule, 'rule');
    eq(s.description, 'spent 500 or more', 'description');
    eq(await page.locator('#seg-saved').innerText(), `Segment ${s.name} saved: ${int(s.members)} members.`, 'saved text');
    assert(page.url().endsWith(`?page=segments&segment=${NEW}`), `URL ${page.url()}`);
    await page.locator('#seg-title', { hasText: s.name }).waitFor();
    eq(await page.locator('#seg-facts .seg-count').innerText(), int(s.members), 'count in the detail');
    await listMatches(page);
    noProblems('create');
  });

  await test('an id that exists: the API\'s 409 in the alert, nothing changed', async () => {
    await page.locator('#seg-new').click();
    await page.waitForFunction(() => document.querySelector('#seg-id').value === '' && !document.querySelector('#seg-id').readOnly);
    await page.locator('#seg-name').fill('Another');
    await page.locator('#seg-id').fill('lapsed');
    await typeRule(page, 'orders > 9');
    await page.locator('#seg-save').click();
    const r = await apiCall('POST', '/v1/segments', { id: 'lapsed', name: 'Another', rule: 'orders > 9' });
    eq(r.status, 409, 'API status');
    await page.waitForFunction((m) => document.querySelector('#seg-save-error').textContent.includes(m), r.json.error.message);
    eq(await page.locator('#seg-save-error').getAttribute('role'), 'alert', 'role');
    eq((await apiGet('/v1/segments/lapsed')).name, 'Lapsed buyers', 'unchanged');
    problems.splice(0);   // the 409 was logged on purpose
  });

  await test('change an opened segment: PUT, the API and the page agree', async () => {
    await open(page, NEW);
    eq(await page.locator('#seg-id').inputValue(), NEW, 'id in the form');
    eq(await page.locator('#seg-id').getAttribute('readonly'), '', 'id read-only');
    eq(await page.locator('#h-builder').innerText(), 'Change segment Test big spenders', 'heading');
    await page.locator('#seg-name').fill('Test bigger spenders');
    const rule = 'revenue >= 1000';
    await typeRule(page, rule);
    await waitText(page, '#seg-rule-count', countText((await preview(rule)).json));
    await page.locator('#seg-save').click();
    await page.locator('#seg-saved:not(:empty)').waitFor();
    const s = await apiGet(`/v1/segments/${NEW}`);
    eq(s.name, 'Test bigger spenders', 'name');
    eq(s.rule, rule, 'rule');
    await page.locator('#seg-title', { hasText: s.name }).waitFor();
    eq(await page.locator('#seg-facts .seg-count').innerText(), int(s.members), 'count');
    await listMatches(page);
    noProblems('change');
  });

  await test('delete with a confirm step: the API forgets it; a refused delete in the alert', async () => {
    await page.locator('#seg-delete').click();
    await page.locator('#seg-confirm').waitFor();
    eq(await page.evaluate(() => document.activeElement.id), 'seg-confirm-no', 'focus on "Keep it"');
    assert((await page.locator('#seg-confirm-text').innerText()).includes(NEW), 'confirm names it');
    await page.keyboard.press('Enter');   // keep it
    await page.locator('#seg-confirm').waitFor({ state: 'hidden' });
    eq((await apiCall('GET', `/v1/segments/${NEW}`)).status, 200, 'still there');
    eq(await page.evaluate(() => document.activeElement.id), 'seg-delete', 'focus back');
    await page.keyboard.press('Enter');
    await page.locator('#seg-confirm-yes').click();
    await page.locator('#seg-detail').waitFor({ state: 'hidden' });
    eq((await apiCall('GET', `/v1/segments/${NEW}`)).status, 404, 'gone');
    await page.locator('#status', { hasText: 'deleted' }).waitFor();   // after the list reloads
    assert(page.url().endsWith('?page=segments'), `URL ${page.url()}`);
    await listMatches(page);
    // "lapsed" is named by the winback action: 409
    await open(page, 'lapsed');
    await page.locator('#seg-delete').click();
    await page.locator('#seg-confirm-yes').click();
    const r = await apiCall('DELETE', '/v1/segments/lapsed');
    eq(r.status, 409, 'API refuses');
    await page.waitForFunction((m) => document.querySelector('#seg-save-error').textContent.includes(m), r.json.error.message);
    eq((await apiCall('GET', '/v1/segments/lapsed')).status, 200, 'lapsed still there');
    problems.splice(0);   // the 409 was logged on purpose
  });

  await test('members: the first page is GET .../members; "Load more" the next', async () => {
    await open(page, 'lapsed');
    const d = await apiGet('/v1/segments/lapsed/members?limit=50');
    assert(d.next_cursor, 'lapsed has more than one page');
    await page.locator('#seg-member-table').waitFor();
    rowsMatch(await memberRows(page), d.rows, 'first page');
    eq(await page.locator('#seg-member-table caption').innerText(), `Members (${int(d.members)} in all)`, 'caption');
    eq(await page.locator('#seg-members-status').innerText(), `Showing ${int(d.rows.length)} of ${int(d.members)} members.`, 'status');
    const d2 = await apiGet(`/v1/segments/lapsed/members?limit=50&cursor=${d.next_cursor}`);
    await page.locator('#seg-more').focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction((n) => document.querySelectorAll('#seg-member-table tbody tr').length === n, d.rows.length + d2.rows.length);
    rowsMatch(await memberRows(page), d.rows.concat(d2.rows), 'two pages');
    eq(await page.evaluate(() => document.activeElement.textContent), d2.rows[0].name, 'focus on the first new row');
    await shot(page, 'members');
    noProblems('members');
  });

  await test('the CSV export link downloads the members with the session cookie', async () => {
    const a = page.locator('#seg-export');
    eq(await a.innerText(), 'Export members (CSV)', 'link text');
    eq(await a.getAttribute('download'), 'segment-lapsed.csv', 'download attribute');
    const href = await a.getAttribute('href');
    eq(href, '/v1/segments/lapsed/members?format=csv', 'href');
    const [dl] = await Promise.all([page.waitForEvent('download'), a.click()]);
    eq(dl.suggestedFilename(), 'segment-lapsed.csv', 'file name');
    const text = fs.readFileSync(await dl.path(), 'utf8');
    const rows = parseCsv(text);
    eq(rows[0].join(','), 'id,name,country,orders,revenue,last_nps', 'header');
    const want = (await apiGet('/v1/segments/lapsed/members?limit=1000')).rows;
    eq(rows.length - 1, want.length, 'rows');
    want.forEach((r, i) => {
      const c = rows[i + 1];
      eq(c[0], String(r.id), `id ${i}`);
      eq(c[1], r.name, `name ${i}`);
      eq(c[2], r.country || '', `country ${i}`);
      eq(c[3], String(r.orders), `orders ${i}`);
      eq(c[4], r.revenue.toFixed(2), `revenue ${i}`);
      eq(c[5], r.last_nps === null ? '' : String(r.last_nps), `NPS ${i}`);
    });
    // the same through the page's own cookie, without a key
    const res = await page.request.get(state.base + href);
    eq(res.status(), 200, 'cookie GET');
    assert(/^text\/csv/.test(res.headers()['content-type']), 'CSV type');
    eq(await res.text(), text, 'same file');
    noProblems('export');
  });

  await test('a segment over 1,000 members: one CSV file holds every member, as the API pages them', async () => {
    const c = await apiCall('POST', '/v1/segments', { id: 'everyone', name: 'Everyone', rule: 'orders >= 0' });
    eq(c.status, 201, 'created by the API');
    const want = [];
    let cursor = '';
    for (;;) {
      const d = await apiGet(`/v1/segments/everyone/members?limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
      want.push(...d.rows);
      if (!d.next_cursor) break;
      cursor = d.next_cursor;
    }
    assert(want.length > 1000, `members ${want.length}`);
    await open(page, 'everyone');
    await page.locator('#seg-member-table').waitFor();
    assert((await page.locator('#seg-export-help').innerText()).includes(`All ${int(want.length)} members`), 'help');
    const href = await page.locator('#seg-export').getAttribute('href');
    const rows = parseCsv(await (await page.request.get(state.base + href)).text());
    eq(rows.length - 1, want.length, 'rows of the file');
    want.forEach((r, i) => eq(rows[i + 1][0], String(r.id), `id ${i}`));
    eq((await apiCall('DELETE', '/v1/segments/everyone')).status, 200, 'deleted by the API');
    noProblems('all members');
  });

  await test('back and forward move between segments (pop)', async () => {
    await open(page, 'detractors');
    await page.locator('#seg-table a', { hasText: 'Promoters' }).click();
    await page.locator('#seg-title', { hasText: 'Promoters' }).waitFor();
    eq(await page.evaluate(() => document.activeElement.id), 'seg-title', 'focus on the opened segment');
    assert(page.url().endsWith('segment=promoters'), page.url());
    await page.goBack();
    await page.locator('#seg-title', { hasText: 'Detractors' }).waitFor();
    await page.locator('#seg-member-table').waitFor();
    const d = await apiGet('/v1/segments/detractors/members?limit=50');
    await page.waitForFunction((n) => document.querySelectorAll('#seg-member-table tbody tr').length === n, d.rows.length);
    rowsMatch(await memberRows(page), d.rows, 'detractors after back');
    await page.goForward();
    await page.locator('#seg-title', { hasText: 'Promoters' }).waitFor();
    eq(await page.locator('#seg-rule').inputValue(), "nps_category = 'promoter'", 'the form follows');
    await page.locator('#seg-close').click();
    await page.locator('#seg-detail').waitFor({ state: 'hidden' });
    eq(await page.evaluate(() => document.activeElement.textContent), 'Promoters', 'focus back on its link');
    noProblems('back and forward');
  });

  await test('keyboard only: build a segment and save it', async () => {
    await open(page, '');
    await page.locator('main h1').focus();
    const tabTo = async (id, max = 40) => {
      for (let i = 0; i < max; i++) {
        await page.keyboard.press('Tab');
        if (await page.evaluate(() => document.activeElement.id) === id) return;
      }
      throw new Error(`Tab never reached #${id}`);
    };
    await tabTo('seg-name');
    await page.keyboard.type('Keyed DE buyers');
    await page.keyboard.press('Tab');
    eq(await page.evaluate(() => document.activeElement.id), 'seg-id', 'id next');
    eq(await page.locator('#seg-id').inputValue(), 'keyed-de-buyers', 'id from the name');
    await tabTo('seg-rule', 3);
    const rule = "country = 'DE' and orders >= 1";
    await page.keyboard.type(rule);
    await waitText(page, '#seg-rule-count', countText((await preview(rule)).json));
    await tabTo('seg-save', 6);
    await page.keyboard.press('Enter');
    await page.locator('#seg-saved:not(:empty)').waitFor();
    const s = await apiGet('/v1/segments/keyed-de-buyers');
    eq(s.rule, rule, 'rule saved');
    eq(s.name, 'Keyed DE buyers', 'name saved');
    // a visible focus ring on the button
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    eq(outline, 'solid', 'focus visible');
    noProblems('keyboard');
  });

  await test('axe: opened segment with members, normal, larger text, high contrast', async () => {
    await open(page, 'lapsed');
    await page.locator('#seg-member-table').waitFor();
    await page.locator('#seg-rule-count:not(:empty)').waitFor();
    await axe(page, 'segment');
    await setMode(page, 'pref-large', true);
    await axe(page, 'segment, larger text');
    await shot(page, 'large');
    await setMode(page, 'pref-large', false);
    await setMode(page, 'pref-contrast', true);
    await page.locator('#seg-delete').click();
    await page.locator('#seg-confirm').waitFor();
    await axe(page, 'segment, high contrast, confirm open');
    await shot(page, 'contrast');
    await page.locator('#seg-confirm-no').click();
    await setMode(page, 'pref-contrast', false);
    noProblems('axe');
  });

  await test('320 px: no horizontal scroll, tables scroll in their regions', async () => {
    await page.setViewportSize({ width: 320, height: 800 });
    await open(page, 'lapsed');
    await page.locator('#seg-member-table').waitFor();
    eq(await scrolls(page), false, 'page scrolls sideways');
    await setMode(page, 'pref-large', true);
    eq(await scrolls(page), false, 'page scrolls sideways with larger text');
    await shot(page, 'phone');
    await setMode(page, 'pref-large', false);
    await page.setViewportSize({ width: 1280, height: 900 });
    noProblems('320 px');
  });

  await test('analyst: counts and the builder, never a member or the export', async () => {
    await signOut(page);
    await signIn(page, state.analyst);
    await open(page, 'lapsed');
    await listMatches(page, state.analyst);
    eq(await page.locator('#seg-members-part').isHidden(), true, 'members hidden');
    eq(await page.locator('#seg-export').isVisible(), false, 'no export link');
    eq(await page.locator('#seg-member-table').count(), 0, 'no member table');
    const s = await apiGet('/v1/segments/lapsed', state.analyst);
    eq(await page.locator('#seg-facts .seg-count').innerText(), int(s.members), 'count shown');
    const members = (await apiGet('/v1/segments/lapsed/members?limit=1000')).rows;
    const text = await page.locator('body').innerText();
    for (const m of members) assert(!text.includes(m.name), `analyst sees ${m.name}`);
    eq((await apiCall('GET', '/v1/segments/lapsed/members', undefined, state.analyst)).status, 403, 'API refuses');
    eq(await page.locator('#seg-builder').isVisible(), true, 'builder');
    await page.locator('#seg-new').click();
    const rule = "age_band = '25-34'";
    await page.locator('#seg-name').fill('Analyst young');
    await typeRule(page, rule);
    await waitText(page, '#seg-rule-count', countText((await preview(rule)).json));
    await page.locator('#seg-save').click();
    await page.locator('#seg-saved:not(:empty)').waitFor();
    eq((await apiGet('/v1/segments/analyst-young', state.analyst)).rule, rule, 'analyst saved');
    eq(await page.locator('#seg-members-part').isHidden(), true, 'still no members');
    await shot(page, 'analyst');
    await axe(page, 'analyst');
    noProblems('analyst');
  });

  await test('agent: members and the export, no builder', async () => {
    await signOut(page);
    await signIn(page, state.agent);
    await open(page, 'promoters');
    await listMatches(page, state.agent);
    eq(await page.locator('#seg-builder').isHidden(), true, 'no builder');
    const d = await apiGet('/v1/segments/promoters/members?limit=50', state.agent);
    await page.locator('#seg-member-table').waitFor();
    rowsMatch(await memberRows(page), d.rows, 'agent members');
    eq(await page.locator('#seg-export').isVisible(), true, 'export link');
    eq((await apiCall('POST', '/v1/segments/preview', { rule: 'orders > 1' }, state.agent)).status, 403, 'agent cannot preview');
    await shot(page, 'agent');
    await axe(page, 'agent');
    noProblems('agent');
  });
}

h.run(main);
