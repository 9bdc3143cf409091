#!/bin/sh
# deps.sh build|test|bench: installs the Debian packages moat needs, if missing.
#   build  compiler and -dev libraries
#   test   + clang/libFuzzer, PostgreSQL 15, Python test clients (pytest, boto3, aws CLI),
#            curl, sqlite3 and openssl command-line tools, Node.js for the JavaScript SDK test
#   bench  + wrk, nginx
set -eu
what=${1:-build}
pkgs="build-essential pkg-config libssl-dev libsqlite3-dev libpq-dev libpcre2-dev zlib1g-dev"
case "$what" in
test|bench)
    pkgs="$pkgs clang libclang-rt-14-dev postgresql-15 postgresql-client-15 python3-pytest python3-pytest-xdist"
    pkgs="$pkgs python3-boto3 awscli python3-cryptography curl sqlite3 openssl ca-certificates zbar-tools"
    command -v node >/dev/null 2>&1 || pkgs="$pkgs nodejs npm"
    command -v npm >/dev/null 2>&1 || pkgs="$pkgs npm"
    ;;
esac
[ "$what" = bench ] && pkgs="$pkgs wrk nginx-light"

missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || true
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
