#!/usr/bin/env bash
# bench/recommend: an offline check of src/core/recommend.c. Holds out
# each customer's last order and asks whether the top 10 recommendations
# contain what they bought, against the most popular items (eval.c), on
# the demo data (./cxm demo) and on generated canonical orders (gen.c).
# Usage: bench/recommend/run.sh [CUSTOMERS [DEMO_PEOPLE]]
#   CUSTOMERS    canonical customers (default 1000000)
#   DEMO_PEOPLE  people simulated by cxm demo (default 20000)
# Figures, not a test: it fails only on an error. Not part of make test.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-1000000}
DEMO_N=${2:-20000}
HERE=bench/recommend
B=build/bench
CFLAGS="-std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Wshadow -Wconversion -Wstrict-prototypes -Wformat=2 -Werror"

command -v sqlite3 >/dev/null ||
    { echo "needs the sqlite3 command-line tool (apt-get install sqlite3)" >&2; exit 1; }

# --- build: ./cxm (for the demo data) and its release objects, which
#     eval links: the module as the server runs it
make --no-print-directory -s -j2 cxm build/rel/src/core/recommend.o build/rel/src/common.o
mkdir -p "$B"
cc $CFLAGS -o "$B/recgen" "$HERE/gen.c"
cc $CFLAGS -Isrc -o "$B/receval" "$HERE/eval.c" build/rel/src/core/recommend.o \
   build/rel/src/common.o -lm

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- data (a): the demo database's orders. The customer column is the
#     profile (node) id, merged identities included; dictionary codes are
#     the item and category ids. A fixed end date: the same data every run.
echo "generating the demo data ($DEMO_N people) ..."
./cxm demo --db "$tmp/demo.db" --customers "$DEMO_N" --seed 42 --end 2026-06-30 >/dev/null
sqlite3 -csv "$tmp/demo.db" \
    "SELECT o.customer, o.ts, i.sku, i.category FROM orders o
       JOIN order_item i ON i.order_seq = o.seq ORDER BY o.customer, o.ts, o.seq, i.line" \
    >"$tmp/demo.csv"

# --- data (b): canonical orders, generated once per size and generator
data=$B/recommend/orders-$N-$(sha1sum "$HERE/gen.c" | cut -c1-8).csv
if [ ! -f "$data" ]; then
    mkdir -p "$B/recommend"
    echo "generating $N customers' orders into $data ..."
    "$B/recgen" "$data.tmp" "$N"
    mv "$data.tmp" "$data"
fi

echo
echo "cxm: $(git describe --always --dirty 2>/dev/null || echo "not a git tree")"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')," \
     "$(free -g | awk '/Mem:/ {print $2}') GiB, load average $(cut -d' ' -f1-3 /proc/loadavg)"

echo
echo "== (a) demo: cxm demo --customers $DEMO_N --seed 42 --end 2026-06-30"
"$B/receval" "$tmp/demo.csv" | tee "$tmp/a.out"
echo
echo "== (b) canonical: gen.c, $N customers"
"$B/receval" "$data" | tee "$tmp/b.out"

echo
echo "== summary (all held-out items)"
printf '%-10s %9s %9s %10s %9s %7s %9s %10s\n' data "model hit" "pop hit" "model NDCG" \
       "pop NDCG" "NDCG x" "build s" "us/cust"
for x in a b; do
    line=$(grep '^SUMMARY' "$tmp/$x.out")
    get() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
    name=$([ $x = a ] && echo demo || echo canonical)
    awk -v n="$name" -v hm="$(get hit_model)" -v hp="$(get hit_pop)" -v gm="$(get ndcg_model)" \
        -v gp="$(get ndcg_pop)" -v b="$(get build_s)" -v us="$(get us_per_customer)" \
        'BEGIN { printf "%-10s %9.4f %9.4f %10.4f %9.4f %7.2f %9.3f %10.2f\n",
                 n, hm, hp, gm, gp, gm / gp, b, us }'
done
