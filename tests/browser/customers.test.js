#!/usr/bin/env node
// customers.test.js - the Customer 360 page (web/dashboard/customers.js) in
// a real browser against the real server on demo data: search by an e-mail
// identity opens the profile, keyboard-only search and open, the profile's
// facts against GET /v1/customers/{id}, the timeline against
// GET /v1/customers/{id}/timeline with "Load more", open cases, the
// recommendations and the next-best-action against the API's answers for the
// same request, an admin's unmerge (after a confirmation) and the API's
// split profiles after it, back and forward, axe (WCAG 2.1 A and AA) in the
// normal, larger-text and high-contrast modes, a 320 px phone, an agent
// without Unmerge, an analyst without the page, and no console errors.
//
// Starts `cxm demo` and `cxm serve` on a temp database and a free port and
// always cleans up. Env: CXM_BIN, CHROMIUM, CXM_BROWSER_KEEP=1,
// CXM_BROWSER_SHOTS=DIR (screenshots named customers-*.png).
'use strict';

const { assert, eq, request, tabTo, createHarness, dashboardHelpers } = require('./harness');

const TOTAL_MS = 60000;
const h = createHarness({
  tmpPrefix: 'cxm-customers-', shotPrefix: 'customers-', totalMs: TOTAL_MS, axeMessages: true,
  state: { analyst: '', agent: '' },
});
const { state, test, startServer, axe, shot } = h;
const helpers = dashboardHelpers(state);
const {
  problems, apiCall, apiGet, noProblems, signIn, signOut, setMode, scrolls,
} = helpers;
const decides = [];    // the bodies of the page's POST /v1/decide requests

// Console problems, and the decide requests the page sends.
function watch(page) {
  helpers.watch(page);
  page.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname === '/v1/decide') decides.push(r.postDataJSON());
  });
}
const DB = h.db;
const run = h.cxm;

// ---- plumbing --------------------------------------------------------------

async function apiPost(p, body, key = state.key) {
  const r = await request('POST', state.base + p, { body, headers: { Authorization: `Bearer ${key}` } });
  if (r.status !== 200) throw new Error(`POST ${p}: ${r.status} ${r.text.slice(0, 300)}`);
  return r.json;
}

// As the page writes them (format.js and customers.js).
const NONE = '–';
const fixed = (v, d) => new Intl.NumberFormat('en-US',
  { minimumFractionDigits: d, maximumFractionDigits: d }).format(v);
const int = (n) => new Intl.NumberFormat('en-US').format(n);
const when = (ts) => (ts ? ts.replace('T', ' ').replace(/:\d\dZ$/, ' UTC') : NONE);
const orNone = (v) => (v === null || v === undefined || v === '' ? NONE : String(v));
const plural = (n, one, many) => `${int(n)} ${n === 1 ? one : many}`;
const yesNo = (v) => (v === true ? 'yes' : v === false ? 'no' : 'unknown');

// The elements wider than the viewport (for a failure's message).
const wide = (page) => page.evaluate(() => [...document.querySelectorAll('body *')]
  .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1 && !e.closest('.table-wrap'))
  .slice(0, 5).map((e) => `${e.tagName}#${e.id}.${e.className}`).join(', '));
const focused = (page) => page.evaluate(() => {
  const a = document.activeElement;
  return { id: a.id, tag: a.tagName, text: a.textContent, cls: a.className };
});

// The profile of customer id is shown and fully loaded (timeline and NBA).
async function profileLoaded(page, id) {
  await page.waitForFunction((i) => {
    const t = document.querySelector('#profile-title');
    const tl = document.querySelector('#timeline-status');
    const nba = document.querySelector('#nba-status');
    return t && !document.querySelector('#profile').hidden && t.textContent.endsWith(`(customer #${i})`) &&
      /^Showing|^No/.test(tl.textContent) && /^On /.test(nba.textContent);
  }, String(id));
}

const rowAttr = (page, sel, attr) => page.locator(`${sel} tbody tr`).evaluateAll(
  (trs, a) => trs.map((t) => t.dataset[a]), attr);

// ---- the tests ----------------------------------------------------------------

async function main() {
  let page;
  let target = null;     // {id, email}: a customer with open cases and an e-mail
  let merged = [];       // profiles with merged customers: [{id, from}]

  const ok = await test('server starts on demo data; agent and analyst keys', async () => {
    await run(['demo', '--db', DB, '--customers', '2000']);
    await startServer();
    state.analyst = (await run(['keys', 'create', '--db', DB, '--role', 'analyst'])).trim();
    state.agent = (await run(['keys', 'create', '--db', DB, '--role', 'agent'])).trim();
    assert(/^cxm_/.test(state.analyst) && /^cxm_/.test(state.agent), 'keys');
    // A customer with an open case, found by an e-mail identity, whose
    // timeline has more than one page (20 records).
    const cases = (await apiGet('/v1/cases?limit=50')).cases;
    for (const c of cases) {
      const p = await apiGet(`/v1/customers/${c.customer}`);
      const e = (p.identities || []).find((i) => i.kind === 'email');
      const n = p.counts ? p.counts.interactions + p.counts.feedback + p.counts.orders : 0;
      if (e && n > 20) { target = { id: p.id, email: e.value }; break; }
    }
    assert(target, 'no customer with an open case and an e-mail');
    for (let i = 1; i <= 200 && merged.length < 2; i++) {
      const p = await apiGet(`/v1/customers/${i}`);
      if (p.id === i && p.merged_from.length && p.id !== target.id) merged.push({ id: p.id, from: p.merges[0].customer_id });
    }
    assert(merged.length === 2, 'fewer than two merged profiles in the demo');
  });
  if (!ok) return;

  await test('browser starts; sign in as admin', async () => {
    page = await h.launchBrowser({ width: 1280, height: 900 });
    watch(page);
    await signIn(page, state.key);
  });
  if (!page) return;

  await test('keyboard only: the nav, search by an e-mail identity opens the profile', async () => {
    await page.locator('#nav a[data-page=customers]').focus();
    await page.keyboard.press('Enter');
    await page.locator('main h1', { hasText: 'Customers' }).waitFor();
    eq(await page.evaluate(() => document.activeElement.tagName), 'H1', 'focus on the h1');
    eq(await page.locator('#nav a[aria-current=page]').innerText(), 'Customers', 'nav');
    await tabTo(page, () => document.activeElement.id === 'cust-q', { inPage: true, what: 'the search box' });
    const hits = (await apiGet(`/v1/customers?q=${encodeURIComponent(target.email.toUpperCase())}`)).customers;
    eq(hits.length, 1, 'API hits for the e-mail');
    eq(hits[0].id, target.id, 'API hit');
    eq(hits[0].matched, 'email', 'matched');
    await page.keyboard.type(target.email.toUpperCase());
    await page.keyboard.press('Enter');
    await profileLoaded(page, target.id);
    const u = new URL(page.url()).searchParams;
    eq(u.get('q'), target.email.toUpperCase(), 'q in the URL');
    eq(u.get('customer'), String(target.id), 'customer in the URL');
    eq(await page.locator('#result-list tbody tr').count(), 1, 'one result row');
    eq(await page.locator('#result-list tbody td').nth(2).innerText(), 'email', 'matched column');
    noProblems('search by e-mail');
  });

  await test('the profile shows what GET /v1/customers/{id} answers', async () => {
    const p = await apiGet(`/v1/customers/${target.id}`);
    const dd = async (f) => page.locator(`#facts dd[data-field=${f}]`).innerText();
    eq(await page.locator('#profile-title').innerText(), `${p.name} (customer #${p.id})`, 'title');
    for (const f of ['name', 'country', 'city', 'language', 'birth_year', 'gender']) eq(await dd(f), orNone(p[f]), f);
    for (const f of ['created', 'first_seen', 'last_seen']) eq(await dd(f), when(p[f]), f);
    eq(await dd('channels'), orNone(p.channels.join(', ')), 'channels');
    eq(await dd('counts'), `${plural(p.counts.interactions, 'interaction', 'interactions')}, ` +
      `${plural(p.counts.feedback, 'feedback answer', 'feedback answers')}, ${plural(p.counts.orders, 'order', 'orders')}`, 'counts');
    const idRows = await page.locator('#identities tbody tr').evaluateAll((trs) =>
      trs.map((t) => [...t.cells].map((c) => c.textContent).join('|')));
    eq(JSON.stringify(idRows), JSON.stringify(p.identities.map((i) => `${i.kind}|${i.value}|#${i.customer_id}`)), 'identities');
    for (const k of ['marketing', 'surveys', 'personalisation']) {
      eq(await page.locator(`#consent dd[data-field=${k}]`).innerText(), yesNo(p.consent[k]), `consent ${k}`);
    }
    eq(await page.locator('#v-clv .value').innerText(), fixed(p.clv_historic, 2), 'CLV historic');
    if (p.p_alive !== undefined) {
      eq(await page.locator('#v-alive .value').innerText(), p.p_alive === null ? NONE : fixed(p.p_alive, 3), 'P(alive)');
      eq(await page.locator('#v-pred .value').innerText(), p.clv_predicted === null ? NONE : fixed(p.clv_predicted, 2), 'CLV predicted');
    }
    eq(await page.locator('#v-nps .value').innerText(), p.latest_nps ? String(p.latest_nps.score) : NONE, 'latest NPS');
    assert((await page.locator('#v-nps .detail').innerText()).endsWith(`n = ${int(p.nps_responses)}`), 'NPS n');
    eq(await page.locator('#v-csat .value').innerText(), p.csat_mean === null ? NONE : fixed(p.csat_mean, 2), 'CSAT mean');
    eq(await page.locator('#v-csat .detail').innerText(), `n = ${int(p.csat_responses)}`, 'CSAT n');
    eq(await page.locator('#v-ces .value').innerText(), p.ces_mean === null ? NONE : fixed(p.ces_mean, 2), 'CES mean');
    const segs = await page.locator('#segments a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    eq(JSON.stringify(segs), JSON.stringify(p.segments.map((s) => `/?page=segments&segment=${s}`)), 'segment links');
    const names = Object.fromEntries((await apiGet('/v1/segments')).segments.map((s) => [s.id, s.name]));
    if (p.segments.length) eq(await page.locator('#segments a').first().innerText(), `${names[p.segments[0]]} (${p.segments[0]})`, 'segment name');
    const open = (await apiGet(`/v1/cases?customer=${p.id}&sort=newest&limit=50`)).cases;
    assert(open.length > 0, 'the API lists no open case');
    eq(JSON.stringify(await rowAttr(page, '#cases', 'id')), JSON.stringify(open.map((c) => String(c.id))), 'open cases');
    eq(await page.locator('#cases tbody a').first().getAttribute('href'), `/?page=cases&case=${open[0].id}`, 'case link');
    const journey = (await apiGet(`/v1/customers/${p.id}/journey`)).episodes;
    if (journey.length) {
      await page.locator('#journey tbody tr').first().waitFor();
      eq(await page.locator('#journey tbody tr').count(), journey.length, 'journey episodes');
      const last = journey[journey.length - 1];
      const jc = await page.locator('#journey tbody tr').first().locator('th, td').allInnerTexts();
      eq(jc[0], when(last.start), 'latest episode start');
      eq(jc[2], last.stages.join(' → '), 'its stages');
      eq(jc[5], int(last.events.length), 'its records');
    }
    await shot(page, 'profile');
    noProblems('profile');
  });

  await test('recommendations and next-best-action equal the API for the same request', async () => {
    const recs = (await apiGet(`/v1/customers/${target.id}/recommendations?n=10`)).items;
    const shown = await page.locator('#recs tbody tr').evaluateAll((trs) =>
      trs.map((t) => [...t.cells].map((c) => c.textContent).join('|')));
    eq(JSON.stringify(shown), JSON.stringify(recs.map((r) => `${r.sku}|${r.category}|${fixed(r.score, 4)}|${r.text || r.reason}`)), 'recommendations');
    const channel = await page.locator('#nba-channel').inputValue();
    const tl = (await apiGet(`/v1/customers/${target.id}/timeline?limit=20`)).items;
    const latest = tl.find((it) => it.channel && it.channel !== 'cxm');
    if (latest) eq(channel, latest.channel, 'default channel: the latest one');
    const check = async (ch) => {
      const d = await apiPost('/v1/decide', { customer: target.id, channel: ch, log: false, explain: true });
      eq(JSON.stringify(await rowAttr(page, '#nba-actions', 'action')), JSON.stringify(d.actions.map((a) => a.action)), `eligible on ${ch}`);
      eq(JSON.stringify(await rowAttr(page, '#nba-excluded', 'action')), JSON.stringify(d.excluded.map((a) => a.action)), `excluded on ${ch}`);
      const rules = await page.locator('#nba-excluded tbody tr').evaluateAll((trs) => trs.map((t) => `${t.cells[1].textContent}|${t.cells[2].textContent}`));
      eq(JSON.stringify(rules), JSON.stringify(d.excluded.map((x) => `${x.rule}|${orNone(x.reason)}`)), `rules on ${ch}`);
      if (d.actions.length) {
        const cells = await page.locator('#nba-actions tbody tr').first().locator('td').allInnerTexts();
        eq(cells[2], fixed(d.actions[0].priority, 1), 'priority');
        eq(cells[3], fixed(d.actions[0].value, 2), 'value');
      }
      return d;
    };
    await check(channel);
    // Another channel, chosen with the keyboard.
    const options = await page.locator('#nba-channel option').evaluateAll((os) => os.map((o) => o.value));
    const other = options.find((o) => o !== channel);
    assert(other, 'only one channel');
    await page.selectOption('#nba-channel', other);
    await page.waitForFunction((c) => document.querySelector('#nba-status').textContent.startsWith(`On ${c}:`), other);
    await check(other);
    assert(decides.length >= 2, `decide requests: ${decides.length}`);
    for (const b of decides) eq(b.log, false, 'the page asks not to log the decision');
    eq(decides[decides.length - 1].channel, other, 'the channel asked for');
    noProblems('next best action');
  });

  await test('timeline: the first page of /timeline, "Load more" appends the next', async () => {
    const first = await apiGet(`/v1/customers/${target.id}/timeline?limit=20`);
    eq(JSON.stringify(await rowAttr(page, '#timeline', 'seq')), JSON.stringify(first.items.map((i) => String(i.seq))), 'first page');
    const cells = await page.locator('#timeline tbody tr').first().locator('th, td').allInnerTexts();
    const it = first.items[0];
    eq(cells[0], when(it.ts), 'time');
    eq(cells[2], orNone(it.channel), 'channel');
    eq(cells[7], `#${it.customer_id}`, 'via');
    const order = first.items.find((x) => x.type === 'order');
    if (order) {
      const oc = await page.locator(`#timeline tr[data-seq="${order.seq}"] td`).allInnerTexts();
      eq(oc[4], `${fixed(order.amount, 2)}${order.currency ? ` ${order.currency}` : ''}`, 'order amount');
    }
    const fb = first.items.find((x) => x.type === 'feedback' && x.score !== undefined);
    if (fb) eq((await page.locator(`#timeline tr[data-seq="${fb.seq}"] td`).allInnerTexts())[4], `score ${fb.score}`, 'feedback score');
    assert(first.next_cursor, 'the timeline has one page only');
    eq(await page.locator('#timeline-status').innerText(), `Showing ${int(first.items.length)} of ${int(first.total)} records, newest first.`, 'status');
    const second = await apiGet(`/v1/customers/${target.id}/timeline?limit=20&cursor=${first.next_cursor}`);
    await page.locator('#timeline-more').focus();
    await page.keyboard.press('Enter');
    const n = first.items.length + second.items.length;
    await page.waitForFunction((k) => document.querySelectorAll('#timeline tbody tr').length === k, n);
    eq(JSON.stringify(await rowAttr(page, '#timeline', 'seq')),
      JSON.stringify([...first.items, ...second.items].map((i) => String(i.seq))), 'both pages');
    const f = await page.evaluate(() => document.activeElement.closest('tr') && document.activeElement.closest('tr').dataset.seq);
    eq(f, String(second.items[0].seq), 'focus on the first new record');
    eq(await page.locator('#timeline-more').isHidden(), !second.next_cursor, 'Load more shown while more');
    noProblems('timeline');
  });

  await test('keyboard only: search a name, Tab to a result, Enter opens it; back and forward', async () => {
    const p = await apiGet(`/v1/customers/${target.id}`);
    const word = p.name.split(' ')[0];
    const hits = (await apiGet(`/v1/customers?q=${encodeURIComponent(word)}&limit=50`)).customers;
    await page.locator('main h1').focus();
    await tabTo(page, () => document.activeElement.id === 'cust-q', { inPage: true, what: 'the search box' });
    await page.keyboard.press('Control+A');
    await page.keyboard.type(word);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('#profile').hidden &&
      /match/.test(document.querySelector('#status').textContent));
    eq(JSON.stringify(await rowAttr(page, '#result-list', 'id')), JSON.stringify(hits.map((c) => String(c.id))), 'results');
    eq(new URL(page.url()).searchParams.get('q'), word, 'q in the URL');
    await tabTo(page, () => document.activeElement.classList.contains('cust-link'), { inPage: true, what: 'a result', max: 8 });
    const id = await page.evaluate(() => document.activeElement.closest('tr').dataset.id);
    eq(id, String(hits[0].id), 'first result focused');
    await page.keyboard.press('Enter');
    await profileLoaded(page, hits[0].id);
    eq((await focused(page)).id, 'profile-title', 'focus on the profile');
    eq(new URL(page.url()).searchParams.get('customer'), id, 'customer in the URL');
    await page.goBack();
    await page.waitForFunction(() => document.querySelector('#profile').hidden);
    eq(await page.locator('#cust-q').inputValue(), word, 'query after back');
    await page.goForward();
    await profileLoaded(page, hits[0].id);
    await shot(page, 'search');
    noProblems('keyboard search');
  });

  await test('an empty search: the error in the alert', async () => {
    await page.fill('#cust-q', '  ');
    await page.locator('#cust-q').press('Enter');
    eq(await page.locator('#cust-q-error').innerText(), 'Enter a name, an e-mail address or another identity to search for.', 'error');
    eq(await page.locator('#cust-q-error').getAttribute('role'), 'alert', 'role');
    eq(await page.locator('#cust-q').getAttribute('aria-invalid'), 'true', 'aria-invalid');
  });

  await test('a merged customer\'s id opens its profile and says so', async () => {
    const m = merged[0];
    await page.goto(`${state.base}/?page=customers&customer=${m.from}`);
    await profileLoaded(page, m.id);
    const note = await page.locator('#merged-note').innerText();
    assert(note.includes(`Customer #${m.from} was merged into this profile, #${m.id}`), `note: ${note}`);
    noProblems('requested id');
  });

  await test('axe: a merged profile with Unmerge, in normal, larger-text and high-contrast modes', async () => {
    const m = merged[0];
    await page.goto(`${state.base}/?page=customers&customer=${m.id}`);
    await profileLoaded(page, m.id);
    await axe(page, 'profile');
    await setMode(page, 'pref-large', true);
    await axe(page, 'profile, larger text');
    await shot(page, 'merged-large');
    await setMode(page, 'pref-large', false);
    await setMode(page, 'pref-contrast', true);
    await axe(page, 'profile, high contrast');
    await shot(page, 'merged-contrast');
    await setMode(page, 'pref-contrast', false);
    noProblems('axe');
  });

  await test('admin unmerges after a confirmation; the API shows two profiles', async () => {
    const m = merged[0];
    const before = await apiGet(`/v1/customers/${m.id}`);
    assert(before.merged_from.includes(m.from), 'not merged before');
    const btn = page.locator(`#merges button.unmerge[data-customer="${m.from}"]`);
    await btn.focus();
    await page.keyboard.press('Enter');
    await page.locator('#unmerge-confirm').waitFor();
    eq((await focused(page)).id, 'unmerge-question', 'focus on the question');
    // Cancel first: nothing changes, the focus goes back.
    await tabTo(page, () => document.activeElement.id === 'unmerge-no', { inPage: true, what: 'Cancel' });
    await page.keyboard.press('Enter');
    eq(await page.locator('#unmerge-confirm').isHidden(), true, 'closed');
    eq(await page.evaluate(() => document.activeElement.dataset.customer), String(m.from), 'focus back on the button');
    eq(JSON.stringify((await apiGet(`/v1/customers/${m.id}`)).merged_from), JSON.stringify(before.merged_from), 'nothing changed');
    await page.keyboard.press('Enter');
    await page.locator('#unmerge-confirm').waitFor();
    await axe(page, 'the confirmation');
    await shot(page, 'confirm');
    await tabTo(page, () => document.activeElement.id === 'unmerge-yes', { inPage: true, what: 'Yes' });
    await page.keyboard.press('Enter');
    await page.locator('#unmerge-done:not(:empty)').waitFor();
    assert((await page.locator('#unmerge-done').innerText()).includes(`Customer #${m.from} was unmerged from profile #${m.id}`), 'done text');
    eq((await focused(page)).id, 'unmerge-done', 'focus on the result');
    const after = await apiGet(`/v1/customers/${m.id}`);
    assert(!after.merged_from.includes(m.from), `still merged: ${after.merged_from}`);
    const split = await apiGet(`/v1/customers/${m.from}`);
    eq(split.id, m.from, 'the unmerged customer is a profile of its own');
    eq(split.requested_id, undefined, 'no requested_id');
    await page.waitForFunction((c) => !document.querySelector(`#merges button[data-customer="${c}"]`), String(m.from));
    eq(await page.locator('#facts dd[data-field=counts]').innerText(), `${plural(after.counts.interactions, 'interaction', 'interactions')}, ` +
      `${plural(after.counts.feedback, 'feedback answer', 'feedback answers')}, ${plural(after.counts.orders, 'order', 'orders')}`, 'counts after');
    await page.locator('#unmerge-done a').click();
    await profileLoaded(page, m.from);
    eq(await page.locator('#merged-note').innerText(), '', 'no merge note');
    await shot(page, 'unmerged');
    noProblems('unmerge');
  });

  await test('320 px wide: no horizontal scroll, in larger text too', async () => {
    await page.setViewportSize({ width: 320, height: 640 });
    await page.goto(`${state.base}/?page=customers&q=a&customer=${target.id}`);
    await profileLoaded(page, target.id);
    assert(!(await scrolls(page)), `the profile scrolls sideways: ${await wide(page)}`);
    await shot(page, 'phone');
    await setMode(page, 'pref-large', true);
    await page.waitForTimeout(100);
    assert(!(await scrolls(page)), `the profile, larger text, scrolls sideways: ${await wide(page)}`);
    await shot(page, 'phone-large');
    await setMode(page, 'pref-large', false);
    await page.setViewportSize({ width: 1280, height: 900 });
    noProblems('phone');
  });

  await test('an agent sees the profile and merges but no Unmerge (the API refuses it too)', async () => {
    await signOut(page);
    await signIn(page, state.agent);
    const m = merged[1];
    await page.goto(`${state.base}/?page=customers&customer=${m.id}`);
    await profileLoaded(page, m.id);
    await page.locator('#merges tbody tr').first().waitFor();
    eq(await page.locator('#merges button').count(), 0, 'Unmerge buttons');
    eq(await page.locator('#merges thead th').count(), 4, 'columns');
    const r = await request('POST', `${state.base}/v1/customers/${m.from}/unmerge`, { headers: { Authorization: `Bearer ${state.agent}` } });
    eq(r.status, 403, 'the API refuses the agent too');
    noProblems('agent');
  });

  await test('an analyst has no Customers link and ?page=customers falls back to the Overview', async () => {
    await signOut(page);
    await signIn(page, state.analyst);
    eq(await page.locator('#nav a[data-page=customers]').isHidden(), true, 'Customers nav hidden');
    await page.goto(`${state.base}/?page=customers&customer=${target.id}`);
    await page.locator('main h1', { hasText: 'Overview' }).waitFor();
    eq(await page.locator('#profile').count(), 0, 'no profile');
    const text = await page.locator('body').innerText();
    assert(!text.includes(target.email), 'the analyst sees the e-mail');
    await page.waitForTimeout(300);
    noProblems('analyst');
  });
}

h.run(main);
