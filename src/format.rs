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
    if v.abs() >= 100.0 {
        format!("${v:.0}")
    } else if v.abs() >= 0.1 {
        format!("${v:.2}")
    } else {
        format!("${v:.4}")
    }
}

/// Dollars in a table of costs to compare (replay): no sign, and the digits that tell policies
/// apart, for small and large sums alike.
pub fn money(x: f64) -> String {
    if x.abs() >= 100.0 {
        format!("{x:.2}")
    } else if x.abs() >= 1.0 {
        format!("{x:.4}")
    } else {
        format!("{x:.7}")
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
