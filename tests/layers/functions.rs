//! How long each function is, read from the source text: a `fn` line to the brace that closes
//! its body, with strings, characters and comments left out of the brace count. Functions inside
//! `#[cfg(test)]` modules are tests, not counted.

use std::path::Path;

/// A function: its name, the line it starts on, how many lines it spans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    pub name: String,
    pub line: usize,
    pub lines: usize,
}

/// The code of one line without its strings, characters and comments (`in_block`: inside a
/// `/* … */` that continues on the next line).
fn code_of(line: &str, in_block: &mut bool) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let mut in_str = false;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if *in_block {
            if c == '*' && next == Some('/') {
                *in_block = false;
                i += 1;
            }
        } else if in_str {
            if c == '\\' {
                i += 1;
            } else if c == '"' {
                in_str = false;
            }
        } else if c == '/' && next == Some('/') {
            break;
        } else if c == '/' && next == Some('*') {
            *in_block = true;
            i += 1;
        } else if c == '"' {
            in_str = true;
        } else if c == '\'' && char_literal_len(&chars[i..]).is_some() {
            i += char_literal_len(&chars[i..]).unwrap_or(1) - 1;
        } else {
            out.push(c);
        }
        i += 1;
    }
    out
}

/// The length of a character literal at the start of `s` (`'a'`, `'\n'`, `'{'`), not a lifetime.
fn char_literal_len(s: &[char]) -> Option<usize> {
    match s {
        ['\'', '\\', _, '\'', ..] => Some(4),
        ['\'', c, '\'', ..] if *c != '\\' => Some(3),
        ['\'', '\\', ..] => s.iter().skip(2).position(|c| *c == '\'').map(|p| p + 3),
        _ => None,
    }
}

/// The name of the function a line of code starts, if it does.
fn fn_name(code: &str) -> Option<String> {
    let mut words = code.split_whitespace().peekable();
    while let Some(w) = words.next() {
        match w {
            "pub" | "async" | "const" | "unsafe" | "extern" => continue,
            w if w.starts_with("pub(") => continue,
            "fn" => {
                let name: String = words
                    .next()?
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                return (!name.is_empty()).then_some(name);
            }
            _ => return None,
        }
    }
    None
}

/// Every function of the file at `path` outside test modules, with its length.
pub fn functions(path: &Path) -> Vec<Function> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = Vec::new();
    let (mut in_block, mut depth) = (false, 0usize);
    let mut test_attr = false;
    let mut test_depth: Option<usize> = None;
    let mut open: Option<(String, usize, usize)> = None;
    for (n, line) in text.lines().enumerate() {
        let code = code_of(line, &mut in_block);
        if test_depth.is_none() && code.trim_start().starts_with("#[cfg(test)]") {
            test_attr = true;
        }
        if open.is_none()
            && test_depth.is_none()
            && let Some(name) = fn_name(&code)
        {
            open = Some((name, n + 1, depth));
        }
        for c in code.chars() {
            match c {
                '{' => {
                    depth += 1;
                    if test_attr {
                        test_depth = Some(depth);
                        test_attr = false;
                    }
                }
                '}' => {
                    depth = depth.saturating_sub(1);
                    if test_depth.is_some_and(|t| depth < t) {
                        test_depth = None;
                    }
                    if let Some((name, line, _)) = open.take_if(|o| o.2 == depth) {
                        out.push(Function {
                            name,
                            line,
                            lines: n + 2 - line,
                        });
                    }
                }
                _ => {}
            }
        }
        // A declaration without a body (a trait's method) ends at its semicolon.
        if open.as_ref().is_some_and(|o| o.2 == depth) && code.trim_end().ends_with(';') {
            open = None;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_skip_strings_comments_and_test_modules() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.rs");
        std::fs::write(
            &p,
            "pub fn a() {\n    let s = \"}\"; // }\n    let c = '}';\n}\n\ntrait T {\n    fn b(&self);\n}\n\n\
             pub(crate) async fn c<'a>(x: &'a str) -> &'a str {\n    x\n}\n\n#[cfg(test)]\nmod tests {\n    fn d() {}\n}\n",
        )
        .unwrap();
        let f = functions(&p);
        let got: Vec<(&str, usize, usize)> = f.iter().map(|f| (f.name.as_str(), f.line, f.lines)).collect();
        assert_eq!(got, [("a", 1, 4), ("c", 10, 3)]);
    }
}
