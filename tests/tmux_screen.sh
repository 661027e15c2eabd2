# Shared by the tmux tests (sourced, not run): reading the dashboard's screen. The sourcing
# script defines `tm` (tmux on its own socket) and `fail` (says what went wrong, shows the
# screen and its logs, exits 1).

# Waits until the screen matches the extended regex $1 (within $2 seconds, default 30).
wait_for() {
    local pattern=$1 limit=${2:-30} i
    for ((i = 0; i < limit * 5; i++)); do
        if tm capture-pane -p -t dim 2>/dev/null | grep -Eq -- "$pattern"; then
            return 0
        fi
        sleep 0.2
    done
    fail "the screen never showed /$pattern/"
}
