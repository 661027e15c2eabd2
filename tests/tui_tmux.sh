#!/usr/bin/env bash
# Scripted terminal test of the dashboard (run by scripts/test.sh after the Rust tests): dim on the
# embedded default in a 120x40 tmux pane, driven with send-keys and read with capture-pane.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${DIM_BIN:-target/debug/dim}
[ -x "$BIN" ] || { echo "FAILED: $BIN not built (run cargo build first)" >&2; exit 1; }
DATA=$(mktemp -d /tmp/dim-tui-test.XXXXXX)
DAEMON_DATA=$(mktemp -d /tmp/dim-attach-test.XXXXXX)
DAEMON_PID=""
SOCK="dim-tui-test-$$"
tm() { tmux -L "$SOCK" "$@"; }
cleanup() {
    tm kill-server 2>/dev/null || true
    if [ -n "$DAEMON_PID" ]; then
        kill "$DAEMON_PID" 2>/dev/null || true
        # The daemon writes into its data dir until it has stopped; removing it sooner races.
        wait "$DAEMON_PID" 2>/dev/null || true
    fi
    rm -rf "$DATA" "$DAEMON_DATA" "$DAEMON_DATA.log"
}
trap cleanup EXIT

fail() {
    echo "FAILED: $*" >&2
    echo "--- screen ---" >&2
    tm capture-pane -p -t dim >&2 || true
    echo "--- dim.log (tail) ---" >&2
    tail -20 "$DATA/dim.log" >&2 2>/dev/null || true
    exit 1
}

# shellcheck source=tests/tmux_screen.sh
source tests/tmux_screen.sh  # the scripts run from the repository root (cd above)

tm -f /dev/null new-session -d -x 120 -y 40 -s dim \
    "TERM=xterm-256color $BIN --data-dir $DATA; echo \"dim exited with \$?\"; sleep 60"
tm set-option -t dim remain-on-exit on >/dev/null

# Runs a new command in the one pane. The session (and so the tmux server) stays: killing the last
# session makes the server exit, and a new one started at once can race it ("server exited
# unexpectedly").
run_in_pane() {
    tm respawn-pane -k -t dim "TERM=xterm-256color $1"
}

for title in "File heat" "Tier placement" "Migration queue" "Chaos" "Logs" "events/s"; do
    wait_for "$title" 60
done
echo "ok: every pane title is on screen"
wait_for "events [1-9][0-9,]* \(" 60
echo "ok: live events are counted"
[ "$(tm display-message -p -t dim '#{alternate_on}')" = 1 ] || fail "dim is not on the alternate screen"

tm send-keys -t dim 1
tm send-keys -t dim l
wait_for "▸1 aws-hot +latency 500 ms" 20
echo "ok: 1 then l puts 500 ms of latency on the first tier"

# The demo scenario plays by default: its name and step are in the header; space pauses it.
wait_for "scenario demo step [0-9]+/[0-9]+" 60
tm send-keys -t dim Space
wait_for "paused \\(space\\)" 10
tm send-keys -t dim Space
# Resumed: the header no longer says paused (the elapsed time is followed by the next step).
wait_for "/40h  next @" 10
echo "ok: the demo scenario plays in the header and space pauses and resumes it"

tm send-keys -t dim '?'
wait_for "Help · keys" 10
wait_for "cycle injected latency on the selected tier" 5
echo "ok: ? shows the help generated from the keymap"

tm send-keys -t dim q
wait_for "dim exited with 0" 20
echo "ok: q exits 0"
[ "$(tm display-message -p -t dim '#{alternate_on}')" = 0 ] || fail "the terminal was left on the alternate screen"
echo "ok: the terminal left the alternate screen"

# Ctrl-C and SIGTERM restore the terminal and exit 0 too (same data dir: dim resumes it).
restart() {
    run_in_pane "$BIN --data-dir $DATA; echo \"dim exited with \$?\"; sleep 60"
    wait_for "events [1-9][0-9,]* \(" 60
}
restart
tm send-keys -t dim C-c
wait_for "dim exited with 0" 20
[ "$(tm display-message -p -t dim '#{alternate_on}')" = 0 ] || fail "Ctrl-C left the alternate screen on"
echo "ok: Ctrl-C exits 0 and restores the terminal"

restart
pid=$(pgrep -f -n "$BIN --data-dir $DATA") || fail "no dim process found"
kill -TERM "$pid"
wait_for "dim exited with 0" 20
[ "$(tm display-message -p -t dim '#{alternate_on}')" = 0 ] || fail "SIGTERM left the alternate screen on"
echo "ok: SIGTERM exits 0 and restores the terminal"

# `dim attach`: the same dashboard on a running daemon, through its control socket.
start_daemon() {
    $BIN --daemon --metrics-listen off --data-dir "$DAEMON_DATA" >>"$DAEMON_DATA.log" 2>&1 &
    DAEMON_PID=$!
}
# Before any engine runs there, attach says so at once, as dim ctl does, and exits 2.
run_in_pane "$BIN attach --data-dir $DAEMON_DATA; echo \"attach exited with \$?\"; sleep 60"
wait_for "attach exited with 2" 20
wait_for "no engine answers at" 1
echo "ok: dim attach where no engine runs says so at start and exits 2"
start_daemon
for _ in $(seq 1 100); do
    $BIN ctl --data-dir "$DAEMON_DATA" status >/dev/null 2>&1 && break
    sleep 0.3
done
run_in_pane "$BIN attach --data-dir $DAEMON_DATA; echo \"attach exited with \$?\"; sleep 60"
for title in "File heat" "Tier placement" "Migration queue" "Chaos" "Logs"; do
    wait_for "$title" 60
done
wait_for "attached $DAEMON_DATA/dim.sock" 30
wait_for "events [1-9][0-9,]* \(" 60
echo "ok: dim attach shows the daemon's panes and live events, and says what it is attached to"
tm send-keys -t dim 1
tm send-keys -t dim l
wait_for "▸1 aws-hot +latency 500 ms" 20
$BIN ctl --data-dir "$DAEMON_DATA" status | grep -q "aws-hot .*chaos on" || fail "the daemon does not show the chaos the attached dashboard set"
echo "ok: a chaos key in the attached dashboard acts on the daemon"
tm send-keys -t dim '?'
wait_for "Help · keys" 10
tm send-keys -t dim Escape
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || fail "the daemon did not stop cleanly"
wait_for "reconnecting" 20
start_daemon
wait_for "attached $DAEMON_DATA/dim.sock  ·" 60
wait_for "events [1-9][0-9,]* \(" 60
echo "ok: a lost daemon shows reconnecting, and live data again once it is back"
tm send-keys -t dim q
wait_for "attach exited with 0" 20
$BIN ctl --data-dir "$DAEMON_DATA" status >/dev/null || fail "q in dim attach stopped the daemon"
echo "ok: q leaves dim attach with 0 and the daemon running"
echo "tui_tmux: 13 passed, 0 failed"
