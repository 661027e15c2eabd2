#!/usr/bin/env bash
# Scripted terminal test of the cluster's nodes view (run by scripts/test.sh after the Rust tests,
# with its PostgreSQL and Kafka broker): three daemons on one PostgreSQL store and one topic,
# `dim attach` on the first, the nodes overlay (N) showing all three; one node killed -9 shows as
# lost and its partitions go to the others.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${DIM_BIN:-target/debug/dim}
[ -x "$BIN" ] || { echo "FAILED: $BIN not built (run cargo build first)" >&2; exit 1; }
: "${DIM_TEST_PG_URL:?is not set; run ./scripts/test.sh, which starts PostgreSQL}"
: "${DIM_TEST_KAFKA_BROKERS:?is not set; run ./scripts/test.sh, which starts the broker}"
DIR=$(mktemp -d /tmp/dim-cluster-tmux.XXXXXX)
SOCK="dim-cluster-test-$$"
PIDS=()
tm() { tmux -L "$SOCK" "$@"; }
cleanup() {
    tm kill-server 2>/dev/null || true
    for pid in "${PIDS[@]}"; do
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$DIR"
}
trap cleanup EXIT

fail() {
    echo "FAILED: $*" >&2
    echo "--- screen ---" >&2
    tm capture-pane -p -t dim >&2 || true
    for n in n1 n2 n3; do
        echo "--- $n.log (tail) ---" >&2
        tail -5 "$DIR/$n.log" >&2 2>/dev/null || true
    done
    exit 1
}

# shellcheck source=tests/tmux_screen.sh
source tests/tmux_screen.sh  # the scripts run from the repository root (cd above)

DB="dim_tmux_$$_$(date +%s)"
psql -q "$DIM_TEST_PG_URL" -c "CREATE DATABASE $DB" || fail "cannot create a database"
URL="${DIM_TEST_PG_URL%/*}/$DB"
TOPIC="dim-test-nodes-$$-$(date +%s)"
for n in n1 n2 n3; do
    cat >"$DIR/$n.toml" <<TOML
[store]
url = "$URL"
node = "$n"
lease_secs = 3

[events]
source = "kafka"
brokers = ["$DIM_TEST_KAFKA_BROKERS"]
topic = "$TOPIC"
partitions = 6

[[tiers]]
name = "hot"
provider = "aws"
backend = "local"
path = "$DIR/tiers/hot"
storage_gb_month = 0.023
latency_ms = 20.0
TOML
    # One node first: it creates the topic; the others find it.
    "$BIN" --daemon --metrics-listen off --config "$DIR/$n.toml" --data-dir "$DIR/$n" >"$DIR/$n.log" 2>&1 &
    PIDS+=($!)
    [ "$n" = n1 ] && sleep 2
done

tm -f /dev/null new-session -d -x 120 -y 40 -s dim \
    "TERM=xterm-256color $BIN attach --data-dir $DIR/n1; echo \"attach exited with \$?\"; sleep 60"
tm set-option -t dim remain-on-exit on >/dev/null
wait_for "File heat" 60
tm send-keys -t dim N
wait_for "Nodes · the cluster" 20
wait_for "3 nodes · every partition held" 60
wait_for "n1 \(this\)" 10
for n in n2 n3; do
    wait_for "$n +live" 10
done
echo "ok: dim attach shows the three nodes, live, and every partition held"

# Orders given to one node act on every node: pause in the dashboard attached to n1, chaos
# through n2's control API.
tm send-keys -t dim Escape
tm send-keys -t dim p
for i in $(seq 1 50); do
    "$BIN" ctl --config "$DIR/n3.toml" --data-dir "$DIR/n3" status | grep -q "paused" && break
    sleep 0.2
    [ "$i" = 50 ] && fail "n3 did not pause when n1 was told to"
done
"$BIN" ctl --config "$DIR/n2.toml" --data-dir "$DIR/n2" chaos hot --latency-ms 500 >/dev/null || fail "chaos on n2 refused"
for i in $(seq 1 50); do
    "$BIN" ctl --config "$DIR/n1.toml" --data-dir "$DIR/n1" status | grep -Eq "hot .*chaos on" && break
    sleep 0.2
    [ "$i" = 50 ] && fail "n1 did not inject the chaos n2 was told"
done
echo "ok: a pause given to one node and chaos given to another act on every node"
tm send-keys -t dim N
wait_for "Nodes · the cluster" 20

kill -9 "${PIDS[2]}"
wait_for "n3 +lost +- " 30
wait_for "3 nodes · every partition held" 30
echo "ok: a node killed -9 shows as lost, and its partitions went to the others"
tm send-keys -t dim Escape
tm send-keys -t dim q
wait_for "attach exited with 0" 20
echo "ok: the cluster's nodes view"
