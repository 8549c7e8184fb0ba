#!/usr/bin/env bash
# SIGKILL under order load on SQLite, where writes share COMMITs (src/db/group_commit.rs):
# the server is killed twice mid-load and started again on the same file while 8 clients keep
# ordering with Idempotency-Keys (retrying a lost answer with the same key). Then every
# acknowledged order must be in the file, none twice, and stock must add up.
# Run from the project root: bash scripts/sqlite-crash-check.sh   (about 15 s after the build;
# SHANHE_BIN picks another build, e.g. target/release/shanhe)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${SHANHE_BIN:-}" ]; then
  cargo build --locked -q
fi
BIN=$(realpath "${SHANHE_BIN:-target/debug/shanhe}")
WORK=$(mktemp -d)
PORT=${PORT:-18911}
BASE="http://127.0.0.1:$PORT"
SERVER=""
cleanup() { [ -n "$SERVER" ] && kill -9 "$SERVER" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
export DATABASE_URL="sqlite://$WORK/shanhe.db" SHANHE_BIND="127.0.0.1:$PORT" RUST_LOG=warn \
  SHANHE_JWT_SECRET=crash-check-secret-0123456789abcdef0123456789
"$BIN" demo >/dev/null

start() {
  "$BIN" serve >>"$WORK/serve.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 100); do
    curl -fs "$BASE/health/ready" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "the server did not start"; cat "$WORK/serve.log"; exit 1
}

start
python3 scripts/replication_client.py load "$WORK/acked.txt" 12 "$BASE" >"$WORK/load.json" 2>"$WORK/load.log" &
LOAD=$!
# the demo's stock lasts a few seconds of this load: both kills fall while orders are placed
for _ in 1 2; do
  sleep 1
  kill -9 "$SERVER"; wait "$SERVER" 2>/dev/null || true
  echo "killed the server (SIGKILL) at $(date +%T.%N | cut -c1-12)"
  KILLED=${KILLED:-$(date +%s.%N)}
  start
done
wait "$LOAD"
cat "$WORK/load.log" >&2
echo "clients saw: $(cat "$WORK/load.json")"
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""

python3 - "$WORK/shanhe.db" "$WORK/acked.txt" "$WORK/load.json" "$KILLED" <<'EOF'
import json, sqlite3, sys
db, acked_file, load_file, killed = sys.argv[1:]
rows = [line.split("\t") for line in open(acked_file) if line.strip()]
acked = [r[0] for r in rows]
load = json.load(open(load_file))
c = sqlite3.connect(db)
c.execute("CREATE TEMP TABLE acked (id TEXT)")
c.executemany("INSERT INTO acked VALUES (?)", [(a,) for a in acked])
one = lambda sql: c.execute(sql).fetchone()[0]
counts = {
    "acknowledged": len(acked),
    "acknowledged_after_first_kill": sum(1 for r in rows if float(r[1]) > float(killed)),
    "lost": one("SELECT count(*) FROM acked a WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = a.id)"),
    "duplicated": one("""SELECT (SELECT count(*) FROM orders o JOIN users u ON u.id = o.buyer_id
                                 WHERE u.email = 'shopper@demo.shanhe.cn')
                                - (SELECT count(DISTINCT id) FROM acked)"""),
    "oversold": one("SELECT count(*) FROM stock WHERE reserved > on_hand OR reserved < 0"),
    "reserved_mismatch": one("""SELECT count(*) FROM stock s WHERE s.reserved <>
        (SELECT coalesce(sum(i.quantity), 0) FROM order_items i JOIN orders o ON o.id = i.order_id
         WHERE i.sku_id = s.sku_id AND i.warehouse_id = s.warehouse_id
           AND o.status NOT IN ('cancelled', 'shipped', 'delivered', 'completed'))"""),
    "other_answers": sum(v for k, v in load["statuses"].items() if k not in ("0", "201", "409", "503")),
    "unresolved": load["unresolved"],
}
print(" ".join(f"{k} {v}" for k, v in counts.items()))
bad = [k for k in ("lost", "duplicated", "oversold", "reserved_mismatch", "other_answers", "unresolved") if counts[k]]
if counts["acknowledged_after_first_kill"] == 0 or bad:
    sys.exit(f"crash check failed: {bad or 'nothing acknowledged after the first kill'}")
print("== SQLite crash check passed")
EOF
