#!/usr/bin/env bash
# bench/clv: times the BG/NBD and Gamma-Gamma fits and the predictions of
# src/core/clv.c on simulated customers (bench.c), in weeks and in days.
# Usage: bench/clv/run.sh [customers]    (default 1000000)
#        bench/clv/run.sh simstudy [reps] (the bounds of test clv/sim_recovery)
# Figures, not a test: it fails only on an error.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=build/bench
CFLAGS="-std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Wshadow -Wstrict-prototypes -Wformat=2 -Werror"
mkdir -p "$B"
LIB="src/core/clv.c src/common.c"

if [ "${1:-}" = simstudy ]; then
    cc $CFLAGS -Isrc -o "$B/clv_simstudy" bench/clv/simstudy.c $LIB -lm
    "$B/clv_simstudy" "${2:-100}"
    exit 0
fi

N=${1:-1000000}
cc $CFLAGS -Isrc -o "$B/clv_bench" bench/clv/bench.c $LIB -lm
echo "== $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%F)"
for unit in week day; do
    echo "== unit: $unit"
    "$B/clv_bench" "$N" "$unit"
done
