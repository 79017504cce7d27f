#!/usr/bin/env bash
# bench/loop: what the closed loop costs at ingest (alert rules, cases,
# the outbox), in process on fresh databases, all configurations in one run.
# Usage: bench/loop/run.sh [RECORDS]     (default 200,000 per configuration)
# Figures, not a test.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-200000}
B=build/bench
CFLAGS="-std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Wshadow -Wformat=2 -Werror"
make --no-print-directory -s cxm
mkdir -p "$B"
ENGINE_OBJ=$( (find build/rel/src -name '*.o' ! -path '*/cli/*' ! -path '*/http/*' \
              ! -path '*/notify/*' ! -name main.o; echo build/rel/build/gen/lexicon.o) | sort)
cc $CFLAGS -Isrc $(pkg-config --cflags jansson) -o "$B/loop_ingest" bench/loop/b.c $ENGINE_OBJ \
   $(pkg-config --libs jansson sqlite3 libsodium libutf8proc) -lstemmer -lpthread -lm
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r)"
"$B/loop_ingest" "$tmp" "$N"
