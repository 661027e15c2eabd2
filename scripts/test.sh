#!/usr/bin/env bash
# The one test command: installs what is missing, then format check, lints and every test.
# Usage: ./scripts/test.sh            (CI runs exactly this through .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n==> %s\n' "$*"; }

# --- Prerequisites -----------------------------------------------------------
# Debian packages the build and the tests need: cmake and libclang-dev (the HiGHS
# solver's build), tmux (the scripted terminal test).
need_pkgs=()
command -v cmake >/dev/null 2>&1 || need_pkgs+=(cmake)
command -v tmux >/dev/null 2>&1 || need_pkgs+=(tmux)
dpkg -s libclang-dev >/dev/null 2>&1 || ls /usr/lib/llvm-*/lib/libclang.so >/dev/null 2>&1 || need_pkgs+=(libclang-dev)
if ((${#need_pkgs[@]})); then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing ${need_pkgs[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
    else
        echo "missing: ${need_pkgs[*]} (install them, e.g. sudo apt-get install ${need_pkgs[*]})" >&2
        exit 1
    fi
fi
for c in rustfmt clippy; do
    if ! cargo "${c/rustfmt/fmt}" --version >/dev/null 2>&1; then
        say "installing the $c component"
        rustup component add "$c"
    fi
done

# --- Test services -------------------------------------------------------------
# Real servers on loopback for the integration tests (they never skip in CI).
# shellcheck source=scripts/services.sh
source scripts/services.sh
trap stop_services EXIT
say "starting test services"
start_garage
start_tansu
setup_kafka_client

# --- Checks ------------------------------------------------------------------
say "cargo fmt --check"
cargo fmt --all -- --check

say "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --locked -- -D warnings

say "cargo test (with the service tests, which a plain cargo test lists as ignored)"
cargo test --all-targets --locked -- --include-ignored

say "dashboard in a real terminal (tmux)"
DIM_BIN=target/debug/dim tests/tui_tmux.sh

say "all checks passed"
