// calls.js - bench/dashboard: times the data calls each dashboard page makes
// when it loads, over HTTP, the way the page makes them (web/dashboard/*.js):
// one page's calls at once ("waves": a page that waits for one answer before
// its next calls, e.g. the Customer 360 profile before its panels, has
// several), through an agent of at most 6 keep-alive connections like a
// browser on HTTP/1.1, signed in with the session cookie and CSRF token as
// the dashboard is.
//
// Usage: node calls.js BASE API_KEY RUNS OUT.json
//
// Per call: the time from the request getting its connection to the last
// byte of the answer (time queued behind the 6 connections is left out);
// median and max of RUNS page loads after one warm-up load. Per page: the
// wall time of the whole load (waves one after the other, queueing
// included). "alone": the same call by itself with nothing else running
// (median of RUNS), to tell a slow call from a crowded one. The pages
// change no data: their only POSTs are /v1/session, /v1/segments/preview
// and /v1/decide with log:false. With CALLS_INGEST=1 it then also sends
// RUNS batches of 1,000 new answers (POST /v1/events), each followed by a
// Journeys load: the first load on new data.
'use strict';

const fs = require('fs');
const http = require('http');

const [BASE, KEY, RUNS_ARG, OUT] = process.argv.slice(2);
if (!BASE || !KEY) {
  console.error('usage: node calls.js BASE API_KEY RUNS OUT.json');
  process.exit(2);
}
const RUNS = Number(RUNS_ARG || 5);
const TARGET_MS = 100;
const agent = new http.Agent({ keepAlive: true, maxSockets: 6 });
let cookie = '';
let csrf = '';

// web/dashboard/api.js query(): empty values left out.
function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== '') q.set(k, v);
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

// One request: {status, json, ms} with ms from the connection's assignment
// to the answer's end.
function call(method, path, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? null : Buffer.from(JSON.stringify(body));
    const headers = { Accept: 'application/json' };
    if (cookie) headers.Cookie = cookie;
    if (data) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = data.length;
    }
    if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
    let t0 = 0;
    const req = http.request(BASE + path, { method, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        const text = Buffer.concat(chunks).toString('utf8');
        let json = null;
        try { json = JSON.parse(text); } catch (e) { json = null; }
        resolve({ status: res.statusCode, headers: res.headers, json, text, ms, bytes: text.length });
      });
    });
    req.on('socket', () => { t0 = process.hrtime.bigint(); });
    req.on('error', reject);
    req.setTimeout(120000, () => req.destroy(new Error(`${method} ${path}: no answer in 120 s`)));
    if (data) req.write(data);
    req.end();
  });
}

const G = (path, params) => ({ method: 'GET', path: path + query(params) });
const P = (path, body) => ({ method: 'POST', path, body });

async function ok(c) {
  const r = await call(c.method, c.path, c.body);
  if (r.status < 200 || r.status > 299) {
    throw new Error(`${c.method} ${c.path}: ${r.status} ${r.text.slice(0, 300)}`);
  }
  return r;
}

// ---- the pages' calls (web/dashboard/*.js) -------------------------------------

const DIMENSIONS = ['channel', 'touchpoint', 'stage', 'country'];   // filters.js
const quote = (s) => `'${String(s).replace(/'/g, "''")}'`;
const whereOf = (f) => DIMENSIONS.filter((k) => f[k]).map((k) => `${k} = ${quote(f[k])}`).join(' and ');

// overview.js mount(): filters.loadChoices, render() (8 calls), loadRisk()
function overview(f) {
  const p = { from: f.from, to: f.to, where: whereOf(f) };
  const m = (metric, by) => G('/v1/metrics', Object.assign({ metric, by }, p));
  return [[
    G('/v1/dimensions'),
    G('/v1/segments'),
    m('nps'), m('csat'), m('ces'), m('sentiment'),
    m('nps', 'month'), m('csat', 'month'), m('responses', 'month'), G('/v1/text/themes', p),
    G('/v1/churn/drivers'), G('/v1/churn/at-risk', { limit: 5 }),
  ]];
}

// journeys.js mount() with the filter's params(f)
function journeys(jp) {
  return [
    G('/v1/dimensions'),
    G('/v1/journeys/funnel', jp),
    G('/v1/journeys/flows', Object.assign({ top: 20 }, jp)),
    G('/v1/journeys/dropoffs', jp),
    G('/v1/journeys/friction', Object.assign({ outcome: 'detractor' }, jp)),
    G('/v1/metrics', Object.assign({ metric: 'csat', by: 'touchpoint,stage' }, jp)),
  ];
}

// 1,000 new CSAT answers of existing customers spread over the data's two
// years (late ones too), as a source system would send them: the next
// Journeys load is the first on the new data.
let batch = 0;
function newAnswers(ctx) {
  const rows = [];
  batch++;
  for (let i = 0; i < 1000; i++) {
    const k = (batch * 7919 + i * 104729) % 1000000;
    rows.push({ type: 'feedback', crm: `C${String(k + 1).padStart(7, '0')}`,
      event_id: `bench-${ctx.run}-${batch}-${i}`, ts: ctx.t0 + ((i * 2654435761) % (730 * 86400)),
      kind: 'csat', score: 1 + (i % 5), channel: 'web', touchpoint: ctx.touchpoint, stage: 'purchase' });
  }
  return rows;
}

function pages(ctx) {
  const jp = {};   // journeys.js params(f) with no filter: from, to, where all empty
  const tp = { where: `touchpoint = ${quote(ctx.touchpoint)}` };   // touchWhere(f, tp)
  const id = ctx.customer;
  return [
    { page: 'App shell (every page)', note: 'app.js start()', waves: [[G('/v1/session')]] },
    { page: 'Overview', note: 'no filter', waves: overview({}) },
    { page: 'Overview, filtered', note: `channel = 'web', ${ctx.from}..${ctx.to}`,
      waves: overview({ channel: 'web', from: ctx.from, to: ctx.to }) },
    { page: 'Journeys', note: 'no filter', waves: [journeys(jp)] },
    { page: 'Journeys, country', note: "country = 'US'", waves: [journeys({ where: "country = 'US'" })] },
    { page: 'Journeys, period', note: `${ctx.from}..${ctx.to}`,
      waves: [journeys({ from: ctx.from, to: ctx.to })] },
    { page: 'Journeys, touchpoint detail', note: `touchpoint ${ctx.touchpoint} chosen`, waves: [[
      G('/v1/metrics', Object.assign({ metric: 'nps' }, tp)),
      G('/v1/metrics', Object.assign({ metric: 'csat' }, tp)),
      G('/v1/metrics', Object.assign({ metric: 'csat', by: 'month' }, tp)),
      G('/v1/text/themes', tp),
    ]] },
    { page: 'Feedback', note: 'choices first, then comments', waves: [
      [G('/v1/text/taxonomy'), G('/v1/dimensions')],
      [G('/v1/feedback', { limit: 50 }), G('/v1/text/themes', {}), G('/v1/text/emerging', { period: 'week' })],
    ] },
    { page: 'Customers, search', note: `q=${ctx.q}`, waves: [[G('/v1/customers', { q: ctx.q, limit: 50 })]] },
    { page: 'Customer 360', note: `customer #${id}`, waves: [
      [G(`/v1/customers/${id}`)],
      [G('/v1/segments'),
        G('/v1/cases', { customer: id, sort: 'newest', limit: 50 }),
        G('/v1/cases', { customer: id, status: 'all', limit: 1 }),
        G(`/v1/customers/${id}/recommendations`, { n: 10 }),
        G(`/v1/customers/${id}/journey`),
        G(`/v1/customers/${id}/timeline`, { limit: 20 })],
      [G('/v1/actions')],
      [P('/v1/decide', { customer: Number(id), channel: ctx.channel, log: false, explain: true })],
    ] },
    { page: 'Cases', note: 'employees, then the inbox', waves: [
      [G('/v1/employees')],
      [G('/v1/cases', { sort: 'urgency', limit: 50 })],
    ] },
    { page: 'Segments', note: `${ctx.segments} segments`, waves: [[G('/v1/segments'), G('/v1/features')]] },
    { page: 'Segments, rule preview', note: 'as typed in the builder',
      waves: [[P('/v1/segments/preview', { rule: "country = 'US'" })]] },
    { page: 'Team', note: '', waves: [[G('/v1/team/performance'), G('/v1/team/recognition'), G('/v1/team/enps')]] },
    { page: 'Settings', note: '', waves: [[G('/v1/keys'), G('/v1/webhooks'), G('/v1/alert-rules'),
      G('/v1/surveys'), G('/v1/contact-policy'), G('/v1/settings/email')]] },
  ];
}

// ---- measuring ------------------------------------------------------------------

// Any answer but a 5xx is what the page gets and shows (e.g. 404 "no CLV
// model" for the Overview's revenue at risk when no model was fitted).
async function some(c) {
  const r = await call(c.method, c.path, c.body);
  if (r.status >= 500) throw new Error(`${c.method} ${c.path}: ${r.status} ${r.text.slice(0, 300)}`);
  return r;
}

// One page load: the waves one after the other, each wave's calls at once.
// Returns {total, ms: [per call, in order], status: [per call]}.
async function loadPage(p) {
  const t0 = process.hrtime.bigint();
  const ms = [];
  const status = [];
  for (const wave of p.waves) {
    const got = await Promise.all(wave.map(some));
    for (const r of got) {
      ms.push(r.ms);
      status.push(r.status);
    }
  }
  return { total: Number(process.hrtime.bigint() - t0) / 1e6, ms, status };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
const label = (c) => `${c.method} ${decodeURIComponent(c.path)}`;

async function main() {
  // sign in as the dashboard does: POST /v1/session, then the cookie
  const s = await call('POST', '/v1/session', { key: KEY });
  if (s.status !== 200) throw new Error(`POST /v1/session: ${s.status} ${s.text}`);
  cookie = String(s.headers['set-cookie'][0]).split(';')[0];
  csrf = s.json.csrf;

  // the subjects: a real customer (searched by its crm id), the busiest
  // touchpoint, the last 90 days of the data, the channel decide is asked for
  const q = 'C0000001';
  const hits = (await ok(G('/v1/customers', { q, limit: 50 }))).json.customers || [];
  if (!hits.length) throw new Error(`no customer matches ${q}`);
  const customer = String(hits[0].id);
  const tps = (await ok(G('/v1/metrics', { metric: 'responses', by: 'touchpoint' }))).json.rows
    .filter((r) => r.touchpoint !== null).sort((a, b) => b.n - a.n);
  const months = (await ok(G('/v1/metrics', { metric: 'responses', by: 'month' }))).json.rows;
  const last = months[months.length - 1].month;   // YYYY-MM: the data's last month
  const end = new Date(Date.UTC(Number(last.slice(0, 4)), Number(last.slice(5, 7)), 0));   // its last day
  const from = new Date(end.getTime() - 89 * 86400e3).toISOString().slice(0, 10);
  const to = end.toISOString().slice(0, 10);
  // customers.js fillChannels(): the latest channel of the timeline, else one of the profile's
  const prof = (await ok(G(`/v1/customers/${customer}`))).json;
  const tl = (await ok(G(`/v1/customers/${customer}/timeline`, { limit: 20 }))).json.items || [];
  const acts = (await ok(G('/v1/actions'))).json.actions || [];
  const set = new Set(prof.channels || []);
  for (const a of acts) for (const ch of a.channels || []) set.add(ch);
  set.delete('cxm');
  if (!set.size) set.add('email');
  const latest = tl.find((it) => it.channel && it.channel !== 'cxm');
  const channel = latest && set.has(latest.channel) ? latest.channel
    : ((prof.channels || []).find((c) => set.has(c)) || [...set].sort()[0]);
  const segments = ((await ok(G('/v1/segments'))).json.segments || []).length;
  const ctx = { q, customer, touchpoint: tps[0].touchpoint, from, to, channel, segments };

  const list = pages(ctx);
  const results = [];
  for (const p of list) {
    await loadPage(p);                     // warm-up
    const loads = [];
    for (let i = 0; i < RUNS; i++) loads.push(await loadPage(p));
    const calls = p.waves.flat();
    const alone = [];
    for (const c of calls) {
      const xs = [];
      for (let i = 0; i < RUNS; i++) xs.push((await some(c)).ms);
      alone.push(median(xs));
    }
    results.push({
      page: p.page, note: p.note, waves: p.waves.length,
      total_median_ms: median(loads.map((l) => l.total)),
      total_max_ms: Math.max(...loads.map((l) => l.total)),
      calls: calls.map((c, i) => ({
        call: label(c),
        wave: p.waves.findIndex((w) => w.includes(c)) + 1,
        median_ms: median(loads.map((l) => l.ms[i])),
        max_ms: Math.max(...loads.map((l) => l.ms[i])),
        alone_ms: alone[i],
        status: loads[0].status[i],
      })),
    });
  }

  // the Journeys page loaded right after new data (CALLS_INGEST=1: run.sh
  // serves a copy of the database for this), RUNS times
  let fresh = null;
  if (process.env.CALLS_INGEST === '1') {
    const p = { page: 'Journeys, first load after 1,000 new answers', waves: [journeys({})] };
    const c0 = Date.UTC(Number(months[0].month.slice(0, 4)), Number(months[0].month.slice(5, 7)) - 1, 1) / 1000;
    const ictx = { run: Date.now(), t0: c0, touchpoint: ctx.touchpoint };
    const loads = [];
    for (let i = 0; i < RUNS; i++) {
      await ok(P('/v1/events', newAnswers(ictx)));
      loads.push(await loadPage(p));
    }
    const calls = p.waves.flat();
    fresh = {
      page: p.page, total_median_ms: median(loads.map((l) => l.total)),
      total_max_ms: Math.max(...loads.map((l) => l.total)),
      calls: calls.map((c, i) => ({ call: label(c), median_ms: median(loads.map((l) => l.ms[i])),
        max_ms: Math.max(...loads.map((l) => l.ms[i])) })),
    };
  }

  // the table
  const f = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
  console.log(`data calls: customer #${customer} (${q}), touchpoint ${ctx.touchpoint}, ` +
    `last 90 days ${from}..${to}, decide channel ${channel}; ${RUNS} page loads after a warm-up`);
  console.log('| page | call | median ms | max ms | alone ms | within 100 ms |');
  console.log('|---|---|---:|---:|---:|---|');
  let miss = 0;
  for (const r of results) {
    for (const c of r.calls) {
      const w = (r.waves > 1 ? ` (wave ${c.wave})` : '') + (c.status === 200 ? '' : ` -> ${c.status}`);
      const inside = c.median_ms <= TARGET_MS;
      if (!inside) miss++;
      console.log(`| ${r.page} | \`${c.call}\`${w} | ${f(c.median_ms)} | ${f(c.max_ms)} | ${f(c.alone_ms)} | ` +
        `${inside ? 'yes' : `**no** (+${f(c.median_ms - TARGET_MS)})`} |`);
    }
  }
  console.log();
  console.log('| page | calls | waves | page total median ms | max ms |');
  console.log('|---|---:|---:|---:|---:|');
  for (const r of results) {
    console.log(`| ${r.page}${r.note ? ` (${r.note})` : ''} | ${r.calls.length} | ${r.waves} | ` +
      `${f(r.total_median_ms)} | ${f(r.total_max_ms)} |`);
  }
  console.log();
  const n = results.reduce((a, r) => a + r.calls.length, 0);
  console.log(`${n - miss} of ${n} calls within ${TARGET_MS} ms (median); ${miss} over`);
  if (fresh) {
    console.log();
    console.log(`${fresh.page}: each of ${RUNS} loads right after POST /v1/events of 1,000 answers`);
    console.log('| call | median ms | max ms |');
    console.log('|---|---:|---:|');
    for (const c of fresh.calls) console.log(`| \`${c.call}\` | ${f(c.median_ms)} | ${f(c.max_ms)} |`);
    console.log(`| page total | ${f(fresh.total_median_ms)} | ${f(fresh.total_max_ms)} |`);
  }
  if (OUT) fs.writeFileSync(OUT, JSON.stringify({ ctx, results, fresh }, null, 2));
  agent.destroy();
}

main().catch((e) => {
  console.error(`calls.js: ${e.message}`);
  agent.destroy();
  process.exit(1);
});
