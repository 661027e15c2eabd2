//! What a script sees of dim: printing commands end quietly when their reader goes away (`dim
//! catalog | head -1`): no panic, no backtrace; exit 0 or the usual SIGPIPE status, as every Unix tool
//! does; and usage errors have an exit code of their own.

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

/// Runs `dim ARGS` with its output going to a pipe whose reader is gone before dim writes (as
/// `head` is once it has its lines), and returns its exit and stderr.
fn into_a_closed_pipe(args: &[&str]) -> (std::process::ExitStatus, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dim"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Closing the read end at once: dim's first write finds nobody reading.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    (out.status, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn printing_commands_end_quietly_on_a_closed_pipe() {
    for args in [
        &["catalog"][..],
        &["scenario", "figures"],
        &["catalog", "--json"],
        &["scenario", "list"],
    ] {
        let (status, err) = into_a_closed_pipe(args);
        assert!(
            status.success() || status.signal() == Some(libc::SIGPIPE),
            "{args:?}: {status:?}\n{err}"
        );
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{args:?}: {err}"
        );
    }
}

/// A command line dim does not understand exits 64 (sysexits' EX_USAGE), apart from `dim
/// ctl`'s 2 for "no engine reachable"; help and version exit 0.
#[test]
fn usage_errors_have_their_own_exit_code() {
    let dim = |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_dim")).args(args).output().unwrap();
    for args in [&["--no-such-flag"][..], &["ctl", "frobnicate"], &["replay"]] {
        let out = dim(args);
        assert_eq!(out.status.code(), Some(64), "{args:?}: {out:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("Usage"), "{args:?}");
    }
    for args in [&["--help"][..], &["--version"], &["ctl", "--help"]] {
        assert_eq!(dim(args).status.code(), Some(0), "{args:?}");
    }
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("nobody.sock");
    let out = dim(&["ctl", "--socket", sock.to_str().unwrap(), "status"]);
    assert_eq!(out.status.code(), Some(2), "no engine: {out:?}");
}
