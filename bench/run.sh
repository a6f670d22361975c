#!/usr/bin/env bash
# Side-by-side API benchmark, one run, same machine, same data, same wrk requests:
# AutoNexus (release build, SQLite) against the original module's Django + DRF stack
# (the peer in ../shared/peers/django-seed, gunicorn, SQLite).
#   bench/run.sh [CARS] [PEER_DIR]        defaults: 10000, ../shared/peers/django-seed
# Prints each server's table (req/s, p50/p99, errors) and our/their ratios, and writes
# them to bench/results/<time>.md. Needs: the release build, python3 (venv), wrk.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
cars="${1:-10000}"
peer_src="${2:-$root/../shared/peers/django-seed}"
[ -x "$root/target/release/autonexus" ] || { echo "build first: ./dev.sh run (or cargo leptos build --release)" >&2; exit 2; }
[ -d "$peer_src" ] || { echo "no Django peer at $peer_src" >&2; exit 2; }
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

work=$(mktemp -d)
cp -r "$peer_src" "$work/peer"   # the peer is read-only where it is kept
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { for _ in $(seq 1 150); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.2; done; echo "not up: $1" >&2; return 1; }
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; sleep 1; rm -rf "$work"' EXIT

echo "== Django peer: install and seed $cars cars"
(cd "$work/peer" && ./setup.sh "$cars" >"$work/peer-setup.log" 2>&1) || { tail -20 "$work/peer-setup.log"; exit 1; }
dport=$(free_port)
(cd "$work/peer" && exec ./serve.sh "$dport" >"$work/peer-server.log" 2>&1) &
pids+=($!)
wait_for "http://127.0.0.1:$dport/api/cars/"

echo "== AutoNexus: same sellers and cars"
oport=$(free_port)
(cd "$root" && DATABASE_URL="sqlite://$work/ours.db" MEDIA_DIR="$work/media" LEPTOS_SITE_ADDR="127.0.0.1:$oport" \
  RUST_LOG=warn LISTINGS_PER_HOUR=1000000000 exec ./target/release/autonexus >"$work/ours-server.log" 2>&1) &
ours_pid=$!
pids+=($ours_pid)
wait_for "http://127.0.0.1:$oport/healthz"
curl -fsS -o /dev/null -X POST "http://127.0.0.1:$oport/rpc/auth/register" -d 'username=bench&password=bench-password-1'
token=$(curl -fsS -X POST "http://127.0.0.1:$oport/api/auth/token/" -H 'Content-Type: application/json' \
  -d '{"username":"bench","password":"bench-password-1"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
bench_id=$(curl -fsS "http://127.0.0.1:$oport/api/auth/me/" -H "Authorization: Token $token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
python3 "$here/import_django.py" "$work/peer/db.sqlite3" "$work/ours.db" "$bench_id"

# The marketplace's own pages (the peer has no HTML front end to compare with).
echo "== wrk against AutoNexus pages"
car_id=$(curl -fsS "http://127.0.0.1:$oport/api/cars/?ordering=-created_at" | python3 -c 'import json,sys; print(json.load(sys.stdin)["results"][0]["id"])')
deep=$(( cars / 2 / 24 ))
pages=("/cars" "/cars?page=$deep" "/cars?q=toyota&min_price=5000&max_price=20000&min_year=2012&sort=price_asc" "/cars/$car_id")
: >"$work/pages.txt"
for page in "${pages[@]}"; do
  wrk -t2 -c32 -d10s --timeout 10s -H 'Accept: text/html' -H 'Accept-Encoding: br' -s "$work/peer/bench/report.lua" \
    "http://127.0.0.1:$oport$page" | grep -m1 '^WRK_RESULT' | while read -r result; do printf '%s %s\n' "$page" "$result"; done >>"$work/pages.txt"
  sleep 1
done
# The peer's own bench.sh drives both servers with the same wrk scripts.
echo "== wrk against the Django peer"
(cd "$work/peer" && ./bench.sh "$dport") >"$work/django.txt" 2>"$work/django.err"
echo "== wrk against AutoNexus"
(cd "$work/peer" && TOKEN="$token" BENCH_CLEANUP=0 ./bench.sh "$oport") >"$work/ours.txt" 2>"$work/ours.err"
# Like the peer's cleanup: the cars the POST run created go again (reruns see the same data).
python3 -c 'import sqlite3, sys; db = sqlite3.connect(sys.argv[1], timeout=30); n = db.execute("DELETE FROM cars WHERE description LIKE ?", ("wrk-bench listing%",)).rowcount; db.commit(); print(f"cleanup: deleted {n} bench cars")' "$work/ours.db" >&2
ours_rss=$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$ours_pid/status")
django_rss=$(for p in $(pgrep -f "gunicorn.*127.0.0.1:$dport"); do awk '/VmHWM/ {print $2}' "/proc/$p/status"; done | awk '{s += $1} END {printf "%.0f", s / 1024}')

mkdir -p "$here/results"
report="$here/results/$(date -u +%Y%m%dT%H%M%SZ)-${cars}.md"
python3 - "$work/django.txt" "$work/ours.txt" "$cars" "$ours_rss" "$django_rss" "$work/pages.txt" <<'PY' | tee "$report"
import re, sys
django, ours, cars, ours_rss, django_rss = sys.argv[1:6]

def table(path):
    rows = []
    for line in open(path):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 7 and cells[0] and cells[0][0] in "GP" and cells[1][0].isdigit():
            rows.append(cells)
    return rows

d, o = table(django), table(ours)
print(f"## AutoNexus vs the Django + DRF peer: {int(cars):,} cars, SQLite, same machine, same run\n")
print("wrk: 2 threads, 32 connections, 10 s per request (the peer's bench.sh for both).\n")
print("| request | Django req/s | AutoNexus req/s | ratio | Django p99 ms | AutoNexus p99 ms | errors (D/A) |")
print("|---|---:|---:|---:|---:|---:|---:|")
for dr, orow in zip(d, o):
    name = re.sub(r"/api/cars/\d+/", "/api/cars/{id}/", dr[0])
    ratio = float(orow[1]) / max(float(dr[1]), 0.001)
    errors = f"{int(dr[5]) + int(dr[6])}/{int(orow[5]) + int(orow[6])}"
    print(f"| {name} | {dr[1]} | {orow[1]} | {ratio:.1f}x | {dr[3]} | {orow[3]} | {errors} |")
print(f"\nPeak RSS: AutoNexus {ours_rss} MB (one process); Django {django_rss} MB (all gunicorn processes).")
pages = sys.argv[6]
print("\n### AutoNexus HTML pages (server-rendered, brotli), same run\n")
print("| page | req/s | p50 ms | p99 ms | errors |")
print("|---|---:|---:|---:|---:|")
for line in open(pages):
    page, rest = line.split(" WRK_RESULT ")
    kv = dict(re.findall(r"(\w+)=([\d.]+)", rest))
    errors = sum(int(kv[k]) for k in ("non2xx", "connect", "read", "write", "timeout"))
    print(f"| `{page}` | {float(kv['rps']):.1f} | {float(kv['p50_ms']):.1f} | {float(kv['p99_ms']):.1f} | {errors} |")
PY
echo "written: $report"
