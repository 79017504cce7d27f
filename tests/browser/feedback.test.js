#!/usr/bin/env node
// feedback.test.js - the dashboard's Feedback page (web/dashboard/feedback.js)
// in a real browser against the real server on demo data: the first page of
// comments against GET /v1/feedback (order, seq, score, customer), the
// customer link, a keyboard-only search against the API's answer for the
// same words, a touchpoint filter from the URL, "Load more" (the next
// cursor page, focus on the first new comment), back and forward, finding
// the case a comment opened (GET /v1/cases links), the themes table against
// GET /v1/text/themes with the same where, a theme link setting the theme
// filter, the emerging topics against GET /v1/text/emerging, axe in the
// normal, larger-text and high-contrast modes, a 320 px phone, an analyst
// (themes, no comments, no customer links) and an agent (comments, no
// aggregates), without console errors.
//
// Env: CXM_BIN (default ./cxm), CHROMIUM, CXM_BROWSER_KEEP=1,
// CXM_BROWSER_SHOTS=DIR saves screenshots there.
'use strict';

const { assert, eq, tabTo, createHarness, dashboardHelpers } = require('./harness');

const TOTAL_MS = 60000;
const h = createHarness({
  tmpPrefix: 'cxm-feedback-', shotPrefix: 'feedback-', totalMs: TOTAL_MS, axeMessages: true,
  state: { analyst: '', agent: '' },
});
const { state, test, startServer, axe, shot } = h;
const {
  problems, apiCall, apiGet, watch, noProblems, signIn, signOut, setMode, scrolls,
} = dashboardHelpers(state);
const DB = h.db;
const run = h.cxm;

// ---- plumbing --------------------------------------------------------------

const fixed = (v, d) => new Intl.NumberFormat('en-US',
  { minimumFractionDigits: d, maximumFractionDigits: d }).format(v);
const ints = (v) => new Intl.NumberFormat('en-US').format(v);
const KIND = { nps: 'NPS', csat: 'CSAT', ces: 'CES', enps: 'eNPS', rating: 'Rating', text: 'Text' };
const scoreText = (it) => {
  const k = KIND[it.kind] || it.kind;
  if (it.score === null || it.score === undefined) return `${k}, no score`;
  return `${k} ${Number.isInteger(it.score) ? ints(it.score) : fixed(it.score, 1)}`;
};
const q = (o) => new URLSearchParams(o).toString();

// Waits until the page finished loading (the status line left "Loading…").
async function loaded(page) {
  await page.waitForFunction(() => {
    const s = document.querySelector('#status');
    return s && s.textContent && s.textContent !== 'Loading…';
  });
  const s = await page.locator('#status').innerText();
  assert(!/could not/i.test(s), `status: ${s}`);
  return s;
}

async function open(page, query) {
  await page.goto(`${state.base}/?page=feedback${query ? `&${query}` : ''}`);
  await page.locator('h1', { hasText: 'Feedback' }).waitFor();
  return loaded(page);
}

// The comments shown: [{seq, customer, score, href}].
const shown = (page) => page.locator('#comments li.comment').evaluateAll((lis) => lis.map((li) => ({
  seq: Number(li.dataset.seq),
  customer: Number(li.dataset.customer),
  score: li.querySelector('.score').textContent,
  href: li.querySelector('a.customer-link').getAttribute('href'),
  touchpoint: [...li.querySelectorAll('dt')].find((d) => d.textContent === 'Touchpoint').nextElementSibling.textContent,
})));

function sameComments(got, items, what) {
  eq(got.length, items.length, `${what}: number of comments`);
  items.forEach((it, i) => {
    eq(got[i].seq, it.seq, `${what}: seq of comment ${i}`);
    eq(got[i].customer, it.customer_id, `${what}: customer of comment ${i}`);
    eq(got[i].score, scoreText(it), `${what}: score of comment ${i}`);
  });
}

// ---- the tests ----------------------------------------------------------------

async function main() {
  let page;
  const ok = await test('server starts on demo data; analyst and agent keys', async () => {
    await run(['demo', '--db', DB, '--customers', '2000']);
    await startServer();
    state.analyst = (await run(['keys', 'create', '--db', DB, '--role', 'analyst'])).trim();
    state.agent = (await run(['keys', 'create', '--db', DB, '--role', 'agent'])).trim();
    assert(/^cxm_/.test(state.analyst) && /^cxm_/.test(state.agent), 'keys');
  });
  if (!ok) return;

  await test('browser starts, admin signs in by keyboard', async () => {
    page = await h.launchBrowser({ width: 1280, height: 900 });
    watch(page);
    await signIn(page, state.key);
  });
  if (!page) return;

  await test('the first page of comments is GET /v1/feedback; customer links', async () => {
    await open(page, '');
    eq(await page.locator('#nav a[aria-current=page]').innerText(), 'Feedback', 'nav');
    eq(await page.locator('main h1').count(), 1, 'one h1');
    const api = await apiGet('/v1/feedback?limit=50');
    assert(api.items.length > 0, 'no comments in the demo');
    const got = await shown(page);
    sameComments(got, api.items, 'first page');
    for (const g of got) eq(g.href, `/?page=customers&customer=${g.customer}`, 'customer link');
    const first = page.locator('#comments li.comment').first();
    eq(await first.locator('blockquote').innerText(), api.items[0].comment, 'comment text');
    const it = api.items[0];
    const facts = await first.locator('dd').allInnerTexts();
    eq(facts[0], `${it.label} (${it.sentiment > 0 ? '+' : ''}${fixed(it.sentiment, 2)})`, 'sentiment');
    await shot(page, 'admin');
    noProblems('first page');
  });

  await test('keyboard-only search: the comments are the API\'s for the same words', async () => {
    const word = 'refund';
    const api = await apiGet(`/v1/feedback?${q({ search: word, limit: 50 })}`);
    assert(api.items.length > 0, `no comment with ${word}`);
    await page.locator('main h1').focus();
    await tabTo(page, () => document.activeElement.id === 'fb-search', { inPage: true, what: 'the search field' });
    await page.keyboard.type(word);
    await page.keyboard.press('Enter');
    await page.waitForFunction((w) => new URL(location.href).searchParams.get('search') === w, word);
    await loaded(page);
    sameComments(await shown(page), api.items, 'search');
    const all = await apiGet('/v1/feedback?limit=50');
    assert(JSON.stringify(api.items.map((x) => x.seq)) !== JSON.stringify(all.items.map((x) => x.seq)),
      'the search did not narrow');
    // sentiment select: changes at once, kept with the words
    await page.selectOption('#fb-sentiment', 'negative');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('sentiment') === 'negative');
    await loaded(page);
    const neg = await apiGet(`/v1/feedback?${q({ search: word, sentiment: 'negative', limit: 50 })}`);
    sameComments(await shown(page), neg.items, 'search and negative');
    // back: the words alone again
    await page.goBack();
    await page.waitForFunction(() => !new URL(location.href).searchParams.get('sentiment'));
    await loaded(page);
    eq(await page.locator('#fb-sentiment').inputValue(), '', 'sentiment after back');
    eq(await page.locator('#fb-search').inputValue(), word, 'words after back');
    sameComments(await shown(page), api.items, 'search after back');
    noProblems('search');
  });

  let tp = null;
  await test('a touchpoint from the URL: exactly the API\'s rows; Load more appends the next page', async () => {
    const rows = (await apiGet('/v1/metrics?metric=responses&by=touchpoint')).rows
      .filter((r) => r.touchpoint !== null).sort((a, b) => b.n - a.n);
    tp = rows[0].touchpoint;
    await open(page, q({ touchpoint: tp }));
    eq(await page.locator('#fb-touchpoint').inputValue(), tp, 'the select shows it');
    const api = await apiGet(`/v1/feedback?${q({ touchpoint: tp, limit: 50 })}`);
    const got = await shown(page);
    sameComments(got, api.items, `touchpoint ${tp}`);
    for (const g of got) eq(g.touchpoint, tp, 'touchpoint of each comment');
    assert(api.next_cursor, `only one page for ${tp}`);
    const next = await apiGet(`/v1/feedback?${q({ touchpoint: tp, limit: 50, cursor: api.next_cursor })}`);
    await page.locator('#comments-more').focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction((n) => document.querySelectorAll('#comments li.comment').length === n,
      api.items.length + next.items.length);
    sameComments(await shown(page), api.items.concat(next.items), 'after Load more');
    eq(await page.evaluate(() => document.activeElement.dataset.seq), String(next.items[0].seq),
      'focus on the first new comment');
    eq(await page.locator('#comments-more').isHidden(), !next.next_cursor, 'Load more hidden on the last page');
    noProblems('touchpoint');
  });

  await test('themes table is GET /v1/text/themes with the same where; a theme link filters', async () => {
    assert(tp, 'no touchpoint from the step before');
    const where = `touchpoint = '${tp.replace(/'/g, "''")}'`;
    const api = await apiGet(`/v1/text/themes?${q({ where })}`);
    const chart = page.locator('#p-themes .chart');
    eq(await chart.locator('canvas').count() > 0, true, 'chart drawn');
    assert((await chart.getAttribute('aria-label')).startsWith('Pain by theme'), 'chart description');
    await page.locator('#p-themes button.as-table').click();
    const tbl = page.locator('#p-themes table');
    await tbl.waitFor();
    const rows = await tbl.locator('tbody tr').evaluateAll((trs) => trs.map((tr) =>
      [...tr.children].map((c) => c.textContent)));
    eq(rows.length, api.rows.length, 'theme rows');
    api.rows.forEach((r, i) => {
      eq(rows[i][0], r.theme_name, `theme ${i}`);
      eq(rows[i][1], fixed(r.value, 1), `pain of ${r.theme}`);
      eq(rows[i][2], ints(r.n), `mentions of ${r.theme}`);
      eq(rows[i][3], ints(r.negative), `negative of ${r.theme}`);
    });
    await page.locator('#p-themes button.as-table').click();
    const t = api.rows[0].theme;
    await page.locator(`#theme-links a[data-theme="${t}"]`).click();
    await page.waitForFunction((x) => new URL(location.href).searchParams.get('theme') === x, t);
    await loaded(page);
    eq(await page.locator('#fb-theme').inputValue(), t, 'theme select');
    eq(new URL(page.url()).searchParams.get('touchpoint'), tp, 'touchpoint kept');
    const list = await apiGet(`/v1/feedback?${q({ touchpoint: tp, theme: t, limit: 50 })}`);
    sameComments(await shown(page), list.items, 'theme and touchpoint');
    eq(await page.locator(`#theme-links a[data-theme="${t}"]`).getAttribute('aria-current'), 'true', 'selected theme');
    noProblems('themes');
  });

  await test('emerging topics are GET /v1/text/emerging', async () => {
    await open(page, '');
    const api = await apiGet('/v1/text/emerging?period=week');
    const tbl = page.locator('#p-emerging table');
    if (!api.rows.length) {
      eq(await tbl.count(), 0, 'no table');
      return;
    }
    const rows = await tbl.locator('tbody tr').evaluateAll((trs) => trs.map((tr) =>
      [...tr.children].map((c) => c.textContent)));
    eq(rows.length, api.rows.length, 'phrases');
    api.rows.forEach((r, i) => {
      eq(rows[i][0], r.phrase, `phrase ${i}`);
      eq(rows[i][1], ints(r.count), `count of ${r.phrase}`);
      eq(rows[i][5], fixed(r.g2, 2), `G² of ${r.phrase}`);
    });
  });

  let hit = null;
  await test('a comment that opened a case finds it', async () => {
    const cases = (await apiGet('/v1/cases?status=all&limit=100')).cases;
    for (const c of cases) {
      const d = await apiGet(`/v1/cases/${c.id}`);
      const fb = await apiGet(`/v1/feedback?${q({ customer_id: d.customer, limit: 200 })}`);
      const it = fb.items.find((x) => (d.links || []).includes(x.seq));
      if (it) { hit = { customer: d.customer, seq: it.seq }; break; }
    }
    assert(hit, 'no case links a comment in the demo');
    const want = [];
    for (const c of (await apiGet(`/v1/cases?customer=${hit.customer}&status=all&limit=100`)).cases) {
      const d = await apiGet(`/v1/cases/${c.id}`);
      if (d.links.includes(hit.seq)) want.push(`/?page=cases&case=${c.id}`);
    }
    await open(page, q({ customer: hit.customer }));
    const li = page.locator(`#comments li.comment[data-seq="${hit.seq}"]`);
    await li.locator('button.find-case').focus();
    await page.keyboard.press('Enter');
    await li.locator('.case-result a.case-link').first().waitFor();
    const got = await li.locator('.case-result a.case-link').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    eq(JSON.stringify(got), JSON.stringify(want), 'case links');
    assert(/linked from/.test(await li.locator('.case-result').innerText()), 'result text');
    await shot(page, 'case-found');
    noProblems('find case');
  });

  // axe takes about 0.1 s per comment shown: one customer's comments, with
  // a case found, stand for the rest.
  await test('axe in normal, larger-text and high-contrast modes', async () => {
    assert(hit, 'no comment with a case from the step before');
    eq(new URL(page.url()).searchParams.get('customer'), String(hit.customer), 'still on the customer\'s comments');
    await page.locator('#p-themes button.as-table').click();
    await page.locator('#p-themes table').waitFor();
    await axe(page, 'feedback with the themes table');
    await shot(page, 'themes-table');
    await page.locator('#p-themes button.as-table').click();
    await axe(page, 'feedback');
    await setMode(page, 'pref-large', true);
    await axe(page, 'feedback, larger text');
    await setMode(page, 'pref-large', false);
    await setMode(page, 'pref-contrast', true);
    await axe(page, 'feedback, high contrast');
    await shot(page, 'contrast');
    await setMode(page, 'pref-contrast', false);
    noProblems('axe');
  });

  await test('320 px wide: no horizontal scroll, in larger text too', async () => {
    await page.setViewportSize({ width: 320, height: 640 });
    await page.waitForTimeout(150);
    assert(!(await scrolls(page)), 'feedback scrolls sideways');
    await shot(page, 'phone');
    await setMode(page, 'pref-large', true);
    await page.waitForTimeout(150);
    assert(!(await scrolls(page)), 'feedback, larger text, scrolls sideways');
    await setMode(page, 'pref-large', false);
    await page.setViewportSize({ width: 1280, height: 900 });
    noProblems('phone');
  });

  await test('analyst: themes and emerging topics, no comments, no console errors', async () => {
    await page.locator('#sign-out').click();
    await page.locator('#api-key').waitFor();
    await signIn(page, state.analyst);
    const s = await open(page, '');
    assert(/^Showing themes and emerging topics for all feedback/.test(s), `status: ${s}`);
    eq(await page.locator('#fb-search').isHidden(), true, 'no comment search');
    eq(await page.locator('#comments li').count(), 0, 'no comments');
    eq(await page.locator('#p-comments').isHidden(), true, 'comments section hidden');
    eq(await page.locator('main a[href*="page=customers"]').count(), 0, 'no customer links');
    assert(/not shown to the analyst role/.test(await page.locator('#no-comments').innerText()), 'the note');
    const api = await apiGet('/v1/text/themes', state.analyst);
    await page.locator('#p-themes button.as-table').click();
    eq(await page.locator('#p-themes tbody tr').count(), api.rows.length, 'theme rows');
    const text = await page.locator('main').innerText();
    const some = (await apiGet('/v1/feedback?limit=20')).items.map((x) => x.comment).filter((c) => c && c.length > 25);
    for (const c of some) assert(!text.includes(c), `analyst sees the comment "${c}"`);
    await axe(page, 'feedback, analyst');
    await shot(page, 'analyst');
    noProblems('analyst');
  });

  await test('agent: comments and emerging topics, no aggregates, no console errors', async () => {
    await page.locator('#sign-out').click();
    await page.locator('#api-key').waitFor();
    await signIn(page, state.agent);
    await open(page, q({ touchpoint: tp || '' }));
    eq(await page.locator('#p-themes').isHidden(), true, 'themes hidden');
    const dims = await apiGet('/v1/dimensions', state.agent);
    const opts = await page.locator('#fb-touchpoint option').evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
    eq(JSON.stringify(opts), JSON.stringify(dims.touchpoint), 'touchpoint choices from GET /v1/dimensions');
    const api = await apiGet(`/v1/feedback?${q({ touchpoint: tp || '', limit: 50 })}`, state.agent);
    sameComments(await shown(page), api.items, 'agent');
    await open(page, q({ customer: hit ? hit.customer : 1 }));
    await axe(page, 'feedback, agent');
    await shot(page, 'agent');
    noProblems('agent');
  });
}

h.run(main);
