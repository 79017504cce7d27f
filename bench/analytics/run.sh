#!/usr/bin/env bash
# bench/analytics: metrics reports on the canonical data set (gen.c) in
# cxm, in-process through engine_report (q.c), against DuckDB (in-memory
# tables, duck.js) and SQLite (a file database with indexes, sqlq.c), in
# one run; checks that the three give the same numbers.
# Usage: bench/analytics/run.sh [small|full]
#   small: 20,000 customers, 200,000 responses (a quick check)
#   full:  1,000,000 customers, 10,000,000 responses (the default)
# Figures, not a test: it fails only when the engines disagree.
set -euo pipefail
cd "$(dirname "$0")/../.."
MODE=${1:-full}
case "$MODE" in
small) NCUST=20000 NFB=200000 RUNS=20 SQL_RUNS=5 ;;
full) NCUST=1000000 NFB=10000000 RUNS=10 SQL_RUNS=3 ;;
*) echo "usage: bench/analytics/run.sh [small|full]" >&2; exit 2 ;;
esac
NEXTRA=$((NFB / 10))
HERE=bench/analytics
B=build/bench
CFLAGS="-std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Wshadow -Wconversion -Wformat=2 -Werror"

# --- build: ./cxm, the generator, the cxm driver (the engine's release
#     objects without main and the CLI), the SQLite driver, DuckDB for node
make --no-print-directory -s cxm
mkdir -p "$B"
cc $CFLAGS -o "$B/gen" "$HERE/gen.c" -lm
ENGINE_OBJ=$( (find build/rel/src -name '*.o' ! -path '*/cli/*' ! -name main.o;
              echo build/rel/build/gen/lexicon.o) | sort)
cc $CFLAGS -Isrc $(pkg-config --cflags jansson) -o "$B/q" "$HERE/q.c" $ENGINE_OBJ \
   $(pkg-config --libs libmicrohttpd jansson sqlite3 libsodium xlsxwriter libutf8proc libcurl) -lstemmer \
   -lpthread -lm
cc $CFLAGS -o "$B/sqlq" "$HERE/sqlq.c" -lsqlite3
if [ ! -d "$HERE/node_modules/@duckdb/node-api" ]; then
    # npm install, not npm ci: npm 11 leaves the other platforms' optional
    # DuckDB bindings out of the lock file and npm ci then refuses it
    (cd "$HERE" && npm install --no-audit --no-fund --loglevel=error)
fi

# --- data: generated once per size, kept in build/bench/analytics/
data=$B/analytics/$NCUST-$NFB
if [ ! -f "$data/done" ]; then
    mkdir -p "$data"
    echo "generating $NCUST customers, $NFB + $NEXTRA responses into $data ..."
    "$B/gen" "$data" "$NCUST" "$NFB" "$NEXTRA"
    touch "$data/done"
fi
read -r crm_typ n_typ < <(sed -n 1p "$data/q4")
read -r crm_heavy n_heavy < <(sed -n 2p "$data/q4")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/out"
now() { date +%s.%N; }

echo "cxm: $(git describe --always --dirty 2>/dev/null || echo "not a git tree")"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r)"
echo "data: $NCUST customers, $NFB responses (+$NEXTRA extra), $data"
echo

# --- load
echo "cxm import ..."
t0=$(now)
./cxm import --db "$tmp/cxm.db" --kind customers "$data/customers.csv" 2>"$tmp/imp1"
./cxm import --db "$tmp/cxm.db" --kind feedback "$data/feedback.csv" 2>"$tmp/imp2"
t1=$(now)
cxm_import_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')

# SQLite: typed tables, empty cells as NULL, and covering indexes for the
# queries (each query plan is an index search or an index-only scan)
echo "SQLite load ..."
abs=$(cd "$data" && pwd)
t0=$(now)
sqlite3 "$tmp/sqlite.db" >/dev/null <<EOF
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -1000000;
CREATE TEMP TABLE customers_csv (crm TEXT, country TEXT, birth_year TEXT, gender TEXT);
CREATE TEMP TABLE feedback_csv (event_id TEXT, ts TEXT, crm TEXT, kind TEXT, score TEXT,
                                channel TEXT, touchpoint TEXT, stage TEXT);
.import --csv --skip 1 $abs/customers.csv customers_csv
.import --csv --skip 1 $abs/feedback.csv feedback_csv
CREATE TABLE customers (crm TEXT PRIMARY KEY, country TEXT, birth_year INTEGER, gender TEXT);
CREATE TABLE feedback (event_id TEXT, ts INTEGER, crm TEXT, kind TEXT, score INTEGER,
                       channel TEXT, touchpoint TEXT, stage TEXT);
INSERT INTO customers SELECT crm, NULLIF(country, ''), CAST(NULLIF(birth_year, '') AS INTEGER),
                             NULLIF(gender, '') FROM customers_csv;
INSERT INTO feedback SELECT event_id, CAST(ts AS INTEGER), crm, kind, CAST(score AS INTEGER),
                            channel, NULLIF(touchpoint, ''), NULLIF(stage, '') FROM feedback_csv;
CREATE INDEX feedback_kind_channel ON feedback (kind, channel, ts, score);
CREATE INDEX feedback_kind_ts ON feedback (kind, ts, crm, score);
CREATE INDEX feedback_crm ON feedback (crm, kind, ts, score);
CREATE INDEX customers_country ON customers (country, birth_year);
ANALYZE;
EOF
t1=$(now)
sqlite_load_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')

# --- queries, one engine after the other
echo "cxm queries (then $NEXTRA more responses through the engine, and Q1 again) ..."
cxm_fig=$("$B/q" "$tmp/cxm.db" "$tmp/out" "$RUNS" "$crm_typ" "$crm_heavy" \
          "$data/extra.csv" 2>"$tmp/q.err") || { cat "$tmp/q.err" >&2; exit 1; }
echo "SQLite queries ..."
sqlite_fig=$("$B/sqlq" "$tmp/sqlite.db" "$HERE/queries.sql" "$tmp/out" "$SQL_RUNS" \
             "$crm_typ" "$crm_heavy")
echo "DuckDB load and queries ..."
duck_fig=$(node "$HERE/duck.js" "$data" "$HERE/queries.sql" "$tmp/out" "$RUNS" \
           "$crm_typ" "$crm_heavy")
echo

# --- the same numbers?
status=0
for q in q1 q2 q3 q4 q4h; do
    for e in cxm sqlite duckdb; do
        LC_ALL=C sort "$tmp/out/${e}_$q.txt" >"$tmp/out/$e.$q"
    done
    rows=$(wc -l <"$tmp/out/cxm.$q")
    same=identical
    for e in sqlite duckdb; do
        if ! cmp -s "$tmp/out/cxm.$q" "$tmp/out/$e.$q"; then
            same="DIFFERENT"
            echo "$q: cxm (<) and $e (>) differ; first differences:"
            diff "$tmp/out/cxm.$q" "$tmp/out/$e.$q" | head -6 || true
            status=1
        fi
    done
    [ "$rows" -gt 0 ] || { same="EMPTY"; status=1; }
    printf '%-4s %5d rows: %s\n' "$q" "$rows" "$same"
done
if [ -n "${KEEP_OUT:-}" ]; then
    mkdir -p "$KEEP_OUT" && cp "$tmp/out"/* "$KEEP_OUT"/
fi
echo

python3 - "$cxm_fig" "$sqlite_fig" "$duck_fig" "$cxm_import_s" "$sqlite_load_s" \
          "$NCUST" "$NFB" "$crm_typ" "$n_typ" "$crm_heavy" "$n_heavy" \
          "$(du -b "$tmp/cxm.db" | cut -f1)" "$(du -b "$tmp/sqlite.db" | cut -f1)" <<'PY'
import json, sys
c, s, d = (json.loads(x) for x in sys.argv[1:4])
imp, sload = float(sys.argv[4]), float(sys.argv[5])
ncust, nfb = int(sys.argv[6]), int(sys.argv[7])
crm_t, n_t, crm_h, n_h = sys.argv[8], sys.argv[9], sys.argv[10], sys.argv[11]
cxm_db, sqlite_db = int(sys.argv[12]), int(sys.argv[13])

def ms(x): return f"{x * 1e3:,.1f} ms"
def us(x): return f"{x:,.1f} us"
print(f"{'query':34} {'cxm':>11} {'DuckDB':>11} {'SQLite':>12} {'cxm/DuckDB':>10} {'SQLite/cxm':>10}  target")
rows = [("Q1 NPS by channel, month", "q1_s", ms, 1.0),
        ("Q2 CSAT by touchpoint, US 25-34", "q2_s", ms, 1.0),
        ("Q3 customers by mean CSAT, 90 d", "q3_s", ms, 1.0),
        (f"Q4 NPS of one customer ({n_t} NPS)", "q4_us", us, 1e-6),
        (f"   the most active ({n_h} NPS)", "q4h_us", us, 1e-6)]
for name, k, fmt, _ in rows:
    target = ("cxm/DuckDB <= 1.0, SQLite/cxm >= 50" if k.endswith("_s")
              else "< 50 us" if k == "q4_us" else "")
    print(f"{name:34} {fmt(c[k]):>11} {fmt(d[k]):>11} {fmt(s[k]):>12} "
          f"{c[k] / d[k]:>10.2f} {s[k] / c[k]:>10.1f}  {target}")
print(f"{'  Q1 over every row (no rollup)':34} {ms(c['q1_rows_s']):>11} {'':>11} {'':>12} "
      f"{c['q1_rows_s'] / d['q1_s']:>10.2f} {s['q1_s'] / c['q1_rows_s']:>10.1f}")
print()
print(f"{'load':34} {'figure':>14}")
print(f"{'cxm import (customers + feedback)':34} {imp:>12.1f} s  {(ncust + nfb) / imp:,.0f} records/s")
print(f"{'cxm replay at engine_open':34} {c['replay_s']:>12.2f} s  {c['replay_rows'] / c['replay_s']:,.0f} rows/s")
print(f"{'DuckDB read_csv into memory':34} {d['load_s']:>12.1f} s  ({d['threads']} threads, {d['version']})")
print(f"{'SQLite .import, indexes, ANALYZE':34} {sload:>12.1f} s  (SQLite {s['sqlite']})")
print()
print(f"{'memory':34} {'figure':>14}")
delta = c['rss_after'] - c['rss_before']
print(f"{'cxm engine RSS after open - before':34} {delta / 2**20:>10,.0f} MiB  {delta / c['feedback']:.1f} bytes per feedback row (customers included)")
print(f"{'cxm column bytes (engine_stats)':34} {c['column_bytes'] / 2**20:>10,.0f} MiB")
print(f"{'DuckDB duckdb_memory()':34} {d['memory_bytes'] / 2**20:>10,.0f} MiB")
print(f"{'cxm database file':34} {cxm_db / 2**20:>10,.0f} MiB")
print(f"{'SQLite database file':34} {sqlite_db / 2**20:>10,.0f} MiB")
if 'q1_after_s' in c:
    print()
    before = c['q1_s'] / c['feedback'] * 1e9
    after = c['q1_after_s'] / c['feedback_after'] * 1e9
    print("more data: Q1 per feedback row before and after "
          f"{c['extra_rows']:,} more responses through the engine "
          f"({c['extra_rows'] / c['extra_ingest_s']:,.0f} records/s)")
    print(f"{'  Q1 before / after':34} {ms(c['q1_s']):>11} {ms(c['q1_after_s']):>11}")
    print(f"{'  ns per row before / after':34} {before:>11.2f} {after:>11.2f}  ratio {after / before:.2f} (target <= 1.0)")
    print(f"{'  RSS after the extra rows':34} {(c['rss_after_extra'] - c['rss_before']) / 2**20:>7,.0f} MiB")
PY
exit $status
