#!/usr/bin/env bash
# Load test: 200 browsing clients and 20 sellers at once against the release server
# on loopback (wrk), then checks that every acknowledged listing was stored. Halfway through,
# `autonexus backup` copies the marketplace while the sellers keep writing; afterwards a second
# server starts on the copy and every listing acknowledged before the backup began is checked.
#   end2end/load/load-test.sh [SECONDS]      (default 60; run from anywhere)
# Exits non-zero on any failed request, socket error or lost write.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
seconds="${1:-60}"
command -v wrk >/dev/null || { apt-get update && apt-get install -y wrk; }
[ -x "$root/target/release/autonexus" ] || { echo "build the release server first: cargo leptos build --release" >&2; exit 2; }

dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
(cd "$root" && DATABASE_URL="sqlite://$dir/load.db" MEDIA_DIR="$dir/media" LEPTOS_SITE_ADDR="127.0.0.1:$port" \
  DEMO_DATA=1 RUST_LOG=warn REGISTRATIONS_PER_HOUR=1000 LISTINGS_PER_HOUR=10000000 \
  exec ./target/release/autonexus >"$dir/server.log" 2>&1) &
pid=$!
# The database grows by thousands of listings a run: remove it with the server.
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do curl -fsS -o /dev/null "$base/healthz" 2>/dev/null && break; sleep 0.2; done

: >"$dir/tokens"
for i in $(seq 1 20); do
  curl -fsS -o /dev/null -X POST "$base/rpc/auth/register" -d "username=seller$i&password=load-test-password"
  curl -fsS -X POST "$base/api/auth/token/" -H 'Content-Type: application/json' \
    -d "{\"username\":\"seller$i\",\"password\":\"load-test-password\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])' >>"$dir/tokens"
done
# Counted in the database itself: the API's count stops at 10,000, and a run adds more than that.
count() {
  python3 -c 'import sqlite3, sys; print(sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True).execute("SELECT COUNT(*) FROM cars").fetchone()[0])' "$dir/load.db"
}
before=$(count)

echo "load: 200 browsing + 20 selling connections for ${seconds}s against $base ($before cars to start)"
wrk -t1 -c200 -d"${seconds}s" --timeout 10s -s "$here/browse.lua" "$base" >"$dir/browse.txt" &
browse=$!
(
  sleep $((seconds / 2))
  # Only whole lines: the ids acknowledged before the backup begins.
  python3 -c 'import sys; text = open(sys.argv[1]).read(); print("\n".join(text.split("\n")[:-1]))' "$dir/ids" >"$dir/ids-before-backup" 2>/dev/null || : >"$dir/ids-before-backup"
  cd "$root" && DATABASE_URL="sqlite://$dir/load.db" MEDIA_DIR="$dir/media" RUST_LOG=warn \
    ./target/release/autonexus backup "$dir/backup" >"$dir/backup.log" 2>&1
) &
backup=$!
TOKENS_FILE="$dir/tokens" IDS_FILE="$dir/ids" wrk -t1 -c20 -d"${seconds}s" --timeout 10s -s "$here/sell.lua" "$base" >"$dir/sell.txt"
wait $browse
backup_status=0
wait $backup || backup_status=$?

after=$(count)
b=$(grep '^RESULT browse' "$dir/browse.txt")
s=$(grep '^RESULT sell' "$dir/sell.txt")
field() { echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1==k {print $2}'; }
created=$(field "$s" created)
stored=$((after - before))
peak_rss=$(awk '/VmHWM/ {printf "%.0f MB", $2 / 1024}' "/proc/$pid/status" 2>/dev/null || echo "?")
# Every acknowledged id must be in the database (read while the server still runs: WAL allows
# it), and no two answers may name the same listing (listings share commits under load).
read -r missing repeated < <(python3 - "$dir/load.db" "$dir/ids" <<'PY'
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
stored = {row[0] for row in db.execute("SELECT id FROM cars")}
ids = [line.strip() for line in open(sys.argv[2]) if line.strip()]
print(sum(1 for i in ids if not i.isdigit() or int(i) not in stored), len(ids) - len(set(ids)))
PY
)
echo "$b"
echo "$s"
echo "listings acknowledged (201): $created; new listings stored: $stored; acknowledged but missing: $missing; ids answered twice: $repeated; server peak RSS: $peak_rss"

status=0
for r in "$b" "$s"; do
  if [ "$(field "$r" failures)" != 0 ] || [ "$(field "$r" socket_errors)" != 0 ]; then
    echo "FAIL: errors under load: $r" >&2; status=1
  fi
done
if [ "$missing" != 0 ]; then
  echo "FAIL: $missing acknowledged listings were not stored" >&2; status=1
fi
if [ "$repeated" != 0 ]; then
  echo "FAIL: $repeated answers named a listing already answered for" >&2; status=1
fi
# wrk stops with requests in flight: those may be stored without an answer, at most one per connection.
if [ "$stored" -lt "$created" ] || [ "$stored" -gt $((created + 20)) ]; then
  echo "FAIL: $created listings acknowledged but $stored stored" >&2; status=1
fi
if grep -qi "database is locked" "$dir/server.log"; then
  echo "FAIL: 'database is locked' in the server log" >&2; status=1
fi
# The backup: made under load, restored into a server of its own.
if [ "$backup_status" != 0 ]; then
  echo "FAIL: the backup during the load failed: $(cat "$dir/backup.log")" >&2; status=1
else
  cat "$dir/backup.log"
  rport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  (cd "$root" && DATABASE_URL="sqlite://$dir/backup/autonexus.db" MEDIA_DIR="$dir/backup/media" \
    LEPTOS_SITE_ADDR="127.0.0.1:$rport" RUST_LOG=warn exec ./target/release/autonexus >"$dir/restored.log" 2>&1) &
  rpid=$!
  for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$rport/healthz" 2>/dev/null && break; sleep 0.2; done
  # Every id acknowledged before the backup is in the copy; the restored server answers for a
  # sample of them and serves every photo the copy's listings name.
  if ! python3 - "$dir/backup/autonexus.db" "$dir/ids-before-backup" "http://127.0.0.1:$rport" <<'PY'
import http.client, sqlite3, sys, urllib.parse
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok", "the copy is damaged"
stored = {row[0] for row in db.execute("SELECT id FROM cars")}
ids = [int(line) for line in open(sys.argv[2]) if line.strip().isdigit()]
missing = [i for i in ids if i not in stored]
photos = [row[0] for row in db.execute("SELECT photo FROM cars WHERE photo IS NOT NULL")]
url = urllib.parse.urlsplit(sys.argv[3])
conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
def status(path):
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    return response.status
sample = ids[:: max(1, len(ids) // 200)]
unanswered = [i for i in sample if status(f"/api/cars/{i}/") != 200]
unserved = [p for p in photos if status(f"/media/{p}") != 200]
print(f"backup under load: {len(ids)} listings acknowledged before it began, {len(stored)} in the copy, "
      f"{len(missing)} missing; restored server: {len(sample) - len(unanswered)}/{len(sample)} sampled listings "
      f"and {len(photos) - len(unserved)}/{len(photos)} photos served")
sys.exit(1 if missing or unanswered or unserved or not photos else 0)
PY
  then
    echo "FAIL: the backup taken under load does not restore every acknowledged listing and photo" >&2; status=1
  fi
  kill "$rpid" 2>/dev/null || true
  wait "$rpid" 2>/dev/null || true
fi
[ "$status" = 0 ] && echo "load test passed: zero errors, zero lost writes"
exit "$status"
