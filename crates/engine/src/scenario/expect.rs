//! Expectations: `FIGURE OP VALUE` comparisons (`migrations.failed == 0`, `cost.monthly_after <= cost.monthly_before`).

use serde::{Deserialize, Serialize};

use super::figures::{Figure, Track};
use crate::audit::Audit;
use crate::snapshot::Snapshot;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    Ge,
    Le,
    Gt,
    Lt,
    Eq,
    Ne,
}

/// Longest first, so `>=` is not read as `>`.
const OPS: &[(&str, Op)] = &[
    (">=", Op::Ge),
    ("<=", Op::Le),
    ("==", Op::Eq),
    ("!=", Op::Ne),
    (">", Op::Gt),
    ("<", Op::Lt),
];

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Figure(Figure),
    Number(f64),
}

/// One comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub left: Figure,
    pub op: Op,
    pub right: Operand,
}

impl Check {
    /// Parses `text`; on error, what is wrong and what to do.
    pub fn parse(text: &str, tiers: &[String]) -> Result<Self, (String, String)> {
        let found = OPS.iter().find_map(|(sym, op)| text.find(sym).map(|i| (i, *sym, *op)));
        let Some((i, sym, op)) = found else {
            return Err((
                format!("`{text}` has no comparison"),
                "write FIGURE OP VALUE with OP one of >= <= == != > <, e.g. `migrations.failed == 0`".into(),
            ));
        };
        let (l, r) = (text[..i].trim(), text[i + sym.len()..].trim());
        if l.is_empty() || r.is_empty() {
            return Err((
                format!("`{text}` needs a figure on the left and a value on the right"),
                "e.g. `migrations.done >= 50` or `cost.monthly_after <= cost.monthly_before`".into(),
            ));
        }
        let left = Figure::parse(l, tiers)?;
        let right = match number(r) {
            Some(v) => Operand::Number(v),
            None if r.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.') => {
                return Err((
                    format!("`{r}` is not a number"),
                    "write a number (1000, 0.8, 1e6) or a size (50MB, 1.5GiB)".into(),
                ));
            }
            None => Operand::Figure(Figure::parse(r, tiers)?),
        };
        Ok(Check { left, op, right })
    }

    /// True for checks that can only be measured at the end.
    pub fn end_only(&self) -> bool {
        self.left.end_only() || matches!(&self.right, Operand::Figure(f) if f.end_only())
    }

    /// Both sides' values and whether the comparison holds (never when a side has no value yet).
    pub fn eval(&self, s: &Snapshot, track: &Track, audit: Option<&Audit>) -> (Option<f64>, Option<f64>, bool) {
        let left = self.left.value(s, track, audit);
        let right = match &self.right {
            Operand::Number(v) => Some(*v),
            Operand::Figure(f) => f.value(s, track, audit),
        };
        let ok = match (left, right) {
            (Some(a), Some(b)) => match self.op {
                Op::Ge => a >= b,
                Op::Le => a <= b,
                Op::Gt => a > b,
                Op::Lt => a < b,
                Op::Eq => (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0),
                Op::Ne => (a - b).abs() > 1e-9 * a.abs().max(b.abs()).max(1.0),
            },
            _ => false,
        };
        (left, right, ok)
    }
}

/// A plain number (underscores allowed) or a size such as `50MB`.
fn number(s: &str) -> Option<f64> {
    let plain = s.replace('_', "");
    if let Ok(v) = plain.parse::<f64>() {
        return v.is_finite().then_some(v);
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        return s.parse::<bytesize::ByteSize>().ok().map(|b| b.as_u64() as f64);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiers() -> Vec<String> {
        vec!["aws-hot".into(), "azure-cool".into()]
    }

    #[test]
    fn parses_figures_numbers_and_sizes() {
        let c = Check::parse("migrations.done >= 50", &tiers()).unwrap();
        assert_eq!(c.op, Op::Ge);
        assert_eq!(c.right, Operand::Number(50.0));
        let c = Check::parse("tier.aws-hot.bytes<=50MB", &tiers()).unwrap();
        assert_eq!(c.right, Operand::Number(50e6));
        let c = Check::parse("cost.monthly_after <= cost.monthly_before", &tiers()).unwrap();
        assert_eq!(c.right, Operand::Figure(Figure::Global("cost.monthly_before")));
        assert!(Check::parse("objects.lost == 0", &tiers()).unwrap().end_only());
    }

    #[test]
    fn explains_what_is_wrong() {
        let (m, h) = Check::parse("migrations.don >= 50", &tiers()).unwrap_err();
        assert_eq!(m, "unknown figure `migrations.don`");
        assert!(h.contains("did you mean `migrations.done`?"), "{h}");
        let (m, h) = Check::parse("tier.aws-hto.bytes > 0", &tiers()).unwrap_err();
        assert_eq!(m, "unknown tier `aws-hto` in `tier.aws-hto.bytes`");
        assert!(h.contains("`aws-hot`"), "{h}");
        let (m, _) = Check::parse("retries 3", &tiers()).unwrap_err();
        assert_eq!(m, "`retries 3` has no comparison");
        let (m, _) = Check::parse("retries >= 3x", &tiers()).unwrap_err();
        assert_eq!(m, "`3x` is not a number");
        let (m, _) = Check::parse(">= 3", &tiers()).unwrap_err();
        assert!(m.contains("needs a figure on the left"), "{m}");
    }
}
