#!/usr/bin/env bash
# What building dim needs beyond Rust, installed when missing: sourced by scripts/run.sh (the
# README's run command) and scripts/test.sh (the test command), so both work on a fresh machine.
#   cmake, libclang-dev  the HiGHS MILP solver's build (good_lp → highs-sys)
#   tmux                 the scripted terminal test (test.sh only: `install_prereqs test`)

install_prereqs() {
    local need_pkgs=()
    command -v cmake >/dev/null 2>&1 || need_pkgs+=(cmake)
    dpkg -s libclang-dev >/dev/null 2>&1 || ls /usr/lib/llvm-*/lib/libclang.so >/dev/null 2>&1 || need_pkgs+=(libclang-dev)
    if [ "${1:-}" = test ]; then
        command -v tmux >/dev/null 2>&1 || need_pkgs+=(tmux)
    fi
    if ((${#need_pkgs[@]})); then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            printf '\n==> installing %s\n' "${need_pkgs[*]}"
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
        elif command -v sudo >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
            printf '\n==> installing %s (sudo)\n' "${need_pkgs[*]}"
            sudo apt-get update -qq
            sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
        else
            echo "missing: ${need_pkgs[*]} (install them, e.g. apt-get install ${need_pkgs[*]})" >&2
            return 1
        fi
    fi
}
