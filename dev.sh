#!/usr/bin/env bash
# AutoNexus developer entry point. Idempotent: installs only what is missing.
#   ./dev.sh run    set up, build the release site, serve it at http://127.0.0.1:3000 with demo data
#   ./dev.sh test   set up, then run every check and test (what CI runs): on SQLite, and
#                   again on PostgreSQL with photos in S3 (moto) when PostgreSQL is reachable
#                   at $AUTONEXUS_TEST_POSTGRES (default postgres://postgres@127.0.0.1:5432/postgres);
#                   with CI=true that second pass is required
#   ./dev.sh setup  only install the tools
#   ./dev.sh api-contract  schemathesis tries the REST API against its OpenAPI document
#   ./dev.sh load [SECONDS]  the load test (200 buyers + 20 sellers, default 60 s)
set -euo pipefail
cd "$(dirname "$0")"
export PATH="$HOME/.cargo/bin:$PATH"

CARGO_LEPTOS_VERSION=0.3.10
CARGO_DENY_VERSION=0.20.2
LEPTOSFMT_VERSION=0.1.33
MOTO_VERSION=5.2.5
SCHEMATHESIS_VERSION=4.32.5
# The PostgreSQL pass of the tests: an account that may create databases. Each run makes
# its own databases, named autonexus_t_<run>_…, and drops them at the end.
TEST_POSTGRES="${AUTONEXUS_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}"
RUN_ID="r$(date +%s)$$"
# wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)

# Each step with the time since the command started, so a slow step shows in CI's log.
log() { printf '\n==> [%dm%02ds] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }

# Installs a tool from crates.io without the link-time optimisation its own release profile
# asks for (cargo-leptos and cargo-deny: fat LTO, one codegen unit): a fresh machine builds
# them in about half the time, and they drive our builds and checks as well.
install_tool() {
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 cargo install "$@"
}

# What building and running the marketplace needs.
setup() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "adding the wasm32 target"
    rustup target add wasm32-unknown-unknown
  fi
  if [ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "$CARGO_LEPTOS_VERSION" ]; then
    log "installing cargo-leptos $CARGO_LEPTOS_VERSION (takes ~20 minutes, once)"
    install_tool cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
  fi
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
    log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (takes ~8 minutes, once)"
    # --locked fails for this version today; the crate's own bounds are enough.
    install_tool wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
  fi
  if ! command -v npm >/dev/null; then
    log "installing Node.js and npm"
    apt-get update && apt-get install -y nodejs npm
  fi
  if [ ! -x end2end/node_modules/.bin/wasm-opt ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    log "installing end-to-end tools (Playwright, binaryen's wasm-opt)"
    (cd end2end && npm ci --no-audit --no-fund)
  fi
  # Debian's binaryen (wasm-opt 108) silently breaks hydration: use npm's, first on PATH.
  export PATH="$PWD/end2end/node_modules/.bin:$PATH"
}

# Tools only the checks need (running the marketplace does not): cargo-deny and leptosfmt.
setup_test_tools() {
  if [ "$(cargo deny --version 2>/dev/null | awk '{print $2}')" != "$CARGO_DENY_VERSION" ]; then
    log "installing cargo-deny $CARGO_DENY_VERSION (takes ~2 minutes, once)"
    install_tool cargo-deny --version "$CARGO_DENY_VERSION" --locked
  fi
  if [ "$(leptosfmt --version 2>/dev/null | awk '{print $2}')" != "$LEPTOSFMT_VERSION" ]; then
    log "installing leptosfmt $LEPTOSFMT_VERSION (formats view! macros; takes ~1 minute, once)"
    install_tool leptosfmt --version "$LEPTOSFMT_VERSION" --locked
  fi
}

# Debian packages the tests drive: Chromium (Playwright) and wrk (the load test).
setup_browser() {
  local missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v wrk >/dev/null || missing+=(wrk)
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]} (Debian packages)"
    apt-get update && apt-get install -y "${missing[@]}"
  fi
}

# What the tests need from PyPI and Debian: moto's S3-compatible server and psql (the
# PostgreSQL + S3 pass), schemathesis (the API contract).
setup_test_services() {
  if [ ! -x end2end/.venv/bin/python ]; then
    python3 -m venv end2end/.venv 2>/dev/null || { apt-get update && apt-get install -y python3-venv && python3 -m venv end2end/.venv; }
  fi
  if [ ! -x end2end/.venv/bin/moto_server ]; then
    log "installing moto $MOTO_VERSION (an S3-compatible server for the photo-store tests)"
    end2end/.venv/bin/pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
  fi
  if [ "$(end2end/.venv/bin/schemathesis --version 2>/dev/null | awk '{print $3}')" != "$SCHEMATHESIS_VERSION" ]; then
    log "installing schemathesis $SCHEMATHESIS_VERSION (tries the REST API against its OpenAPI document)"
    end2end/.venv/bin/pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
  fi
  if ! command -v psql >/dev/null; then
    log "installing the PostgreSQL client (psql)"
    apt-get update && apt-get install -y postgresql-client
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# $TEST_POSTGRES with its database replaced by $1.
postgres_url() {
  python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$TEST_POSTGRES" "$1"
}

postgres_ready() {
  psql "$TEST_POSTGRES" -Atqc 'SELECT 1' >/dev/null 2>&1
}

# moto's server on loopback with one bucket; the tests and the e2e server find it by these variables.
start_moto() {
  local port
  port=$(free_port)
  end2end/.venv/bin/moto_server -H 127.0.0.1 -p "$port" >"$TEST_TMP/moto.log" 2>&1 &
  MOTO_PID=$!
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null && break
    sleep 0.2
  done
  curl -fsS -o /dev/null -X PUT "http://127.0.0.1:$port/autonexus-test"
  # moto accepts any credentials; the server and the tests sign their requests with these.
  export AWS_ACCESS_KEY_ID=autonexus-test AWS_SECRET_ACCESS_KEY=autonexus-test
  export AUTONEXUS_TEST_S3_ENDPOINT="http://127.0.0.1:$port" AUTONEXUS_TEST_S3_BUCKET=autonexus-test
}

cleanup_test_services() {
  if [ -n "${MOTO_PID:-}" ]; then kill "$MOTO_PID" 2>/dev/null || true; fi
  if [ "${POSTGRES_PASS:-0}" = 1 ]; then
    # Whatever this run created and a failed test left behind.
    psql "$TEST_POSTGRES" -Atqc "SELECT datname FROM pg_database WHERE datname LIKE 'autonexus\_t\_${RUN_ID,,}\_%'" 2>/dev/null |
      while read -r name; do psql "$TEST_POSTGRES" -qc "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" || true; done
  fi
  rm -rf "${TEST_TMP:-/nonexistent}"
}

build_release() {
  log "building the release site (server + hydrate bundle)"
  cargo leptos build --release
  # Brotli (quality 11) and gzip (level 9) copies of the bundle, served in place of the
  # files to browsers that accept them: smaller than what is compressed per request.
  node -e '
    const fs = require("fs"), path = require("path"), zlib = require("zlib");
    const dir = process.argv[1];
    for (const name of fs.readdirSync(dir)) {
      if (!/\.(js|wasm|css)$/.test(name)) continue;
      const data = fs.readFileSync(path.join(dir, name));
      fs.writeFileSync(path.join(dir, name + ".br"), zlib.brotliCompressSync(data, {
        params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length } }));
      fs.writeFileSync(path.join(dir, name + ".gz"), zlib.gzipSync(data, { level: 9 }));
    }' target/site/pkg
}

cmd_run() {
  setup
  build_release
  log "serving AutoNexus at http://${LEPTOS_SITE_ADDR:-127.0.0.1:3000} (demo sellers alice / bob, password autonexus-demo)"
  DEMO_DATA="${DEMO_DATA:-1}" exec ./target/release/autonexus
}

# Starts the release server in the background, on 127.0.0.1:$1 with the environment given
# after it, logging to $SERVER_LOG; returns once it answers. `stop_server` ends it.
start_server() {
  local port=$1
  shift
  env "$@" LEPTOS_SITE_ADDR="127.0.0.1:$port" RUST_LOG=warn ./target/release/autonexus >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null && break
    sleep 0.2
  done
}

stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
}

# Starts the release server on a fresh database and runs Playwright against it.
#   run_e2e sqlite     SQLite, photos in a directory
#   run_e2e postgres   a new PostgreSQL database, photos in the test S3 bucket
run_e2e() {
  local engine="${1:-sqlite}" dir port status storage
  dir=$(mktemp -d)
  port=$(free_port)
  if [ "$engine" = postgres ]; then
    local name="autonexus_t_${RUN_ID,,}_e2e"
    psql "$TEST_POSTGRES" -qc "CREATE DATABASE \"$name\""
    storage=(DATABASE_URL="$(postgres_url "$name")" S3_ENDPOINT="$AUTONEXUS_TEST_S3_ENDPOINT"
      S3_BUCKET="$AUTONEXUS_TEST_S3_BUCKET" S3_PREFIX="e2e-$RUN_ID")
  else
    storage=(DATABASE_URL="sqlite://$dir/e2e.db" MEDIA_DIR="$dir/media")
  fi
  log "end-to-end ($engine): release server on 127.0.0.1:$port"
  SERVER_LOG="$dir/server.log"
  # The specs register many accounts from one address: lift that rate limit for them.
  start_server "$port" "${storage[@]}" REGISTRATIONS_PER_HOUR=1000
  status=0
  (cd end2end && BASE_URL="http://127.0.0.1:$port" npx playwright test) || status=$?
  stop_server
  if [ "$status" -ne 0 ]; then
    echo "--- server log (last 50 lines) ---"; tail -n 50 "$dir/server.log"
  fi
  rm -rf "$dir"
  return "$status"
}

# The REST API against its own OpenAPI document: schemathesis (end2end/schemathesis) tries
# every operation as an outside client would, with every check on, against the release
# server with demo data. It signs in as the demo seller alice.
run_api_contract() {
  local dir port token status=0
  dir=$(mktemp -d)
  port=$(free_port)
  log "API contract: schemathesis against /api/schema/ (release server on 127.0.0.1:$port, demo data)"
  SERVER_LOG="$dir/server.log"
  # The run creates listings and uploads photos by the hundred: lift those hourly limits.
  start_server "$port" DATABASE_URL="sqlite://$dir/api.db" MEDIA_DIR="$dir/media" DEMO_DATA=1 \
    LISTINGS_PER_HOUR=100000 PHOTOS_PER_HOUR=100000
  # The token comes first: the run's own wrong passwords then lock log-ins from this address.
  token=$(curl -fsS -H 'Content-Type: application/json' -d '{"username": "alice", "password": "autonexus-demo"}' \
    "http://127.0.0.1:$port/api/auth/token/" | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
  # From the temporary directory, so that nothing the run writes lands in the checkout.
  (cd "$dir" && AUTONEXUS_API_TOKEN="$token" PYTHONPATH="$OLDPWD/end2end/schemathesis" SCHEMATHESIS_HOOKS=hooks \
    "$OLDPWD/end2end/.venv/bin/schemathesis" --config-file "$OLDPWD/end2end/schemathesis/schemathesis.toml" \
    run --exclude-operation-id revoke_token "http://127.0.0.1:$port/api/schema/") || status=$?
  stop_server
  if [ "$status" -ne 0 ]; then
    echo "--- server log (last 30 lines) ---"; tail -n 30 "$dir/server.log"
  fi
  rm -rf "$dir"
  return "$status"
}

# The test run needs room for three builds (debug tests, release server, wasm bundle):
# stop at once with a clear message rather than fail in the middle of a compile.
check_disk() {
  local need_gb=$1 free_gb
  mkdir -p target
  free_gb=$(df -Pk target | awk 'NR == 2 { printf "%d", $4 / 1048576 }')
  log "disk: ${free_gb} GB free for target/ ($(du -sh target 2>/dev/null | cut -f1) used by it); this run needs about ${need_gb} GB"
  if [ "$free_gb" -lt "$need_gb" ]; then
    echo "Not enough disk: ${free_gb} GB free where target/ lives, about ${need_gb} GB needed. Free some space (cargo clean elsewhere?) and run again." >&2
    exit 1
  fi
}

cmd_test() {
  check_disk 8
  # A one-off build gains nothing from incremental caches, which are a large share of target/.
  if [ "${CI:-}" = true ]; then export CARGO_INCREMENTAL=0; fi
  setup
  setup_test_tools
  setup_browser
  setup_test_services
  TEST_TMP=$(mktemp -d)
  trap cleanup_test_services EXIT
  export AUTONEXUS_TEST_RUN="$RUN_ID"
  POSTGRES_PASS=0
  if postgres_ready; then
    POSTGRES_PASS=1
  elif [ "${CI:-}" = true ]; then
    echo "CI=true: the PostgreSQL pass is required, but PostgreSQL is not reachable at $TEST_POSTGRES" >&2
    echo "(set AUTONEXUS_TEST_POSTGRES to a URL whose account may create databases)" >&2
    exit 1
  else
    log "PostgreSQL is not reachable at $TEST_POSTGRES: skipping the PostgreSQL + S3 pass (README: Testing on PostgreSQL)"
  fi
  log "formatting (rustfmt, and leptosfmt for view! macros)"
  cargo fmt --check
  leptosfmt --check src >/dev/null || { leptosfmt --check src | grep -A30 '^❌' | head -60; echo "view! macros are not formatted: run leptosfmt src && cargo fmt" >&2; exit 1; }
  log "layers: shared modules import no feature, and no import cycles (.ci/check-layers)"
  .ci/check-layers
  log "dependency licenses, bans and sources (cargo deny; deny.toml)"
  cargo deny --log-level error check licenses bans sources
  log "clippy (server build)"
  cargo clippy --features ssr --all-targets -- -D warnings
  log "clippy (browser build)"
  cargo clippy --lib --no-default-features --features hydrate --target wasm32-unknown-unknown -- -D warnings
  log "unit and HTTP tests (SQLite, photos in a local directory)"
  cargo test --features ssr
  if [ "$POSTGRES_PASS" = 1 ]; then
    start_moto
    log "HTTP tests again on PostgreSQL (a new database per server), photos in S3 (moto at $AUTONEXUS_TEST_S3_ENDPOINT)"
    AUTONEXUS_TEST_POSTGRES="$TEST_POSTGRES" cargo test --features ssr --test '*'
  fi
  build_release
  run_api_contract
  run_e2e sqlite
  if [ "$POSTGRES_PASS" = 1 ]; then
    run_e2e postgres
  fi
  log "load test (short): 200 browsing + 20 selling clients, zero errors and zero lost writes"
  end2end/load/load-test.sh 15
  log "disk: target/ holds $(du -sh target | cut -f1); $(df -Ph target | awk 'NR == 2 { print $4 }') left free"
}

case "${1:-}" in
  run) cmd_run ;;
  test) cmd_test ;;
  setup) setup; setup_test_tools; setup_browser ;;
  e2e) setup; setup_browser; build_release; run_e2e sqlite ;;
  e2e-only) setup; run_e2e sqlite ;;
  api-contract) setup; setup_test_services; build_release; run_api_contract ;;
  load) setup; setup_browser; build_release; end2end/load/load-test.sh "${2:-60}" ;;
  *) echo "usage: ./dev.sh run | test | setup | e2e | api-contract | load [SECONDS]" >&2; exit 2 ;;
esac
