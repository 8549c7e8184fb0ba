#!/usr/bin/env bash
# Proves, on this machine, what docs/deployment.md promises of a primary with a synchronous
# standby: catalogue reads on the replica, falling back to the primary when it stops, and a
# failover under order load that loses and duplicates nothing.
#
#   bash scripts/replication-check.sh        (from the project root; PostgreSQL's server
#                                             binaries and python3 installed; root or any user)
#
# It makes two PostgreSQL servers of its own under a temp folder (ports 55432 and 55433, or
# SHANHE_REPL_PORTS="p1 p2"), two shanhe instances on them (ports 18091 and 18092), runs the
# checks, prints the counts, and removes everything it made, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

read -r P1 P2 <<<"${SHANHE_REPL_PORTS:-55432 55433}"
HA=18091
HB=18092
BIN=${SHANHE_BIN:-target/debug/shanhe}
CLIENT="python3 scripts/replication_client.py"
PGBIN=$(pg_config --bindir 2>/dev/null || true)
if [ ! -x "$PGBIN/initdb" ]; then
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
fi
[ -x "$PGBIN/initdb" ] || { echo "PostgreSQL's server binaries (initdb, pg_ctl) are not installed"; exit 1; }
[ -x "$BIN" ] || cargo build --locked --bin shanhe

WORK=$(mktemp -d /tmp/shanhe-replication.XXXXXX)
chmod 755 "$WORK"
PIDS=()
# initdb refuses root: run the servers as postgres when we are root
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [ "$(id -u)" -eq 0 ]; then chown postgres "$WORK"; fi

cleanup() {
  status=$?
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for dir in primary standby; do
    [ -f "$WORK/$dir/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$WORK/$dir" -m immediate stop >/dev/null 2>&1 || true
  done
  if [ "$status" -ne 0 ]; then
    echo "== FAILED; the last lines of each log:"
    for log in "$WORK"/*.log; do echo "-- $log"; tail -n 15 "$log"; done
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT

pg_url() { echo "postgres://postgres@127.0.0.1:$1/shanhe"; }
psql_on() { psql -X -q -t -A -h 127.0.0.1 -p "$1" -U postgres -d "${2:-shanhe}" -c "$3"; }
wait_for() { # seconds, description, command…
  local limit=$1 what=$2; shift 2
  for _ in $(seq 1 $((limit * 10))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "gave up waiting for $what"; return 1
}
sync_standby() { [ "$(psql_on "$P1" postgres "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'")" = "sync" ]; }
replica_usable() { $CLIENT ready "http://127.0.0.1:$1" | grep -q '"usable": true'; }
replica_down() { $CLIENT ready "http://127.0.0.1:$1" | grep -q '"usable": false'; }

echo "== a primary and a synchronous standby under $WORK"
as_pg "$PGBIN/initdb" -D "$WORK/primary" -U postgres --auth=trust --encoding=UTF8 --locale=C >"$WORK/initdb.log"
cat >>"$WORK/primary/postgresql.conf" <<EOF
port = $P1
listen_addresses = '127.0.0.1'
unix_socket_directories = '$WORK'
wal_level = replica
max_wal_senders = 4
shared_buffers = 32MB
EOF
as_pg "$PGBIN/pg_ctl" -D "$WORK/primary" -l "$WORK/primary.log" -w start >/dev/null
psql_on "$P1" postgres "CREATE DATABASE shanhe" >/dev/null
as_pg "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$P1" -U postgres -D "$WORK/standby" -R -X stream -c fast
# -R wrote primary_conninfo; the standby names itself so the primary waits for it, and
# waits for no one once it is promoted
cat >>"$WORK/standby/postgresql.auto.conf" <<EOF
primary_conninfo = 'host=127.0.0.1 port=$P1 user=postgres application_name=standby1'
port = $P2
synchronous_standby_names = ''
EOF
as_pg "$PGBIN/pg_ctl" -D "$WORK/standby" -l "$WORK/standby.log" -w start >/dev/null
# synchronous from now on: a commit on the primary returns once the standby has it on disk
psql_on "$P1" postgres "ALTER SYSTEM SET synchronous_standby_names = 'standby1'" >/dev/null
psql_on "$P1" postgres "SELECT pg_reload_conf()" >/dev/null
wait_for 30 "the standby to stream synchronously" sync_standby
echo "standby streaming, sync_state = sync"

echo "== migrations refuse a standby"
if "$BIN" migrate --database-url "$(pg_url "$P2")" >"$WORK/migrate-standby.log" 2>&1; then
  echo "migrate ran against the standby"; exit 1
fi
grep -q "standby" "$WORK/migrate-standby.log"
echo "refused: $(grep -o 'DATABASE_URL reaches a standby[^;]*' "$WORK/migrate-standby.log" | head -1)"

echo "== two shanhe instances: multi-host DATABASE_URL, the standby as read replica"
MULTI="postgres://postgres@127.0.0.1:$P1,127.0.0.1:$P2/shanhe?target_session_attrs=read-write"
"$BIN" demo --database-url "$(pg_url "$P1")" >"$WORK/demo.log" 2>&1
for port in $HA $HB; do
  DATABASE_URL="$MULTI" SHANHE_REPLICA_URLS="$(pg_url "$P2")" SHANHE_BIND="127.0.0.1:$port" \
    SHANHE_JWT_SECRET=replication-check-secret-0123456789abcdef \
    SHANHE_SESSION_SECRET=replication-check-session-0123456789abcdef0123456789 \
    SHANHE_DB_CONNECT_TIMEOUT=2s SHANHE_DB_POOL_SIZE=6 RUST_LOG=warn \
    "$BIN" serve >"$WORK/shanhe-$port.log" 2>&1 &
  PIDS+=($!)
done
for port in $HA $HB; do
  wait_for 60 "instance $port" curl -sf "http://127.0.0.1:$port/health/ready"
  wait_for 10 "instance $port to use the replica" replica_usable "$port"
done

echo "== (a) catalogue reads land on the replica; a product published on the primary shows there"
before=$($CLIENT metric "http://127.0.0.1:$HA" db_reads_total 'pool="replica"')
$CLIENT reads "http://127.0.0.1:$HA" 40
after=$($CLIENT metric "http://127.0.0.1:$HA" db_reads_total 'pool="replica"')
echo "reads on the replica: $before → $after"
[ "$after" -ge $((before + 40)) ]
seen_after=$($CLIENT publish "http://127.0.0.1:$HB")
echo "published through instance B, visible in its replica-read catalogue after ${seen_after} s (bound 5 s)"
python3 -c "import sys; sys.exit(0 if float('$seen_after') < 5 else 1)"

echo "== (b) the replica stops: reads fall back to the primary, clients see no error"
as_pg "$PGBIN/pg_ctl" -D "$WORK/standby" -m fast -w stop >/dev/null
fallback_before=$($CLIENT metric "http://127.0.0.1:$HA" db_reads_total 'pool="primary"')
$CLIENT reads "http://127.0.0.1:$HA" 30
$CLIENT reads "http://127.0.0.1:$HB" 30
wait_for 5 "instance A to mark the replica down" replica_down "$HA"
echo "instance A's replicas: $($CLIENT ready "http://127.0.0.1:$HA")"
fallback_after=$($CLIENT metric "http://127.0.0.1:$HA" db_reads_total 'pool="primary"')
echo "reads on the primary: $fallback_before → $fallback_after"
[ "$fallback_after" -ge $((fallback_before + 20)) ]
as_pg "$PGBIN/pg_ctl" -D "$WORK/standby" -l "$WORK/standby.log" -w start >/dev/null
wait_for 30 "the standby to stream synchronously again" sync_standby
wait_for 10 "instance A to use the replica again" replica_usable "$HA"
echo "replica back in use"

echo "== (c) order load on both instances; the primary is killed (SIGKILL) and the standby promoted"
LOAD_SECONDS=16
$CLIENT load "$WORK/acked.txt" "$LOAD_SECONDS" "http://127.0.0.1:$HA" "http://127.0.0.1:$HB" \
  >"$WORK/load.json" 2>"$WORK/load.log" &
LOAD=$!
sleep 5
PM=$(head -1 "$WORK/primary/postmaster.pid")
KIDS=$(pgrep -P "$PM" | tr '\n' ' ')
# shellcheck disable=SC2086
kill -9 "$PM" $KIDS
echo "killed the primary (postmaster $PM and its $(echo $KIDS | wc -w) processes) at $(date +%T)"
sleep 1
as_pg "$PGBIN/pg_ctl" -D "$WORK/standby" -w promote >/dev/null
PROMOTED=$(date +%s.%N)
echo "promoted the standby at $(date +%T)"
wait "$LOAD"
cat "$WORK/load.log" >&2
echo "clients saw: $(cat "$WORK/load.json")"

echo "== counting in the promoted database"
psql -X -q -t -A -h 127.0.0.1 -p "$P2" -U postgres -d shanhe >"$WORK/counts.txt" <<EOF
CREATE TEMP TABLE acked (id text, at float8);
\copy acked FROM '$WORK/acked.txt'
SELECT 'acknowledged', count(*) FROM acked;
SELECT 'acknowledged_after_promotion', count(*) FROM acked WHERE at > $PROMOTED;
SELECT 'found', count(*) FROM acked a WHERE EXISTS (SELECT 1 FROM orders o WHERE o.id = a.id);
SELECT 'lost', count(*) FROM acked a WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = a.id);
SELECT 'duplicated', (SELECT count(*) FROM orders o JOIN users u ON u.id = o.buyer_id
                      WHERE u.email = 'shopper@demo.shanhe.cn')
                     - (SELECT count(DISTINCT id) FROM acked);
SELECT 'oversold', count(*) FROM stock WHERE reserved > on_hand OR reserved < 0;
SELECT 'reserved_mismatch', count(*) FROM stock s
  WHERE s.reserved <> (SELECT coalesce(sum(i.quantity), 0) FROM order_items i
                       JOIN orders o ON o.id = i.order_id
                       WHERE i.sku_id = s.sku_id AND i.warehouse_id = s.warehouse_id
                         AND o.status NOT IN ('cancelled', 'shipped', 'delivered', 'completed'));
EOF
tr '|' ' ' <"$WORK/counts.txt"
count() { awk -v k="$1" '$1 == k {print $2}' FS='|' "$WORK/counts.txt"; }
fivexx=$(python3 -c "import json; s=json.load(open('$WORK/load.json'))['statuses']; print(sum(v for k, v in s.items() if k.startswith('5') and k != '503'))")
other=$(python3 -c "import json; s=json.load(open('$WORK/load.json'))['statuses']; print(sum(v for k, v in s.items() if k not in ('201', '409', '503')))")
unresolved=$(python3 -c "import json; print(json.load(open('$WORK/load.json'))['unresolved'])")
echo "5xx other than 503: $fivexx; answers other than 201/409/503: $other; keys left unresolved: $unresolved"
[ "$(count acknowledged)" -gt 0 ]
[ "$(count acknowledged_after_promotion)" -gt 0 ]
[ "$(count lost)" -eq 0 ]
[ "$(count duplicated)" -eq 0 ]
[ "$(count oversold)" -eq 0 ]
[ "$(count reserved_mismatch)" -eq 0 ]
[ "$fivexx" -eq 0 ]
[ "$other" -eq 0 ]
[ "$unresolved" -eq 0 ]
echo "== replication check passed"
