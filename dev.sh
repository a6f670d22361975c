#!/usr/bin/env bash
# AutoNexus developer entry point. Idempotent: installs only what is missing.
#   ./dev.sh run    set up, build the release site, serve it at http://127.0.0.1:3000 with demo data
#   ./dev.sh test   set up, then run every check and test (what CI runs)
#   ./dev.sh setup  only install the tools
#   ./dev.sh load [SECONDS]  the load test (200 buyers + 20 sellers, default 60 s)
set -euo pipefail
cd "$(dirname "$0")"
export PATH="$HOME/.cargo/bin:$PATH"

CARGO_LEPTOS_VERSION=0.3.10
CARGO_DENY_VERSION=0.20.2
# wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)

log() { printf '\n==> %s\n' "$*"; }

setup() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "adding the wasm32 target"
    rustup target add wasm32-unknown-unknown
  fi
  if [ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "$CARGO_LEPTOS_VERSION" ]; then
    log "installing cargo-leptos $CARGO_LEPTOS_VERSION (takes ~20 minutes, once)"
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
  fi
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
    log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (takes ~8 minutes, once)"
    # --locked fails for this version today; the crate's own bounds are enough.
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
  fi
  if [ "$(cargo deny --version 2>/dev/null | awk '{print $2}')" != "$CARGO_DENY_VERSION" ]; then
    log "installing cargo-deny $CARGO_DENY_VERSION (takes ~2 minutes, once)"
    cargo install cargo-deny --version "$CARGO_DENY_VERSION" --locked
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

build_release() {
  log "building the release site (server + hydrate bundle)"
  cargo leptos build --release
}

cmd_run() {
  setup
  build_release
  log "serving AutoNexus at http://${LEPTOS_SITE_ADDR:-127.0.0.1:3000} (demo sellers alice / bob, password autonexus-demo)"
  DEMO_DATA="${DEMO_DATA:-1}" exec ./target/release/autonexus
}

# Starts the release server on a fresh database and runs Playwright against it.
run_e2e() {
  local dir port pid status
  dir=$(mktemp -d)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  log "end-to-end: release server on 127.0.0.1:$port, database in $dir"
  # The specs register many accounts from one address: lift that rate limit for them.
  DATABASE_URL="sqlite://$dir/e2e.db" MEDIA_DIR="$dir/media" LEPTOS_SITE_ADDR="127.0.0.1:$port" RUST_LOG=warn \
    REGISTRATIONS_PER_HOUR=1000 \
    ./target/release/autonexus >"$dir/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/cars" && break
    sleep 0.2
  done
  status=0
  (cd end2end && BASE_URL="http://127.0.0.1:$port" npx playwright test) || status=$?
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [ "$status" -ne 0 ]; then
    echo "--- server log (last 50 lines) ---"; tail -n 50 "$dir/server.log"
  fi
  rm -rf "$dir"
  return "$status"
}

cmd_test() {
  setup
  setup_browser
  log "formatting"
  cargo fmt --check
  log "dependency licenses, bans and sources (cargo deny; deny.toml)"
  cargo deny --log-level error check licenses bans sources
  log "clippy (server build)"
  cargo clippy --features ssr --all-targets -- -D warnings
  log "clippy (browser build)"
  cargo clippy --lib --no-default-features --features hydrate --target wasm32-unknown-unknown -- -D warnings
  log "unit and HTTP tests"
  cargo test --features ssr
  build_release
  run_e2e
  log "load test (short): 200 browsing + 20 selling clients, zero errors and zero lost writes"
  end2end/load/load-test.sh 15
}

case "${1:-}" in
  run) cmd_run ;;
  test) cmd_test ;;
  setup) setup; setup_browser ;;
  e2e) setup; setup_browser; build_release; run_e2e ;;
  e2e-only) setup; run_e2e ;;
  load) setup; setup_browser; build_release; end2end/load/load-test.sh "${2:-60}" ;;
  *) echo "usage: ./dev.sh run | test | setup | e2e | load [SECONDS]" >&2; exit 2 ;;
esac
