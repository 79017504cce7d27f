#!/usr/bin/env node
// survey.test.js - the survey pages (/s/{token}) and the widget in a real
// browser (Debian's chromium through playwright-core) against the real
// server: accessibility (axe-core, WCAG 2.1 A and AA), answering by keyboard
// only, branching, the end pages, larger text, a 320 px phone, the answers
// becoming feedback, the widget's CORS and rate limit; and, once the server
// stopped, that its log holds no sanitizer report (for an ASan build).
//
// Starts `cxm serve` on a temp database and a free port, drives it over
// HTTP and in the browser, and always cleans up. Prints "ok - name" or
// "not ok - name: reason" per test and a Criterion-like synthesis line
// (scripts/run-tests.sh sums it). Env: CXM_BIN (default ./cxm),
// CHROMIUM (default /usr/bin/chromium), CXM_BROWSER_KEEP=1 keeps the temp dir,
// CXM_BROWSER_SHOTS=DIR saves screenshots of the pages there.
'use strict';

const { spawn } = require('child_process');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.resolve(ROOT, process.env.CXM_BIN || 'cxm');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const STEP_MS = 15000;
const TOTAL_MS = 90000;
const SURVEY = 'after-order';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cxm-browser-'));
const state = { server: null, base: '', key: '', ctx: null, host: null, hostBase: '' };
let passed = 0;
let failed = 0;

// ---- plumbing --------------------------------------------------------------

function oneLine(e) {
  const s = e && e.message ? e.message : String(e);
  return s.split('\n').filter(Boolean).slice(0, 3).join(' | ').slice(0, 400);
}

function withTimeout(promise, ms, what) {
  let timer;
  const t = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

async function test(name, fn) {
  try {
    await withTimeout(Promise.resolve().then(fn), STEP_MS, name);
    passed++;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}: ${oneLine(e)}`);
  }
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

function eq(got, want, what) {
  if (got !== want) throw new Error(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

// One HTTP request: {status, headers, text, json}. No redirects followed.
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
        const text = Buffer.concat(chunks).toString('utf8');
        let json = null;
        try { json = JSON.parse(text); } catch (e) { json = null; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.setTimeout(STEP_MS, () => req.destroy(new Error(`${method} ${url}: no answer`)));
    if (data) req.write(data);
    req.end();
  });
}

function api(method, p, body) {
  return request(method, state.base + p, {
    body, headers: { Authorization: `Bearer ${state.key}` },
  });
}

async function apiOk(method, p, body, want) {
  const r = await api(method, p, body);
  if (!want.includes(r.status)) throw new Error(`${method} ${p}: ${r.status} ${r.text.slice(0, 300)}`);
  return r.json;
}

// Starts cxm serve on a temp database and a free port; resolves once it
// printed its listening line (and the first admin key before it).
function startServer() {
  return new Promise((resolve, reject) => {
    const log = fs.openSync(path.join(tmp, 'server.log'), 'a');
    const child = spawn(BIN, ['serve', '--db', path.join(tmp, 'cxm.db'), '--listen',
      '127.0.0.1:0', '--threads', '4'], { stdio: ['ignore', 'pipe', log] });
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
          const m = /:(\d+)$/.exec(line);
          state.base = `http://127.0.0.1:${m[1]}`;
          if (!state.key) reject(new Error('no admin key printed on first start'));
          else resolve();
        }
      }
    });
  });
}

// A page on another origin that embeds the widget.
function startHost() {
  return new Promise((resolve) => {
    const srv = http.createServer((req, res) => {
      const html = '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">' +
        '<meta name="viewport" content="width=device-width, initial-scale=1">' +
        '<title>Shop</title></head><body><main><h1>Lamps and lights</h1>' +
        '<p>Welcome to our shop.</p></main>' +
        `<script src="${state.base}/s/widget.js" data-survey="${SURVEY}" ` +
        'data-question="nps" async></script></body></html>';
      res.writeHead(req.url === '/' ? 200 : 404, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(req.url === '/' ? html : 'not found');
    });
    srv.listen(0, '127.0.0.1', () => {
      state.host = srv;
      state.hostBase = `http://127.0.0.1:${srv.address().port}`;
      resolve();
    });
  });
}

async function stopAll() {
  if (state.ctx) await withTimeout(state.ctx.close(), 5000, 'closing the browser').catch(() => {});
  if (state.host) state.host.close();
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
    failed++;
    console.log(`not ok - server log is clean: ${n} sanitizer report(s)`);
  } else {
    passed++;
    console.log('ok - server log is clean');
  }
}

function removeTmp() {
  if (failed) {
    try {
      const log = fs.readFileSync(path.join(tmp, 'server.log'), 'utf8').split('\n');
      console.log('# server log (last lines):');
      for (const l of log.slice(-15)) if (l) console.log(`#   ${l}`);
    } catch (e) { /* no log */ }
  }
  if (process.env.CXM_BROWSER_KEEP) console.log(`# kept ${tmp}`);
  else fs.rmSync(tmp, { recursive: true, force: true });
}

async function axe(page, what) {
  await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
  const res = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
  }));
  const v = res.violations.map((x) => `${x.id} (${x.nodes.map((n) => n.target.join(' ')).join(', ')})`);
  assert(v.length === 0, `${what}: axe violations: ${v.join('; ')}`);
}

async function shot(page, name) {
  const dir = process.env.CXM_BROWSER_SHOTS;
  if (dir) await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}

const active = (page) => page.evaluate(() => {
  const a = document.activeElement;
  return a ? { tag: a.tagName, type: a.type || '', value: a.value || '', text: a.textContent } : {};
});

// Presses Tab until pred(activeElement) holds (at most 12 times).
async function tabTo(page, pred, what) {
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press('Tab');
    if (pred(await active(page))) return;
  }
  throw new Error(`Tab never reached ${what}`);
}

const isRadio = (a) => a.tag === 'INPUT' && a.type === 'radio';
const isSubmit = (a) => a.tag === 'BUTTON' && a.type === 'submit' && !/skip|passer/i.test(a.text);

async function submitByEnter(page) {
  await tabTo(page, isSubmit, 'the submit button');
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
}

const htmlLang = (page) => page.evaluate(() => document.documentElement.lang);
const bodyText = (page) => page.evaluate(() => document.body.innerText);

// Finds a feedback row of kind nps with score 3 anywhere in a document.
function hasNps3(doc) {
  if (Array.isArray(doc)) return doc.some(hasNps3);
  if (!doc || typeof doc !== 'object') return false;
  if (doc.kind === 'nps' && doc.score === 3) return true;
  return Object.values(doc).some(hasNps3);
}

// ---- the tests ----------------------------------------------------------------

async function main() {
  const ctx = { link: '', link2: '', customer: 0 };
  let page;

  await test('server starts on a temp database', startServer);
  if (!state.base) return;
  await test('host page for the widget', startHost);

  await test('set up: survey, French customer, link invitations', async () => {
    const doc = {
      id: SURVEY, name: 'After an order', language: 'en',
      title: { en: 'Your recent order', fr: 'Votre commande récente' },
      thanks: { en: 'Thank you for your feedback!', fr: 'Merci pour votre avis !' },
      questions: [
        { id: 'nps', type: 'nps',
          text: { en: 'How likely are you to recommend us to a friend?',
                  fr: 'Quelle est la probabilité que vous nous recommandiez à un ami ?' },
          min_label: { en: 'Not at all likely', fr: 'Pas du tout probable' },
          max_label: { en: 'Extremely likely', fr: 'Très probable' } },
        { id: 'why', type: 'text', show_if: 'nps <= 6',
          text: { en: 'What is the main reason for your score?',
                  fr: 'Quelle est la raison principale de votre note ?' } },
        { id: 'topic', type: 'single_choice',
          text: { en: 'What should we improve first?', fr: "Que devrions-nous améliorer d'abord ?" },
          choices: [
            { id: 'price', label: { en: 'Price', fr: 'Le prix' } },
            { id: 'delivery', label: { en: 'Delivery', fr: 'La livraison' } },
            { id: 'service', label: { en: 'Service', fr: 'Le service' } }] },
      ],
      widget: { origins: [state.hostBase] },
    };
    await apiOk('POST', '/v1/surveys', doc, [201]);
    await apiOk('POST', '/v1/events', [
      { type: 'customer', email: 'marie@example.com', name: 'Marie Curie', language: 'fr',
        consent: { surveys: true } },
      { type: 'customer', email: 'ada@example.com', name: 'Ada Lovelace', language: 'de',
        consent: { surveys: true } }], [200, 201]);
    const find = async (email) => {
      const r = await apiOk('GET', `/v1/customers?q=${encodeURIComponent(email)}`, undefined, [200]);
      assert(r.customers && r.customers.length === 1, `search ${email}: ${JSON.stringify(r)}`);
      return r.customers[0].id;
    };
    ctx.customer = await find('marie@example.com');
    const inv = async (customer) => {
      const r = await apiOk('POST', `/v1/surveys/${SURVEY}/invitations`,
        { customers: [customer], channel: 'link' }, [200, 201]);
      assert(r.invitations && r.invitations[0] && r.invitations[0].url,
        `no invitation url: ${JSON.stringify(r)}`);
      const u = new URL(r.invitations[0].url);
      assert(/^\/s\/[A-Za-z0-9_-]+$/.test(u.pathname), `url path ${u.pathname}`);
      return u.pathname;
    };
    ctx.link = await inv(ctx.customer);
    ctx.link2 = await inv(await find('ada@example.com'));
  });

  await test('browser starts', async () => {
    state.ctx = await chromium.launchPersistentContext(path.join(tmp, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      locale: 'en-US',
      bypassCSP: true,           // to inject axe; the CSP itself is checked on the headers
      viewport: { width: 1024, height: 768 },
      args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic',
        '--no-first-run', '--disable-background-networking', '--disable-component-update',
        '--disable-sync'],
    });
    state.ctx.setDefaultTimeout(STEP_MS - 1000);
    page = state.ctx.pages()[0] || await state.ctx.newPage();
  });
  if (!page || !ctx.link) return;

  await test('page headers: CSP, nosniff, no-referrer, no-store', async () => {
    const r = await request('GET', state.base + ctx.link);
    eq(r.status, 200, 'status');
    assert(/^text\/html/.test(r.headers['content-type']), `content-type ${r.headers['content-type']}`);
    eq(r.headers['content-security-policy'], "default-src 'none'; style-src 'unsafe-inline'; " +
      "form-action 'self'; base-uri 'none'; frame-ancestors 'none'", 'CSP');
    eq(r.headers['x-content-type-options'], 'nosniff', 'nosniff');
    eq(r.headers['referrer-policy'], 'no-referrer', 'referrer');
    eq(r.headers['cache-control'], 'no-store', 'cache');
  });

  await test('first question in French, no axe violations', async () => {
    const res = await page.goto(state.base + ctx.link);
    eq(res.status(), 200, 'status');
    eq(await htmlLang(page), 'fr', 'html lang (the customer speaks French)');
    eq(await page.locator('main').count(), 1, 'main landmarks');
    eq(await page.locator('h1').innerText(), 'Votre commande récente', 'h1');
    eq(await page.locator('input[type=radio]').count(), 11, 'nps radios');
    assert((await bodyText(page)).includes('Question 1 sur environ'), 'progress text');
    await shot(page, 'question-nps-fr');
    await axe(page, 'question page');
  });

  await test('answer 3 by keyboard: Tab, arrows, Enter', async () => {
    await tabTo(page, isRadio, 'the first radio');
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
    eq(await page.locator('input[type=radio]:checked').getAttribute('value'), '3', 'chosen');
    await submitByEnter(page);
    eq(await page.locator('textarea').count(), 1, 'the "why" question follows a 3');
  });

  await test('type the reason and send by keyboard', async () => {
    assert((await bodyText(page)).includes('raison principale'), 'why question text');
    await tabTo(page, (a) => a.tag === 'TEXTAREA', 'the text area');
    await page.keyboard.type('Trop cher & livraison <lente>');
    await shot(page, 'question-text-fr');
    await submitByEnter(page);
    eq(await page.locator('input[type=radio]').count(), 3, 'choice radios');
  });

  await test('choose an option and finish: thank-you page', async () => {
    await tabTo(page, isRadio, 'the first choice');
    await page.keyboard.press('ArrowDown');
    eq(await page.locator('input[type=radio]:checked').getAttribute('value'), 'delivery', 'chosen');
    const send = await page.locator('button[type=submit]').first().innerText();
    eq(send, 'Envoyer', 'the last question sends');
    await shot(page, 'question-choice-fr');
    await submitByEnter(page);
    const text = await bodyText(page);
    assert(text.includes('Merci pour votre avis'), `thank-you text: ${text.slice(0, 200)}`);
    await shot(page, 'thanks-fr');
    await axe(page, 'thank-you page');
  });

  await test('the token again: already answered (200)', async () => {
    const res = await page.goto(state.base + ctx.link);
    eq(res.status(), 200, 'status');
    assert((await bodyText(page)).includes('Vous avez déjà répondu'), 'already answered text');
  });

  await test('a forged token: not valid (404)', async () => {
    const tok = ctx.link.slice(3);
    const i = Math.floor(tok.length / 2);
    const forged = tok.slice(0, i) + (tok[i] === 'A' ? 'B' : 'A') + tok.slice(i + 1);
    const res = await page.goto(`${state.base}/s/${forged}`);
    eq(res.status(), 404, 'status');
    assert((await bodyText(page)).includes('This survey link is not valid.'), 'not-valid text');
    assert(/^text\/html/.test(res.headers()['content-type']), 'an HTML page, not JSON');
    await axe(page, 'not-valid page');
  });

  await test('answers became feedback: nps 3 in the timeline', async () => {
    const tl = await apiOk('GET', `/v1/customers/${ctx.customer}/timeline?limit=50`, undefined, [200]);
    assert(hasNps3(tl), `no nps feedback with score 3: ${JSON.stringify(tl).slice(0, 300)}`);
  });

  await test('a required question left empty: error linked, 422', async () => {
    const res = await page.goto(state.base + ctx.link2);
    eq(res.status(), 200, 'status');
    eq(await htmlLang(page), 'en', 'html lang (no German in the survey: its default)');
    const [resp] = await Promise.all([
      page.waitForNavigation(),
      page.locator('button[type=submit]').first().click(),
    ]);
    eq(resp.status(), 422, 'status');
    const alert = page.locator('[role=alert]');
    eq(await alert.count(), 1, 'one alert');
    const id = await alert.getAttribute('id');
    const desc = await page.locator('fieldset').getAttribute('aria-describedby');
    assert(desc && desc.split(' ').includes(id), `fieldset describedby ${desc} lacks ${id}`);
    const a = await active(page);
    assert(isRadio(a), `focus on the question, not ${a.tag}`);
    await shot(page, 'error-en');
    await axe(page, 'error page');
  });

  await test('larger text toggle changes the font size', async () => {
    const size = () => page.evaluate(() => parseFloat(getComputedStyle(document.documentElement).fontSize));
    const before = await size();
    await Promise.all([page.waitForNavigation(), page.locator('.tools a').click()]);
    const after = await size();
    assert(after > before * 1.2, `font size ${before} -> ${after}`);
    assert(/[?&]large=1/.test(await page.locator('form').getAttribute('action')), 'form keeps it');
    eq(await page.locator('.tools a').innerText(), 'Normal text', 'toggle back');
    await shot(page, 'large-en');
  });

  await test('320 px wide phone: no horizontal scroll', async () => {
    await page.setViewportSize({ width: 320, height: 640 });
    for (const q of ['', '?large=1']) {
      await page.goto(state.base + ctx.link2 + q);
      const [sw, cw] = await page.evaluate(() => [document.documentElement.scrollWidth,
        document.documentElement.clientWidth]);
      assert(sw <= cw, `scrollWidth ${sw} > ${cw} (${q || 'normal'})`);
      await shot(page, `phone${q ? '-large' : ''}`);
    }
    await page.setViewportSize({ width: 1024, height: 768 });
  });

  await test('an open link: a start page (a GET creates nothing), then a respondent', async () => {
    await apiOk('POST', '/v1/surveys', {
      id: 'open-link', anonymous: true, title: 'Tell us anything',
      questions: [{ id: 'nps', type: 'nps', text: 'How likely are you to recommend us?' }],
    }, [201]);
    const res = await page.goto(state.base + '/s/open/open-link');
    eq(res.status(), 200, 'status');
    eq(await page.locator('h1').innerText(), 'Tell us anything', 'h1');
    await axe(page, 'open link start page');
    const before = await apiOk('GET', '/v1/surveys/open-link/results', undefined, [200]);
    eq(before.invited, 0, 'nobody invited by a GET');
    await submitByEnter(page);
    eq(await page.locator('input[type=radio]').count(), 11, 'the first question');
    await tabTo(page, isRadio, 'the first radio');
    for (let i = 0; i < 9; i++) await page.keyboard.press('ArrowRight');
    await submitByEnter(page);
    assert((await bodyText(page)).includes('Thank you'), 'thank-you page');
    const after = await apiOk('GET', '/v1/surveys/open-link/results', undefined, [200]);
    eq(after.completed, 1, 'one anonymous response');
    const missing = await fetch(state.base + '/s/open/no-such-survey');
    eq(missing.status, 404, 'an unknown survey');
  });

  await test('widget.js: JavaScript, cached an hour, under 6 KB', async () => {
    const r = await request('GET', `${state.base}/s/widget.js`);
    eq(r.status, 200, 'status');
    assert(/^application\/javascript/.test(r.headers['content-type']), r.headers['content-type']);
    assert(/max-age=3600/.test(r.headers['cache-control'] || ''), r.headers['cache-control']);
    assert(Buffer.byteLength(r.text) < 6144, `${Buffer.byteLength(r.text)} bytes`);
  });

  await test('widget on another origin: accessible, answers by keyboard', async () => {
    await page.goto(`${state.hostBase}/`);
    const w = page.locator('section#cxm-w');
    await w.waitFor();
    await axe(page, 'host page with the widget');
    await page.locator('#cxm-w button[data-v="9"]').focus();
    await page.keyboard.press('Enter');
    eq(await page.locator('#cxm-w button[data-v="9"]').getAttribute('aria-pressed'), 'true', 'pressed');
    await shot(page, 'widget');
    await page.locator('#cxm-w textarea').fill('Great lamps');
    const [resp] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/answers') && r.request().method() === 'POST'),
      page.locator('#cxm-w button[type=submit]').click(),
    ]);
    eq(resp.status(), 201, 'status');
    await page.locator('#cxm-w [role=status]:not(:empty)').waitFor();
    const a = await page.evaluate(() => document.activeElement.getAttribute('role'));
    eq(a, 'status', 'focus moves to the thank-you message');
    await shot(page, 'widget-thanks');
  });

  const answers = `${state.base}/v1/public/surveys/${SURVEY}/answers`;
  await test('widget CORS: preflight allowed, other origins 403', async () => {
    const pre = await request('OPTIONS', answers, { headers: { Origin: state.hostBase,
      'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' } });
    eq(pre.status, 204, 'preflight status');
    eq(pre.headers['access-control-allow-origin'], state.hostBase, 'allowed origin');
    eq(pre.headers['access-control-allow-methods'], 'POST', 'methods');
    eq(pre.headers.vary, 'Origin', 'vary');
    const bad = await request('POST', answers, { headers: { Origin: 'http://evil.example' },
      body: { question: 'nps', value: '10', visitor: 'x' } });
    eq(bad.status, 403, 'disallowed origin');
    eq(bad.headers['access-control-allow-origin'], undefined, 'no CORS header');
    const none = await request('POST', answers, { body: { question: 'nps', value: '10' } });
    eq(none.status, 403, 'no Origin');
  });

  await test('widget rate limit: 12 quick posts get a 429', async () => {
    const posts = [];
    for (let i = 0; i < 12; i++) {
      posts.push(request('POST', answers, { headers: { Origin: state.hostBase },
        body: { question: 'nps', value: String(i % 11), visitor: `rate-test-visitor-${i}` } }));
    }
    const rs = await Promise.all(posts);
    const limited = rs.filter((r) => r.status === 429);
    assert(limited.length > 0, `statuses ${rs.map((r) => r.status).join(',')}`);
    assert(Number(limited[0].headers['retry-after']) >= 1, 'Retry-After');
    const other = rs.filter((r) => r.status !== 429 && r.status !== 201);
    assert(other.length === 0, `unexpected: ${other.map((r) => `${r.status} ${r.text}`).join('; ')}`);
  });
}

const guard = setTimeout(() => {
  console.log(`not ok - the whole run: over ${TOTAL_MS / 1000} s`);
  failed++;
  finish();
}, TOTAL_MS);

let finishing = false;
async function finish() {
  if (finishing) return;
  finishing = true;
  clearTimeout(guard);
  await stopAll();
  checkLog();
  removeTmp();
  console.log(`[====] Synthesis: Tested: ${passed + failed} | Passing: ${passed} | ` +
    `Failing: ${failed} | Crashing: 0`);
  process.exit(failed || !passed ? 1 : 0);
}

// Last resort when node itself dies: no server left behind.
process.on('exit', () => {
  const child = state.server;
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});
process.on('uncaughtException', (e) => {
  failed++;
  console.log(`not ok - uncaught: ${oneLine(e)}`);
  finish();
});
process.on('SIGINT', () => { failed++; finish(); });
process.on('SIGTERM', () => { failed++; finish(); });
main().catch((e) => {
  failed++;
  console.log(`not ok - the run: ${oneLine(e)}`);
}).finally(finish);
