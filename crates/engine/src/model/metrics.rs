//! Honest evaluation: ROC-AUC, PR-AUC, Brier score, precision and recall at the decision threshold.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub samples: usize,
    pub positives: usize,
    pub roc_auc: f64,
    pub pr_auc: f64,
    pub brier: f64,
    pub precision: f64,
    pub recall: f64,
}

/// Metrics of scores `p` against labels `y` at decision threshold `threshold`.
pub fn evaluate(p: &[f64], y: &[bool], threshold: f64) -> Metrics {
    let n = p.len().min(y.len());
    let pos = y[..n].iter().filter(|v| **v).count();
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|a, b| p[*b].total_cmp(&p[*a]));
    // ROC-AUC by the rank statistic, with ties averaged; PR-AUC as average precision.
    let (mut tp, mut fp) = (0usize, 0usize);
    let (mut auc, mut ap) = (0.0, 0.0);
    let mut i = 0;
    while i < n {
        let mut j = i;
        let (mut dtp, mut dfp) = (0usize, 0usize);
        while j < n && p[idx[j]] == p[idx[i]] {
            if y[idx[j]] {
                dtp += 1
            } else {
                dfp += 1
            }
            j += 1;
        }
        auc += dfp as f64 * (tp as f64 + dtp as f64 / 2.0);
        tp += dtp;
        fp += dfp;
        if dtp > 0 {
            ap += dtp as f64 * (tp as f64 / (tp + fp) as f64);
        }
        i = j;
    }
    let neg = n - pos;
    let roc_auc = if pos > 0 && neg > 0 {
        auc / (pos as f64 * neg as f64)
    } else {
        0.5
    };
    let pr_auc = if pos > 0 { ap / pos as f64 } else { 0.0 };
    let brier = if n > 0 {
        (0..n)
            .map(|i| (p[i] - if y[i] { 1.0 } else { 0.0 }).powi(2))
            .sum::<f64>()
            / n as f64
    } else {
        0.0
    };
    let pred: Vec<bool> = (0..n).map(|i| p[i] >= threshold).collect();
    let tp_t = (0..n).filter(|i| pred[*i] && y[*i]).count();
    let pp = pred.iter().filter(|v| **v).count();
    Metrics {
        samples: n,
        positives: pos,
        roc_auc,
        pr_auc,
        brier,
        precision: if pp > 0 { tp_t as f64 / pp as f64 } else { 0.0 },
        recall: if pos > 0 { tp_t as f64 / pos as f64 } else { 0.0 },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_random_and_inverted_scores() {
        let y = [true, true, false, false];
        let m = evaluate(&[0.9, 0.8, 0.2, 0.1], &y, 0.5);
        assert_eq!((m.roc_auc, m.pr_auc, m.precision, m.recall), (1.0, 1.0, 1.0, 1.0));
        let m = evaluate(&[0.1, 0.2, 0.8, 0.9], &y, 0.5);
        assert_eq!(m.roc_auc, 0.0);
        let m = evaluate(&[0.5; 4], &y, 0.5);
        assert_eq!(m.roc_auc, 0.5);
        assert!((m.brier - 0.25).abs() < 1e-12);
    }
}
