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

const http = require('http');
const {
  active, assert, eq, request, tabTo: tabToPred, submitByEnter: submitWith, createHarness,
} = require('./harness');

const TOTAL_MS = 90000;
const SURVEY = 'after-order';

const h = createHarness({
  tmpPrefix: 'cxm-browser-', totalMs: TOTAL_MS,
  state: { host: null, hostBase: '' },
  onStop: () => { if (h.state.host) h.state.host.close(); },
});
const { state, test, startServer, axe, shot } = h;

// ---- plumbing --------------------------------------------------------------

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

// Presses Tab until pred(active element) holds (at most 12 times).
const tabTo = (page, pred, what) => tabToPred(page, pred, { what });

const isRadio = (a) => a.tag === 'INPUT' && a.type === 'radio';
const isSubmit = (a) => a.tag === 'BUTTON' && a.type === 'submit' && !/skip|passer/i.test(a.text);

const submitByEnter = (page) => submitWith(page, isSubmit);

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
    page = await h.launchBrowser({ width: 1024, height: 768 });
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

h.run(main);
