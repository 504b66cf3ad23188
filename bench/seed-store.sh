#!/usr/bin/env bash
# Fills a sandbox store with a large, valid history in one set-based statement per table, so the
# benchmark can compare query cost against a full store and an empty one:
#
#   bench/seed-store.sh (--data DIR | --database postgres://USER@HOST:PORT/DB) [--desks N] [--nonces M] [--apps A]
#
# The store must be one the sandbox has created (run `jobworth sandbox` on it once and stop it), at
# schema version 6, and no sandbox may use it while this runs. Adds A apps (no key registered:
# requests from them are refused), N desks spread over them in every state a desk can be in (a
# quarter each: opened, pending persona, SUCCESS consumed, cancelled; half opened through an order
# string of the real size), and M nonces whose timestamps are spread over the 10 minutes before
# the seeding starts: with the default 15-minute timestamp window the oldest expire 5 minutes
# after that (bench/scale.sh runs its sandboxes with a one-hour window). Defaults: 1,000 apps, 10^6 desks, 10^7 nonces. Prints the row counts and the time taken.
# Needs the sqlite3 shell, or psql and a PostgreSQL role that may set session_replication_role
# (a superuser, as on a throwaway server).
set -euo pipefail

DATA=
DATABASE=
DESKS=1000000
NONCES=10000000
APPS=1000
usage() {
  echo "usage: bench/seed-store.sh (--data DIR | --database URL) [--desks N] [--nonces M] [--apps A]" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --data) DATA=$2; shift 2 ;;
    --database) DATABASE=$2; shift 2 ;;
    --desks) DESKS=$2; shift 2 ;;
    --nonces) NONCES=$2; shift 2 ;;
    --apps) APPS=$2; shift 2 ;;
    *) usage ;;
  esac
done
[ -n "$DATA$DATABASE" ] && { [ -z "$DATA" ] || [ -z "$DATABASE" ]; } || usage
for n in "$DESKS" "$NONCES" "$APPS"; do
  [[ "$n" =~ ^[0-9]+$ ]] || usage
done
[ "$APPS" -ge 1 ] || usage

if [ -n "$DATA" ]; then
  DB="$DATA/sandbox.db"
  [ -f "$DB" ] || { echo "error: $DB not found: start \`jobworth sandbox --data $DATA\` once first" >&2; exit 2; }
  command -v sqlite3 >/dev/null || { echo "error: the sqlite3 command-line shell is needed" >&2; exit 2; }
  sql() { sqlite3 "$DB" "$@"; }
  VERSION=$(sql "PRAGMA user_version")
  WHERE="$DB"
  # Spelling of the two dialects: a row number as an app id, as lower-case hex of a width.
  app_id() { echo "printf('2099%012d', $1)"; }
  hex() { echo "printf('%0$2x', $1)"; }
  random_hex() { echo "lower(hex(randomblob($1)))"; }
  SEQ="WITH RECURSIVE seq(i) AS (SELECT @FROM UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < @TO) SELECT"
  FROM="FROM seq"
  CONSUMED="1"
  NOT_CONSUMED="0"
else
  command -v psql >/dev/null || { echo "error: psql is needed" >&2; exit 2; }
  sql() { psql -qAtX -v ON_ERROR_STOP=1 "$DATABASE" "$@"; }
  VERSION=$(sql -c "SELECT version FROM jobworth_schema")
  WHERE="${DATABASE%%\?*}"
  app_id() { echo "'2099' || lpad(($1)::text, 12, '0')"; }
  hex() { echo "lpad(to_hex($1), $2, '0')"; }
  random_hex() { echo "substr(repeat(md5(random()::text), ($1 + 15) / 16), 1, 2 * $1)"; }
  SEQ="SELECT"
  FROM="FROM generate_series(@FROM::bigint, @TO::bigint - 1) AS seq(i)"
  CONSUMED="TRUE"
  NOT_CONSUMED="FALSE"
fi
[ "$VERSION" = 6 ] || { echo "error: $WHERE has schema version $VERSION; this script writes version 6" >&2; exit 2; }

# Keys are a bijection of the row number (odd multipliers mod 2^32 in the leading field), so they
# are unique, land in random order like the sandbox's random ones (the same page fill), and cost
# far less to make than random bytes. Numbering continues after earlier seeded rows, so the script
# can be run again on the same store.
uuid() {
  echo "$(hex "(i * $1) & 4294967295" 8) || '-' || $(hex "(i * $2) & 65535" 4) || '-4' || $(hex "(i * 2531) & 4095" 3)
        || '-a' || $(hex "(i * 3677) & 4095" 3) || '-' || $(hex "(i * $2 * 7) & 281474976710655" 12)"
}
range() { local s=${1//@FROM/$2}; echo "${s//@TO/$3}"; }
if [ -n "$DATA" ]; then
  DESK_BASE=$(sql "SELECT count(*) FROM desks WHERE conn_key LIKE 'seed-%'")
  NONCE_BASE=$(sql "SELECT count(*) FROM nonces WHERE app_id LIKE '2099%'")
else
  DESK_BASE=$(sql -c "SELECT count(*) FROM desks WHERE conn_key LIKE 'seed-%'")
  NONCE_BASE=$(sql -c "SELECT count(*) FROM nonces WHERE app_id LIKE '2099%'")
fi
NOW_MS=$(($(date +%s%N) / 1000000))
APP=$(app_id "i % $APPS")

INSERTS="
INSERT INTO apps (app_id, created_at, updated_at, name)
  $(range "$SEQ" 0 "$APPS") $(app_id i), $NOW_MS, $NOW_MS, 'seeded app ' || i $(range "$FROM" 0 "$APPS")
  ON CONFLICT DO NOTHING;
INSERT INTO desks (desk_id, app_id, conn_key, once_token, identity_type, service_id, order_hash, order_str,
                   persona, state, result, became_terminal_at, consumed, consumed_at, created_at, updated_at,
                   authorized_at)
  $(range "$SEQ" "$DESK_BASE" "$((DESK_BASE + DESKS))")
         $(hex "(i * 2654435761) & 4294967295" 8) || $(hex "(i * 2246822519) & 4294967295" 8)
           || $(hex "(i * 3266489917) & 4294967295" 8) || $(hex "(i * 668265263) & 4294967295" 8),
         $APP,
         'seed-' || i,
         $(uuid 2246822519 3266489917),
         '04',
         '2019120400000000000004450100',
         CASE WHEN i % 2 = 0 THEN $(random_hex 32) END,
         CASE WHEN i % 2 = 0 THEN
           'app_id=' || $APP || '&biz_content={\"out_agreement_no\":\"seed-' || i
           || '\",\"zm_service_id\":\"2019120400000000000004450100\",\"extra_param\":\"{\\\"identityType\\\":\\\"04\\\"}\"}'
           || '&charset=UTF-8&format=json&method=zhima.customer.jobworth.authentication.pre.consult'
           || '&sign_type=RSA2&timestamp=2026-12-01 00:00:00&version=1.0&sign=' || $(random_hex 172)
         END,
         CASE i % 4 WHEN 1 THEN 'pending' WHEN 2 THEN 'teacher' END,
         CASE i % 4 WHEN 2 THEN 'terminal' WHEN 3 THEN 'cancelled' ELSE 'pending' END,
         CASE i % 4 WHEN 2 THEN 'SUCCESS' WHEN 3 THEN 'USER_NOT_AUTHORIZE' END,
         CASE WHEN i % 4 >= 2 THEN $NOW_MS - 600000 END,
         CASE i % 4 WHEN 2 THEN $CONSUMED ELSE $NOT_CONSUMED END,
         CASE i % 4 WHEN 2 THEN $NOW_MS - 590000 END,
         $NOW_MS - 900000 + i % 300000,
         $NOW_MS - 600000,
         CASE WHEN i % 4 IN (1, 2) THEN $NOW_MS - 600000 END
  $(range "$FROM" "$DESK_BASE" "$((DESK_BASE + DESKS))");
INSERT INTO nonces (app_id, nonce, ts)
  $(range "$SEQ" "$NONCE_BASE" "$((NONCE_BASE + NONCES))")
         $APP,
         $(uuid 2654435761 1103515245),
         $NOW_MS - 600000 + ((i - $NONCE_BASE) * 600000) / $((NONCES > 0 ? NONCES : 1))
  $(range "$FROM" "$NONCE_BASE" "$((NONCE_BASE + NONCES))");"

START=$(date +%s.%N)
if [ -n "$DATA" ]; then
  # One transaction, written straight into the database file: no journal (in WAL mode every page
  # would be written twice, to the WAL and back), no syncs, a large page cache. A seeding cut short
  # leaves a store to throw away. The sandbox puts the file back in WAL mode when it opens it; so
  # does the last statement. Triggers bump the change counters once per row, as the sandbox's own
  # inserts do.
  sql >/dev/null <<SQL
PRAGMA busy_timeout = 10000;
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -1048576;
PRAGMA temp_store = MEMORY;
BEGIN IMMEDIATE;
$(echo "${INSERTS//ON CONFLICT DO NOTHING/}" | sed 's/^INSERT INTO apps/INSERT OR IGNORE INTO apps/')
COMMIT;
PRAGMA journal_mode = WAL;
SQL
  SQL_COUNTS="SELECT (SELECT count(*) FROM apps) || '|' || (SELECT count(*) FROM desks) || '|' || (SELECT count(*) FROM nonces)"
  COUNTS=$(sql "$SQL_COUNTS")
else
  # One transaction. The per-row triggers are skipped (session_replication_role = replica): in one
  # transaction each would update the one counter row again, a new row version every time. The
  # counters are bumped once at the end instead, which is all a reader can tell apart. The nonces'
  # indexes are built after their rows, from sorted input, under the same names; then VACUUM
  # ANALYZE leaves the tables as autovacuum would.
  sql >/dev/null <<SQL
BEGIN;
SET LOCAL session_replication_role = replica;
SET LOCAL synchronous_commit = off;
SET LOCAL maintenance_work_mem = '1GB';
ALTER TABLE nonces DROP CONSTRAINT nonces_pkey;
DROP INDEX nonces_by_ts;
$INSERTS
ALTER TABLE nonces ADD CONSTRAINT nonces_pkey PRIMARY KEY (app_id, nonce);
CREATE INDEX nonces_by_ts ON nonces (ts);
UPDATE generations SET apps = apps + 1, desks = desks + 1;
COMMIT;
VACUUM ANALYZE apps;
VACUUM ANALYZE desks;
VACUUM ANALYZE nonces;
SQL
  COUNTS=$(sql -c "SELECT (SELECT count(*) FROM apps) || '|' || (SELECT count(*) FROM desks) || '|' || (SELECT count(*) FROM nonces)")
fi
END=$(date +%s.%N)
echo "seeded $WHERE in $(awk "BEGIN { printf \"%.1f\", $END - $START }") s; apps|desks|nonces now: $COUNTS"
