#!/usr/bin/env node
// dashboard.test.js - the dashboard (GET /, web/dashboard/) in a real
// browser (Debian's chromium through playwright-core) against the real
// server on demo data: the static files' headers, sign-in by keyboard, the
// Overview's numbers against GET /v1/metrics, filters in the URL (reload
// and back restore them), the table toggle, accessibility (axe-core, WCAG
// 2.1 A and AA) in the normal, larger-text and high-contrast modes, a
// 320 px phone, the Cases page (the inbox against GET /v1/cases, assign
// and add a note by keyboard, a refused status move in the alert, axe),
// the Team page (the leaderboard against GET /v1/team/recognition, axe),
// CSRF on state-changing requests, a revoked key ending its sessions, an
// analyst without personal data and without Cases, sign-out; and, once the server stopped, that its log
// holds no sanitizer report (for an ASan build).
//
// Starts `cxm demo` and `cxm serve` on a temp database and a free port and
// always cleans up. Prints "ok - name" or "not ok - name: reason" per test
// and a Criterion-like synthesis line (scripts/run-tests.sh sums it).
// Env: CXM_BIN (default ./cxm), CHROMIUM (default /usr/bin/chromium),
// CXM_BROWSER_KEEP=1 keeps the temp dir, CXM_BROWSER_SHOTS=DIR saves
// screenshots of the pages there.
'use strict';

const {
  assert, eq, request, tabTo: tabToPred, createHarness, dashboardHelpers,
} = require('./harness');

const TOTAL_MS = 60000;
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const h = createHarness({
  tmpPrefix: 'cxm-dashboard-', shotPrefix: 'dashboard-', totalMs: TOTAL_MS, axeMessages: true,
  state: { analyst: '' },
});
const { state, test, startServer, axe, shot } = h;
const {
  problems, apiCall, apiGet, watch, noProblems, signIn, signOut, setMode, scrolls,
} = dashboardHelpers(state);
const DB = h.db;
const run = h.cxm;

// ---- plumbing --------------------------------------------------------------

// Numbers as the page writes them (web/dashboard/format.js).
const fixed = (v, d) => new Intl.NumberFormat('en-US',
  { minimumFractionDigits: d, maximumFractionDigits: d }).format(v);
const count = (n) => `n = ${new Intl.NumberFormat('en-US').format(n)}`;

const statusText = (page) => page.locator('#status').innerText();

// Waits until the overview finished loading for filters described by
// `what` ("all data", "channel web", ...).
async function loaded(page, what) {
  await page.waitForFunction((w) => {
    const s = document.querySelector('#status');
    return s && s.textContent.startsWith(`Showing ${w}:`);
  }, what);
}

async function tile(page, name) {
  const li = page.locator(`#kpi-${name}`);
  return { value: await li.locator('.value').innerText(), n: await li.locator('.n').innerText() };
}

// The tiles against GET /v1/metrics with the same query.
async function tilesMatch(page, q) {
  const nps = (await apiGet(`/v1/metrics?metric=nps${q}`)).rows[0];
  const csat = (await apiGet(`/v1/metrics?metric=csat${q}`)).rows[0];
  assert(nps && csat, `no NPS or no CSAT answers for ${q}`);
  const a = await tile(page, 'nps');
  const b = await tile(page, 'csat');
  eq(a.value, fixed(nps.value, 1), 'NPS tile');
  eq(a.n, count(nps.n), 'NPS n');
  eq(b.value, `${fixed(csat.value, 1)}%`, 'CSAT tile');
  eq(b.n, count(csat.n), 'CSAT n');
  return { nps, csat };
}

// ---- the tests ----------------------------------------------------------------

async function main() {
  let page;
  const ok = await test('server starts on demo data; an analyst key', async () => {
    await run(['demo', '--db', DB, '--customers', '2000']);
    await startServer();
    state.analyst = (await run(['keys', 'create', '--db', DB, '--role', 'analyst'])).trim();
    assert(/^cxm_/.test(state.analyst), `analyst key: ${state.analyst}`);
  });
  if (!ok) return;

  await test('static files: types, caching, CSP, 404', async () => {
    const idx = await request('GET', `${state.base}/`);
    eq(idx.status, 200, '/ status');
    eq(idx.headers['content-type'], 'text/html; charset=utf-8', '/ type');
    eq(idx.headers['cache-control'], 'no-cache', '/ cache');
    eq(idx.headers['content-security-policy'], CSP, '/ CSP');
    eq(idx.headers['x-content-type-options'], 'nosniff', '/ nosniff');
    assert(!/<script>|<style>| style=/.test(idx.text), 'no inline script or style');
    const js = await request('GET', `${state.base}/app/app.js`);
    eq(js.status, 200, 'app.js status');
    eq(js.headers['content-type'], 'text/javascript; charset=utf-8', 'app.js type');
    eq(js.headers['cache-control'], 'public, max-age=3600', 'app.js cache');
    const css = await request('GET', `${state.base}/app/app.css`);
    eq(css.headers['content-type'], 'text/css; charset=utf-8', 'app.css type');
    const svg = await request('GET', `${state.base}/app/icon.svg`);
    eq(svg.headers['content-type'], 'image/svg+xml', 'icon type');
    const ec = await request('GET', `${state.base}/vendor/echarts.min.js`);
    eq(ec.status, 200, 'echarts status');
    assert(ec.bytes > 500000, `echarts.min.js is ${ec.bytes} bytes`);
    for (const p of ['/app/nope.js', '/app/', '/vendor/x.js', '/app/../app/app.js']) {
      const r = await request('GET', state.base + p);
      if (p.includes('..') && r.status === 200) continue;   // normalised by the client
      eq(r.status, 404, `${p} status`);
      assert(/^text\/plain/.test(r.headers['content-type']), `${p} type ${r.headers['content-type']}`);
    }
  });

  await test('browser starts', async () => {
    page = await h.launchBrowser({ width: 1280, height: 900 });
    watch(page);
  });
  if (!page) return;

  await test('sign-in page: the key field, axe in all three modes', async () => {
    await page.goto(`${state.base}/`);
    const key = page.locator('#api-key');
    await key.waitFor();
    eq(await key.getAttribute('type'), 'password', 'type');
    eq(await key.getAttribute('autocomplete'), 'off', 'autocomplete');
    eq(await page.locator('label[for=api-key]').innerText(), 'API key', 'label');
    eq(await page.locator('#nav').isHidden(), true, 'no nav before sign-in');
    await shot(page, 'sign-in');
    await axe(page, 'sign-in');
    await setMode(page, 'pref-large', true);
    await axe(page, 'sign-in, larger text');
    await setMode(page, 'pref-contrast', true);
    await shot(page, 'sign-in-large-contrast');
    await axe(page, 'sign-in, larger text and high contrast');
    await setMode(page, 'pref-large', false);
    await axe(page, 'sign-in, high contrast');
    await setMode(page, 'pref-contrast', false);
    noProblems('sign-in page');
  });

  await test('a wrong key: an error, still signed out', async () => {
    await page.fill('#api-key', 'cxm_not-a-key');
    await page.keyboard.press('Enter');
    await page.locator('#api-key-error:not(:empty)').waitFor();
    assert(/not valid/.test(await page.locator('#api-key-error').innerText()), 'error text');
    eq(await page.locator('#api-key').getAttribute('aria-invalid'), 'true', 'aria-invalid');
    noProblems('wrong key');
  });

  let signedIn = await test('sign in by keyboard: the overview, no console errors', async () => {
    await signIn(page, state.key);
    await loaded(page, 'all data');
    eq(await page.locator('nav[aria-label=Pages] a[aria-current=page]').innerText(), 'Overview', 'nav');
    eq(await page.locator('main h1').count(), 1, 'one h1');
    eq(await page.locator('#sign-out').isVisible(), true, 'sign-out button');
    const stored = await page.evaluate(() => JSON.stringify(Object.assign({}, localStorage, sessionStorage)));
    assert(!stored.includes(state.key), 'the key is stored in the browser');
    noProblems('overview');
  });
  if (!signedIn) return;

  await test('KPI tiles show what GET /v1/metrics answers', async () => {
    await tilesMatch(page, '');
    const ces = (await apiGet('/v1/metrics?metric=ces')).rows[0];
    eq((await tile(page, 'ces')).value, fixed(ces.value, 2), 'CES tile');
    await shot(page, 'overview');
  });

  await test('charts: ECharts drawn, each with a description', async () => {
    for (const id of ['p-nps', 'p-csat', 'p-volume']) {
      const chart = page.locator(`#${id} .chart`);
      eq(await chart.locator('canvas').count() > 0, true, `${id} canvas`);
      const label = await chart.getAttribute('aria-label');
      assert(label && label.length > 40, `${id} aria-label: ${label}`);
    }
    const months = (await apiGet('/v1/metrics?metric=nps&by=month')).rows;
    const last = months[months.length - 1];
    const label = await page.locator('#p-nps .chart').getAttribute('aria-label');
    assert(label.includes(`Latest ${last.month}: ${fixed(last.value, 1)}`), `NPS description: ${label}`);
  });

  await test('"Show as table": the same numbers in a table', async () => {
    const btn = page.locator('#p-nps button.as-table');
    await btn.focus();
    await page.keyboard.press('Enter');
    const tbl = page.locator('#p-nps table');
    await tbl.waitFor();
    eq(await page.locator('#p-nps .chart').isHidden(), true, 'chart hidden');
    eq(await tbl.locator('caption').innerText(), 'NPS by month', 'caption');
    eq(await tbl.locator('thead th[scope=col]').count(), 6, 'column headers');
    const months = (await apiGet('/v1/metrics?metric=nps&by=month')).rows;
    eq(await tbl.locator('tbody tr').count(), months.length, 'rows');
    const seen = months.filter((r) => r.value !== null);
    const r = seen[seen.length - 1];
    const cells = await tbl.locator('tbody tr', { has: page.locator(`th[scope=row]:text-is("${r.month}")`) })
      .locator('td').allInnerTexts();
    eq(cells[0], fixed(r.value, 1), `NPS of ${r.month}`);
    eq(cells[2], new Intl.NumberFormat('en-US').format(r.n), `n of ${r.month}`);
    eq(await btn.innerText(), 'Show as chart', 'button text');
    await shot(page, 'overview-table');
    await axe(page, 'overview with a table');
    await btn.click();
    eq(await page.locator('#p-nps .chart').isVisible(), true, 'chart again');
  });

  await test('channel filter: new numbers, in the URL; reload and back restore', async () => {
    // In the demo, NPS is asked by e-mail only (a few answers have no
    // channel) and CSAT in every channel: e-mail changes both.
    const ch = 'email';
    const before = await tile(page, 'csat');
    await page.selectOption('#f-channel', ch);
    await loaded(page, `channel ${ch}`);
    assert(new URL(page.url()).searchParams.get('channel') === ch, `URL ${page.url()}`);
    const q = `&where=${encodeURIComponent(`channel = '${ch}'`)}`;
    const { nps } = await tilesMatch(page, q);
    const after = await tile(page, 'csat');
    assert(after.n !== before.n, `CSAT n unchanged: ${after.n}`);
    // period and channel together, then a reload
    await page.fill('#f-from', '2025-06-01');
    await loaded(page, `2025-06-01 to the latest data, channel ${ch}`);
    assert(/from=2025-06-01/.test(page.url()), `URL ${page.url()}`);
    await page.reload();
    await loaded(page, `2025-06-01 to the latest data, channel ${ch}`);
    eq(await page.locator('#f-channel').inputValue(), ch, 'channel after reload');
    eq(await page.locator('#f-from').inputValue(), '2025-06-01', 'from after reload');
    await tilesMatch(page, `${q}&from=2025-06-01`);
    await shot(page, 'overview-filtered');
    await page.goBack();
    await loaded(page, `channel ${ch}`);
    eq(await page.locator('#f-from').inputValue(), '', 'from after back');
    eq((await tile(page, 'nps')).n, count(nps.n), 'n after back');
    await page.goBack();
    await loaded(page, 'all data');
    eq(await page.locator('#f-channel').inputValue(), '', 'channel after back');
    noProblems('filters');
  });

  await test('overview: axe in normal, larger-text and high-contrast modes; modes persist', async () => {
    await axe(page, 'overview');
    await setMode(page, 'pref-large', true);
    await axe(page, 'overview, larger text');
    await shot(page, 'overview-large');
    await setMode(page, 'pref-large', false);
    await setMode(page, 'pref-contrast', true);
    await page.reload();
    await loaded(page, 'all data');
    eq(await page.evaluate(() => document.documentElement.className), 'high-contrast', 'kept');
    await axe(page, 'overview, high contrast');
    await shot(page, 'overview-contrast');
    await setMode(page, 'pref-contrast', false);
    noProblems('modes');
  });

  await test('320 px wide: no horizontal scroll, in larger text too', async () => {
    await page.setViewportSize({ width: 320, height: 640 });
    await page.waitForTimeout(100);
    assert(!(await scrolls(page)), 'overview scrolls sideways');
    await shot(page, 'phone');
    await setMode(page, 'pref-large', true);
    await page.waitForTimeout(100);
    assert(!(await scrolls(page)), 'overview, larger text, scrolls sideways');
    await shot(page, 'phone-large');
    await setMode(page, 'pref-large', false);
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  // ---- Cases ----
  const caseIds = (page) => page.locator('#case-table tbody tr').evaluateAll((trs) => trs.map((t) => Number(t.dataset.id)));
  const inboxLoaded = (page) => page.waitForFunction(() => {
    const s = document.querySelector('#status');
    return s && s.textContent.startsWith('Showing') && document.querySelector('#case-table');
  });
  // Presses Tab until pred() holds in the page (at most max times).
  const tabTo = (page, pred, max = 40) => tabToPred(page, pred, { max, inPage: true });
  let target = null;

  await test('cases: the inbox is GET /v1/cases, most urgent first', async () => {
    await page.locator('#nav a[data-page=cases]').click();
    await inboxLoaded(page);
    eq(await page.locator('#nav a[aria-current=page]').innerText(), 'Cases', 'nav');
    const want = (await apiGet('/v1/cases?sort=urgency&limit=50')).cases.map((c) => c.id);
    assert(want.length > 0, 'no cases in the demo');
    eq(JSON.stringify(await caseIds(page)), JSON.stringify(want), 'ids in order');
    eq(await page.locator('#case-table caption').count(), 1, 'caption');
    eq(await page.locator('#case-table thead th[scope=col]').count(), 11, 'column headers');
    const first = (await apiGet('/v1/cases?sort=urgency&limit=1')).cases[0];
    const cells = await page.locator('#case-table tbody tr').first().locator('td').allInnerTexts();
    assert(cells[6].startsWith(first.first_response.state.replace(/_/g, ' ')), `first response ${cells[6]} vs ${first.first_response.state}`);
    assert(cells[8].startsWith(first.resolution.state.replace(/_/g, ' ')), `resolution ${cells[8]} vs ${first.resolution.state}`);
    await page.selectOption('#c-status', 'all');
    await page.waitForFunction(() => /status all/.test(document.querySelector('#status').textContent));
    assert(new URL(page.url()).searchParams.get('status') === 'all', `URL ${page.url()}`);
    const all = (await apiGet('/v1/cases?sort=urgency&limit=50&status=all')).cases.map((c) => c.id);
    eq(JSON.stringify(await caseIds(page)), JSON.stringify(all), 'ids, status all');
    await page.goBack();
    await page.waitForFunction(() => /open and in progress/.test(document.querySelector('#status').textContent));
    eq(await page.locator('#c-status').inputValue(), '', 'status after back');
    noProblems('cases inbox');
  });

  await test('cases: assign and add a note by keyboard; the API has them', async () => {
    await page.locator('main h1').focus();
    await tabTo(page, () => document.activeElement.classList.contains('case-link'));
    const id = Number(await page.evaluate(() => document.activeElement.closest('tr').dataset.id));
    await page.keyboard.press('Enter');
    await page.locator('#case-title', { hasText: `Case #${id}` }).waitFor();
    eq(await page.evaluate(() => document.activeElement.id), 'case-title', 'focus on the detail');
    assert(new URL(page.url()).searchParams.get('case') === String(id), `URL ${page.url()}`);
    const before = await apiGet(`/v1/cases/${id}`);
    eq(await page.locator('#case-history li').count(), before.history.length, 'history items');
    await tabTo(page, () => document.activeElement.id === 'case-assignee', 5);
    for (let i = 0; i < 20; i++) {
      const v = await page.locator('#case-assignee').inputValue();
      if (v && v !== before.assignee) break;
      await page.keyboard.press('ArrowDown');
    }
    const who = await page.locator('#case-assignee').inputValue();
    assert(who && who !== before.assignee, `assignee ${who}`);
    await tabTo(page, () => document.activeElement.id === 'case-note', 3);
    const note = `Called back, test note ${Date.now()}`;
    await page.keyboard.type(note);
    await page.keyboard.press('Tab');
    eq(await page.evaluate(() => document.activeElement.textContent), 'Save', 'focus on Save');
    await page.keyboard.press('Enter');
    await page.locator('#case-saved', { hasText: 'saved' }).waitFor();
    const after = await apiGet(`/v1/cases/${id}`);
    eq(after.assignee, who, 'assignee in the API');
    assert(after.history.some((h) => h.kind === 'note' && h.body === note), 'note in the history');
    await page.locator('#case-history li', { hasText: note }).waitFor();
    const name = (await apiGet('/v1/employees')).employees.find((e) => e.id === who).name;
    await page.locator(`#case-table tr[data-id="${id}"] td`, { hasText: name }).first().waitFor();
    target = id;
    await shot(page, 'cases');
    noProblems('cases detail');
  });

  await test('cases: a move the API refuses shows its error in the alert', async () => {
    assert(target, 'no case from the step before');
    const closed = await request('PATCH', `${state.base}/v1/cases/${target}`,
      { body: { status: 'closed' }, headers: { Authorization: `Bearer ${state.key}` } });
    eq(closed.status, 200, `closing ${closed.text}`);
    await page.goto(`${state.base}/?page=cases&status=all&case=${target}`);
    await page.locator('#case-title', { hasText: `Case #${target}` }).waitFor();
    await page.selectOption('#case-status', 'resolved');
    await page.locator('#case-form button[type=submit]').click();
    await page.locator('#case-error:not(:empty)').waitFor();
    const r = await request('PATCH', `${state.base}/v1/cases/${target}`,
      { body: { status: 'resolved' }, headers: { Authorization: `Bearer ${state.key}` } });
    eq(r.status, 409, 'API status');
    const msg = await page.locator('#case-error').innerText();
    assert(msg.includes(r.json.error.message), `alert: ${msg} / API: ${r.json.error.message}`);
    eq(await page.locator('#case-error').getAttribute('role'), 'alert', 'role');
    problems.splice(0);   // the 409 was logged on purpose
  });

  await test('cases: axe on the inbox and the detail, normal and high contrast', async () => {
    await axe(page, 'cases with detail');
    await setMode(page, 'pref-contrast', true);
    await axe(page, 'cases with detail, high contrast');
    await shot(page, 'cases-contrast');
    await page.locator('#case-close').click();
    await page.locator('#case-detail').waitFor({ state: 'hidden' });
    await axe(page, 'cases inbox, high contrast');
    await setMode(page, 'pref-contrast', false);
    await axe(page, 'cases inbox');
    noProblems('cases axe');
  });

  await test('team: the leaderboard is GET /v1/team/recognition; axe', async () => {
    await page.locator('#nav a[data-page=team]').click();
    await page.locator('#leaderboard table').waitFor();
    eq(await page.locator('#nav a[aria-current=page]').innerText(), 'Team', 'nav');
    const rec = await apiGet('/v1/team/recognition');
    const first = rec.leaderboard[0];
    const cells = await page.locator('#leaderboard tbody tr').first().locator('th, td').allInnerTexts();
    eq(cells[0], '1', 'rank');
    eq(cells[1], first.name, 'first agent');
    eq(cells[3], String(first.n), 'n');
    eq(await page.locator('#leaderboard tbody tr').count(), rec.leaderboard.length, 'rows');
    eq(await page.locator('#p-agent-csat .chart canvas').count() > 0, true, 'chart');
    const label = await page.locator('#p-agent-csat .chart').getAttribute('aria-label');
    assert(label && /CSAT by agent/.test(label), `aria-label ${label}`);
    await shot(page, 'team');
    // a team and a period: the tables follow, in the URL; back restores
    const teams = [...new Set((await apiGet('/v1/employees')).employees.map((x) => x.team).filter(Boolean))];
    assert(teams.length > 1, `teams ${teams}`);
    const pick = teams.sort()[1];
    await page.locator('#t-team').selectOption(pick);
    await page.waitForFunction((w) => document.querySelector('#status').textContent.includes(`team ${w}.`), pick);
    const perf = await apiGet(`/v1/team/performance?team=${encodeURIComponent(pick)}`);
    const names = await page.locator('#perf-agents tbody th').allInnerTexts();
    eq(names.length, perf.agents.length, 'agents of the team');
    perf.agents.forEach((a, i) => eq(names[i], `${a.name || a.agent} (${a.team || 'no team'})`, `agent ${i}`));
    assert(page.url().includes(`team=${encodeURIComponent(pick).replace(/%20/g, '+')}`), page.url());
    await page.locator('#t-from').fill('2099-01-01');
    await page.waitForFunction(() => document.querySelector('#status').textContent.includes('2099-01-01'));
    eq(await page.locator('#leaderboard').innerText(), 'No agent has enough answers yet.', 'an empty period');
    await page.goBack();
    await page.waitForFunction((w) => /team /.test(document.querySelector('#status').textContent) &&
      !document.querySelector('#status').textContent.includes('2099'), pick);
    eq(await page.locator('#t-from').inputValue(), '', 'from restored');
    await page.locator('#team-filters button[type=reset]').click();
    await page.waitForFunction(() => document.querySelector('#status').textContent === 'Team figures for all data.');
    await page.locator('#leaderboard table').waitFor();
    await page.locator('#p-agent-csat button.as-table').click();
    await page.locator('#p-agent-csat table').waitFor();
    await axe(page, 'team');
    await setMode(page, 'pref-contrast', true);
    await axe(page, 'team, high contrast');
    await setMode(page, 'pref-contrast', false);
    await page.locator('#nav a[data-page=overview]').click();
    await loaded(page, 'all data');
    noProblems('team');
  });

  await test('CSRF: a state-changing request needs the token', async () => {
    const res = await page.evaluate(async () => {
      const s = await (await fetch('/v1/session', { credentials: 'same-origin' })).json();
      const body = JSON.stringify({ rule: "country = 'FR'" });
      const h = { 'Content-Type': 'application/json' };
      const post = (headers) => fetch('/v1/segments/preview',
        { method: 'POST', credentials: 'same-origin', headers, body });
      const bad = await post(h);
      const good = await post(Object.assign({ 'X-CSRF-Token': s.csrf }, h));
      return { csrf: s.csrf, bad: bad.status, code: (await bad.json()).error.code, good: good.status };
    });
    problems.splice(0);   // the 403 above was logged on purpose
    assert(/^[0-9a-f]{64}$/.test(res.csrf), `csrf ${res.csrf}`);
    eq(res.bad, 403, 'without the token');
    eq(res.code, 'csrf', 'error code');
    eq(res.good, 200, 'with the token');
    // A session of its own: DELETE without the token refused, with it 204.
    const s = await request('POST', `${state.base}/v1/session`, { body: { key: state.key } });
    eq(s.status, 200, 'POST /v1/session');
    const sc = String(s.headers['set-cookie']);
    assert(/cxm_session=[^;]+/.test(sc) && /HttpOnly/i.test(sc) && /SameSite=Strict/i.test(sc) &&
      /Path=\//.test(sc), `Set-Cookie ${sc}`);
    const cookie = /cxm_session=[^;]+/.exec(sc)[0];
    const del = (h) => request('DELETE', `${state.base}/v1/session`, { headers: Object.assign({ Cookie: cookie }, h) });
    eq((await del({})).status, 403, 'DELETE without the token');
    eq((await del({ 'X-CSRF-Token': s.json.csrf })).status, 204, 'DELETE with the token');
    const after = await request('GET', `${state.base}/v1/session`, { headers: { Cookie: cookie } });
    eq(after.status, 401, 'the session is gone');
  });

  await test('keys: a revoked key ends its dashboard sessions; only admins manage keys', async () => {
    const admin = { Authorization: `Bearer ${state.key}` };
    for (const [body, field] of [[{ role: 'boss' }, 'role'], [{ role: 'agent', name: 'x'.repeat(129) }, 'name'],
      [{ role: 'agent', secret: 1 }, 'secret']]) {
      const bad = await request('POST', `${state.base}/v1/keys`, { headers: admin, body });
      eq(bad.status, 400, `POST /v1/keys ${JSON.stringify(body).slice(0, 40)}`);
      eq(bad.json.error.field, field, 'the field named');
    }
    const made = await request('POST', `${state.base}/v1/keys`,
      { headers: admin, body: { role: 'agent', name: 'support desk' } });
    eq(made.status, 201, 'POST /v1/keys');
    const { key, id } = made.json;
    assert(/^cxm_/.test(key) && /^[0-9a-f]{16}$/.test(id), `new key ${JSON.stringify(made.json)}`);
    const s = await request('POST', `${state.base}/v1/session`, { body: { key } });
    eq(s.status, 200, 'a session with the new key');
    const cookie = /cxm_session=[^;]+/.exec(String(s.headers['set-cookie']))[0];
    const viaCookie = () => request('GET', `${state.base}/v1/cases`, { headers: { Cookie: cookie } });
    eq((await viaCookie()).status, 200, 'the session works');
    const listed = await request('GET', `${state.base}/v1/keys`, { headers: admin });
    const row = listed.json.keys.find((k) => k.id === id);
    assert(row && row.role === 'agent' && row.name === 'support desk' && row.hint === key.slice(-4),
      `listed: ${JSON.stringify(row)}`);
    assert(!listed.text.includes(key.slice(4, 24)), 'no secret in the list');
    const other = { Authorization: `Bearer ${state.analyst}` };
    eq((await request('GET', `${state.base}/v1/keys`, { headers: other })).status, 403, 'analyst lists keys');
    eq((await request('DELETE', `${state.base}/v1/keys/${id}`, { headers: other })).status, 403,
      'analyst revokes');
    const rev = await request('DELETE', `${state.base}/v1/keys/${id}`, { headers: admin });
    eq(rev.status, 200, 'DELETE /v1/keys/{id}');
    eq((await viaCookie()).status, 401, 'the session ended with its key');
    eq((await request('GET', `${state.base}/v1/session`, { headers: { Cookie: cookie } })).status, 401,
      'GET /v1/session');
    eq((await request('GET', `${state.base}/v1/cases`, { headers: { Authorization: `Bearer ${key}` } })).status,
      401, 'the key itself');
  });

  await test('sign out: back to the sign-in form', async () => {
    await page.locator('#sign-out').click();
    await page.locator('#api-key').waitFor();
    eq(await page.locator('#nav').isHidden(), true, 'nav hidden');
    await page.reload();
    await page.locator('#api-key').waitFor();
    noProblems('sign out');
  });

  await test('analyst: the overview without personal data, no console errors', async () => {
    await signIn(page, state.analyst);
    await loaded(page, 'all data');
    await tilesMatch(page, '');
    await page.locator('#p-risk .big').waitFor();
    const risk = await apiGet('/v1/churn/at-risk?limit=5');
    const text = await page.locator('body').innerText();
    for (const r of risk.rows) assert(!text.includes(r.name), `analyst sees ${r.name}`);
    assert(/not shown to the analyst role/.test(text), 'says names are hidden');
    eq(await page.locator('#nav a[data-page=cases]').isHidden(), true, 'no Cases nav item');
    eq(await page.locator('#nav a[data-page=team]').isVisible(), true, 'Team nav item');
    const c = await request('GET', `${state.base}/v1/cases`, { headers: { Authorization: `Bearer ${state.analyst}` } });
    eq(c.status, 403, 'GET /v1/cases for the analyst');
    await shot(page, 'analyst');
    await axe(page, 'analyst overview');
    noProblems('analyst');
    await page.locator('#sign-out').click();
    await page.locator('#api-key').waitFor();
  });
}

h.run(main);
