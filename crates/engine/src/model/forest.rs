//! A random forest of bagged decision trees (linfa-trees): p_hot is the share of trees voting hot.

use linfa::prelude::*;
use linfa_trees::DecisionTree;
use ndarray::{Array1, Array2, Axis};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Forest {
    /// Each tree with the feature columns it was trained on.
    trees: Vec<(DecisionTree<f64, usize>, Vec<usize>)>,
    n_features: usize,
}

#[derive(Debug, Clone, Copy)]
pub struct ForestParams {
    pub trees: usize,
    pub max_depth: usize,
    pub min_leaf: f32,
    /// Rows drawn (with replacement) per tree, as a share of the training set.
    pub bootstrap: f64,
    /// Features per tree, as a share of all.
    pub features: f64,
    pub seed: u64,
}

impl Default for ForestParams {
    fn default() -> Self {
        Self {
            trees: 25,
            max_depth: 10,
            min_leaf: 4.0,
            bootstrap: 0.6,
            features: 0.7,
            seed: 7,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("training failed: {0}")]
pub struct TrainError(String);

impl Forest {
    /// Trains on `x` (rows × features) and labels `y`; needs both classes present.
    pub fn train(x: &Array2<f64>, y: &[bool], p: ForestParams) -> Result<Self, TrainError> {
        let n = x.nrows();
        let nf = x.ncols();
        if n == 0 || !y.contains(&true) || !y.contains(&false) {
            return Err(TrainError("need hot and cold samples".into()));
        }
        let mut rng = StdRng::seed_from_u64(p.seed);
        let per_tree = ((n as f64 * p.bootstrap) as usize).max(1);
        let k = ((nf as f64 * p.features).ceil() as usize).clamp(1, nf);
        let mut trees = Vec::with_capacity(p.trees);
        for _ in 0..p.trees {
            let rows: Vec<usize> = (0..per_tree).map(|_| rng.random_range(0..n)).collect();
            let mut cols: Vec<usize> = (0..nf).collect();
            for i in (1..nf).rev() {
                let j = rng.random_range(0..=i);
                cols.swap(i, j);
            }
            cols.truncate(k);
            cols.sort_unstable();
            let xs = x.select(Axis(0), &rows).select(Axis(1), &cols);
            let ys: Array1<usize> = rows.iter().map(|r| usize::from(y[*r])).collect();
            // Both classes must appear in a tree's sample; a degenerate draw is skipped.
            if !ys.iter().any(|v| *v == 1) || !ys.iter().any(|v| *v == 0) {
                continue;
            }
            let tree = DecisionTree::params()
                .max_depth(Some(p.max_depth))
                .min_weight_leaf(p.min_leaf)
                .fit(&Dataset::new(xs, ys))
                .map_err(|e| TrainError(e.to_string()))?;
            trees.push((tree, cols));
        }
        if trees.is_empty() {
            return Err(TrainError("no tree could be trained".into()));
        }
        Ok(Self { trees, n_features: nf })
    }

    pub fn n_trees(&self) -> usize {
        self.trees.len()
    }

    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// p_hot per row: the share of trees voting hot.
    pub fn p_hot(&self, x: &Array2<f64>) -> Vec<f64> {
        let mut votes = vec![0usize; x.nrows()];
        for (tree, cols) in &self.trees {
            let pred: Array1<usize> = tree.predict(&x.select(Axis(1), cols));
            for (v, p) in votes.iter_mut().zip(pred.iter()) {
                *v += *p;
            }
        }
        let t = self.trees.len().max(1) as f64;
        votes.into_iter().map(|v| v as f64 / t).collect()
    }
}
