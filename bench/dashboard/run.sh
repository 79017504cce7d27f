#!/usr/bin/env bash
# bench/dashboard: the dashboard's speed target on the canonical data set
# (bench/analytics/gen.c): "every page's data calls answer within 100 ms on
# the canonical 10M-response data set; first render within 1 s on loopback".
# Usage: bench/dashboard/run.sh [small|full]
#   small: 20,000 customers, 200,000 responses (a quick check)
#   full:  1,000,000 customers, 10,000,000 responses (the default)
# It imports the generated CSV files once into
# build/bench/dashboard/CUSTOMERS-FEEDBACK/cxm.db (reruns reuse it), starts
# `cxm serve` on a copy of it, then
#   calls.js   times each page's data calls over HTTP, issued as the page
#              issues them (one page's calls concurrently, at most 6
#              connections like a browser): median and max of 5 runs after
#              a warm-up, and each call alone for comparison; then the
#              Journeys page right after each of 5 batches of 1,000 new
#              answers (sent to the copy)
#   render.js  loads each page in headless chromium (playwright-core from
#              tests/browser) and times navigation start -> first render
#              (the h1 shown and the page's data on screen): median of 3
# Figures, not a test: nothing fails on speed; it fails only when a call
# answers an error or a page does not render.
set -euo pipefail
cd "$(dirname "$0")/../.."
MODE=${1:-full}
case "$MODE" in
small) NCUST=20000 NFB=200000 ;;
full) NCUST=1000000 NFB=10000000 ;;
*) echo "usage: bench/dashboard/run.sh [small|full]" >&2; exit 2 ;;
esac
NEXTRA=$((NFB / 10))   # as bench/analytics: the same files, the same cache
HERE=bench/dashboard
B=build/bench
CFLAGS="-std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Wshadow -Wconversion -Wformat=2 -Werror"
RUNS=${RUNS:-5}
RENDER_RUNS=${RENDER_RUNS:-3}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

# --- build: ./cxm and bench/analytics's generator, as bench/analytics/run.sh
make --no-print-directory -s cxm
mkdir -p "$B"
cc $CFLAGS -o "$B/gen" bench/analytics/gen.c -lm
[ -d tests/browser/node_modules/playwright-core ] ||
    (cd tests/browser && npm install --no-audit --no-fund --loglevel=error)

# --- data: the CSV files of bench/analytics (generated there when missing)
data=$B/analytics/$NCUST-$NFB
if [ ! -f "$data/done" ]; then
    mkdir -p "$data"
    echo "generating $NCUST customers, $NFB + $NEXTRA responses into $data ..."
    "$B/gen" "$data" "$NCUST" "$NFB" "$NEXTRA"
    touch "$data/done"
fi

# --- the database: imported once per size, kept in build/bench/dashboard/
dir=$B/dashboard/$NCUST-$NFB
db=$dir/cxm.db
now() { date +%s.%N; }
if [ ! -f "$dir/done" ]; then
    mkdir -p "$dir"
    rm -f "$db" "$db-wal" "$db-shm" "$dir/admin.key" "$dir/import_s"
    echo "cxm import of $data into $db ..."
    t0=$(now)
    ./cxm import --db "$db" --kind customers "$data/customers.csv" 2>"$dir/import.log"
    ./cxm import --db "$db" --kind feedback "$data/feedback.csv" 2>>"$dir/import.log"
    t1=$(now)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", b - a }' >"$dir/import_s"
    touch "$dir/done"
fi

tmp=$(mktemp -d)
server=
stop_server() {
    if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
        kill -TERM "$server"
        wait "$server" || true
    fi
    server=
}
trap 'stop_server; rm -rf "$tmp"' EXIT

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r)," \
     "load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "data: $NCUST customers, $NFB responses, $db ($(du -m "$db" | cut -f1) MiB);" \
     "imported in $(cat "$dir/import_s") s (cached)"

# --- the server, on a copy: calls.js adds answers to it (CALLS_INGEST)
if [ ! -s "$dir/admin.key" ]; then
    ./cxm keys create --db "$db" --role admin --name bench-dashboard >"$dir/admin.key"
fi
cp "$db" "$tmp/cxm.db"
db=$tmp/cxm.db
./cxm serve --db "$db" --listen 127.0.0.1:0 >"$tmp/out" 2>"$tmp/server.log" &
server=$!
base=
for _ in $(seq 1 1200); do   # up to 120 s for the replay
    if line=$(grep -m1 '^cxm: listening on http://' "$tmp/out"); then
        base=${line#cxm: listening on }
        break
    fi
    kill -0 "$server" 2>/dev/null || { cat "$tmp/server.log" >&2; exit 1; }
    sleep 0.1
done
[ -n "$base" ] || { echo "the server did not start" >&2; exit 1; }
if grep -q 'first start: admin API key' "$tmp/out"; then
    grep -A1 'first start: admin API key' "$tmp/out" | tail -1 | tr -d '[:space:]' >"$dir/admin.key"
fi
key=$(cat "$dir/admin.key" 2>/dev/null || true)
if [ -z "$key" ] || [ "$(curl -s -o /dev/null -w '%{http_code}' \
        -H "Authorization: Bearer $key" "$base/v1/segments")" = 401 ]; then
    key=$(./cxm keys create --db "$db" --role admin --name bench-dashboard)
    printf '%s\n' "$key" >"$dir/admin.key"
fi
chmod 600 "$dir/admin.key"
rss() { curl -s "$base/metrics" | awk '/^process_resident_memory_bytes / { printf "%.0f", $2 / 1048576 }'; }
replay=$(grep -o 'replayed .*' "$tmp/server.log" | head -1 || true)
echo "server: $base, ${replay:-no replay line in the log}"
echo "server RSS after start: $(rss) MiB"
# the server gathers the journey views' events in the background after the
# replay: wait for it, so that it does not run under the first page's calls
for _ in $(seq 1 600); do
    grep -q 'journeys: .*gathered ahead\|events not gathered' "$tmp/server.log" && break
    sleep 0.1
done
gathered=$(grep -o 'journeys: .*' "$tmp/server.log" | head -1 || true)
echo "server: ${gathered:-journey events not gathered after 60 s}; RSS $(rss) MiB"
echo

# --- the data calls, then the first renders
CALLS_INGEST=1 node "$HERE/calls.js" "$base" "$key" "$RUNS" "$tmp/calls.json"
echo
echo "server RSS after the data calls: $(rss) MiB"
echo
node "$HERE/render.js" "$base" "$key" "$RENDER_RUNS" "$CHROMIUM" "$tmp"
echo
echo "server RSS after the page loads: $(rss) MiB"
stop_server
grep -E ' (error|warning|ERROR|WARN)' "$tmp/server.log" | head -5 || true
