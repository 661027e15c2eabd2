//! Near-miss suggestions for names a user mistyped (colours, themes, keymap actions).

/// The candidate closest to `word`, if it is close enough to be a likely typo: one edit or
/// swap away (`fro` → `for`), else the best Jaro-Winkler match.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let candidates: Vec<&'a str> = candidates.into_iter().collect();
    if word.chars().count() >= 3
        && let Some(c) = candidates
            .iter()
            .filter(|c| strsim::damerau_levenshtein(word, c) == 1)
            .max_by(|a, b| strsim::jaro_winkler(word, a).total_cmp(&strsim::jaro_winkler(word, b)))
    {
        return Some(c);
    }
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .filter(|(score, _)| *score > 0.7)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn suggests_only_likely_typos() {
        assert_eq!(closest("qiut", ["quit", "help"]), Some("quit"));
        assert_eq!(closest("redd", ["red", "green"]), Some("red"));
        assert_eq!(closest("zzzzzz", ["quit", "help"]), None);
        assert_eq!(closest("fro", ["at", "do", "objects", "for"]), Some("for"));
    }
}
