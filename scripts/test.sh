#!/usr/bin/env bash
# The one test command: installs what is missing, then format check, lints and every test.
# Usage: ./scripts/test.sh            (CI runs exactly this through .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n==> %s\n' "$*"; }

# --- Prerequisites -----------------------------------------------------------
# cmake and libclang-dev (the HiGHS solver's build) and tmux (the scripted terminal test),
# installed when missing by the script the run command shares.
# shellcheck source=scripts/prereqs.sh
source scripts/prereqs.sh
install_prereqs test
for c in rustfmt clippy; do
    if ! cargo "${c/rustfmt/fmt}" --version >/dev/null 2>&1; then
        say "installing the $c component"
        rustup component add "$c"
    fi
done

# --- Test services, built beside the checks ------------------------------------
# Real servers on loopback for the integration tests (they never skip in CI). On a fresh machine
# their builds take about as long as dim's own, so they run in the background meanwhile.
# shellcheck source=scripts/services.sh
source scripts/services.sh
trap stop_services EXIT
say "preparing the test servers in the background (built once when missing; logs in $SERVICES_DIR)"
prepare_services &
PREPARE_PID=$!

# --- Checks and build ----------------------------------------------------------
say "cargo fmt --check"
cargo fmt --all -- --check

say "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --locked -- -D warnings

say "cargo test --no-run (building the tests)"
cargo test --all-targets --locked --no-run

say "waiting for the test servers"
wait "$PREPARE_PID" || { echo "FAILED: the test servers could not be prepared" >&2; exit 1; }
PREPARE_PID=""
say "starting test services"
start_garage
start_tansu
setup_kafka_client
setup_s3_client
start_moto
start_postgres

# --- Tests -----------------------------------------------------------------------
say "cargo test (with the service tests, which a plain cargo test lists as ignored)"
cargo test --all-targets --locked -- --include-ignored

say "dashboard in a real terminal (tmux)"
DIM_BIN=target/debug/dim tests/tui_tmux.sh

say "the cluster's nodes in a real terminal (tmux, three nodes on PostgreSQL)"
DIM_BIN=target/debug/dim tests/cluster_tmux.sh

say "all checks passed"
