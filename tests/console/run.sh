#!/usr/bin/env bash
# The console's browser test: installs what it needs, builds the mock, runs the test.
# Exits non-zero when anything fails. Screenshots and mock logs land in artifacts/console/.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

# Debian's Chromium; the test never downloads a browser of its own.
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "run.sh: /usr/bin/chromium is missing; install Debian's chromium package as root" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "run.sh: node and npm are missing; install Node.js 20 or later" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi

(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
(cd "$root" && cargo build -p qstash-mock)

cd "$here"
node --test --test-concurrency=1 console.test.mjs
