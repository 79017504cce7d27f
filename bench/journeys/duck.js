// duck.js - the DuckDB peer of bench/journeys: loads interactions.csv into
// an in-memory table (load time reported apart), computes the journey
// views in SQL with window functions and writes each answer as canonical
// text, as j.c does for cxm.
//
//   node duck.js DATADIR OUTDIR RUNS
//
// Episodes: LAG(ts) over the customer in (ts, file row) order, a new
// episode when more than 30 days pass, numbered by a running SUM (the
// usual gaps-and-islands query). The file row is cxm's order for events in
// the same second: cxm keeps the order they were recorded in, which for
// an import is the file's order. Every view starts from the raw events,
// as cxm does. Prints one JSON object of figures on stdout.
'use strict';
const fs = require('fs');
const path = require('path');
const { DuckDBInstance } = require('@duckdb/node-api');

const [dataDir, outDir, runsArg] = process.argv.slice(2);
if (!runsArg) {
    console.error('usage: node duck.js DATADIR OUTDIR RUNS');
    process.exit(2);
}
const runs = Math.max(1, parseInt(runsArg, 10));
const GAP = 30 * 86400;
const STAGES = ['awareness', 'consideration', 'purchase', 'onboarding', 'support', 'loyalty'];
const PATHS_TOP = 100;
const MAX_LEN = 8;

// Events with their customer's episode number (ep) and position (pos).
const EPISODES = `
  e AS (
    SELECT cust, ts, pos, touchpoint, channel, stage, kind,
           sum(CASE WHEN prev_ts IS NULL OR ts - prev_ts > ${GAP} THEN 1 ELSE 0 END)
             OVER (PARTITION BY cust ORDER BY pos ROWS UNBOUNDED PRECEDING) AS ep
    FROM (SELECT cust, ts, touchpoint, channel, stage, kind,
                 lag(ts) OVER w AS prev_ts, row_number() OVER w AS pos
          FROM ev WINDOW w AS (PARTITION BY cust ORDER BY ts, rn)))`;
const BOUGHT = `(coalesce(stage, '') = 'purchase' OR kind = 'purchase')`;

const sq = (s) => `'${s.replace(/'/g, "''")}'`;

// Funnel counts: per episode the first and last position at each stage;
// it converts from stage k to k+1 when its last k+1 event comes after its
// first k event.
const FUNNEL = `WITH ${EPISODES},
  epi AS (
    SELECT ${STAGES.map((s, k) => `min(pos) FILTER (WHERE stage = ${sq(s)}) AS f${k},
           max(pos) FILTER (WHERE stage = ${sq(s)}) AS l${k}`).join(',\n           ')},
           max(CASE stage ${STAGES.map((s, k) => `WHEN ${sq(s)} THEN ${k}`).join(' ')} END)
             AS top
    FROM e GROUP BY cust, ep)
  SELECT count(*) AS episodes,
         ${STAGES.map((s, k) => `count(f${k}), count(*) FILTER (WHERE top >= ${k})` +
                       (k + 1 < STAGES.length ? `, count(*) FILTER (WHERE l${k + 1} > f${k})`
                                              : '')).join(',\n         ')}
  FROM epi`;

// The same funnel with the times cxm reports: from the first event of
// stage k to the first k+1 event after it, median and 90th percentile
// (linear interpolation, as cxm's journey_quantile).
const FUNNEL_TIMES = `WITH ${EPISODES},
  nx(stage, next) AS (VALUES ${STAGES.slice(0, -1).map((s, k) =>
                               `(${sq(s)}, ${sq(STAGES[k + 1])})`).join(', ')}),
  f AS (SELECT cust, ep, stage, min(pos) AS fp, arg_min(ts, pos) AS fts
        FROM e WHERE stage IS NOT NULL GROUP BY cust, ep, stage),
  c AS (SELECT f.stage, min(x.ts) - f.fts AS t
        FROM f JOIN nx USING (stage)
             JOIN e x ON x.cust = f.cust AND x.ep = f.ep AND x.stage = nx.next AND x.pos > f.fp
        GROUP BY f.cust, f.ep, f.stage, f.fts)
  SELECT stage, count(*), quantile_cont(t, 0.5), quantile_cont(t, 0.9) FROM c GROUP BY stage`;

// Transitions: LAG(touchpoint) over the episode's events that have one.
// Grouped with the first event of each episode (prev NULL) and the
// repeats (prev = touchpoint) too, so the same pass gives volumes and self
// transitions; links are prev <> touchpoint.
const FLOWS = `WITH ${EPISODES}
  SELECT prev, touchpoint, count(*) AS n
  FROM (SELECT touchpoint, lag(touchpoint) OVER (PARTITION BY cust, ep ORDER BY pos) AS prev
        FROM e WHERE touchpoint IS NOT NULL)
  GROUP BY prev, touchpoint`;

// Drop-offs: episodes with a touchpoint, by purchase and the touchpoint
// and channel of their last event that has a touchpoint.
const DROPOFFS = `WITH ${EPISODES}
  SELECT bought, last_tp, last_ch, count(*) AS n
  FROM (SELECT bool_or(${BOUGHT}) AS bought,
               arg_max(touchpoint, pos) FILTER (WHERE touchpoint IS NOT NULL) AS last_tp,
               arg_max(channel, pos) FILTER (WHERE touchpoint IS NOT NULL) AS last_ch
        FROM e GROUP BY cust, ep)
  WHERE last_tp IS NOT NULL
  GROUP BY bought, last_tp, last_ch`;

// Paths: the episode's touchpoints with consecutive repeats dropped, the
// first MAX_LEN kept (truncated when there are more), and whether the
// episode had a purchase (any of its events).
const pathsSql = (limit) => `WITH ${EPISODES},
  t AS (SELECT cust, ep, pos, touchpoint,
               lag(touchpoint) OVER (PARTITION BY cust, ep ORDER BY pos) AS prev
        FROM e WHERE touchpoint IS NOT NULL),
  p AS (SELECT cust, ep, list(touchpoint ORDER BY pos) AS l
        FROM t WHERE prev IS NULL OR prev <> touchpoint GROUP BY cust, ep),
  b AS (SELECT cust, ep, bool_or(${BOUGHT}) AS bought FROM e GROUP BY cust, ep)
  SELECT array_to_string(l[1:${MAX_LEN}], '>') AS path, len(l) > ${MAX_LEN} AS truncated,
         count(*) AS episodes, count(*) FILTER (WHERE bought) AS purchases
  FROM p JOIN b USING (cust, ep)
  GROUP BY ALL ORDER BY episodes DESC${limit ? ` LIMIT ${limit}` : ''}`;

const now = () => Number(process.hrtime.bigint()) / 1e9;

function write(name, lines) {
    fs.writeFileSync(path.join(outDir, `duckdb_${name}.txt`), lines.map((l) => l + '\n').join(''));
}

async function timed(conn, sql, n) {
    const t = [];
    let rows;
    for (let i = 0; i < n; i++) {
        const t0 = now();
        rows = (await conn.runAndReadAll(sql)).getRows();
        t.push(now() - t0);
    }
    t.sort((a, b) => a - b);
    const m = t.length % 2 ? t[(t.length - 1) / 2] : (t[t.length / 2 - 1] + t[t.length / 2]) / 2;
    return { best: t[0], median: m, rows };
}

const hours = (s) => (Math.round(s / 36) / 100).toFixed(2);

async function main() {
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const threads = (await conn.runAndReadAll("SELECT current_setting('threads')")).getRows()[0][0];
    const csv = path.join(dataDir, 'interactions.csv').replace(/'/g, "''");
    // rn: the file row (the number in event_id); cust: the crm's number,
    // the customer key (cxm resolves the crm to its customer id at import)
    const t0 = now();
    await conn.run(`CREATE TABLE ev AS
        SELECT CAST(substr(event_id, 2) AS BIGINT) AS rn, ts,
               CAST(substr(crm, 2) AS INTEGER) AS cust, channel, touchpoint, stage, kind
        FROM read_csv('${csv}', header = true, columns = {'event_id': 'VARCHAR',
            'ts': 'BIGINT', 'crm': 'VARCHAR', 'channel': 'VARCHAR', 'touchpoint': 'VARCHAR',
            'stage': 'VARCHAR', 'kind': 'VARCHAR'})`);
    const loadS = now() - t0;
    const mem = (await conn.runAndReadAll(
        'SELECT sum(memory_usage_bytes) FROM duckdb_memory()')).getRows()[0][0];
    const fig = { load_s: loadS, memory_bytes: Number(mem), threads: Number(threads),
                  version: (await conn.runAndReadAll('SELECT version()')).getRows()[0][0],
                  rows: Number((await conn.runAndReadAll('SELECT count(*) FROM ev')).getRows()[0][0]) };

    // funnel
    let r = await timed(conn, FUNNEL, runs);
    fig.funnel_best = r.best;
    fig.funnel_median = r.median;
    {
        const v = r.rows[0].map((x) => String(x));
        const out = [`episodes\t${v[0]}`];
        let i = 1;
        STAGES.forEach((s, k) => {
            const reached = v[i++], beyond = v[i++];
            const conv = k + 1 < STAGES.length ? v[i++] : '-';
            out.push(`${s}\t${reached}\t${beyond}\t${conv}`);
        });
        write('funnel', out);
        fig.episodes = Number(v[0]);
    }
    r = await timed(conn, FUNNEL_TIMES, runs);
    fig.funnel_times_best = r.best;
    fig.funnel_times_median = r.median;
    write('funnel_times', r.rows.map(([s, , m, p]) => `${s}\t${hours(m)}\t${hours(p)}`));

    // flows
    r = await timed(conn, FLOWS, runs);
    fig.flows_best = r.best;
    fig.flows_median = r.median;
    {
        const out = [];
        const volume = new Map();
        for (const [prev, tp, n] of r.rows) {
            volume.set(tp, (volume.get(tp) || 0n) + BigInt(n));
            if (prev === null)
                continue;
            out.push(prev === tp ? `self\t${tp}\t${n}` : `link\t${prev}\t${tp}\t${n}`);
        }
        for (const [tp, n] of volume)
            out.push(`volume\t${tp}\t${n}`);
        write('flows', out);
    }

    // drop-offs
    r = await timed(conn, DROPOFFS, runs);
    fig.dropoffs_best = r.best;
    fig.dropoffs_median = r.median;
    {
        let episodes = 0n, abandoned = 0n;
        const out = [];
        for (const [bought, tp, ch, n] of r.rows) {
            episodes += BigInt(n);
            if (bought)
                continue;
            abandoned += BigInt(n);
            out.push(`cell\t${tp}\t${ch}\t${n}`);
        }
        out.push(`episodes\t${episodes}`, `abandoned\t${abandoned}`);
        write('dropoffs', out);
    }

    // paths: the top PATHS_TOP timed, then every path once for the check
    r = await timed(conn, pathsSql(PATHS_TOP), runs);
    fig.paths_best = r.best;
    fig.paths_median = r.median;
    r = await timed(conn, pathsSql(0), 1);
    fig.paths_all_s = r.best;
    fig.paths_distinct = r.rows.length;
    write('paths', r.rows.map(([p, tr, n, b]) => `${p}\t${tr ? 1 : 0}\t${n}\t${b}`));
    console.log(JSON.stringify(fig));
}

main().catch((e) => {
    console.error('duck.js:', e.message || e);
    process.exit(1);
});
