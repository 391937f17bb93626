#!/usr/bin/env bash
# Runs Upstash's official QStash SDKs (JavaScript and Python), unchanged, against the
# `qstash-mock` binary and fails if either suite fails.
#
# Usage: bash tests/compat/run.sh [js] [python]      (no argument runs both)
#
# The script builds and starts one mock on a free port with a frozen clock, exports the
# variables an app would read (QSTASH_URL, QSTASH_TOKEN, QSTASH_CURRENT_SIGNING_KEY,
# QSTASH_NEXT_SIGNING_KEY), installs each suite's pinned dependencies when they are
# missing or out of date, runs the suites one after the other and stops the mock on exit.
# RUST_LOG is passed to the mock (default `warn`); its log is printed when a suite fails.

set -euo pipefail

compat_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$compat_dir/../.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
# A relative CARGO_TARGET_DIR is relative to the workspace, where cargo runs.
case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac

suites=("$@")
if [ ${#suites[@]} -eq 0 ]; then
  suites=(js python)
fi
for suite in "${suites[@]}"; do
  case "$suite" in
    js | python) ;;
    *) echo "run.sh: unknown suite \`$suite\` (expected js or python)" >&2; exit 2 ;;
  esac
done

work="$(mktemp -d)"
mock_pid=""
cleanup() {
  if [ -n "$mock_pid" ] && kill -0 "$mock_pid" 2>/dev/null; then
    kill "$mock_pid" 2>/dev/null || true
    wait "$mock_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "==> building qstash-mock"
(cd "$root" && cargo build --quiet -p qstash-mock)

# Port 0 lets the operating system pick a free port; the mock prints the address it got.
echo "==> starting qstash-mock"
RUST_LOG="${RUST_LOG:-warn}" "$target_dir/debug/qstash-mock" \
  --host 127.0.0.1 --port 0 --clock frozen --seed 1 >"$work/mock.out" 2>"$work/mock.log" &
mock_pid=$!

read_env() {
  sed -n "s/^ *$1=//p" "$work/mock.out" | head -n 1
}

for _ in $(seq 1 300); do
  if [ -n "$(read_env QSTASH_NEXT_SIGNING_KEY)" ]; then
    break
  fi
  if ! kill -0 "$mock_pid" 2>/dev/null; then
    echo "run.sh: qstash-mock exited during start-up:" >&2
    cat "$work/mock.out" "$work/mock.log" >&2
    exit 1
  fi
  sleep 0.1
done

export QSTASH_URL QSTASH_TOKEN QSTASH_CURRENT_SIGNING_KEY QSTASH_NEXT_SIGNING_KEY
QSTASH_URL="$(read_env QSTASH_URL)"
QSTASH_TOKEN="$(read_env QSTASH_TOKEN)"
QSTASH_CURRENT_SIGNING_KEY="$(read_env QSTASH_CURRENT_SIGNING_KEY)"
QSTASH_NEXT_SIGNING_KEY="$(read_env QSTASH_NEXT_SIGNING_KEY)"
if [ -z "$QSTASH_URL" ] || [ -z "$QSTASH_NEXT_SIGNING_KEY" ]; then
  echo "run.sh: qstash-mock did not print its environment in time" >&2
  cat "$work/mock.out" "$work/mock.log" >&2
  exit 1
fi

# Ready means the API answers an authenticated request, not only that the port is open.
python3 - <<'EOF'
import os, sys, time, urllib.request

request = urllib.request.Request(
    os.environ["QSTASH_URL"] + "/v2/keys",
    headers={"Authorization": "Bearer " + os.environ["QSTASH_TOKEN"]},
)
for _ in range(100):
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            if response.status == 200:
                sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit("run.sh: GET /v2/keys never answered 200")
EOF
echo "==> qstash-mock ready at $QSTASH_URL"

run_js() {
  cd "$compat_dir/js"
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund
  fi
  node --test --test-concurrency=1 --test-reporter=spec test/
}

run_python() {
  cd "$compat_dir/python"
  if [ ! -x .venv/bin/python ] || ! cmp -s requirements.txt .venv/requirements.installed; then
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
    cp requirements.txt .venv/requirements.installed
  fi
  .venv/bin/python -m pytest -q -p no:cacheprovider
}

failed=()
for suite in "${suites[@]}"; do
  echo "==> $suite suite"
  if ! ("run_$suite"); then
    failed+=("$suite")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "==> qstash-mock log (last 200 lines)" >&2
  tail -n 200 "$work/mock.log" >&2
  echo "run.sh: failed suites: ${failed[*]}" >&2
  exit 1
fi
echo "==> all suites passed: ${suites[*]}"
