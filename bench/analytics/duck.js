// duck.js - the DuckDB peer of bench/analytics: loads the two CSV files
// into in-memory tables (load time reported apart), runs the queries of
// queries.sql (median of runs; Q4 per call in microseconds) and writes each
// answer as canonical text, as q.c does for cxm.
//
//   node duck.js DATADIR QUERIES.sql OUTDIR RUNS CRM_TYPICAL CRM_HEAVY
//
// Prints one JSON object of figures on stdout.
'use strict';
const fs = require('fs');
const path = require('path');
const { DuckDBInstance } = require('@duckdb/node-api');

const [dataDir, queriesPath, outDir, runsArg, crmTypical, crmHeavy] = process.argv.slice(2);
if (!crmHeavy) {
    console.error('usage: node duck.js DATADIR QUERIES.sql OUTDIR RUNS CRM_TYPICAL CRM_HEAVY');
    process.exit(2);
}
const runs = Math.max(1, parseInt(runsArg, 10));

// Sections of queries.sql, as sqlq.c reads them.
function loadQueries(file) {
    const out = {};
    let cur = null;
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
        const m = /^-- ([a-z0-9]+): ([tif]+)\s*$/.exec(line);
        if (m) {
            cur = out[m[1]] = { fmt: m[2], sql: '' };
        } else if (cur && !line.startsWith('--')) {
            cur.sql += line + '\n';
        }
    }
    for (const q of Object.values(out)) {
        q.sql = q.sql
            .replace(/MONTH_START\(([^()]*)\)/g, "date_trunc('month', make_timestamp($1 * 1000000))")
            .replace(/MONTH_LABEL\(([^()]*)\)/g, "strftime($1, '%Y-%m')")
            .replace(/YEAR_UTC\(([^()]*)\)/g, 'year(make_timestamp($1 * 1000000))')
            .replace('?', '$1');
    }
    return out;
}

function cell(v, f) {
    if (v === null || v === undefined)
        return 'null';
    if (f === 't' || f === 'i')
        return String(v);
    const x = typeof v === 'object' && typeof v.toDouble === 'function' ? v.toDouble() : Number(v);
    return x.toFixed(6);
}

function canon(name, q, rows, prefix) {
    const lines = rows.map((r) =>
        (prefix ? prefix + '\t' : '') + r.map((v, i) => cell(v, q.fmt[i])).join('\t') + '\n');
    fs.writeFileSync(path.join(outDir, `duckdb_${name}.txt`), lines.join(''));
}

function median(v) {
    v.sort((a, b) => a - b);
    const n = v.length;
    return n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

const now = () => Number(process.hrtime.bigint()) / 1e9;

async function timed(run, n, name, q, prefix) {
    const t = [];
    let rows;
    for (let i = 0; i < n; i++) {
        const t0 = now();
        rows = await run();
        t.push(now() - t0);
    }
    canon(name, q, rows, prefix);
    return median(t);
}

async function main() {
    const qs = loadQueries(queriesPath);
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const threads = (await conn.runAndReadAll("SELECT current_setting('threads')")).getRows()[0][0];
    const csv = (f) => path.join(dataDir, f).replace(/'/g, "''");
    const t0 = now();
    await conn.run(`CREATE TABLE customers AS SELECT * FROM read_csv('${csv('customers.csv')}',
        header = true, columns = {'crm': 'VARCHAR', 'country': 'VARCHAR',
        'birth_year': 'INTEGER', 'gender': 'VARCHAR'})`);
    await conn.run(`CREATE TABLE feedback AS SELECT * FROM read_csv('${csv('feedback.csv')}',
        header = true, columns = {'event_id': 'VARCHAR', 'ts': 'BIGINT', 'crm': 'VARCHAR',
        'kind': 'VARCHAR', 'score': 'INTEGER', 'channel': 'VARCHAR',
        'touchpoint': 'VARCHAR', 'stage': 'VARCHAR'})`);
    const loadS = now() - t0;
    const mem = (await conn.runAndReadAll(
        'SELECT sum(memory_usage_bytes) FROM duckdb_memory()')).getRows()[0][0];

    const fig = { load_s: loadS, memory_bytes: Number(mem), threads: Number(threads),
                  version: (await conn.runAndReadAll('SELECT version()')).getRows()[0][0] };
    for (const name of ['q1', 'q2', 'q3']) {
        const q = qs[name];
        fig[`${name}_s`] = await timed(async () => (await conn.runAndReadAll(q.sql)).getRows(),
                                       runs, name, q, null);
    }
    // Q4: a prepared statement, as many calls as fit in about two seconds
    const q4 = qs.q4;
    const prep = await conn.prepare(q4.sql);
    for (const [name, crm] of [['q4', crmTypical], ['q4h', crmHeavy]]) {
        prep.bindVarchar(1, crm);
        const run = async () => (await prep.runAndReadAll()).getRows();
        const first = await timed(run, 1, name, q4, crm);
        const n = Math.min(20000, Math.max(5, Math.floor(2 / Math.max(first, 1e-7))));
        fig[`${name}_us`] = (await timed(run, n, name, q4, crm)) * 1e6;
    }
    console.log(JSON.stringify(fig));
}

main().catch((e) => {
    console.error('duck.js:', e.message || e);
    process.exit(1);
});
