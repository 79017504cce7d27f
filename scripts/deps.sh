#!/usr/bin/env bash
# Installs the Debian packages cxm needs to build and test, when missing.
# Idempotent; works as root or through sudo. Prints nothing when all is there.
set -euo pipefail

# chromium: the browser tests (tests/browser/) drive /usr/bin/chromium.
pkgs=(build-essential pkg-config libmicrohttpd-dev libjansson-dev
      libsqlite3-dev libsodium-dev libcriterion-dev libcurl4-openssl-dev
      libxlsxwriter-dev libstemmer-dev libutf8proc-dev sqlite3 curl unzip tzdata
      python3-aiosmtpd chromium)

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
        missing+=("$p")
done
# node and npm generate the sentiment lexicon (lexicon/, Makefile), fetch
# the dashboard's ECharts (npm ci --prefix web) and run the browser tests
# (npm ci --prefix tests/browser), each once, from the Makefile. Any
# install serves (NodeSource's nodejs bundles its own npm, which Debian's npm
# package would conflict with), so Debian's are asked for only when the
# command is missing.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    echo "deps: need root or sudo to install: ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
