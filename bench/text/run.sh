#!/usr/bin/env bash
# bench/text: sentiment scoring throughput of cxm (src/core/sentiment.c,
# single-threaded, score.c) against the JavaScript VADER (npm
# vader-sentiment, node, vader.mjs) on the same generated customer comments
# (gen.c), in one run; then how often the two give the same compound.
# Usage: bench/text/run.sh [N]     N comments, default 1,000,000
#        bench/text/run.sh ref     regenerates tests/data/sentiment_vader_ref.tsv
# Figures, not a test: it fails only when a step fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
HERE=bench/text
B=build/bench
CFLAGS="-std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Wshadow -Wconversion -Wformat=2 -Werror"
RUNS=${RUNS:-5}

# --- build: the scorer's release objects, the generator, the C driver, and
#     the JavaScript peer
make --no-print-directory -s build/rel/src/core/sentiment.o build/rel/src/core/utf8.o \
    build/rel/build/gen/lexicon.o
mkdir -p "$B/text"
cc $CFLAGS -o "$B/textgen" "$HERE/gen.c"
cc $CFLAGS -Isrc -o "$B/textscore" "$HERE/score.c" build/rel/src/core/sentiment.o \
    build/rel/src/core/utf8.o build/rel/build/gen/lexicon.o -lm
if [ ! -d "$HERE/node_modules/vader-sentiment" ]; then
    npm ci --prefix "$HERE" --no-audit --no-fund --loglevel=error
fi

if [ "${1:-}" = ref ]; then
    "$B/textgen" 300 >"$B/text/ref-comments.txt"
    node "$HERE/vader_ref.mjs" "$HERE/probes.txt" tests/data/sentiment_labelled.tsv \
        "$B/text/ref-comments.txt" >tests/data/sentiment_vader_ref.tsv
    echo "wrote tests/data/sentiment_vader_ref.tsv:" \
         "$(grep -vc '^#' tests/data/sentiment_vader_ref.tsv) texts," \
         "$(grep -c $'\tsame\t' tests/data/sentiment_vader_ref.tsv) of them 'same'"
    exit 0
fi

N=${1:-1000000}
data=$B/text/comments-$N.txt
[ -f "$data" ] || "$B/textgen" "$N" >"$data"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "cxm: $(git describe --always --dirty 2>/dev/null || echo "not a git tree")"
echo "machine: $(nproc) cores ($(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1))," \
     "$(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "compilers: $(cc --version | head -1); node $(node --version)"
echo "data: $N comments, $(wc -c <"$data") bytes, $data"
echo

echo "cxm: $RUNS runs ..."
c_fig=$("$B/textscore" "$data" "$RUNS" "$tmp/c.txt")
echo "JavaScript VADER (one run) ..."
js_fig=$(node "$HERE/vader.mjs" "$data" "$tmp/js.txt")

# the same compounds? on all of them; then on a sample the share that
# should agree by design (vader_ref.mjs's classes) and whether it does
head -20000 "$data" >"$tmp/sample.txt"
node "$HERE/vader_ref.mjs" "$tmp/sample.txt" | grep -v '^#' | cut -f2 >"$tmp/class.txt"
agree=$(paste "$tmp/c.txt" "$tmp/js.txt" | awk '
    function lab(x) { return x >= 0.05 ? 1 : x <= -0.05 ? -1 : 0 }
    { d = $1 - $2; if (d < 0) d = -d; n++; same += d <= 0.001; lab_same += lab($1) == lab($2) }
    END { printf "%d %d %d", n, same, lab_same }')
sample=$(paste "$tmp/class.txt" <(head -20000 "$tmp/c.txt") <(head -20000 "$tmp/js.txt") | awk '
    { n++; if ($1 == "same") { k++; d = $2 - $3; if (d < 0) d = -d; ok += d <= 0.001 } }
    END { printf "%d %d %d", n, k, ok }')

python3 - "$c_fig" "$js_fig" $agree $sample <<'PY'
import json, sys
c, js = json.loads(sys.argv[1]), json.loads(sys.argv[2])
n, same, lab_same, sn, sk, sok = (int(x) for x in sys.argv[3:9])
print(f"{'':28} {'comments/s':>12} {'MB/s':>8}")
print(f"{'cxm (best of %d)' % c['runs']:28} {c['comments_per_s']:>12,.0f} {c['mb_per_s']:>8.1f}")
print(f"{'cxm (median)':28} {c['median_comments_per_s']:>12,.0f} "
      f"{c['bytes'] / c['median_s'] / 1e6:>8.1f}")
print(f"{'JavaScript VADER (node)':28} {js['comments_per_s']:>12,.0f} {js['mb_per_s']:>8.2f}")
print(f"ratio cxm / JavaScript: {c['comments_per_s'] / js['comments_per_s']:.0f}x best, "
      f"{c['median_comments_per_s'] / js['comments_per_s']:.0f}x median (target >= 50x)")
print(f"labels cxm: {c['positive']:,} positive, {c['negative']:,} negative, {c['neutral']:,} neutral;"
      f" JavaScript: {js['positive']:,} / {js['negative']:,} / {js['neutral']:,}")
print(f"same compound (within 1e-3): {same / n:.1%} of {n:,}; same label: {lab_same / n:.1%}")
print(f"sample of {sn:,}: {sk / sn:.1%} agree by design, and {sok:,} of those {sk:,} do")
PY
