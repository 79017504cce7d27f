// render.js - bench/dashboard: first render of each dashboard page in
// headless chromium (playwright-core and Debian's chromium, launched as
// tests/browser/harness.js does), signed in with a session cookie made by
// POST /v1/session.
//
// Usage: node render.js BASE API_KEY RUNS CHROMIUM TMPDIR
//
// Each run is a full navigation to the page's URL (a new document: the
// shell, its modules, the page's template, its data calls). "First render"
// is the time from navigation start (performance.timeOrigin) to the first
// DOM change at which the page's h1 is visible and its data is shown, as
// the page's own status line says (see SIGNALS). A MutationObserver
// installed before the page's scripts checks the signal on every DOM change,
// so the time is exact rather than polled. Median of RUNS after one warm-up
// load of every page (the browser's cache then holds the static files, as
// for a user who has opened the dashboard before).
'use strict';

const http = require('http');
const path = require('path');

const ROOT = path.resolve(__dirname, '..', '..');
const { chromium } = require(path.join(ROOT, 'tests/browser/node_modules/playwright-core'));

const [BASE, KEY, RUNS_ARG, CHROMIUM = '/usr/bin/chromium', TMP] = process.argv.slice(2);
const RUNS = Number(RUNS_ARG || 3);
const TARGET_MS = 1000;

// What "the data is shown" means on each page: #status (role=status) once
// the page's load calls answered (the texts web/dashboard/*.js writes).
// Failures ("could not") end the wait too and are reported as errors.
const SIGNALS = {
  // overview.js render(): after its 8 figures' calls (tiles, trends, pain points)
  overview: { h1: 'Overview', status: '^Showing ' },
  // journeys.js render(): after funnel, flows, drop-offs, friction and heatmap
  // (with a touchpoint in the URL, also its detail: see observe())
  journeys: { h1: 'Journeys', status: '^Showing ' },
  // feedback.js render(): after the choices, then comments, themes, emerging topics
  feedback: { h1: 'Feedback', status: '(comments? shown for|^No comments for|^Showing themes)' },
  // customers.js openProfile(): the profile, then the timeline's first page
  customers: { h1: 'Customers', status: '^Showing customer', timeline: true },
  // cases.js loadInbox(): after the employees and the inbox
  cases: { h1: 'Cases', status: '^Showing ' },
  // segments.js loadList(): "N segments."
  segments: { h1: 'Segments', status: 'segments?\\.$' },
  // team.js: after performance, recognition, eNPS
  team: { h1: 'Team', status: '^Team figures' },
  // settings.js: after its six parts
  settings: { h1: 'Settings', status: '^Settings loaded' },
};

// Runs in the page before its scripts: records performance.now() at the
// first DOM change where the signal holds, in window.__render.
function observe(signals) {
  const page = new URLSearchParams(location.search).get('page') || 'overview';
  const sig = signals[page];
  const ok = new RegExp(sig.status);
  const bad = /could not|failed|There is no/i;
  const visible = (e) => !!e && !e.hidden && e.getClientRects().length > 0;
  function check() {
    if (window.__render) return;
    const main = document.getElementById('main');
    const h1 = main && main.querySelector('h1');
    if (!visible(h1) || h1.textContent.trim() !== sig.h1) return;
    const st = main.querySelector('#status');
    const text = st ? st.textContent.trim() : '';
    let done = ok.test(text);
    // journeys.js showDetail(): a touchpoint in the URL also loads its
    // detail (NPS, CSAT, trend, themes); #tp-themes says "Loading…" until then
    if (done && page === 'journeys' && new URLSearchParams(location.search).get('touchpoint')) {
      const th = (main.querySelector('#tp-themes') || {}).textContent || '';
      done = th.trim() !== '' && !th.trim().startsWith('Loading');
    }
    if (done && sig.timeline) {
      const tl = (main.querySelector('#timeline-status') || {}).textContent || '';
      done = tl !== '' && !tl.startsWith('Loading');
    }
    if (done || bad.test(text)) {
      window.__render = { ms: performance.now(), status: text, error: !done };
      obs.disconnect();
    }
  }
  const obs = new MutationObserver(check);
  obs.observe(document, { childList: true, subtree: true, characterData: true, attributes: true });
}

function signIn() {
  return new Promise((resolve, reject) => {
    const body = Buffer.from(JSON.stringify({ key: KEY }));
    const req = http.request(`${BASE}/v1/session`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': body.length },
    }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`POST /v1/session: ${res.statusCode}`));
        else resolve(String(res.headers['set-cookie'][0]).split(';')[0].split('='));
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

function get(p, cookie) {
  return new Promise((resolve, reject) => {
    http.get(`${BASE}${p}`, { headers: { Cookie: cookie } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
    }).on('error', reject);
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

async function main() {
  const [name, value] = await signIn();
  const cookie = `${name}=${value}`;
  const hits = (await get('/v1/customers?q=C0000001&limit=50', cookie)).customers || [];
  if (!hits.length) throw new Error('no customer matches C0000001');
  const id = hits[0].id;
  const tps = (await get('/v1/metrics?metric=responses&by=touchpoint', cookie)).rows
    .filter((r) => r.touchpoint !== null).sort((a, b) => b.n - a.n);
  const months = (await get('/v1/metrics?metric=responses&by=month', cookie)).rows;
  const last = months[months.length - 1].month;
  const end = new Date(Date.UTC(Number(last.slice(0, 4)), Number(last.slice(5, 7)), 0));
  const from = new Date(end.getTime() - 89 * 86400e3).toISOString().slice(0, 10);
  const to = end.toISOString().slice(0, 10);

  const urls = [
    ['Overview', '/'],
    ['Overview, filtered', `/?channel=web&from=${from}&to=${to}`],
    ['Journeys', '/?page=journeys'],
    ['Journeys, touchpoint detail', `/?page=journeys&touchpoint=${encodeURIComponent(tps[0].touchpoint)}`],
    ['Feedback', '/?page=feedback'],
    ['Customer 360', `/?page=customers&customer=${id}`],
    ['Cases', '/?page=cases'],
    ['Segments', '/?page=segments'],
    ['Team', '/?page=team'],
    ['Settings', '/?page=settings'],
  ];

  const ctx = await chromium.launchPersistentContext(path.join(TMP, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    locale: 'en-US',
    viewport: { width: 1280, height: 900 },
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic',
      '--no-first-run', '--disable-background-networking', '--disable-component-update',
      '--disable-sync'],
  });
  try {
    ctx.setDefaultTimeout(60000);
    await ctx.addCookies([{ name, value, url: BASE, httpOnly: true, sameSite: 'Strict' }]);
    await ctx.addInitScript(observe, SIGNALS);
    const page = ctx.pages()[0] || await ctx.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));

    async function once(url) {
      await page.goto(BASE + url, { waitUntil: 'commit' });
      await page.waitForFunction(() => window.__render, null, { polling: 50 });
      return page.evaluate(() => window.__render);
    }

    for (const [, url] of urls) await once(url);   // warm-up
    console.log(`first render: navigation start -> h1 visible and the page's data shown; ` +
      `median of ${RUNS} after a warm-up`);
    console.log('| page | URL | median ms | max ms | within 1 s | status line at render |');
    console.log('|---|---|---:|---:|---|---|');
    let bad = 0;
    for (const [label, url] of urls) {
      const got = [];
      for (let i = 0; i < RUNS; i++) got.push(await once(url));
      const ms = got.map((g) => g.ms);
      const err = got.find((g) => g.error);
      if (err) bad++;
      const m = median(ms);
      const status = (err || got[got.length - 1]).status.replace(/\|/g, '/').slice(0, 90);
      console.log(`| ${label} | \`${url}\` | ${m.toFixed(0)} | ${Math.max(...ms).toFixed(0)} | ` +
        `${m <= TARGET_MS ? 'yes' : `**no** (+${(m - TARGET_MS).toFixed(0)})`} | ${err ? 'ERROR: ' : ''}${status} |`);
    }
    if (errors.length) console.log(`page errors: ${[...new Set(errors)].slice(0, 3).join(' / ')}`);
    if (bad) process.exitCode = 1;
  } finally {
    await ctx.close();
  }
}

main().catch((e) => {
  console.error(`render.js: ${e.message}`);
  process.exit(1);
});
