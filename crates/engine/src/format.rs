//! How numbers read wherever dim prints them: bytes, counts, dollars and engine time, shared by
//! the dashboard's panes, the replay report, `dim status` and `dim explain`.

/// Bytes in binary units with one decimal: `1.5 MiB`.
pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = b as f64;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Dollars at a glance (the dashboard): `$1234`, `$1.25`, `$0.0042` — enough digits to see small
/// demo amounts.
pub fn dollars(v: f64) -> String {
    format!("${}", with_digits(v, [(100.0, 0), (0.1, 2)], 4))
}

/// Dollars in a table of costs to compare (replay): no sign, and the digits that tell policies
/// apart, for small and large sums alike.
pub fn money(x: f64) -> String {
    with_digits(x, [(100.0, 2), (1.0, 4)], 7)
}

/// `x` with the decimals of the first `(at least, decimals)` its size reaches, else `small`.
fn with_digits(x: f64, steps: [(f64, usize); 2], small: usize) -> String {
    let digits = steps.iter().find(|(min, _)| x.abs() >= *min).map_or(small, |s| s.1);
    format!("{x:.digits$}")
}

/// A span of hours as people say it: `1 h`, `6 h`, `1 d`, `7 d`, `365 d`.
pub fn hours(h: f64) -> String {
    if h < 24.0 {
        format!("{h:.0} h")
    } else {
        format!("{:.0} d", h / 24.0)
    }
}

/// Engine time as `YYYY-MM-DD HH:MM`.
pub fn engine_time(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .ok()
        .and_then(|t| {
            t.format(&time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]"
            ))
            .ok()
        })
        .unwrap_or_else(|| ms.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_and_money_keep_the_digits_that_matter() {
        assert_eq!(dollars(1234.4), "$1234");
        assert_eq!(dollars(1.254), "$1.25");
        assert_eq!(dollars(0.00421), "$0.0042");
        assert_eq!(money(123.456), "123.46");
        assert_eq!(money(2.06861), "2.0686");
        assert_eq!(money(0.02507462), "0.0250746");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(
            (hours(6.0), hours(168.0), hours(8760.0)),
            ("6 h".into(), "7 d".into(), "365 d".into())
        );
    }
}
