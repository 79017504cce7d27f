// team.js - the Team page (admin, analyst, agent): performance by agent
// and by team (GET /v1/team/performance), CSAT by agent as a bar chart,
// the recognition leaderboard and shout-outs (GET /v1/team/recognition)
// and eNPS by team (GET /v1/team/enps; small groups hidden by the API),
// for a period and a team kept in the URL
// (/?page=team&from=2026-01-01&to=2026-03-31&team=Support).

import { get } from './api.js';
import { barOption, panel, table, tableBox } from './charts.js';
import { el, failure as failed, template } from './dom.js';
import { int, margin, none, num, pct } from './format.js';

export const ROLES = ['admin', 'analyst', 'agent'];


const withN = (m, fmt) => (m && m.value !== null && m.value !== undefined
  ? `${fmt(m.value)} ${margin(m.margin)} (n = ${int(m.n)})` : `${none} (n = ${int((m && m.n) || 0)})`);
const hoursOf = (x) => (x && x.median_seconds !== null && x.median_seconds !== undefined
  ? num(x.median_seconds / 3600, 1) : none);

function perfColumns(first) {
  return [first,
    { label: 'CSAT', get: (r) => withN(r.csat, (v) => pct(v)) },
    { label: 'NPS', get: (r) => withN(r.nps, (v) => num(v)) },
    { label: 'Cases', get: (r) => int(r.cases) },
    { label: 'First response, median (h)', get: (r) => hoursOf(r.first_response) },
    { label: 'Resolution, median (h)', get: (r) => hoursOf(r.resolution) },
    { label: 'SLA compliance', get: (r) => withN(r.sla_compliance, (v) => pct(v)) },
    { label: 'Reopen rate', get: (r) => withN(r.reopen_rate, (v) => pct(v)) }];
}

function box(target, tbl) {
  const w = el('div', 'table-wrap');
  tableBox(w, tbl);
  target.replaceChildren(w);
}

const failure = (target, e) => target.replaceChildren(failed(e));

const KEYS = ['from', 'to', 'team'];
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function fromUrl() {
  const q = new URLSearchParams(location.search);
  const f = {};
  for (const k of KEYS) {
    const v = (q.get(k) || '').trim();
    if (v && (k === 'team' || DATE.test(v))) f[k] = v;
  }
  return f;
}

function toSearch(f) {
  const q = new URLSearchParams({ page: 'team' });
  for (const k of KEYS) if (f[k]) q.set(k, f[k]);
  return `?${q}`;
}

function describe(f) {
  const bits = [];
  if (f.from || f.to) bits.push(`${f.from || 'the start'} to ${f.to || 'the latest data'}`);
  if (f.team) bits.push(`team ${f.team}`);
  return bits.length ? bits.join(', ') : 'all data';
}

export async function mount(main) {
  main.replaceChildren(await template('team'));
  document.title = 'Team · cxm';
  const status = main.querySelector('#status');
  const form = main.querySelector('#team-filters');
  const chart = panel(main.querySelector('#p-agent-csat'));
  let alive = true;
  let seq = 0;

  get('/v1/employees').then((d) => {
    if (!alive) return;
    const teams = [...new Set((d.employees || []).map((e) => e.team).filter(Boolean))].sort();
    const sel = form.elements.team;
    const v = sel.value;
    sel.replaceChildren(sel.options[0], ...teams.map((x) => new Option(x, x)));
    if (v && !teams.includes(v)) sel.append(new Option(v, v));
    sel.value = v;
  }).catch(() => { /* the team list is a convenience: the URL's team still applies */ });

  function show(f) {
    for (const k of KEYS) {
      const c = form.elements[k];
      if (c.tagName === 'SELECT' && f[k] && ![...c.options].some((o) => o.value === f[k])) {
        c.append(new Option(f[k], f[k]));
      }
      c.value = f[k] || '';
    }
  }

  function render(f) {
    const mine = ++seq;
    status.textContent = 'Loading…';
    const p = { from: f.from, to: f.to, team: f.team };
    Promise.allSettled([get('/v1/team/performance', p), get('/v1/team/recognition', p),
      get('/v1/team/enps', { from: f.from, to: f.to })])
      .then((got) => { if (alive && mine === seq) draw(got, f); });
  }

  const apply = (f) => {
    history.pushState(null, '', `/${toSearch(f)}`);
    render(f);
  };
  form.addEventListener('change', () => {
    const f = {};
    for (const k of KEYS) if (form.elements[k].value) f[k] = form.elements[k].value;
    apply(f);
  });
  form.addEventListener('reset', (e) => {
    e.preventDefault();
    show({});
    apply({});
  });
  form.addEventListener('submit', (e) => e.preventDefault());

  function draw([perf, rec, enps], f) {
    if (perf.status === 'fulfilled') {
      const d = perf.value;
      const agents = d.agents || [];
      box(main.querySelector('#perf-agents'), table('Performance by agent',
        perfColumns({ label: 'Agent', text: true, get: (r) => `${r.name || r.agent} (${r.team || 'no team'})` }), agents));
      box(main.querySelector('#perf-teams'), table('Performance by team',
        perfColumns({ label: 'Team', text: true, get: (r) => r.team || 'no team' }), d.teams || []));
      const rows = agents.filter((r) => r.csat && r.csat.value !== null);
      const best = rows.reduce((a, b) => (!a || b.csat.value > a.csat.value ? b : a), null);
      const worst = rows.reduce((a, b) => (!a || b.csat.value < a.csat.value ? b : a), null);
      chart.update({
        description: rows.length
          ? `CSAT by agent, ${rows.length} agents: highest ${best.name || best.agent} ${pct(best.csat.value)} ` +
            `(n = ${int(best.csat.n)}), lowest ${worst.name || worst.agent} ${pct(worst.csat.value)} (n = ${int(worst.csat.n)}).`
          : 'CSAT by agent: no answers.',
        caption: 'CSAT by agent',
        rows,
        option: barOption('CSAT %', rows.map((r) => r.name || r.agent), rows.map((r) => Number(r.csat.value.toFixed(1)))),
        columns: [
          { label: 'Agent', text: true, get: (r) => r.name || r.agent },
          { label: 'CSAT', get: (r) => pct(r.csat.value) },
          { label: 'Margin (95%)', get: (r) => margin(r.csat.margin) },
          { label: 'Answers (n)', get: (r) => int(r.csat.n) },
        ],
      });
    } else {
      failure(main.querySelector('#perf-agents'), perf.reason);
    }
    if (rec.status === 'fulfilled') {
      const d = rec.value;
      const lb = d.leaderboard || [];
      if (lb.length) {
        box(main.querySelector('#leaderboard'), table(`Recognition leaderboard (at least ${int(d.min_n)} answers)`, [
          { label: 'Rank', get: (r) => int(r.rank) },
          { label: 'Agent', text: true, get: (r) => r.name || r.agent },
          { label: 'Team', text: true, get: (r) => r.team },
          { label: 'Answers (n)', get: (r) => int(r.n) },
          { label: 'CSAT', get: (r) => pct(r.csat) },
          { label: 'Adjusted score', get: (r) => num(r.score) },
          { label: 'Range (95%)', get: (r) => `${num(r.low)} to ${num(r.high)}` },
        ], lb));
      } else {
        main.querySelector('#leaderboard').replaceChildren(el('p', '', 'No agent has enough answers yet.'));
      }
      const so = (d.shoutouts || []).slice(0, 10);
      if (so.length) {
        const ul = el('ul', 'shoutouts');
        for (const s of so) {
          const li = el('li');
          const q = el('blockquote', '', s.comment);
          li.append(el('p', '', `${s.name || s.agent} (${s.team || 'no team'}), ${(s.ts || '').slice(0, 10)}:`), q);
          ul.append(li);
        }
        main.querySelector('#shoutouts').replaceChildren(ul);
      } else {
        main.querySelector('#shoutouts').replaceChildren(el('p', '', 'No shout-outs yet.'));
      }
    } else {
      failure(main.querySelector('#leaderboard'), rec.reason);
    }
    if (enps.status === 'fulfilled') {
      const rows = enps.value.rows || [];
      if (rows.length) {
        box(main.querySelector('#enps'), table(`eNPS by team and ${enps.value.period || 'period'}`, [
          { label: 'Period', get: (r) => r.period },
          { label: 'Team', text: true, get: (r) => (r.team === null ? 'whole company' : r.team) },
          { label: 'eNPS', get: (r) => (r.value === null ? (r.note || 'not enough responses') : `${num(r.value)} ${margin(r.margin)}`) },
          { label: 'Answers (n)', get: (r) => (r.n === null ? none : int(r.n)) },
        ], rows));
      } else {
        main.querySelector('#enps').replaceChildren(el('p', '', 'No eNPS answers yet.'));
      }
    } else {
      failure(main.querySelector('#enps'), enps.reason);
    }
    const bad = [perf, rec, enps].find((x) => x.status === 'rejected');
    status.textContent = bad ? `Some figures could not be loaded: ${bad.reason.message}`
      : `Team figures for ${describe(f)}.`;
  }

  const start = fromUrl();
  show(start);
  render(start);

  return {
    redraw() { chart.redraw(); },
    pop() {
      const f = fromUrl();
      show(f);
      render(f);
    },
    unmount() { alive = false; seq++; chart.dispose(); },
  };
}
