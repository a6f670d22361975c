#!/usr/bin/env bash
# How AutoNexus scales with the number of listings, on SQLite: for each size N it seeds a
# fresh database (bench/seed.py, bulk inserts in one transaction), measures the cold start
# of the release server on it, then drives each request with wrk (2 threads, 32 connections,
# DURATION seconds) and records req/s, p50/p99 and the server's peak RSS.
#   bench/scale.sh [N ...]          default: 10000 100000 1000000 (DURATION=10)
# Writes bench/results/scale-<time>.md. Needs the release build, python3 and wrk.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
duration="${DURATION:-10}"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000 1000000)
[ -x "$root/target/release/autonexus" ] || { echo "build first: ./dev.sh run (or cargo leptos build --release)" >&2; exit 2; }
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"

start_server() {
  (cd "$root" && DATABASE_URL="sqlite://$1" MEDIA_DIR="$work/media" LEPTOS_SITE_ADDR="127.0.0.1:$port" \
    RUST_LOG=warn,autonexus::cars::db::index=info exec ./target/release/autonexus >>"$work/server.log" 2>&1) &
  pid=$!
  for _ in $(seq 1 500); do curl -fsS -o /dev/null "$base/healthz" 2>/dev/null && return 0; sleep 0.01; done
  echo "server did not start" >&2; tail "$work/server.log" >&2; exit 1
}
stop_server() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=; }

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="$here/results/scale-$stamp.md"
{
  echo "# Scaling with the number of listings (SQLite, release build, $(nproc) cores, $(date -u +%Y-%m-%d))"
  echo
  echo "wrk: 2 threads, 32 connections, ${duration} s per request, loopback; the server and wrk share the machine."
  echo
  echo "| cars | request | req/s | p50 ms | p99 ms | errors |"
  echo "|---:|---|---:|---:|---:|---:|"
} >"$out"
summary=()
# One table row from wrk's RESULT line: record N REQUEST LINE.
record() {
  python3 - "$@" >>"$out" <<'PY'
import re, sys
n, path, line = sys.argv[1:]
kv = dict(re.findall(r"(\w+)=([\d.]+)", line))
errors = int(kv["non2xx"]) + int(kv["socket_errors"])
print(f"| {int(n):,} | `{path}` | {float(kv['rps']):,.0f} | {float(kv['p50_ms']):.1f} | {float(kv['p99_ms']):.1f} | {errors} |")
PY
}
for n in "${sizes[@]}"; do
  db="$work/scale-$n.db"
  start_server "$db"; stop_server   # creates and migrates the schema
  seeded=$(python3 "$here/seed.py" "$db" "$n")
  # Cold start: process launch to the first answer from /healthz, on the seeded database.
  t0=$(date +%s%N); start_server "$db"; t1=$(date +%s%N)
  startup_ms=$(( (t1 - t0) / 1000000 ))
  # The search index is read from the database in the background; searches are measured
  # once it is built (the database answers them until then).
  built=$(grep -c "search index built" "$work/server.log" || true)
  until [ "$(grep -c "search index built" "$work/server.log" || true)" -gt "$built" ]; do sleep 0.05; done
  t2=$(date +%s%N)
  index_ms=$(( (t2 - t0) / 1000000 ))
  car=$(curl -fsS "$base/api/cars/?page_size=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["results"][0]["id"])')
  deep=$(( n * 9 / 10 / 24 / 2 ))
  (( deep <= 416 )) || deep=416   # pages stop at 10,000 matches ("More than 10,000 cars")
  requests=(
    "/cars"
    "/cars?page=$deep"
    "/cars?q=toyota&min_price=5000&max_price=20000&min_year=2012"
    "/cars/$car"
    "/api/cars/"
    "/api/cars/?search=toyota"
    "/api/cars/?min_price=5000&max_price=20000&min_year=2012&ordering=price"
    # Issue 25's budget: three filters, a 100 km radius, and every facet count (the page
    # always shows them; the API has them on their own). 4887398 is Chicago.
    "/cars?body_type=suv&transmission=automatic&max_price=30000&near=4887398&radius_km=100"
    "/api/facets/?body_type=suv&transmission=automatic&max_price=30000&near=4887398&radius_km=100"
    "/api/facets/"
  )
  for path in "${requests[@]}"; do
    line=$(wrk -t2 -c32 -d"${duration}s" --timeout 10s -H 'Accept-Encoding: gzip, deflate, br, zstd' -s "$here/report.lua" "$base$path" | grep '^RESULT')
    record "$n" "$path" "$line"
  done
  # A different search on every request: the answer is computed, not taken from the cache.
  line=$(REPORT_LUA="$here/report.lua" wrk -t2 -c32 -d"${duration}s" --timeout 10s -s "$here/varied.lua" "$base/" | grep '^RESULT')
  record "$n" "/api/cars/?search=<word>&min_price=<x>&max_price=<x+15000>&ordering=price, a new one each time" "$line"
  # The same on the marketplace page, which counts every facet for each search too.
  line=$(VARIED=page REPORT_LUA="$here/report.lua" wrk -t2 -c32 -d"${duration}s" --timeout 10s -s "$here/varied.lua" "$base/" | grep '^RESULT')
  record "$n" "/cars?q=<word>&min_price=<x>&max_price=<x+15000>&sort=price_asc (with facet counts), a new one each time" "$line"
  rss=$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status")
  stop_server
  summary+=("| ${n} | ${seeded#seeded } | ${startup_ms} ms | ${index_ms} ms | ${rss} MB | $(du -m "$db" | cut -f1) MB |")
done
{
  echo
  echo "| cars | seed | cold start | search index built | peak RSS under load | database size |"
  echo "|---:|---|---:|---:|---:|---:|"
  printf '%s\n' "${summary[@]}"
} >>"$out"
cat "$out"
