#!/usr/bin/env bash
# bench/journeys: the journey views (funnel, flows, drop-offs, paths,
# friction) over generated interaction sessions (gen.c) in cxm,
# in-process through engine_journeys (j.c), against DuckDB computing the
# same funnel, transitions, drop-offs and paths with window functions
# (duck.js), in one run; checks that both give the same counts.
# Usage: bench/journeys/run.sh [small|full]
#   small: 20,000 customers, 200,000 interactions (a quick check)
#   full:  1,000,000 customers, 10,000,000 interactions (the default)
# Figures, not a test: it fails only when the engines disagree.
set -euo pipefail
cd "$(dirname "$0")/../.."
MODE=${1:-full}
case "$MODE" in
small) NCUST=20000 NINT=200000 RUNS=9 ;;
full) NCUST=1000000 NINT=10000000 RUNS=5 ;;
*) echo "usage: bench/journeys/run.sh [small|full]" >&2; exit 2 ;;
esac
HERE=bench/journeys
B=build/bench
CFLAGS="-std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Wshadow -Wconversion -Wformat=2 -Werror"

# --- build: ./cxm, the generator, the cxm driver (the engine's release
#     objects without main and the CLI), DuckDB for node
make --no-print-directory -s -j2 cxm
mkdir -p "$B"
cc $CFLAGS -o "$B/jgen" "$HERE/gen.c"
ENGINE_OBJ=$( (find build/rel/src -name '*.o' ! -path '*/cli/*' ! -name main.o;
              echo build/rel/build/gen/lexicon.o) | sort)
cc $CFLAGS -Isrc $(pkg-config --cflags jansson) -o "$B/j" "$HERE/j.c" $ENGINE_OBJ \
   $(pkg-config --libs libmicrohttpd jansson sqlite3 libsodium xlsxwriter libutf8proc libcurl) -lstemmer \
   -lpthread -lm
if [ ! -d "$HERE/node_modules/@duckdb/node-api" ]; then
    # npm install, not npm ci: see bench/analytics/run.sh
    (cd "$HERE" && npm install --no-audit --no-fund --loglevel=error)
fi

# --- data: generated once per size, kept in build/bench/journeys/
data=$B/journeys/$NCUST-$NINT
if [ ! -f "$data/done" ]; then
    mkdir -p "$data"
    echo "generating $NCUST customers, $NINT interactions into $data ..."
    "$B/jgen" "$data" "$NCUST" "$NINT"
    touch "$data/done"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/out"
now() { date +%s.%N; }

echo "cxm: $(git describe --always --dirty 2>/dev/null || echo "not a git tree")"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r)," \
     "load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "data: $NCUST customers, $NINT interactions, $data"
echo

# --- load
echo "cxm import ..."
t0=$(now)
./cxm import --db "$tmp/cxm.db" --kind customers "$data/customers.csv" 2>"$tmp/imp1"
t1=$(now)
./cxm import --db "$tmp/cxm.db" --kind interactions "$data/interactions.csv" 2>"$tmp/imp2"
t2=$(now)
cust_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
int_s=$(awk -v a="$t1" -v b="$t2" 'BEGIN { print b - a }')

# --- views, one engine after the other
load_before=$(cut -d' ' -f1 /proc/loadavg)
echo "cxm views ($RUNS runs each) ..."
cxm_fig=$("$B/j" "$tmp/cxm.db" "$tmp/out" "$RUNS" 2>"$tmp/j.err") ||
    { cat "$tmp/j.err" >&2; exit 1; }
echo "DuckDB load and views ($RUNS runs each) ..."
duck_fig=$(node "$HERE/duck.js" "$data" "$tmp/out" "$RUNS")
load_after=$(cut -d' ' -f1 /proc/loadavg)
echo

# --- the same counts?
status=0
for v in funnel funnel_times flows dropoffs paths; do
    for e in cxm duckdb; do
        LC_ALL=C sort "$tmp/out/${e}_$v.txt" >"$tmp/out/$e.$v"
    done
    rows=$(wc -l <"$tmp/out/cxm.$v")
    same=identical
    if ! cmp -s "$tmp/out/cxm.$v" "$tmp/out/duckdb.$v"; then
        same="DIFFERENT"
        echo "$v: cxm (<) and DuckDB (>) differ; first differences:"
        diff "$tmp/out/cxm.$v" "$tmp/out/duckdb.$v" | head -10 || true
        status=1
    fi
    [ "$rows" -gt 0 ] || { same="EMPTY"; status=1; }
    printf '%-13s %7d lines: %s\n' "$v" "$rows" "$same"
done
if [ -n "${KEEP_OUT:-}" ]; then
    mkdir -p "$KEEP_OUT" && cp "$tmp/out"/* "$KEEP_OUT"/
fi
echo

python3 - "$cxm_fig" "$duck_fig" "$cust_s" "$int_s" "$NCUST" "$NINT" \
          "$(du -b "$tmp/cxm.db" | cut -f1)" "$load_before" "$load_after" <<'PY'
import json, sys
c, d = (json.loads(x) for x in sys.argv[1:3])
cust_s, int_s = float(sys.argv[3]), float(sys.argv[4])
ncust, nint = int(sys.argv[5]), int(sys.argv[6])
db_bytes = int(sys.argv[7])

def ms(x): return f"{x * 1e3:,.1f} ms"
print(f"{c['interactions']:,} interactions, {c['episodes']:,} episodes (30-day gap), "
      f"{c['runs']} runs a view; load average {sys.argv[8]} before the views, {sys.argv[9]} after")
print()
print(f"{'view':28} {'cxm best':>11} {'cxm median':>11} {'DuckDB best':>12} {'DuckDB med':>11} {'cxm/DuckDB':>10}  target")
rows = [("funnel (counts)", "funnel", "funnel", 1.0),
        ("funnel with times", "funnel", "funnel_times", None),
        ("flows (all links)", "flows", "flows", 1.0),
        ("drop-offs (all cells)", "dropoffs", "dropoffs", 1.0),
        ("paths (top 100)", "paths", "paths", 2.0),
        ("friction (cxm only)", "friction", None, None)]
for name, ck, dk, target in rows:
    cb, cm = c[ck + '_best'], c[ck + '_median']
    if dk:
        db_, dm = d[dk + '_best'], d[dk + '_median']
        ratio = f"{cm / dm:>10.2f}"
        dcols = f"{ms(db_):>12} {ms(dm):>11}"
    else:
        ratio, dcols = f"{'':>10}", f"{'':>12} {'':>11}"
    t = (f"< {target:.0f} s and cxm/DuckDB <= 1" if target else
         "cxm/DuckDB <= 1" if dk else "")
    print(f"{name:28} {ms(cb):>11} {ms(cm):>11} {dcols} {ratio}  {t}")
print(f"{'funnel, the same again (kept)':28} {ms(c['funnel_kept']):>11} {'':>11} {'':>12} {'':>11} {'':>10}"
      "  the answer kept for this state of the data")
print(f"{'funnel, first call (cold)':28} {ms(c['funnel_first']):>11} {'':>11} {'':>12} {'':>11} {'':>10}"
      "  the engine gathers every profile's events; later calls reuse them")
for k in ('1000', '10000'):
    print(f"{'funnel after ' + k + ' new rows':28} {ms(c['funnel_after_' + k + '_new_s']):>11}"
          f" {'':>11} {'':>12} {'':>11} {'':>10}  the first call after new data: a delta of the changed profiles")
print(f"{'every path, once (check)':28} {ms(c['paths_all_s']):>11} {'':>11} "
      f"{ms(d['paths_all_s']):>12} {'':>11} {'':>10}  {c['paths_distinct']:,} paths")
print()
print(f"{'load':36} {'figure':>14}")
print(f"{'cxm import customers':36} {cust_s:>12.1f} s  {ncust / cust_s:,.0f} records/s")
print(f"{'cxm import interactions':36} {int_s:>12.1f} s  {nint / int_s:,.0f} records/s")
print(f"{'cxm replay at engine_open':36} {c['replay_s']:>12.2f} s  {c['replay_rows'] / c['replay_s']:,.0f} rows/s")
print(f"{'DuckDB read_csv into memory':36} {d['load_s']:>12.1f} s  ({d['threads']} threads, {d['version']})")
print()
print(f"{'memory':36} {'figure':>14}")
delta = c['rss_after'] - c['rss_before']
print(f"{'cxm engine RSS after open - before':36} {delta / 2**20:>10,.0f} MiB  "
      f"{delta / c['interactions']:.1f} bytes per interaction (customers included)")
print(f"{'cxm RSS at the end (after the views)':36} {c['rss_end'] / 2**20:>10,.0f} MiB")
print(f"{'cxm column bytes (engine_stats)':36} {c['column_bytes'] / 2**20:>10,.0f} MiB")
print(f"{'DuckDB duckdb_memory() after load':36} {d['memory_bytes'] / 2**20:>10,.0f} MiB")
print(f"{'cxm database file':36} {db_bytes / 2**20:>10,.0f} MiB")
PY
exit $status
