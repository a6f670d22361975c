#!/usr/bin/env bash
# Photo upload budgets (issue 24): 10 photos of 4000 x 3000 in one request, and 4 sellers
# uploading 10 each at once (peak RSS, other requests' latency). Release server, demo data.
#   bench/photos.sh
# Needs: the release build (cargo leptos build --release), python3 (a venv with Pillow).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
[ -x "$root/target/release/autonexus" ] || { echo "build first: cargo leptos build --release" >&2; exit 2; }
venv="$root/target/bench-photos-venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q pillow==11.3.0
fi
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
(cd "$root" && DATABASE_URL="sqlite://$work/photos.db" MEDIA_DIR="$work/media" LEPTOS_SITE_ADDR="127.0.0.1:$port" \
  DEMO_DATA=1 PHOTOS_PER_HOUR=100000 LISTINGS_PER_HOUR=100000 RUST_LOG=warn \
  exec ./target/release/autonexus >"$work/server.log" 2>&1) &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 150); do curl -fsS -o /dev/null "$base/healthz" 2>/dev/null && break; sleep 0.2; done
server_pid=$pid  # the subshell exec-ed the server: same pid
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="$here/results/photos-$stamp.md"
{
  echo "# Photo uploads, release build, $(date -u +%Y-%m-%d)"
  echo
  BASE="$base" SERVER_PID="$server_pid" PHOTO_CACHE="$root/target/bench-photos" "$venv/bin/python" "$here/photos.py"
} | tee "$out"
