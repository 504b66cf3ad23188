#!/usr/bin/env bash
# Four clients against the same `jobworth sandbox` process, one after the other, same concurrency and
# duration: the Rust client (`jobworth bench`), the official Java v3 SDK (`bench/java-client.sh`),
# gopay (`interop/go/cmd/gopay-bench`) and the official Node SDK (`bench/node-client.mjs`); then the
# sandbox's peak RSS. Each client reports its own CPU time over its timed loop. Loopback only; every
# process it starts is stopped when it exits.
#
#   bench/compare.sh [--duration SECS] [--concurrency N] [--skip-build]
#
# Needs: cargo, node and interop/node_modules (`cd interop && npm ci`), a JDK 17 with Maven, Go. The
# sandbox runs with its default logging (info, one line per request, to a file) unless RUST_LOG says
# otherwise.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
DURATION=5
CONCURRENCY=8
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
command -v go >/dev/null 2>&1 || export PATH="$PATH:/usr/local/go/bin"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/jobworth-compare-XXXXXX")
# Built before the sandbox starts, so no build competes with a measured run.
(cd interop/go && go build -o "$WORK/gopay-bench" ./cmd/gopay-bench) >&2
bench/java-client.sh --help >/dev/null 2>&1 || true
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
  URL=$(sed -n 's/.*listening on \(http:\/\/[^ ]*\).*/\1/p' "$WORK/sandbox.out" | sed -n 1p)
  [ -n "$URL" ] && break
  kill -0 "$SANDBOX_PID" 2>/dev/null || { cat "$WORK/sandbox.log" >&2; echo "error: sandbox exited" >&2; exit 1; }
  sleep 0.1
done
[ -n "$URL" ] || { echo "error: sandbox did not print 'listening on' within 30 s" >&2; exit 1; }

echo "sandbox $URL (pid $SANDBOX_PID); $CONCURRENCY concurrent clients, ${DURATION}s each" >&2
# utime + stime of the sandbox, in clock ticks (fields 14 and 15 after the parenthesised name).
sandbox_ticks() { sed 's/^.*) //' "/proc/$SANDBOX_PID/stat" | awk '{print $12 + $13}'; }
ARGS=(--endpoint "$URL" --concurrency "$CONCURRENCY" --duration "$DURATION" --json)
T0=$(sandbox_ticks)
RUST=$("$BIN" bench "${ARGS[@]}")
T1=$(sandbox_ticks)
JAVA=$(bench/java-client.sh "${ARGS[@]}")
T2=$(sandbox_ticks)
GOPAY=$("$WORK/gopay-bench" "${ARGS[@]}")
T3=$(sandbox_ticks)
NODE=$(node bench/node-client.mjs "${ARGS[@]}")
T4=$(sandbox_ticks)
TCK=$(getconf CLK_TCK)
SANDBOX_HWM_KIB=$(awk '/^VmHWM:/ {print $2}' "/proc/$SANDBOX_PID/status")

RUST="$RUST" JAVA="$JAVA" GOPAY="$GOPAY" NODE="$NODE" HWM="$SANDBOX_HWM_KIB" TICKS="$T0 $T1 $T2 $T3 $T4 $TCK" \
node --input-type=module -e '
const rust = JSON.parse(process.env.RUST);
// The Rust report gives CPU per request; the others give CPU seconds over the timed loop.
rust.cpu_secs = (rust.cpu_us_per_request * rust.requests) / 1e6;
rust.client = "jobworth (Rust SDK)";
const peers = ["JAVA", "GOPAY", "NODE"].map((k) => JSON.parse(process.env[k]));
const hwm = Number(process.env.HWM) / 1024;
// Sandbox CPU per answered query, over each client run (setup and warm-up queries included, so an over-estimate).
const [t0, t1, t2, t3, t4, tck] = process.env.TICKS.split(" ").map(Number);
const ticks = [t1 - t0, t2 - t1, t3 - t2, t4 - t3];
const all = [rust, ...peers];
const cpuPerK = (r) => (r.cpu_secs * 1000) / r.requests;
const row = (r, i) =>
  `| ${r.client} | ${r.requests_per_sec} | ${r.p50_ms} | ${r.p99_ms} | ${cpuPerK(r).toFixed(3)} | ${r.requests} | ${r.errors} | ${Math.round(((ticks[i] / tck) * 1e6) / r.requests)} |`;
console.log("| client | requests/s | p50 ms | p99 ms | client CPU s / 1,000 requests | requests | errors | sandbox CPU us / request |");
console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
all.forEach((r, i) => console.log(row(r, i)));
console.log();
const fastest = peers.reduce((a, b) => (b.requests_per_sec > a.requests_per_sec ? b : a));
console.log(`fastest peer: ${fastest.client}`);
console.log(`Rust / fastest peer requests/s: ${(rust.requests_per_sec / fastest.requests_per_sec).toFixed(2)}x (target >= 3x)`);
console.log(`Rust / fastest peer client CPU per request: ${(cpuPerK(rust) / cpuPerK(fastest)).toFixed(3)} (target <= 0.333)`);
for (const p of peers) {
  console.log(`  vs ${p.client}: ${(rust.requests_per_sec / p.requests_per_sec).toFixed(2)}x requests/s, CPU per request ${(cpuPerK(rust) / cpuPerK(p)).toFixed(3)}`);
}
console.log(`sandbox peak RSS (VmHWM): ${hwm.toFixed(1)} MiB (target < 64 MiB)`);
console.log();
console.log(JSON.stringify({ rust, peers, sandbox_peak_rss_mib: Number(hwm.toFixed(1)) }));
'
