//! Output to a closed pipe (`dim catalog | head -1`) ends the process quietly, as Unix tools do.

/// For commands that only print to the terminal or a file: restores SIGPIPE's default action.
/// Rust ignores the signal, so a write to a closed pipe returns an error that `println!` turns
/// into a panic with a backtrace. Not for the daemon, the dashboard or commands that talk to
/// sockets, whose peers may close them at any time.
pub fn end_quietly_on_closed_pipe() {
    // SAFETY: resetting a signal's disposition to its default has no preconditions; it is done
    // at start, before the command starts any thread.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
