#!/usr/bin/env bash
# Fills a sandbox store with a large, valid history in one set-based statement per table, so the
# benchmark can compare query cost against a full store and an empty one:
#
#   bench/seed-store.sh --data DIR [--desks N] [--nonces M] [--apps A]
#
# DIR must hold a store the sandbox has created (run `jobworth sandbox --data DIR` once and stop it),
# and no sandbox may be running on it while this runs. Adds A apps (no key registered: requests from
# them are refused), N desks spread over them in every state a desk can be in (a quarter each: opened,
# pending persona, SUCCESS consumed, cancelled; half opened through an order string of the real
# size), and M nonces with random UUIDs whose timestamps are spread over the 10 minutes before now:
# with the default 15-minute timestamp window none of them expires within 5 minutes of seeding.
# Defaults: 1,000 apps, 10^6 desks, 10^7 nonces. Prints the row counts and the time it took.
set -euo pipefail

DATA=
DESKS=1000000
NONCES=10000000
APPS=1000
usage() { echo "usage: bench/seed-store.sh --data DIR [--desks N] [--nonces M] [--apps A]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --data) DATA=$2; shift 2 ;;
    --desks) DESKS=$2; shift 2 ;;
    --nonces) NONCES=$2; shift 2 ;;
    --apps) APPS=$2; shift 2 ;;
    *) usage ;;
  esac
done
[ -n "$DATA" ] || usage
for n in "$DESKS" "$NONCES" "$APPS"; do
  [[ "$n" =~ ^[0-9]+$ ]] || usage
done
[ "$APPS" -ge 1 ] || usage
DB="$DATA/sandbox.db"
[ -f "$DB" ] || { echo "error: $DB not found: start \`jobworth sandbox --data $DATA\` once first" >&2; exit 2; }
command -v sqlite3 >/dev/null || { echo "error: the sqlite3 command-line shell is needed" >&2; exit 2; }
VERSION=$(sqlite3 "$DB" "PRAGMA user_version")
[ "$VERSION" = 4 ] || { echo "error: $DB has schema version $VERSION; this script writes version 4" >&2; exit 2; }

# Keys are a bijection of the row number (odd multipliers mod 2^32 in the leading field), so they
# are unique, land in random order like the sandbox's random ones (same page fill), and cost far
# less to make than SQLite's randomblob(). Numbering continues after earlier seeded rows, so the
# script can be run again on the same store.
uuid() {
  echo "printf('%08x-%04x-4%03x-a%03x-%012x', (i * $1) & 4294967295, (i * $2) & 65535, (i * 2531) & 4095,
                (i * 3677) & 4095, (i * $2 * 7) & 281474976710655)"
}
DESK_BASE=$(sqlite3 "$DB" "SELECT count(*) FROM desks WHERE conn_key LIKE 'seed-%'")
NONCE_BASE=$(sqlite3 "$DB" "SELECT count(*) FROM nonces WHERE app_id LIKE '2099%'")
NOW_MS=$(($(date +%s%N) / 1000000))
START=$(date +%s.%N)
# One transaction, written straight into the database file: no journal (in WAL mode every page
# would be written twice, to the WAL and back), no syncs, a large page cache. A seeding cut short
# leaves a store to throw away. The sandbox puts the file back in WAL mode when it opens it; so
# does the last statement. Triggers bump the change counters once per row, as the sandbox's own
# inserts do.
sqlite3 "$DB" >/dev/null <<SQL
PRAGMA busy_timeout = 10000;
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -1048576;
PRAGMA temp_store = MEMORY;
BEGIN IMMEDIATE;
INSERT OR IGNORE INTO apps (app_id, created_at, updated_at, name)
  WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < $APPS)
  SELECT printf('2099%012d', i), $NOW_MS, $NOW_MS, 'seeded app ' || i FROM seq;
INSERT INTO desks (desk_id, app_id, conn_key, once_token, identity_type, service_id, order_hash, order_str,
                   persona, state, result, became_terminal_at, consumed, consumed_at, created_at, updated_at)
  WITH RECURSIVE seq(i) AS (SELECT $DESK_BASE UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < $DESK_BASE + $DESKS)
  SELECT printf('%08x%08x%08x%08x', (i * 2654435761) & 4294967295, (i * 2246822519) & 4294967295,
                (i * 3266489917) & 4294967295, (i * 668265263) & 4294967295),
         printf('2099%012d', i % $APPS),
         'seed-' || i,
         $(uuid 2246822519 3266489917),
         '04',
         '2019120400000000000004450100',
         CASE WHEN i % 2 = 0 THEN lower(hex(randomblob(32))) END,
         CASE WHEN i % 2 = 0 THEN
           'app_id=' || printf('2099%012d', i % $APPS) || '&biz_content={"out_agreement_no":"seed-' || i
           || '","zm_service_id":"2019120400000000000004450100","extra_param":"{\"identityType\":\"04\"}"}'
           || '&charset=UTF-8&format=json&method=zhima.customer.jobworth.authentication.pre.consult'
           || '&sign_type=RSA2&timestamp=2026-12-01 00:00:00&version=1.0&sign=' || hex(randomblob(172))
         END,
         CASE i % 4 WHEN 0 THEN NULL WHEN 1 THEN 'pending' WHEN 2 THEN 'teacher' ELSE NULL END,
         CASE i % 4 WHEN 2 THEN 'terminal' WHEN 3 THEN 'cancelled' ELSE 'pending' END,
         CASE i % 4 WHEN 2 THEN 'SUCCESS' WHEN 3 THEN 'USER_NOT_AUTHORIZE' END,
         CASE WHEN i % 4 >= 2 THEN $NOW_MS - 600000 END,
         CASE i % 4 WHEN 2 THEN 1 ELSE 0 END,
         CASE i % 4 WHEN 2 THEN $NOW_MS - 590000 END,
         $NOW_MS - 900000 + i % 300000,
         $NOW_MS - 600000
  FROM seq;
INSERT INTO nonces (app_id, nonce, ts)
  WITH RECURSIVE seq(i) AS (SELECT $NONCE_BASE UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < $NONCE_BASE + $NONCES)
  SELECT printf('2099%012d', i % $APPS),
         $(uuid 2654435761 1103515245),
         $NOW_MS - 600000 + ((i - $NONCE_BASE) * 600000) / max($NONCES, 1)
  FROM seq;
COMMIT;
PRAGMA journal_mode = WAL;
SQL
END=$(date +%s.%N)
COUNTS=$(sqlite3 "$DB" "SELECT (SELECT count(*) FROM apps), (SELECT count(*) FROM desks), (SELECT count(*) FROM nonces)")
echo "seeded $DB in $(awk "BEGIN { printf \"%.1f\", $END - $START }") s; apps|desks|nonces now: $COUNTS"
