#!/usr/bin/env node
// journeys.test.js - the dashboard's Journeys page (web/dashboard/journeys.js)
// in a real browser against the real server on demo data: the stage funnel,
// the touchpoint flow (a Sankey with an aria description; the links it
// leaves out really close a loop), drop-offs, the friction ranking and the
// touchpoint x stage heatmap against GET /v1/journeys/* and /v1/metrics; a
// country filter changes the numbers and the URL and back restores them; a
// touchpoint chosen by keyboard shows its metrics and themes as the API
// answers them, with the comments link for an admin; axe-core in the
// normal, larger-text and high-contrast modes; 320 px without sideways
// scroll; an analyst without the comments link; an agent without the page;
// no console errors.
//
// Run: CXM_BIN=/path/cxm CXM_WEB_DIR=web/dashboard node tests/browser/journeys.test.js
// Env as in harness.js (CXM_BROWSER_SHOTS=DIR saves screenshots).
'use strict';

const { assert, eq, request, tabTo, createHarness, dashboardHelpers } = require('./harness');

const TOTAL_MS = 60000;
const h = createHarness({
  tmpPrefix: 'cxm-journeys-', shotPrefix: 'journeys-', totalMs: TOTAL_MS, axeMessages: true,
  state: { analyst: '', agent: '' },
});
const { state, test, startServer, axe, shot } = h;
const {
  problems, apiCall, apiGet, watch, noProblems, signIn, signOut, setMode, scrolls,
} = dashboardHelpers(state);
const DB = h.db;
const run = h.cxm;

// ---- plumbing --------------------------------------------------------------

// Numbers as the page writes them (web/dashboard/format.js).
const fixed = (v, d = 1) => (v === null || v === undefined ? '–' : new Intl.NumberFormat('en-US',
  { minimumFractionDigits: d, maximumFractionDigits: d }).format(v));
const int = (v) => new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 }).format(v);
const pct = (v) => (v === null || v === undefined ? '–' : `${fixed(v)}%`);
const signed = (v, d = 1) => (v === null ? '–' : (v > 0 ? '+' : '') + fixed(v, d));
const count = (n) => `n = ${int(n)}`;
const q = (params) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) s.set(k, v);
  return `?${s}`;
};

// Waits until the journeys page loaded for filters described by `what`.
async function loaded(page, what) {
  await page.waitForFunction((w) => {
    const s = document.querySelector('#status');
    return s && s.textContent.startsWith(`Showing ${w}:`) && document.querySelector('#friction-table');
  }, what);
}

// A table's body rows as arrays of cell texts (th and td).
const cells = (page, sel) => page.locator(`${sel} tbody tr`).evaluateAll((trs) =>
  trs.map((tr) => [...tr.cells].map((c) => c.innerText.trim())));

// Shows the table of a chart panel (if not yet) and resolves its rows.
async function panelTable(page, id) {
  const btn = page.locator(`#${id} button.as-table`);
  if ((await btn.innerText()) === 'Show as table') await btn.click();
  await page.locator(`#${id} table`).waitFor();
  return cells(page, `#${id} table`);
}

// The page's funnel table against GET /v1/journeys/funnel with query qs.
async function funnelMatches(page, qs) {
  const api = await apiGet(`/v1/journeys/funnel${qs}`);
  const rows = await panelTable(page, 'p-funnel');
  eq(rows.length, api.rows.length, 'funnel rows');
  api.rows.forEach((r, i) => {
    const c = rows[i];
    eq(c[0], r.stage, `stage ${i}`);
    eq(c[1], int(r.reached), `${r.stage} reached`);
    eq(c[2], int(r.reached_or_beyond), `${r.stage} reached or beyond`);
    eq(c[4], r.next ? int(r.converted) : '–', `${r.stage} converted`);
    eq(c[5], r.next ? pct(r.conversion) : '–', `${r.stage} conversion`);
    eq(c[6], r.next ? fixed(r.median_hours, 2) : '–', `${r.stage} median hours`);
    eq(c[7], r.next ? fixed(r.p90_hours, 2) : '–', `${r.stage} p90 hours`);
  });
  return api;
}

// Is there a path a -> b over links?
function reaches(links, a, b) {
  const seen = new Set([a]);
  const stack = [a];
  while (stack.length) {
    const x = stack.pop();
    if (x === b) return true;
    for (const l of links) if (l.from === x && !seen.has(l.to)) { seen.add(l.to); stack.push(l.to); }
  }
  return false;
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

  await test('browser starts', async () => {
    page = await h.launchBrowser({ width: 1280, height: 900 });
    watch(page);
  });
  if (!page) return;

  const open = await test('admin: sign in by keyboard, open Journeys from the nav', async () => {
    await signIn(page, state.key);
    const link = page.locator('#nav a[data-page=journeys]');
    eq(await link.isVisible(), true, 'Journeys nav link');
    await link.click();
    await loaded(page, 'all data');
    eq(await page.locator('#nav a[aria-current=page]').innerText(), 'Journeys', 'nav');
    eq(await page.locator('main h1').count(), 1, 'one h1');
    eq(await page.title(), 'Journeys · cxm', 'title');
    const funnel = await apiGet('/v1/journeys/funnel');
    assert((await page.locator('#status').innerText()).includes(`${int(funnel.episodes)} journeys`), 'status count');
    await shot(page, 'top');
    noProblems('open');
  });
  if (!open) return;

  await test('stage funnel: chart with description; table = GET /v1/journeys/funnel', async () => {
    eq(await page.locator('#p-funnel .chart canvas').count() > 0, true, 'funnel canvas');
    const label = await page.locator('#p-funnel .chart').getAttribute('aria-label');
    assert(/^Stage funnel of [\d,]+ journeys/.test(label), `aria-label ${label}`);
    await funnelMatches(page, '');
    eq(await page.locator('#p-funnel table thead th[scope=col]').count(), 8, 'column headers');
    eq(await page.locator('#p-funnel .chart').isHidden(), true, 'chart hidden');
  });

  await test('touchpoint flow: a Sankey with a description; the table is every link; no loop drawn', async () => {
    eq(await page.locator('#p-flow .chart canvas').count() > 0, true, 'sankey canvas');
    const label = await page.locator('#p-flow .chart').getAttribute('aria-label');
    assert(/^Touchpoint flow of [\d,]+ journeys, \d+ links/.test(label), `aria-label ${label}`);
    const api = await apiGet('/v1/journeys/flows?top=20');
    const rows = await panelTable(page, 'p-flow');
    eq(rows.length, api.links.length, 'links');
    api.links.forEach((l, i) => {
      eq(rows[i][0], l.from, `from ${i}`);
      eq(rows[i][1], l.to, `to ${i}`);
      eq(rows[i][2], int(l.count), `count ${i}`);
      eq(rows[i][3], pct(l.share), `share ${i}`);
    });
    const drawn = api.links.filter((l, i) => rows[i][4] === 'yes');
    const left = api.links.filter((l, i) => rows[i][4] !== 'yes');
    for (const l of drawn) {
      assert(!reaches(drawn.filter((x) => x !== l), l.to, l.from), `drawn links loop at ${l.from} > ${l.to}`);
    }
    for (const l of left) {
      assert(reaches(drawn.filter((x) => x.count >= l.count), l.to, l.from), `${l.from} > ${l.to} left out for nothing`);
      assert(label.includes(`${l.from} to ${l.to} (${int(l.count)})`), `description names ${l.from} > ${l.to}`);
    }
    // fewer links: the API's top 10
    await page.selectOption('#j-top', '10');
    await page.waitForFunction(() => document.querySelectorAll('#p-flow tbody tr').length === 10);
    await page.locator('#p-flow button.as-table').click();
    eq(await page.locator('#p-flow .chart canvas').count() > 0, true, 'sankey again');
    noProblems('flow');
  });

  await test('drop-offs and friction ranking = GET /v1/journeys/dropoffs and /friction', async () => {
    const d = await apiGet('/v1/journeys/dropoffs');
    const rows = await panelTable(page, 'p-drop');
    eq(rows.length, d.rows.length, 'drop-off rows');
    d.rows.forEach((r, i) => {
      eq(rows[i][0], r.last_touchpoint || '–', `last touchpoint ${i}`);
      eq(rows[i][1], r.channel || '–', `channel ${i}`);
      eq(rows[i][2], int(r.count), `count ${i}`);
      eq(rows[i][3], pct(r.share), `share ${i}`);
    });
    const fr = await apiGet('/v1/journeys/friction');
    const got = await cells(page, '#friction-table');
    eq(got.length, fr.rows.length, 'friction rows');
    fr.rows.forEach((r, i) => {
      const o = r.detractor;
      eq(got[i][0], r.touchpoint, `touchpoint ${i}`);
      eq(got[i][1], int(o.n_with), `${r.touchpoint} n_with`);
      eq(got[i][2], pct(o.rate_with), `${r.touchpoint} rate with`);
      eq(got[i][3], pct(o.rate_without), `${r.touchpoint} rate without`);
      eq(got[i][4], signed(o.lift), `${r.touchpoint} lift`);
    });
    // ranked by another outcome: the API's order
    await page.selectOption('#j-outcome', 'negative_sentiment');
    await page.waitForFunction(() => /negative comments/.test(document.querySelector('#friction-table caption').textContent));
    const neg = await apiGet('/v1/journeys/friction?outcome=negative_sentiment');
    const order = (await cells(page, '#friction-table')).map((c) => c[0]);
    eq(order.join(','), neg.rows.map((r) => r.touchpoint).join(','), 'order by negative comments');
    // the choice is in the URL: a reload shows the same ranking
    assert(page.url().includes('outcome=negative_sentiment'), page.url());
    await page.reload();
    await page.waitForFunction(() => {
      const c = document.querySelector('#friction-table caption');
      return c && /negative comments/.test(c.textContent);
    }, null, { polling: 100 });
    eq(await page.locator('#j-outcome').inputValue(), 'negative_sentiment', 'select after reload');
    eq((await cells(page, '#friction-table')).map((c) => c[0]).join(','), order.join(','), 'same order after reload');
    await page.selectOption('#j-outcome', 'detractor');
    await page.waitForFunction(() => /detractors/.test(document.querySelector('#friction-table caption').textContent));
    assert(!page.url().includes('outcome='), `the default leaves the URL: ${page.url()}`);
    noProblems('friction');
  });

  await test('heatmap: canvas with a description; table = GET /v1/metrics by touchpoint,stage', async () => {
    eq(await page.locator('#p-heat .chart canvas').count() > 0, true, 'heatmap canvas');
    const label = await page.locator('#p-heat .chart').getAttribute('aria-label');
    assert(/^CSAT % by touchpoint and stage/.test(label), `aria-label ${label}`);
    const api = (await apiGet('/v1/metrics?metric=csat&by=touchpoint,stage')).rows
      .filter((r) => r.touchpoint !== null && r.stage !== null && r.value !== null);
    const rows = await panelTable(page, 'p-heat');
    eq(rows.length, api.length, 'heatmap cells');
    api.forEach((r, i) => {
      eq(`${rows[i][0]}/${rows[i][1]}`, `${r.touchpoint}/${r.stage}`, `cell ${i}`);
      eq(rows[i][2], pct(r.value), `${r.touchpoint}/${r.stage} CSAT`);
      eq(rows[i][4], int(r.n), `${r.touchpoint}/${r.stage} n`);
    });
    await page.selectOption('#j-measure', 'responses');
    await page.waitForFunction(() => /^Responses by/.test(document.querySelector('#p-heat caption').textContent));
    const resp = (await apiGet('/v1/metrics?metric=responses&by=touchpoint,stage')).rows
      .filter((r) => r.touchpoint !== null && r.stage !== null);
    eq((await cells(page, '#p-heat table')).length, resp.length, 'responses cells');
    await page.selectOption('#j-measure', 'csat');
    await page.waitForFunction(() => /^CSAT/.test(document.querySelector('#p-heat caption').textContent));
    noProblems('heatmap');
  });

  let country = '';
  await test('country filter: new numbers, in the URL; back restores', async () => {
    const countries = (await apiGet('/v1/metrics?metric=responses&by=country')).rows
      .map((r) => r.country).filter(Boolean);
    country = countries.includes('FR') ? 'FR' : countries[0];
    const all = await apiGet('/v1/journeys/funnel');
    await page.selectOption('#j-country', country);
    await loaded(page, `country ${country}`);
    eq(new URL(page.url()).searchParams.get('country'), country, 'URL country');
    const w = `country = '${country}'`;
    const fil = await funnelMatches(page, q({ where: w }));
    assert(fil.episodes < all.episodes, `episodes ${fil.episodes} vs ${all.episodes}`);
    const fr = await apiGet(`/v1/journeys/friction${q({ where: w })}`);
    eq((await cells(page, '#friction-table'))[0][1], int(fr.rows[0].detractor.n_with), 'friction n_with, filtered');
    const heat = (await apiGet(`/v1/metrics${q({ metric: 'csat', by: 'touchpoint,stage', where: w })}`)).rows
      .filter((r) => r.touchpoint !== null && r.stage !== null && r.value !== null);
    eq((await cells(page, '#p-heat table')).length, heat.length, 'heatmap cells, filtered');
    await page.fill('#j-from', '2025-06-01');
    await loaded(page, `2025-06-01 to the latest data, country ${country}`);
    await funnelMatches(page, q({ from: '2025-06-01', where: w }));
    await shot(page, 'filtered');
    await page.goBack();
    await loaded(page, `country ${country}`);
    eq(await page.locator('#j-from').inputValue(), '', 'from after back');
    await page.goBack();
    await loaded(page, 'all data');
    eq(await page.locator('#j-country').inputValue(), '', 'country after back');
    await funnelMatches(page, '');
    noProblems('filters');
  });

  let chosen = '';
  await test('a touchpoint chosen by keyboard: its metrics and themes as the API answers', async () => {
    await page.locator('main h1').focus();
    await tabTo(page, () => document.activeElement.classList.contains('j-tp'),
      { what: 'a friction touchpoint button', max: 60, inPage: true });
    // the first touchpoint with CSAT answers
    const fr = await apiGet('/v1/journeys/friction');
    for (const r of fr.rows) {
      const c = await apiGet(`/v1/metrics${q({ metric: 'csat', where: `touchpoint = '${r.touchpoint}'` })}`);
      if (c.rows.length) { chosen = r.touchpoint; break; }
    }
    assert(chosen, 'no touchpoint with CSAT answers');
    for (let i = 0; i < 30; i++) {
      if (await page.evaluate((t) => document.activeElement.dataset.touchpoint === t, chosen)) break;
      await page.keyboard.press('Tab');
    }
    eq(await page.evaluate(() => document.activeElement.dataset.touchpoint), chosen, 'focus on the button');
    await page.keyboard.press('Enter');
    await page.locator('#h-detail', { hasText: `Touchpoint: ${chosen}` }).waitFor();
    eq(await page.evaluate(() => document.activeElement.id), 'h-detail', 'focus on the detail');
    eq(new URL(page.url()).searchParams.get('touchpoint'), chosen, 'URL touchpoint');
    eq(await page.locator(`#friction-table button[data-touchpoint="${chosen}"]`).getAttribute('aria-pressed'), 'true', 'pressed');
    await page.locator('#tp-themes table, #tp-themes p:not(.status)').first().waitFor();
    const w = `touchpoint = '${chosen}'`;
    const [nps, csat, themes] = await Promise.all([
      apiGet(`/v1/metrics${q({ metric: 'nps', where: w })}`),
      apiGet(`/v1/metrics${q({ metric: 'csat', where: w })}`),
      apiGet(`/v1/text/themes${q({ where: w })}`),
    ]);
    const tile = async (id) => ({
      value: await page.locator(`#${id} .value`).innerText(),
      margin: await page.locator(`#${id} .margin`).innerText(),
      n: await page.locator(`#${id} .n`).innerText(),
    });
    const c = csat.rows[0];
    const ct = await tile('jt-csat');
    eq(ct.value, pct(c.value), 'CSAT');
    eq(ct.margin, `±${fixed(c.margin)}`, 'CSAT margin');
    eq(ct.n, count(c.n), 'CSAT n');
    const nt = await tile('jt-nps');
    if (nps.rows.length) {
      eq(nt.value, fixed(nps.rows[0].value), 'NPS');
      eq(nt.n, count(nps.rows[0].n), 'NPS n');
    } else {
      eq(nt.n, 'no answers', 'NPS without answers');
    }
    if (themes.rows.length) {
      const t = await cells(page, '#tp-themes-table');
      eq(t.length, Math.min(6, themes.rows.length), 'theme rows');
      eq(t[0][0], themes.rows[0].theme_name || themes.rows[0].theme, 'top theme');
      eq(t[0][1], fixed(themes.rows[0].value), 'top theme pain');
      eq(t[0][2], int(themes.rows[0].n), 'top theme mentions');
    }
    const trend = await apiGet(`/v1/metrics${q({ metric: 'csat', by: 'month', where: w })}`);
    const tr = await panelTable(page, 'p-tp-trend');
    eq(tr.length, trend.rows.length, 'CSAT months');
    const link = page.locator('#tp-comments-link');
    eq(await link.innerText(), 'Read its comments', 'comments link');
    const href = new URL(await link.getAttribute('href'), state.base);
    eq(href.searchParams.get('page'), 'feedback', 'link page');
    eq(href.searchParams.get('touchpoint'), chosen, 'link touchpoint');
    await shot(page, 'detail');
    // reload keeps it, Close hides it and focus goes back to the button
    await page.reload();
    await page.locator('#h-detail', { hasText: `Touchpoint: ${chosen}` }).waitFor();
    await loaded(page, 'all data');
    await page.locator('#j-close').focus();
    await page.keyboard.press('Enter');
    await page.locator('#j-detail').waitFor({ state: 'hidden' });
    eq(new URL(page.url()).searchParams.get('touchpoint'), null, 'URL without touchpoint');
    eq(await page.evaluate(() => document.activeElement.dataset.touchpoint), chosen, 'focus back on the button');
    await page.goBack();
    await page.locator('#h-detail', { hasText: `Touchpoint: ${chosen}` }).waitFor();
    noProblems('detail');
  });

  await test('axe in normal and larger-text modes (tables and detail shown)', async () => {
    await loaded(page, 'all data');
    await axe(page, 'journeys');
    await setMode(page, 'pref-large', true);
    await axe(page, 'journeys, larger text');
    await shot(page, 'large');
    await setMode(page, 'pref-large', false);
    noProblems('axe');
  });

  await test('axe in high-contrast mode (charts shown)', async () => {
    await setMode(page, 'pref-contrast', true);
    for (const id of ['p-funnel', 'p-flow', 'p-heat', 'p-tp-trend']) {
      const b = page.locator(`#${id} button.as-table`);
      if ((await b.innerText()) === 'Show as chart') await b.click();
    }
    eq(await page.locator('#p-heat .chart canvas').count() > 0, true, 'heatmap canvas');
    await axe(page, 'journeys, charts, high contrast');
    await shot(page, 'contrast');
    await setMode(page, 'pref-contrast', false);
    await shot(page, 'charts');
    noProblems('axe, high contrast');
  });

  await test('320 px wide: no horizontal scroll, in larger text too', async () => {
    await page.setViewportSize({ width: 320, height: 640 });
    await page.waitForTimeout(200);
    assert(!(await scrolls(page)), 'journeys scrolls sideways');
    await shot(page, 'phone');
    await setMode(page, 'pref-large', true);
    await page.waitForTimeout(200);
    assert(!(await scrolls(page)), 'journeys, larger text, scrolls sideways');
    await shot(page, 'phone-large');
    await setMode(page, 'pref-large', false);
    await page.setViewportSize({ width: 1280, height: 900 });
    noProblems('phone');
  });

  await test('analyst: the page and the touchpoint detail, no comments link', async () => {
    await signOut(page);
    await signIn(page, state.analyst);
    eq(await page.locator('#nav a[data-page=journeys]').isVisible(), true, 'Journeys nav link');
    await page.goto(`${state.base}/?page=journeys&touchpoint=${encodeURIComponent(chosen)}`);
    await loaded(page, 'all data');
    await page.locator('#h-detail', { hasText: `Touchpoint: ${chosen}` }).waitFor();
    await page.locator('#jt-csat .n:not(:empty)').waitFor();
    const c = (await apiGet(`/v1/metrics${q({ metric: 'csat', where: `touchpoint = '${chosen}'` })}`, state.analyst)).rows[0];
    eq(await page.locator('#jt-csat .value').innerText(), pct(c.value), 'CSAT for the analyst');
    eq(await page.locator('#tp-comments-link').count(), 0, 'no comments link');
    assert(/aggregates only/.test(await page.locator('#tp-comments').innerText()), 'says aggregates only');
    await shot(page, 'analyst');
    noProblems('analyst');
  });

  await test('agent: no Journeys nav link, the URL falls back to the overview', async () => {
    await signOut(page);
    await signIn(page, state.agent);
    eq(await page.locator('#nav a[data-page=journeys]').isHidden(), true, 'Journeys nav link hidden');
    await page.goto(`${state.base}/?page=journeys`);
    await page.locator('main h1', { hasText: 'Overview' }).waitFor();
    eq(await page.locator('#friction-table').count(), 0, 'no journeys page');
    const r = await request('GET', `${state.base}/v1/journeys/funnel`, { headers: { Authorization: `Bearer ${state.agent}` } });
    eq(r.status, 403, 'GET /v1/journeys/funnel for an agent');
    noProblems('agent');
  });
}

h.run(main);
