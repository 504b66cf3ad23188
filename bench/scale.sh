#!/usr/bin/env bash
# What the store costs a query, and how that grows with the work, in one run: `jobworth bench`
# against sandboxes on an empty store and on a seeded one (bench/seed-store.sh: 10^6 desks, 10^7
# unexpired nonces), each configuration in turn, round after round (every other round in reverse
# order), so the machine's drift lands on all of them alike. With --postgres also against one sandbox on PostgreSQL, two sandboxes on
# one PostgreSQL database (bench spreads its workers over both), and one on a seeded PostgreSQL
# database, on a throwaway server this script starts (its own data dir and loopback port) and
# stops. Loopback only; every process it starts is stopped when it exits.
#
#   bench/scale.sh [--postgres] [--rounds R] [--duration SECS] [--concurrency N] [--desks N]
#                  [--nonces M] [--skip-build]
#
# Prints one table row per configuration (medians over the rounds) and the ratios against the
# empty SQLite store, then the stores' sizes, then every run as JSON lines. CPU is read from /proc:
# the bench client's own, every sandbox process's, and with PostgreSQL the server's (the
# postmaster, its live children, and the children it reaped during the run).
# Needs: cargo, node, curl, the sqlite3 shell; with --postgres the PostgreSQL server binaries (PGBIN,
# default /usr/lib/postgresql/15/bin) and psql.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
ROUNDS=3
DURATION=5
CONCURRENCY=8
DESKS=1000000
NONCES=10000000
BUILD=1
POSTGRES=0
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
usage() {
  echo "usage: bench/scale.sh [--postgres] [--rounds R] [--duration SECS] [--concurrency N] [--desks N] [--nonces M] [--skip-build]" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --concurrency) CONCURRENCY=$2; shift 2 ;;
    --desks) DESKS=$2; shift 2 ;;
    --nonces) NONCES=$2; shift 2 ;;
    --postgres) POSTGRES=1; shift ;;
    --skip-build) BUILD=0; shift ;;
    *) usage ;;
  esac
done

if [ "$BUILD" = 1 ]; then
  cargo build --release -p jobworth-cli >&2
fi
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/jobworth"
[ -x "$BIN" ] || { echo "error: $BIN not found (build with cargo build --release -p jobworth-cli)" >&2; exit 2; }
TCK=$(getconf CLK_TCK)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/jobworth-scale-XXXXXX")
PIDS=()
PGDATA=
# PostgreSQL refuses to run as root: the server and its tools run as the `postgres` user then.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ -n "$PGDATA" ] && [ -f "$PGDATA/postmaster.pid" ]; then
    as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m fast stop >/dev/null 2>&1 || true
  fi
  [ -z "$PGDATA" ] || rm -rf "$(dirname "$PGDATA")"
  rm -rf "$WORK"
}
trap cleanup EXIT

# start_sandbox NAME ARGS...: starts `jobworth sandbox` on a free port; sets PID and URL. Every
# sandbox accepts timestamps an hour either way, so no seeded nonce expires during the run: with
# the default 15 minutes, seeding and the rounds take long enough under load for the oldest ones
# to leave the window, and their deletion would be measured instead of the queries.
WINDOW=3600
start_sandbox() {
  local name=$1
  shift
  : >"$WORK/$name.out"
  "$BIN" sandbox --listen 127.0.0.1:0 --timestamp-window "$WINDOW" "$@" >>"$WORK/$name.out" 2>"$WORK/$name.log" &
  PID=$!
  PIDS+=("$PID")
  URL=
  for _ in $(seq 1 600); do
    URL=$(sed -n 's/.*listening on \(http:\/\/[^ ]*\).*/\1/p' "$WORK/$name.out" | sed -n 1p)
    [ -n "$URL" ] && return 0
    kill -0 "$PID" 2>/dev/null || { cat "$WORK/$name.log" >&2; echo "error: sandbox $name exited" >&2; exit 1; }
    sleep 0.1
  done
  echo "error: sandbox $name did not print 'listening on' within 60 s" >&2
  exit 1
}
stop_sandbox() {
  kill "$1"
  wait "$1" 2>/dev/null || true
}
# utime + stime of processes, in clock ticks (fields 14 and 15; after the parenthesised name, 12 and 13).
ticks() {
  local total=0 pid
  for pid in "$@"; do
    total=$((total + $(sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')))
  done
  echo "$total"
}
# The PostgreSQL server's CPU: the postmaster, its live children, and the children it reaped
# (cutime + cstime of the postmaster).
PM=
pg_ticks() {
  [ -n "$PM" ] || { echo 0; return; }
  local total own
  own=$(sed 's/^.*) //' "/proc/$PM/stat" | awk '{print $12 + $13 + $14 + $15}')
  total=$own
  for pid in $(pgrep -P "$PM"); do
    # A child that exits meanwhile is counted in the postmaster's cutime instead.
    own=$( (sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null || true) | awk '{print $12 + $13}')
    total=$((total + ${own:-0}))
  done
  echo "$total"
}

# Configurations: NAME, the sandbox PIDs whose CPU counts, the endpoints, whether the server's CPU counts.
CONFIGS=()
declare -A CONF_PIDS CONF_URLS CONF_PG

echo "SQLite: an empty store, and one seeded with $DESKS desks and $NONCES nonces" >&2
start_sandbox sqlite-empty --data "$WORK/sqlite-empty"
CONFIGS+=(sqlite-empty); CONF_PIDS[sqlite-empty]=$PID; CONF_URLS[sqlite-empty]="--endpoint $URL"; CONF_PG[sqlite-empty]=0
# The sandbox creates the store (schema, keys), then the seed fills it while no sandbox runs on it.
start_sandbox sqlite-init --data "$WORK/sqlite-seeded"
stop_sandbox "$PID"
bench/seed-store.sh --data "$WORK/sqlite-seeded" --desks "$DESKS" --nonces "$NONCES" >&2
start_sandbox sqlite-seeded --data "$WORK/sqlite-seeded"
CONFIGS+=(sqlite-seeded); CONF_PIDS[sqlite-seeded]=$PID; CONF_URLS[sqlite-seeded]="--endpoint $URL"; CONF_PG[sqlite-seeded]=0

if [ "$POSTGRES" = 1 ]; then
  [ -x "$PGBIN/postgres" ] || { echo "error: no PostgreSQL server in $PGBIN (set PGBIN)" >&2; exit 2; }
  PGROOT=$(mktemp -d "${TMPDIR:-/tmp}/jobworth-scale-pg-XXXXXX")
  PGDATA=$PGROOT/data
  [ "$(id -u)" != 0 ] || chown postgres "$PGROOT"
  PGPORT=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
  as_pg "$PGBIN/initdb" -D "$PGDATA" -A trust -U postgres >/dev/null
  as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -w -l "$PGROOT/server.log" \
    -o "-p $PGPORT -c listen_addresses=127.0.0.1 -k $PGROOT" start >/dev/null
  PM=$(head -1 "$PGDATA/postmaster.pid")
  PGURL="postgres://postgres@127.0.0.1:$PGPORT"
  for db in pg_empty pg_shared pg_seeded; do
    psql -q -X "$PGURL/postgres" -c "CREATE DATABASE $db" >/dev/null
  done
  echo "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PGPORT (pid $PM), default settings" >&2

  start_sandbox pg-1 --data "$WORK/pg-1" --database "$PGURL/pg_empty"
  CONFIGS+=(pg-1); CONF_PIDS[pg-1]=$PID; CONF_URLS[pg-1]="--endpoint $URL"; CONF_PG[pg-1]=1
  start_sandbox pg-2a --data "$WORK/pg-2a" --database "$PGURL/pg_shared"
  PID_A=$PID URL_A=$URL
  start_sandbox pg-2b --data "$WORK/pg-2b" --database "$PGURL/pg_shared"
  CONFIGS+=(pg-2); CONF_PIDS[pg-2]="$PID_A $PID"; CONF_URLS[pg-2]="--endpoint $URL_A --endpoint $URL"; CONF_PG[pg-2]=1
  start_sandbox pg-init --data "$WORK/pg-seeded" --database "$PGURL/pg_seeded"
  stop_sandbox "$PID"
  bench/seed-store.sh --database "$PGURL/pg_seeded" --desks "$DESKS" --nonces "$NONCES" >&2
  start_sandbox pg-seeded --data "$WORK/pg-seeded" --database "$PGURL/pg_seeded"
  CONFIGS+=(pg-seeded); CONF_PIDS[pg-seeded]=$PID; CONF_URLS[pg-seeded]="--endpoint $URL"; CONF_PG[pg-seeded]=1
fi

echo "$ROUNDS rounds of ${CONFIGS[*]}; $CONCURRENCY in flight, ${DURATION}s each ($(date -u +%FT%TZ))" >&2
RUNS=$WORK/runs.jsonl
for round in $(seq 1 "$ROUNDS"); do
  # Every other round in reverse order, so going first or last in a round favours none of them.
  order=("${CONFIGS[@]}")
  if [ $((round % 2)) = 0 ]; then
    order=()
    for ((k = ${#CONFIGS[@]} - 1; k >= 0; k--)); do order+=("${CONFIGS[$k]}"); done
  fi
  for name in "${order[@]}"; do
    # shellcheck disable=SC2086 # the lists are words on purpose
    {
      s0=$(ticks ${CONF_PIDS[$name]})
      g0=$(pg_ticks)
      report=$("$BIN" bench ${CONF_URLS[$name]} --concurrency "$CONCURRENCY" --duration "$DURATION" --json)
      s1=$(ticks ${CONF_PIDS[$name]})
      g1=$(pg_ticks)
    }
    [ "${CONF_PG[$name]}" = 1 ] || g1=$g0
    echo "{\"config\":\"$name\",\"round\":$round,\"sandbox_ticks\":$((s1 - s0)),\"server_ticks\":$((g1 - g0)),\"tck\":$TCK,\"report\":$report}" >>"$RUNS"
    echo "  round $round $name: $(echo "$report" | sed 's/.*"requests_per_sec":\([0-9.]*\).*/\1/') requests/s" >&2
  done
done

# The desk index page (GET /) lists the newest desks: its time grows with the desks a store holds.
PAGES=$WORK/pages.json
{
  echo "{"
  for name in "${CONFIGS[@]}"; do
    url=${CONF_URLS[$name]#--endpoint }
    url=${url%% *}
    best=
    for _ in 1 2 3; do
      t=$(curl -s -o /dev/null -w '%{time_total}' "$url/")
      best=$(awk -v a="$t" -v b="${best:-$t}" 'BEGIN { print (a < b ? a : b) }')
    done
    echo "\"$name\": $best,"
  done
  echo "\"_\": null}"
} >"$PAGES"

# Sizes once every run is done (the bench added a little to each store): the database (SQLite: the
# file, and apart from it the WAL, which keeps the size it once reached), and what desks and nonces
# take of it, indexes included.
SIZES=$WORK/sizes.json
{
  echo "{"
  for name in sqlite-empty sqlite-seeded; do
    db="$WORK/$name/sandbox.db"
    row=$(sqlite3 "$db" "SELECT (SELECT count(*) FROM desks) || ',' || (SELECT count(*) FROM nonces)
      || ',' || (SELECT sum(pgsize) FROM dbstat WHERE name IN ('desks', 'desks_by_token', 'desks_by_order')
                 OR name LIKE 'sqlite_autoindex_desks%')
      || ',' || (SELECT sum(pgsize) FROM dbstat WHERE name IN ('nonces', 'nonces_by_ts'))")
    IFS=, read -r desks nonces desk_bytes nonce_bytes <<<"$row"
    echo "\"$name\": {\"bytes\": $(stat -c %s "$db"), \"wal_bytes\": $(stat -c %s "$db-wal" 2>/dev/null || echo 0),"
    echo "  \"desks\": $desks, \"nonces\": $nonces, \"desk_bytes\": $desk_bytes, \"nonce_bytes\": $nonce_bytes},"
  done
  if [ "$POSTGRES" = 1 ]; then
    for db in pg_empty pg_shared pg_seeded; do
      row=$(psql -qAtX "$PGURL/$db" -c "SELECT pg_database_size(current_database()) || ',' || (SELECT count(*) FROM desks)
        || ',' || (SELECT count(*) FROM nonces) || ',' || pg_total_relation_size('desks') || ',' || pg_total_relation_size('nonces')")
      IFS=, read -r bytes desks nonces desk_bytes nonce_bytes <<<"$row"
      echo "\"$db\": {\"bytes\": $bytes, \"desks\": $desks, \"nonces\": $nonces, \"desk_bytes\": $desk_bytes, \"nonce_bytes\": $nonce_bytes},"
    done
  fi
  echo "\"_\": null}"
} >"$SIZES"

RUNS="$RUNS" SIZES="$SIZES" PAGES="$PAGES" node --input-type=module -e '
import { readFileSync } from "node:fs";
const runs = readFileSync(process.env.RUNS, "utf8").trim().split("\n").map((l) => JSON.parse(l));
const sizes = JSON.parse(readFileSync(process.env.SIZES, "utf8"));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const names = [...new Set(runs.map((r) => r.config))];
const per = (r) => {
  const q = r.report.requests;
  // Sandbox and server CPU over the whole bench run (its setup and warm-up queries included, a few
  // dozen of several thousand), per 1,000 answered queries.
  const sandbox = (r.sandbox_ticks / r.tck) * 1000 / q;
  const server = (r.server_ticks / r.tck) * 1000 / q;
  return { rps: r.report.requests_per_sec, p50: r.report.p50_ms, p99: r.report.p99_ms, client: r.report.cpu_us_per_request / 1000,
           sandbox, server, store: sandbox + server, errors: r.report.errors, ratio: r.report.ratio, ceiling: r.report.ceiling_requests_per_sec };
};
const rows = {};
for (const n of names) {
  const xs = runs.filter((r) => r.config === n).map(per);
  rows[n] = Object.fromEntries(Object.keys(xs[0]).map((k) => [k, k === "errors" ? xs.reduce((a, x) => a + x.errors, 0) : median(xs.map((x) => x[k]))]));
  rows[n].each = xs.map((x) => x.rps);
}
const base = rows["sqlite-empty"];
console.log("| configuration | requests/s (median; each round) | vs SQLite empty | p50 ms | p99 ms | client CPU s / 1,000 q | sandbox CPU s / 1,000 q | PostgreSQL server CPU s / 1,000 q | errors |");
console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const n of names) {
  const r = rows[n];
  console.log(`| ${n} | ${r.rps.toFixed(1)} (${r.each.map((x) => x.toFixed(0)).join(", ")}) | ${(r.rps / base.rps).toFixed(3)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.client.toFixed(3)} | ${r.sandbox.toFixed(3)} | ${r.server.toFixed(3)} | ${r.errors} |`);
}
console.log();
// Round by round, so each ratio is taken between runs seconds apart.
const byRound = (a, b, f) => median(runs.filter((r) => r.config === a).map((r) => { const o = runs.find((x) => x.config === b && x.round === r.round); return f(per(r), per(o)); }));
const pairs = [["sqlite-seeded", "sqlite-empty"], ["pg-seeded", "pg-1"]].filter(([a, b]) => rows[a] && rows[b]);
for (const [a, b] of pairs) {
  console.log(`${a} / ${b}: requests/s ${byRound(a, b, (x, y) => x.rps / y.rps).toFixed(3)}, store CPU per query ${byRound(a, b, (x, y) => x.store / y.store).toFixed(3)}, p99 ${byRound(a, b, (x, y) => x.p99 / y.p99).toFixed(3)} (median of the per-round ratios; target: within 10 %)`);
}
for (const n of ["pg-1", "pg-2"].filter((n) => rows[n])) {
  console.log(`${n} vs sqlite-empty: requests/s ${byRound(n, "sqlite-empty", (x, y) => x.rps / y.rps).toFixed(3)}; store CPU per 1,000 queries (sandbox + server) ${rows[n].store.toFixed(3)} s vs ${base.store.toFixed(3)} s: +${((rows[n].store - base.store) * 1000).toFixed(0)} us per query`);
}
console.log();
for (const [n, s] of Object.entries(sizes)) {
  if (!s) continue;
  const mib = (b) => (b / 1048576).toFixed(1);
  const wal = s.wal_bytes === undefined ? "" : ` + WAL ${mib(s.wal_bytes)} MiB`;
  console.log(`size of ${n}: ${mib(s.bytes)} MiB${wal}; ${s.desks} desks in ${mib(s.desk_bytes)} MiB, ${s.nonces} nonces in ${mib(s.nonce_bytes)} MiB (indexes included)`);
}
const pages = JSON.parse(readFileSync(process.env.PAGES, "utf8"));
for (const [n, t] of Object.entries(pages)) {
  if (t !== null) console.log(`index page (GET /) of ${n}: ${(t * 1000).toFixed(1)} ms (best of 3)`);
}
console.log();
for (const r of runs) console.log(JSON.stringify(r));
'
