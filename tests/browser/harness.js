// harness.js - the plumbing shared by the browser tests (survey.test.js and
// the dashboard's page tests): a tiny test runner printing "ok - name" or
// "not ok - name: reason" and a Criterion-like synthesis line
// (scripts/run-tests.sh sums it), a temp dir, `cxm serve` on a free port,
// chromium through playwright-core, axe-core, screenshots, keyboard helpers,
// and the clean-up (the server stopped, its log checked for sanitizer
// reports, the temp dir removed).
//
// Env: CXM_BIN (default ./cxm), CHROMIUM (default /usr/bin/chromium),
// CXM_BROWSER_KEEP=1 keeps the temp dir, CXM_BROWSER_SHOTS=DIR saves
// screenshots of the pages there.
'use strict';

const { execFile, spawn } = require('child_process');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.resolve(ROOT, process.env.CXM_BIN || 'cxm');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const STEP_MS = 15000;   // one test, one HTTP request

// The first lines of an error's message, on one line.
function oneLine(e) {
  const s = e && e.message ? e.message : String(e);
  return s.split('\n').filter(Boolean).slice(0, 3).join(' | ').slice(0, 400);
}

// promise, or a rejection "what: timed out after ms ms".
function withTimeout(promise, ms, what) {
  let timer;
  const t = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

function eq(got, want, what) {
  if (got !== want) throw new Error(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

// One HTTP request: {status, headers, text, json, bytes}. No redirects
// followed. An object body is sent as JSON, a string one as is (with the
// Content-Type given in headers, else application/json).
function request(method, url, { body, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? null
      : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const h = Object.assign({}, headers);
    if (data) {
      h['Content-Length'] = data.length;
      if (!h['Content-Type']) h['Content-Type'] = 'application/json';
    }
    const req = http.request(url, { method, headers: h }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        const text = buf.toString('utf8');
        let json = null;
        try { json = JSON.parse(text); } catch (e) { json = null; }
        resolve({ status: res.statusCode, headers: res.headers, text, json, bytes: buf.length });
      });
    });
    req.on('error', reject);
    req.setTimeout(STEP_MS, () => req.destroy(new Error(`${method} ${url}: no answer`)));
    if (data) req.write(data);
    req.end();
  });
}

// ---- keyboard --------------------------------------------------------------

// The focused element: {tag, type, value, text} ({} if none).
const active = (page) => page.evaluate(() => {
  const a = document.activeElement;
  return a ? { tag: a.tagName, type: a.type || '', value: a.value || '', text: a.textContent } : {};
});

// Presses Tab until the focus is where wanted, at most max times (default
// 12); throws "Tab never reached what" (what defaults to pred's source).
// pred gets active(page); with inPage it runs in the page instead (it may
// use document.activeElement) and gets nothing.
async function tabTo(page, pred, { what = String(pred), max = 12, inPage = false } = {}) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (inPage ? await page.evaluate(pred) : pred(await active(page))) return;
  }
  throw new Error(`Tab never reached ${what}`);
}

// Tabs to the submit button (isSubmit(active(page))), presses Enter and
// waits for the navigation that follows.
async function submitByEnter(page, isSubmit) {
  await tabTo(page, isSubmit, { what: 'the submit button' });
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
}

// ---- one run ---------------------------------------------------------------

// A run's harness. Options:
//   tmpPrefix   the temp dir's name prefix (e.g. 'cxm-browser-')
//   shotPrefix  prefixed to the screenshots' names (default '')
//   totalMs     the whole run's limit
//   axeMessages true: axe violations also give the first node's message
//   state       extra fields for the shared state object
//   onStop      called by stopAll after the browser closed, before the
//               server stops (e.g. to close another server)
// Returns { tmp, db, state, test, startServer, cxm, launchBrowser, axe,
// shot, stopAll, run, counts }; state holds server, base (the server's
// http://127.0.0.1:port), key (the first admin key) and ctx (the browser).
function createHarness({ tmpPrefix, shotPrefix = '', totalMs, axeMessages = false,
  state: extra = {}, onStop = () => {} }) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), tmpPrefix));
  const db = path.join(tmp, 'cxm.db');
  const state = Object.assign({ server: null, base: '', key: '', ctx: null }, extra);
  const counts = { passed: 0, failed: 0 };

  // Runs one test within STEP_MS, prints its line; resolves true if it passed.
  async function test(name, fn) {
    try {
      await withTimeout(Promise.resolve().then(fn), STEP_MS, name);
      counts.passed++;
      console.log(`ok - ${name}`);
      return true;
    } catch (e) {
      counts.failed++;
      console.log(`not ok - ${name}: ${oneLine(e)}`);
      return false;
    }
  }

  // Starts cxm serve on db and a free port; resolves once it printed its
  // listening line (and the first admin key before it). Its stderr goes to
  // tmp/server.log.
  function startServer() {
    return new Promise((resolve, reject) => {
      const log = fs.openSync(path.join(tmp, 'server.log'), 'a');
      const child = spawn(BIN, ['serve', '--db', db, '--listen', '127.0.0.1:0', '--threads', '4'],
        { stdio: ['ignore', 'pipe', log] });
      state.server = child;
      let out = '';
      let keyNext = false;
      child.on('error', reject);
      child.on('exit', (code, sig) => reject(new Error(`cxm serve exited (${code ?? sig}) before listening`)));
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk) => {
        out += chunk;
        let nl;
        while ((nl = out.indexOf('\n')) >= 0) {
          const line = out.slice(0, nl).trim();
          out = out.slice(nl + 1);
          if (keyNext) {
            state.key = line;
            keyNext = false;
          } else if (line.includes('first start: admin API key')) {
            keyNext = true;
          } else if (line.startsWith('cxm: listening on http://')) {
            state.base = `http://127.0.0.1:${/:(\d+)$/.exec(line)[1]}`;
            if (!state.key) reject(new Error('no admin key printed on first start'));
            else resolve();
          }
        }
      });
    });
  }

  // Runs `cxm args...` (e.g. ['demo', '--db', db]); resolves its stdout.
  function cxm(args) {
    return new Promise((resolve, reject) => {
      execFile(BIN, args, { timeout: STEP_MS }, (err, stdout, stderr) => {
        if (err) reject(new Error(`cxm ${args[0]}: ${oneLine(err)} ${stderr}`));
        else resolve(stdout);
      });
    });
  }

  // Starts headless chromium (en-US, CSP bypassed to inject axe) with the
  // given viewport into state.ctx; resolves its first page.
  async function launchBrowser(viewport) {
    state.ctx = await chromium.launchPersistentContext(path.join(tmp, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      locale: 'en-US',
      bypassCSP: true,           // to inject axe; the CSP itself is checked on the headers
      viewport,
      args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic',
        '--no-first-run', '--disable-background-networking', '--disable-component-update',
        '--disable-sync'],
    });
    state.ctx.setDefaultTimeout(STEP_MS - 1000);
    return state.ctx.pages()[0] || await state.ctx.newPage();
  }

  // axe-core on the page, WCAG 2.1 A and AA; throws "what: axe violations: ...".
  async function axe(page, what) {
    await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
    const res = await page.evaluate(() => window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    }));
    const v = res.violations.map((x) => `${x.id} (${x.nodes.map((n) => n.target.join(' ')).join(', ')}` +
      (axeMessages ? `: ${(x.nodes[0].any[0] || x.nodes[0].all[0] || {}).message || ''})` : ')'));
    assert(v.length === 0, `${what}: axe violations: ${v.join('; ')}`);
  }

  // A full-page screenshot as CXM_BROWSER_SHOTS/<shotPrefix><name>.png, if set.
  async function shot(page, name) {
    const dir = process.env.CXM_BROWSER_SHOTS;
    if (dir) await page.screenshot({ path: path.join(dir, `${shotPrefix}${name}.png`), fullPage: true });
  }

  // Closes the browser, calls onStop, stops the server (SIGTERM, then SIGKILL).
  async function stopAll() {
    if (state.ctx) await withTimeout(state.ctx.close(), 5000, 'closing the browser').catch(() => {});
    onStop();
    const child = state.server;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const gone = new Promise((r) => child.once('exit', r));
      await withTimeout(gone, 5000, 'stopping cxm').catch(() => child.kill('SIGKILL'));
    }
  }

  // After the server stopped: its log must hold no sanitizer report (an
  // ASan build, CXM_BIN=build/asan/cxm, writes them there).
  function checkLog() {
    if (!state.base) return;
    let log = '';
    try { log = fs.readFileSync(path.join(tmp, 'server.log'), 'utf8'); } catch (e) { log = ''; }
    const n = (log.match(/ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:/g) || []).length;
    if (n) {
      counts.failed++;
      console.log(`not ok - server log is clean: ${n} sanitizer report(s)`);
    } else {
      counts.passed++;
      console.log('ok - server log is clean');
    }
  }

  // Shows the server log's tail if anything failed; removes tmp unless
  // CXM_BROWSER_KEEP is set.
  function removeTmp() {
    if (counts.failed) {
      try {
        const log = fs.readFileSync(path.join(tmp, 'server.log'), 'utf8').split('\n');
        console.log('# server log (last lines):');
        for (const l of log.slice(-15)) if (l) console.log(`#   ${l}`);
      } catch (e) { /* no log */ }
    }
    if (process.env.CXM_BROWSER_KEEP) console.log(`# kept ${tmp}`);
    else fs.rmSync(tmp, { recursive: true, force: true });
  }

  // Runs main() within totalMs, then (or on a crash or signal) cleans up,
  // prints the synthesis line and exits 1 if anything failed or nothing passed.
  function run(main) {
    const guard = setTimeout(() => {
      console.log(`not ok - the whole run: over ${totalMs / 1000} s`);
      counts.failed++;
      finish();
    }, totalMs);

    let finishing = false;
    async function finish() {
      if (finishing) return;
      finishing = true;
      clearTimeout(guard);
      await stopAll();
      checkLog();
      removeTmp();
      console.log(`[====] Synthesis: Tested: ${counts.passed + counts.failed} | Passing: ${counts.passed} | ` +
        `Failing: ${counts.failed} | Crashing: 0`);
      process.exit(counts.failed || !counts.passed ? 1 : 0);
    }

    // Last resort when node itself dies: no server left behind.
    process.on('exit', () => {
      const child = state.server;
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    process.on('uncaughtException', (e) => {
      counts.failed++;
      console.log(`not ok - uncaught: ${oneLine(e)}`);
      finish();
    });
    process.on('SIGINT', () => { counts.failed++; finish(); });
    process.on('SIGTERM', () => { counts.failed++; finish(); });
    main().catch((e) => {
      counts.failed++;
      console.log(`not ok - the run: ${oneLine(e)}`);
    }).finally(finish);
  }

  return { tmp, db, state, counts, test, startServer, cxm, launchBrowser, axe, shot,
    stopAll, checkLog, removeTmp, run };
}

// ---- the dashboard tests' helpers ----------------------------------------------

// Helpers every dashboard page test shares, bound to a harness's state:
//   problems          console and page errors collected since the last check
//   apiCall(method, path, body, key)  the API with a Bearer key (default:
//                     the first admin key): {status, headers, text, json}
//   apiGet(path, key) GET, throwing unless 200: the JSON
//   watch(page)       collects console errors and page errors, but for the
//                     401 of GET /v1/session while signed out and those
//                     `allow` names: [[status, url regex], ...] (a page's
//                     deliberate 4xx; the browser logs every one)
//   noProblems(what)  throws "what: ..." with what was collected, and
//                     forgets it
//   signIn(page, key) by keyboard: Tab to the key field, type, Enter; waits
//                     for the Overview
//   signOut(page)
//   setMode(page, id, on)  the larger-text or high-contrast toggle
//   scrolls(page)     true when the page scrolls sideways
function dashboardHelpers(state, { allow = [] } = {}) {
  const problems = [];
  const apiCall = (method, p, body, key = state.key) =>
    request(method, state.base + p, { body, headers: { Authorization: `Bearer ${key}` } });
  async function apiGet(p, key = state.key) {
    const r = await apiCall('GET', p, undefined, key);
    if (r.status !== 200) throw new Error(`GET ${p}: ${r.status} ${r.text.slice(0, 300)}`);
    return r.json;
  }
  const expected = [[401, /\/v1\/session$/], ...allow];
  function watch(page) {
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      const url = (m.location() && m.location().url) || '';
      const t = m.text();
      if (expected.some(([s, re]) => t.includes(`status of ${s}`) && re.test(url))) return;
      problems.push(`console: ${t} (${url})`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${oneLine(e)}`));
  }
  function noProblems(what) {
    const p = problems.splice(0);
    assert(p.length === 0, `${what}: ${p.join('; ')}`);
  }
  async function signIn(page, key) {
    await page.goto(`${state.base}/`);
    await page.locator('#api-key').waitFor();
    await tabTo(page, () => document.activeElement.id === 'api-key', { inPage: true, what: 'the key field' });
    await page.keyboard.type(key);
    await page.keyboard.press('Enter');
    await page.locator('h1', { hasText: 'Overview' }).waitFor();
  }
  async function signOut(page) {
    await page.locator('#sign-out').click();
    await page.locator('#api-key').waitFor();
  }
  async function setMode(page, id, on) {
    const b = page.locator(`#${id}`);
    if ((await b.getAttribute('aria-pressed')) !== String(on)) await b.click();
    eq(await b.getAttribute('aria-pressed'), String(on), `${id} pressed`);
  }
  const scrolls = (page) => page.evaluate(() =>
    document.documentElement.scrollWidth > document.documentElement.clientWidth);
  return { problems, apiCall, apiGet, watch, noProblems, signIn, signOut, setMode, scrolls };
}

module.exports = {
  ROOT, BIN, CHROMIUM, STEP_MS,
  oneLine, withTimeout, assert, eq, request, active, tabTo, submitByEnter, createHarness,
  dashboardHelpers,
};
