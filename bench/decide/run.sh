#!/usr/bin/env bash
# bench/decide: next-best-action decisions on the canonical data set.
#   1. in process (d.c): engine_decide p50/p99 with 50 actions and 20
#      segments over 1,000,000 customers, and the segment upkeep per event;
#   2. over HTTP on loopback: POST /v1/decide with wrk (64 connections)
#      against nginx serving a 200-byte static file, in the same run.
# Usage: bench/decide/run.sh [small|full]   (full: 1,000,000 customers)
# Figures, not a test. Installs wrk and nginx-light when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
MODE=${1:-full}
case "$MODE" in
small) NCUST=20000 NFB=200000 NDEC=50000 DUR=5 ;;
full) NCUST=1000000 NFB=10000000 NDEC=200000 DUR=15 ;;
*) echo "usage: bench/decide/run.sh [small|full]" >&2; exit 2 ;;
esac
NFB_LOAD=$((NFB / 5))            # feedback loaded: a fifth of the canonical responses
B=build/bench
CFLAGS="-std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Wshadow -Wformat=2 -Werror"

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
if [ ${#need[@]} -gt 0 ]; then
    SUDO=; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get install -y "${need[@]}"
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

make --no-print-directory -s cxm
mkdir -p "$B"
cc $CFLAGS -o "$B/gen" bench/analytics/gen.c -lm
cc $CFLAGS -o "$B/recgen" bench/recommend/gen.c
ENGINE_OBJ=$( (find build/rel/src -name '*.o' ! -path '*/cli/*' ! -name main.o;
              echo build/rel/build/gen/lexicon.o) | sort)
cc $CFLAGS -Isrc $(pkg-config --cflags jansson) -o "$B/decide_inproc" bench/decide/d.c $ENGINE_OBJ \
   $(pkg-config --libs libmicrohttpd jansson sqlite3 libsodium xlsxwriter libutf8proc libcurl) -lstemmer \
   -lpthread -lm

# --- data: the canonical customers and responses (bench/analytics) and
#     orders (bench/recommend), converted to cxm's import CSV, loaded once
data=$B/analytics/$NCUST-$NFB
if [ ! -f "$data/done" ]; then
    mkdir -p "$data"
    "$B/gen" "$data" "$NCUST" "$NFB" "$((NFB / 10))"
    touch "$data/done"
fi
db=$B/decide/$NCUST.db
mkdir -p "$B/decide"
if [ ! -f "$B/decide/$NCUST.done" ]; then
    rm -f "$db" "$db"-*
    tmpd=$(mktemp -d)
    # names and consents, deterministic from the id: 70% marketing, 80% surveys
    awk -F, 'NR == 1 { print "crm,country,birth_year,gender,name,consent_marketing,consent_surveys"; next }
             { n = substr($1, 2) + 0;
               printf "%s,%s,%s,%s,Customer %d,%s,%s\n", $1, $2, $3, $4, n,
                      (n * 7919 % 10 < 7) ? "true" : "false", (n * 104729 % 10 < 8) ? "true" : "false" }' \
        "$data/customers.csv" > "$tmpd/customers.csv"
    head -n $((NFB_LOAD + 1)) "$data/feedback.csv" > "$tmpd/feedback.csv"
    "$B/recgen" "$tmpd/items.csv" "$NCUST"
    awk -F, 'NR == 1 { print "order_id,ts,crm,sku,category,qty,price"; next }
             { printf "O%s-%s,%s,C%07d,%s,cat%s,1,%d.99\n", $1, $2, $2, $1, $3, $4, 5 + ($3 % 60) }' \
        "$tmpd/items.csv" > "$tmpd/orders.csv"
    echo "loading $NCUST customers, $NFB_LOAD responses and $(($(wc -l < "$tmpd/items.csv") - 1)) order lines ..."
    ./cxm import --db "$db" --kind customers "$tmpd/customers.csv"
    ./cxm import --db "$db" --kind feedback "$tmpd/feedback.csv"
    ./cxm import --db "$db" --kind orders "$tmpd/orders.csv"
    rm -rf "$tmpd"
    touch "$B/decide/$NCUST.done"
fi

echo "cxm: $(git describe --always --dirty 2>/dev/null || echo "not a git tree")"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r)"
echo
echo "== in process (bench/decide/d.c)"
"$B/decide_inproc" "$db" "$NDEC"

# --- over HTTP: cxm serve on the same database, nginx on a static file
echo
echo "== over HTTP, wrk -t2 -c64 -d${DUR}s, the same machine"
tmp=$(mktemp -d)
cleanup() {
    [ -n "${CXM_PID:-}" ] && kill "$CXM_PID" 2>/dev/null || true
    [ -f "$tmp/nginx.pid" ] && kill "$(cat "$tmp/nginx.pid")" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
key=$(./cxm keys create --db "$db" --role agent --name bench-decide)
port=$((20000 + RANDOM % 20000))
./cxm serve --db "$db" --listen "127.0.0.1:$port" >"$tmp/serve.out" 2>"$tmp/serve.log" &
CXM_PID=$!
for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
    sleep 0.5
done
cat > "$tmp/decide.lua" <<LUA
math.randomseed(7)
local hdr = {["Authorization"] = "Bearer $key", ["Content-Type"] = "application/json"}
request = function()
  return wrk.format("POST", "/v1/decide", hdr,
    '{"customer":' .. math.random(1, $NCUST) .. ',"channel":"web"}')
end
LUA
curl -s -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
     -d '{"customer":42,"channel":"web"}' "http://127.0.0.1:$port/v1/decide" | head -c 400
echo
wrk -t2 -c64 -d"${DUR}s" --latency -s "$tmp/decide.lua" "http://127.0.0.1:$port/" | tee "$tmp/cxm.wrk"
kill "$CXM_PID"; wait "$CXM_PID" 2>/dev/null || true; CXM_PID=

mkdir -p "$tmp/www"
head -c 200 /dev/zero | tr '\0' 'x' > "$tmp/www/static.txt"
nport=$((port + 1))
cat > "$tmp/nginx.conf" <<NGX
worker_processes auto;
pid $tmp/nginx.pid;
error_log $tmp/nginx.err;
daemon on;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $tmp; proxy_temp_path $tmp; fastcgi_temp_path $tmp;
  uwsgi_temp_path $tmp; scgi_temp_path $tmp;
  server { listen 127.0.0.1:$nport; root $tmp/www; }
}
NGX
"$NGINX" -c "$tmp/nginx.conf"
sleep 0.5
wrk -t2 -c64 -d"${DUR}s" --latency "http://127.0.0.1:$nport/static.txt" | tee "$tmp/nginx.wrk"
rps() { awk '/Requests\/sec/ { print $2 }' "$1"; }
p99() { awk '$1 == "99%" { print $2 }' "$1"; }
echo
echo "cxm decide: $(rps "$tmp/cxm.wrk") req/s, p99 $(p99 "$tmp/cxm.wrk");" \
     "nginx static: $(rps "$tmp/nginx.wrk") req/s, p99 $(p99 "$tmp/nginx.wrk");" \
     "ratio $(awk -v a="$(rps "$tmp/cxm.wrk")" -v b="$(rps "$tmp/nginx.wrk")" 'BEGIN { printf "%.2f", a / b }')"
