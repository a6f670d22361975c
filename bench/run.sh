#!/usr/bin/env bash
# Side-by-side API benchmark, one run, same machine, same data, same wrk requests:
# AutoNexus (release build, SQLite) against the original module's Django + DRF stack
# (the peer in ../shared/peers/django-seed, gunicorn, SQLite), at each data size in turn.
#   bench/run.sh [N ...]          default: 10000 100000 1000000
#   PEER_DIR=...                  default: ../shared/peers/django-seed
# For each size: both servers' tables (req/s, p50/p99, errors), our/their ratios and peak
# RSS, written to bench/results/<time>-<N>.md; then how each request's speed changes with
# the size, for both stacks, in bench/results/<time>-growth.md.
# Needs: the release build, python3 (venv), wrk.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000 1000000)
peer_src="${PEER_DIR:-$root/../shared/peers/django-seed}"
[ -x "$root/target/release/autonexus" ] || { echo "build first: ./dev.sh run (or cargo leptos build --release)" >&2; exit 2; }
[ -d "$peer_src" ] || { echo "no Django peer at $peer_src" >&2; exit 2; }
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
run_stamp=$(date -u +%Y%m%dT%H%M%SZ)
growth=$(mktemp)

work=$(mktemp -d)
cp -r "$peer_src" "$work/peer"   # the peer is read-only where it is kept
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { for _ in $(seq 1 600); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.2; done; echo "not up: $1" >&2; return 1; }
pids=()
stop_all() { kill "${pids[@]}" 2>/dev/null || true; sleep 1; pids=(); }
trap 'stop_all; rm -rf "$work" "$growth"' EXIT

compare() {
  local cars=$1
  echo "== $cars cars: Django peer, install and seed (its own setup.sh)"
  (cd "$work/peer" && ./setup.sh "$cars" >"$work/peer-setup.log" 2>&1) || { tail -20 "$work/peer-setup.log"; exit 1; }
  local dport; dport=$(free_port)
  (cd "$work/peer" && exec ./serve.sh "$dport" >"$work/peer-server.log" 2>&1) &
  pids+=($!)
  wait_for "http://127.0.0.1:$dport/api/cars/"

  echo "== $cars cars: AutoNexus, the same sellers and cars"
  rm -f "$work"/ours.db*
  local oport; oport=$(free_port)
  (cd "$root" && DATABASE_URL="sqlite://$work/ours.db" MEDIA_DIR="$work/media" LEPTOS_SITE_ADDR="127.0.0.1:$oport" \
    RUST_LOG=warn,autonexus::cars::db::index=info LISTINGS_PER_HOUR=1000000000 exec ./target/release/autonexus >"$work/ours-server.log" 2>&1) &
  local ours_pid=$!
  pids+=($ours_pid)
  wait_for "http://127.0.0.1:$oport/healthz"
  curl -fsS -o /dev/null -X POST "http://127.0.0.1:$oport/rpc/auth/register" -d 'username=bench&password=bench-password-1'
  local token bench_id car_id
  token=$(curl -fsS -X POST "http://127.0.0.1:$oport/api/auth/token/" -H 'Content-Type: application/json' \
    -d '{"username":"bench","password":"bench-password-1"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  bench_id=$(curl -fsS "http://127.0.0.1:$oport/api/auth/me/" -H "Authorization: Token $token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  python3 "$here/import_django.py" "$work/peer/db.sqlite3" "$work/ours.db" "$bench_id"
  # The import wrote the cars behind the server's back: the first search finds the search
  # index that far behind, so the database answers while the index takes them in, in the
  # background. Measure once it has (the log says when, and how long it took).
  curl -fsS -o /dev/null "http://127.0.0.1:$oport/api/cars/?ordering=-created_at"
  for _ in $(seq 1 1200); do grep -q "search index caught up" "$work/ours-server.log" && break; sleep 0.1; done
  grep -m1 "search index caught up" "$work/ours-server.log" | sed 's/\x1b\[[0-9;]*m//g' || echo "the search index did not catch up within 2 minutes" >&2

  # The marketplace's own pages (the peer has no HTML front end to compare with).
  echo "== $cars cars: wrk against AutoNexus pages"
  car_id=$(curl -fsS "http://127.0.0.1:$oport/api/cars/?ordering=-created_at" | python3 -c 'import json,sys; print(json.load(sys.stdin)["results"][0]["id"])')
  local deep=$(( cars / 2 / 24 ))
  (( deep <= 416 )) || deep=416   # pages stop at 10,000 matches ("More than 10,000 cars")
  local pages=("/cars" "/cars?page=$deep" "/cars?q=toyota&min_price=5000&max_price=20000&min_year=2012&sort=price_asc" "/cars/$car_id")
  : >"$work/pages.txt"
  # What Chrome sends; the report names the encoding the server answered it with.
  local accept='gzip, deflate, br, zstd' page_encoding
  page_encoding=$(curl -fsS -o /dev/null -D - -H 'Accept: text/html' -H "Accept-Encoding: $accept" "http://127.0.0.1:$oport/cars" |
    awk -F': *' 'tolower($1) == "content-encoding" {sub(/\r$/, "", $2); print $2}')
  for page in "${pages[@]}"; do
    wrk -t2 -c32 -d10s --timeout 10s -H 'Accept: text/html' -H "Accept-Encoding: $accept" -s "$work/peer/bench/report.lua" \
      "http://127.0.0.1:$oport$page" | grep -m1 '^WRK_RESULT' | while read -r result; do printf '%s %s\n' "$page" "$result"; done >>"$work/pages.txt"
    sleep 1
  done
  # Issue 25: a different search and price band on every request (bench/varied.lua), so no
  # cache holds the answer: what a search costs when it has to be computed. Before bench.sh,
  # whose POST run adds about as many cars again as were seeded (after such a burst the
  # database answers searches while the search index takes the new cars in: measured apart).
  echo "== $cars cars: a new search on every request, both servers"
  local varied
  for port in "$dport" "$oport"; do
    REPORT_LUA="$here/report.lua" wrk -t2 -c32 -d10s --timeout 10s -s "$here/varied.lua" "http://127.0.0.1:$port/" | grep '^RESULT'
    sleep 1
  done >"$work/varied.txt"
  # The peer's own bench.sh drives both servers with the same wrk scripts.
  echo "== $cars cars: wrk against the Django peer"
  (cd "$work/peer" && ./bench.sh "$dport") >"$work/django.txt" 2>"$work/django.err"
  echo "== $cars cars: wrk against AutoNexus"
  (cd "$work/peer" && TOKEN="$token" BENCH_CLEANUP=0 ./bench.sh "$oport") >"$work/ours.txt" 2>"$work/ours.err"
  local ours_rss django_rss
  ours_rss=$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$ours_pid/status")
  django_rss=$(for p in $(pgrep -f "gunicorn.*127.0.0.1:$dport"); do awk '/VmHWM/ {print $2}' "/proc/$p/status"; done | awk '{s += $1} END {printf "%.0f", s / 1024}')
  stop_all

  mkdir -p "$here/results"
  local report="$here/results/${run_stamp}-${cars}.md"
  python3 - "$work/django.txt" "$work/ours.txt" "$cars" "$ours_rss" "$django_rss" "$work/pages.txt" "$growth" "${page_encoding:-none}" "$work/varied.txt" <<'PY' | tee "$report"
import re, sys
django, ours, cars, ours_rss, django_rss, pages, growth, page_encoding, varied = sys.argv[1:10]

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
with open(growth, "a") as out:
    for dr, orow in zip(d, o):
        name = re.sub(r"/api/cars/\d+/", "/api/cars/{id}/", dr[0])
        # A peer that completed no request in the run has no rate to divide by.
        ratio = f"{float(orow[1]) / float(dr[1]):.1f}x" if float(dr[1]) > 0 else "none: Django completed no request"
        errors = f"{int(dr[5]) + int(dr[6])}/{int(orow[5]) + int(orow[6])}"
        print(f"| {name} | {dr[1]} | {orow[1]} | {ratio} | {dr[3]} | {orow[3]} | {errors} |")
        out.write(f"{cars}\t{name}\t{dr[1]}\t{dr[3]}\t{orow[1]}\t{orow[3]}\n")
    # bench/varied.lua's runs: Django first, then AutoNexus.
    runs = [dict(re.findall(r"(\w+)=([\d.]+)", line)) for line in open(varied) if line.startswith("RESULT")]
    if len(runs) == 2:
        dv, ov = runs
        name = "GET /api/cars/?search=<word>&min_price=<x>&max_price=<x+15000>&ordering=price, a new one each time"
        drps, orps = float(dv["rps"]), float(ov["rps"])
        ratio = f"{orps / drps:.1f}x" if drps > 0 else "none: Django completed no request"
        errors = lambda kv: int(kv["non2xx"]) + int(kv["socket_errors"])
        print(f"| {name} | {drps:.1f} | {orps:.1f} | {ratio} | {float(dv['p99_ms']):.1f} | {float(ov['p99_ms']):.1f} | {errors(dv)}/{errors(ov)} |")
        out.write(f"{cars}\t{name}\t{drps}\t{dv['p99_ms']}\t{orps}\t{ov['p99_ms']}\n")
print(f"\nPeak RSS: AutoNexus {ours_rss} MB (one process); Django {django_rss} MB (all gunicorn processes).")
print(f"\n### AutoNexus HTML pages (server-rendered, asked for as Chrome does, sent as {page_encoding}), same run\n")
print("| page | req/s | p50 ms | p99 ms | errors |")
print("|---|---:|---:|---:|---:|")
for line in open(pages):
    page, rest = line.split(" WRK_RESULT ")
    kv = dict(re.findall(r"(\w+)=([\d.]+)", rest))
    errors = sum(int(kv[k]) for k in ("non2xx", "connect", "read", "write", "timeout"))
    print(f"| `{page}` | {float(kv['rps']):.1f} | {float(kv['p50_ms']):.1f} | {float(kv['p99_ms']):.1f} | {errors} |")
PY
  echo "written: $report"
}

for n in "${sizes[@]}"; do compare "$n"; done

# How each request's speed changes with the number of cars, for both stacks.
report="$here/results/${run_stamp}-growth.md"
python3 - "$growth" <<'PY' | tee "$report"
import collections, sys
rows = collections.defaultdict(dict)
for line in open(sys.argv[1]):
    cars, name, d_rps, d_p99, o_rps, o_p99 = line.rstrip("\n").split("\t")
    rows[name][int(cars)] = (float(d_rps), float(d_p99), float(o_rps), float(o_p99))
sizes = sorted({n for by_size in rows.values() for n in by_size})
print("## Growth with the number of cars (same run): req/s, p99 ms and our/their ratio\n")
print("| request | " + " | ".join(f"{n:,} cars" for n in sizes) + " |")
print("|---|" + "---|" * len(sizes))
for name, by_size in rows.items():
    cells = []
    for n in sizes:
        if n not in by_size:
            cells.append("")
            continue
        d_rps, d_p99, o_rps, o_p99 = by_size[n]
        ratio = f"{o_rps / d_rps:.1f}x" if d_rps > 0 else "no ratio (Django completed no request)"
        cells.append(f"Django {d_rps:,.0f} ({d_p99:.0f} ms), AutoNexus {o_rps:,.0f} ({o_p99:.1f} ms): {ratio}")
    print(f"| {name} | " + " | ".join(cells) + " |")
PY
echo "written: $report"
