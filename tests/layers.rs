//! The layers' direction, read from the source: the engine never reaches the dashboard or its
//! terminal crates, and `config` depends on nothing of ours.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every non-comment line under `src/DIR` that `bad` flags, as `file:line: text`.
fn offending(dir: &str, bad: impl Fn(&str) -> bool) -> Vec<String> {
    offending_outside(dir, None, bad)
}

/// As `offending`, leaving out the files under `src/SKIP`.
fn offending_outside(dir: &str, skip: Option<&str>, bad: impl Fn(&str) -> bool) -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let root = src.join(dir);
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    assert!(!files.is_empty(), "no sources under {}", root.display());
    let skipped = skip.map(|s| src.join(s));
    let mut found = Vec::new();
    for f in files {
        if skipped.as_ref().is_some_and(|s| f.starts_with(s)) {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if bad(code) {
                found.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
            }
        }
    }
    found
}

#[test]
fn the_engine_never_imports_the_dashboard_or_terminal_crates() {
    let ui = ["crate::tui", "crossterm", "ratatui", "tui_logger"];
    let found = offending("engine", |code| ui.iter().any(|w| code.contains(w)));
    assert!(found.is_empty(), "the engine reaches the UI:\n{}", found.join("\n"));
}

#[test]
fn config_depends_on_nothing_of_ours() {
    // Any path into the crate other than config itself.
    let found = offending("config", |code| code.replace("crate::config", "").contains("crate::"));
    assert!(found.is_empty(), "config imports another layer:\n{}", found.join("\n"));
}

/// The store alone speaks SQL: no other product file names rusqlite, writes a statement or runs
/// one. What the engine keeps, and how, is in one place (a second backend implements that).
#[test]
fn only_the_store_speaks_sql() {
    let sql = [
        "rusqlite",
        "SELECT ",
        "INSERT ",
        "UPDATE ",
        "DELETE FROM",
        ".prepare(",
        ".prepare_cached(",
        ".execute(",
        ".execute_batch(",
        ".query_row(",
        ".query_map(",
        ".transaction()",
    ];
    let found = offending_outside("", Some("engine/store"), |code| sql.iter().any(|w| code.contains(w)));
    assert!(found.is_empty(), "SQL outside the store:\n{}", found.join("\n"));
}

#[path = "layers/imports.rs"]
mod imports;

/// Fails with every import cycle among the files `within` keeps, and who uses whom in each.
fn assert_no_cycles(label: &str, within: impl Fn(&Path) -> bool) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let krate = imports::Crate::load(&src);
    let cycles = krate.cycles(within);
    let show = |p: &PathBuf| p.strip_prefix(&src).unwrap_or(p).display().to_string();
    let report: Vec<String> = cycles
        .iter()
        .map(|files| {
            let uses: Vec<String> = krate
                .edges_among(files)
                .iter()
                .map(|(a, b)| format!("    {} -> {}", show(a), show(b)))
                .collect();
            format!("  {} files:\n{}", files.len(), uses.join("\n"))
        })
        .collect();
    assert!(cycles.is_empty(), "import cycles in {label}:\n{}", report.join("\n"));
}

/// The checker sees a circle closed by a call through a child module's path (`parse::load()`
/// beside `mod parse;`), planted in a fixture crate.
#[test]
fn the_cycle_checker_follows_child_module_paths() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/planted_cycle/src");
    let krate = imports::Crate::load(&src);
    let cycles = krate.cycles(|_| true);
    assert_eq!(cycles.len(), 1, "one circle");
    let mut names: Vec<String> = cycles[0]
        .iter()
        .map(|f| f.strip_prefix(&src).unwrap().display().to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["snapshot.rs", "view/mod.rs", "view/parse.rs"]);
}

#[test]
fn no_import_cycle_among_the_engine_files() {
    let engine = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join("engine");
    assert_no_cycles("src/engine", |f| f.starts_with(&engine));
}

#[test]
fn no_import_cycle_among_the_dashboard_files() {
    let tui = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join("tui");
    assert_no_cycles("src/tui", |f| f.starts_with(&tui));
}

#[test]
fn no_import_cycle_anywhere_in_the_library() {
    assert_no_cycles("src", |_| true);
}

#[test]
fn no_source_file_is_over_450_lines() {
    let mut files = Vec::new();
    rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let n = std::fs::read_to_string(f).unwrap().lines().count();
            (n > 450).then(|| format!("{}: {n} lines", f.display()))
        })
        .collect();
    assert!(
        long.is_empty(),
        "split these (a file holds one thing):\n{}",
        long.join("\n")
    );
}
