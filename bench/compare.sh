#!/usr/bin/env bash
# The Rust client (`jobworth bench`) and the official Node SDK (`bench/node-client.mjs`) against the
# same `jobworth sandbox` process, one after the other, same concurrency and duration; then the
# sandbox's peak RSS. Loopback only; every process it starts is stopped when it exits.
#
#   bench/compare.sh [--duration SECS] [--concurrency N] [--skip-build]
#
# Needs: cargo, node, and interop/node_modules (`cd interop && npm ci`). The sandbox runs with its
# default logging (info, one line per request, to a file) unless RUST_LOG says otherwise.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
DURATION=5
CONCURRENCY=$((4 * $(nproc)))
BUILD=1
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --concurrency) CONCURRENCY=$2; shift 2 ;;
    --skip-build) BUILD=0; shift ;;
    *) echo "usage: bench/compare.sh [--duration SECS] [--concurrency N] [--skip-build]" >&2; exit 2 ;;
  esac
done

if [ ! -d interop/node_modules/alipay-sdk ]; then
  echo "error: interop/node_modules/alipay-sdk is missing: run \`npm ci\` in interop/" >&2
  exit 2
fi
if [ "$BUILD" = 1 ]; then
  cargo build --release -p jobworth-cli >&2
fi
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/jobworth"
[ -x "$BIN" ] || { echo "error: $BIN not found (build with cargo build --release -p jobworth-cli)" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/jobworth-compare-XXXXXX")
SANDBOX_PID=
cleanup() {
  if [ -n "$SANDBOX_PID" ]; then
    kill "$SANDBOX_PID" 2>/dev/null || true
    wait "$SANDBOX_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

"$BIN" sandbox --listen 127.0.0.1:0 --data "$WORK/state" >"$WORK/sandbox.out" 2>"$WORK/sandbox.log" &
SANDBOX_PID=$!
URL=
for _ in $(seq 1 300); do
  URL=$(sed -n 's/.*listening on \(http:\/\/[^ ]*\).*/\1/p' "$WORK/sandbox.out" | head -n 1)
  [ -n "$URL" ] && break
  kill -0 "$SANDBOX_PID" 2>/dev/null || { cat "$WORK/sandbox.log" >&2; echo "error: sandbox exited" >&2; exit 1; }
  sleep 0.1
done
[ -n "$URL" ] || { echo "error: sandbox did not print 'listening on' within 30 s" >&2; exit 1; }

echo "sandbox $URL (pid $SANDBOX_PID); $CONCURRENCY concurrent clients, ${DURATION}s each" >&2
# utime + stime of the sandbox, in clock ticks (fields 14 and 15 after the parenthesised name).
sandbox_ticks() { sed 's/^.*) //' "/proc/$SANDBOX_PID/stat" | awk '{print $12 + $13}'; }
T0=$(sandbox_ticks)
RUST=$("$BIN" bench --endpoint "$URL" --concurrency "$CONCURRENCY" --duration "$DURATION" --json)
T1=$(sandbox_ticks)
NODE=$(node bench/node-client.mjs --endpoint "$URL" --concurrency "$CONCURRENCY" --duration "$DURATION" --json)
T2=$(sandbox_ticks)
TCK=$(getconf CLK_TCK)
SANDBOX_HWM_KIB=$(awk '/^VmHWM:/ {print $2}' "/proc/$SANDBOX_PID/status")

RUST="$RUST" NODE="$NODE" HWM="$SANDBOX_HWM_KIB" TICKS="$T0 $T1 $T2 $TCK" node --input-type=module -e '
const rust = JSON.parse(process.env.RUST);
const node = JSON.parse(process.env.NODE);
const hwm = Number(process.env.HWM) / 1024;
// Sandbox CPU per answered query, over each client run (setup and warm-up queries included, so a slight over-estimate).
const [t0, t1, t2, tck] = process.env.TICKS.split(" ").map(Number);
const sandboxUs = (a, b, r) => Math.round(((b - a) / tck) * 1e6 / r.requests);
const row = (name, r) => `| ${name} | ${r.requests_per_sec} | ${r.p50_ms} | ${r.p99_ms} | ${r.requests} | ${r.errors} |`;
console.log("| client | requests/s | p50 ms | p99 ms | requests | errors |");
console.log("|---|---:|---:|---:|---:|---:|");
console.log(row("jobworth (Rust SDK)", rust));
console.log(row(node.client, node));
console.log();
console.log(`Rust / Node requests/s: ${(rust.requests_per_sec / node.requests_per_sec).toFixed(2)}x (target >= 3x)`);
console.log(`Rust client vs crypto ceiling ${rust.ceiling_requests_per_sec}/s: ratio ${rust.ratio} (client and sandbox in separate processes)`);
console.log(`sandbox peak RSS (VmHWM): ${hwm.toFixed(1)} MiB (target < 64 MiB)`);
console.log(`CPU per query: Rust client ${rust.cpu_us_per_request} us + sandbox ${sandboxUs(t0, t1, rust)} us; sandbox during the Node run ${sandboxUs(t1, t2, node)} us`);
console.log();
console.log(JSON.stringify({
  rust,
  node,
  rust_over_node: rust.requests_per_sec / node.requests_per_sec,
  sandbox_peak_rss_mib: Number(hwm.toFixed(1)),
  sandbox_cpu_us_per_request: { rust_run: sandboxUs(t0, t1, rust), node_run: sandboxUs(t1, t2, node) },
}));
'
