#!/usr/bin/env bash
# Lighthouse (mobile preset, simulated throttling) on the marketplace, a car's details page,
# a details page with a 12-photo gallery and the sell page (signed in), against the release server with demo data, in Debian's
# Chromium. Prints the four category scores per page and writes bench/results/lighthouse-<time>.md.
#   bench/lighthouse.sh
# Needs: the release build (./dev.sh run or cargo leptos build --release), Node.js, chromium.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
LIGHTHOUSE_VERSION=12.8.2
[ -x "$root/target/release/autonexus" ] || { echo "build first: ./dev.sh run (or cargo leptos build --release)" >&2; exit 2; }
command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
tools="$root/target/lighthouse"
if [ ! -x "$tools/node_modules/.bin/lighthouse" ]; then
  echo "== installing lighthouse $LIGHTHOUSE_VERSION (npm)"
  mkdir -p "$tools"
  npm install --silent --no-audit --no-fund --prefix "$tools" "lighthouse@$LIGHTHOUSE_VERSION" >/dev/null
fi

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
(cd "$root" && DATABASE_URL="sqlite://$work/lh.db" MEDIA_DIR="$work/media" LEPTOS_SITE_ADDR="127.0.0.1:$port" \
  DEMO_DATA=1 RUST_LOG=warn exec ./target/release/autonexus >"$work/server.log" 2>&1) &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 150); do curl -fsS -o /dev/null "$base/healthz" 2>/dev/null && break; sleep 0.2; done

# The sell page is for signed-in sellers: Lighthouse sends a demo seller's session cookie.
curl -fsS -o /dev/null -c "$work/cookies" -X POST "$base/rpc/auth/login" -d 'username=alice&password=autonexus-demo'
cookie=$(awk '$6 ~ /autonexus_session/ {print $6 "=" $7}' "$work/cookies")
car=$(curl -fsS "$base/api/cars/?page_size=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["results"][0]["id"])')
# A listing with a 12-photo gallery (issue 24's budget page): a demo photo, sent 12 times.
token=$(curl -fsS -H 'Content-Type: application/json' -d '{"username": "alice", "password": "autonexus-demo"}' \
  "$base/api/auth/token/" | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
curl -fsS -o "$work/photo.jpg" "$(curl -fsS "$base/api/cars/$car/" | python3 -c 'import json,sys; print(json.load(sys.stdin)["photos"][0]["url"])')"
gallery=$(curl -fsS -H "Authorization: Token $token" -H 'Content-Type: application/json' \
  -d '{"make": "Volvo", "model": "XC60", "year": 2019, "price": "24500", "mileage": 60000, "condition": "used", "description": "Twelve photos."}' \
  "$base/api/cars/" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
files=()
for _ in $(seq 1 12); do files+=(-F "photos=@$work/photo.jpg;type=image/jpeg"); done
curl -fsS -o /dev/null -H "Authorization: Token $token" "${files[@]}" "$base/api/cars/$gallery/photos/"

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="$here/results/lighthouse-$stamp.md"
{
  echo "# Lighthouse $LIGHTHOUSE_VERSION, mobile preset, $(date -u +%Y-%m-%d) ($(nproc) cores)"
  echo
  echo "| page | performance | accessibility | best practices | SEO | FCP | LCP | TBT | CLS |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
} >"$out"
for page in "/cars" "/cars/$car" "/cars/$gallery" "/sell"; do
  headers='{}'
  [ "$page" = /sell ] && headers="{\"Cookie\": \"$cookie\"}"
  "$tools/node_modules/.bin/lighthouse" "$base$page" --quiet --output=json --output-path="$work/report.json" \
    --chrome-path="$(command -v chromium)" --chrome-flags="--headless=new --no-sandbox --disable-gpu" \
    --extra-headers="$headers"
  python3 - "$work/report.json" "$page" >>"$out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
if r["finalDisplayedUrl"].rstrip("/").split("?")[0].endswith("/login"):
    sys.exit(f"{sys.argv[2]} was redirected to the login page")
s = {k: round(v["score"] * 100) for k, v in r["categories"].items()}
a = r["audits"]
print(f"| {sys.argv[2]} | {s['performance']} | {s['accessibility']} | {s['best-practices']} | {s['seo']} | "
      f"{a['first-contentful-paint']['displayValue']} | {a['largest-contentful-paint']['displayValue']} | "
      f"{a['total-blocking-time']['displayValue']} | {a['cumulative-layout-shift']['displayValue']} |")
PY
done
cat "$out"
