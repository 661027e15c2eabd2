#!/usr/bin/env bash
# The README's run command: installs what the build needs if it is missing, then starts dim
# (release build). Arguments go to dim: ./scripts/run.sh --daemon, ./scripts/run.sh ctl status, …
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/prereqs.sh
source scripts/prereqs.sh
install_prereqs
exec cargo run --release --locked -- "$@"
