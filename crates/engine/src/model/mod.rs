//! Predicting hotness: features, labels from the future, a random forest, a heuristic baseline, honest evaluation.

pub mod dataset;
pub mod features;
pub mod forecast;
pub mod forest;
pub mod heuristic;
pub mod metrics;
pub mod training;

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::clock::Millis;
use crate::config::{ModelConfig, SlaConfig};
use crate::store::{Connection, StoreError, models};
use dataset::Sample;
use features::{N, StatsRow};
use forest::{Forest, ForestParams};
use metrics::{Metrics, evaluate};

/// Fewest training samples (and of each class) before the forest may serve.
pub const MIN_SAMPLES: usize = crate::config::MIN_TRAIN_SAMPLES;
pub const MIN_CLASS: usize = 20;

/// What serves p_hot and how well it did on the newest slice of history it never trained on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// "forest" or "heuristic".
    pub serving: String,
    pub trained_at: Option<Millis>,
    pub train_secs: f64,
    pub train_samples: usize,
    pub trees: usize,
    /// The forest on the holdout (the newest samples, after the training window).
    pub holdout: Option<Metrics>,
    /// The heuristic on the same holdout.
    pub heuristic_holdout: Option<Metrics>,
    /// Why the forest is not serving, when it is not.
    pub note: String,
    /// Accesses within the label horizon that made a training sample hot: `model.hot_k`, or
    /// fewer where too few objects reach it (a trace whose time scale leaves few accesses in a
    /// horizon), so both classes exist and the forest is trained and judged on every trace.
    #[serde(default)]
    pub label_k: u32,
    /// What forecasts future reads for the cost model (learned or the prior), why, and how well
    /// each was calibrated on held-out objects.
    #[serde(default)]
    pub forecast: forecast::ForecastInfo,
}

impl ModelInfo {
    /// Which model serves p_hot and why, in a person's words.
    pub fn serving_line(&self) -> String {
        match (&self.holdout, &self.heuristic_holdout) {
            (Some(f), Some(h)) if self.serving == "forest" => {
                format!("forest serving: PR-AUC {:.2} ≥ heuristic {:.2}", f.pr_auc, h.pr_auc)
            }
            (Some(f), Some(h)) => format!(
                "heuristic serving: forest PR-AUC {:.2} < heuristic {:.2}",
                f.pr_auc, h.pr_auc
            ),
            _ if self.note.is_empty() => format!("{} serving", self.serving),
            _ => format!("{} serving: {}", self.serving, self.note),
        }
    }
}

/// What `models.forest` holds: the forest and the learned forecast, either absent.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Persisted {
    forest: Option<Forest>,
    learned: Option<forecast::Learner>,
}

#[derive(Debug, Clone)]
pub struct Model {
    pub info: ModelInfo,
    forest: Option<Forest>,
    /// The learned forecast of reads, when it is better calibrated than the prior.
    learned: Option<forecast::Learner>,
    hot_k: u32,
    horizon_secs: f64,
}

pub fn matrix(xs: &[[f64; N]]) -> Array2<f64> {
    let mut a = Array2::zeros((xs.len(), N));
    for (i, x) in xs.iter().enumerate() {
        for (j, v) in x.iter().enumerate() {
            a[[i, j]] = *v;
        }
    }
    a
}

/// The label's k for `train`: `hot_k`, lowered (to 1 at least) until each class has
/// `MIN_CLASS` samples, so a trace with few repeated accesses in a horizon still has both.
fn label_k(train: &[&Sample], hot_k: u32) -> u32 {
    let mut k = hot_k.max(1);
    while k > 1 {
        let pos = train.iter().filter(|s| s.is_hot(k)).count();
        if pos >= MIN_CLASS && train.len() - pos >= MIN_CLASS {
            break;
        }
        k -= 1;
    }
    k
}

impl Model {
    /// The decayed-rate heuristic: serves until a forest has earned its place.
    pub fn heuristic(m: &ModelConfig, note: &str) -> Self {
        Self {
            info: ModelInfo {
                serving: "heuristic".into(),
                note: note.into(),
                label_k: m.hot_k,
                forecast: forecast::ForecastInfo::prior("not trained yet"),
                ..ModelInfo::default()
            },
            forest: None,
            learned: None,
            hot_k: m.hot_k,
            horizon_secs: m.horizon_secs as f64,
        }
    }

    pub fn is_forest(&self) -> bool {
        self.forest.is_some()
    }

    fn heuristic_p(&self, row: &StatsRow, t: Millis) -> f64 {
        heuristic::p_hot(row, t, self.hot_k, self.horizon_secs)
    }

    /// p_hot of each row at time `t`.
    pub fn p_hot(&self, rows: &[&StatsRow], t: Millis) -> Vec<f64> {
        match &self.forest {
            Some(f) => {
                let xs: Vec<[f64; N]> = rows.iter().map(|r| features::features(r, t)).collect();
                f.p_hot(&matrix(&xs))
            }
            None => rows.iter().map(|r| self.heuristic_p(r, t)).collect(),
        }
    }

    /// Trains on `samples` (oldest first) with a time-based holdout: the newest fifth is held out,
    /// and training uses only samples whose label window closed before the holdout begins.
    pub fn train(samples: &[Sample], m: &ModelConfig, sla: &SlaConfig, now: Millis, params: ForestParams) -> Self {
        let started = std::time::Instant::now();
        let h_ms = (m.horizon_secs * 1000) as Millis;
        if samples.len() < MIN_SAMPLES {
            return Self::heuristic(
                m,
                &format!("{} labelled samples so far, {MIN_SAMPLES} needed", samples.len()),
            );
        }
        let cut = samples[samples.len() * 4 / 5].ts;
        let train: Vec<&Sample> = samples.iter().filter(|s| s.ts + h_ms <= cut).collect();
        let hold: Vec<&Sample> = samples.iter().filter(|s| s.ts >= cut).collect();
        let k = label_k(&train, m.hot_k);
        let pos = train.iter().filter(|s| s.is_hot(k)).count();
        if train.len() < MIN_SAMPLES || pos < MIN_CLASS || train.len() - pos < MIN_CLASS || hold.is_empty() {
            return Self::heuristic(
                m,
                &format!(
                    "{} training samples with {pos} accessed {k}+ times in a horizon: not enough of each class yet",
                    train.len()
                ),
            );
        }
        let x = matrix(&train.iter().map(|s| s.x).collect::<Vec<_>>());
        let y: Vec<bool> = train.iter().map(|s| s.is_hot(k)).collect();
        let forest = match Forest::train(&x, &y, params) {
            Ok(f) => f,
            Err(e) => return Self::heuristic(m, &e.to_string()),
        };
        let hx = matrix(&hold.iter().map(|s| s.x).collect::<Vec<_>>());
        let hy: Vec<bool> = hold.iter().map(|s| s.is_hot(k)).collect();
        let p_forest = forest.p_hot(&hx);
        // The heuristic sees the same features' underlying rate: recover it from the 1 h feature.
        let p_heur: Vec<f64> = hold
            .iter()
            .map(|s| {
                let per_hour = s.x[0].exp_m1();
                heuristic::poisson_at_least(per_hour * m.horizon_secs as f64 / 3600.0, k)
            })
            .collect();
        let fm = evaluate(&p_forest, &hy, sla.hot_threshold);
        let hm = evaluate(&p_heur, &hy, sla.hot_threshold);
        let wins = fm.pr_auc >= hm.pr_auc;
        let info = ModelInfo {
            serving: if wins { "forest" } else { "heuristic" }.into(),
            trained_at: Some(now),
            train_secs: started.elapsed().as_secs_f64(),
            train_samples: train.len(),
            trees: forest.n_trees(),
            holdout: Some(fm.clone()),
            heuristic_holdout: Some(hm.clone()),
            note: if wins {
                String::new()
            } else {
                format!(
                    "forest PR-AUC {:.3} below the heuristic's {:.3} on the holdout",
                    fm.pr_auc, hm.pr_auc
                )
            },
            label_k: k,
            forecast: forecast::ForecastInfo::prior("not trained yet"),
        };
        Self {
            info,
            forest: wins.then_some(forest),
            learned: None,
            // The heuristic that serves in the forest's place predicts the same label it was judged on.
            hot_k: k,
            horizon_secs: m.horizon_secs as f64,
        }
    }

    /// Learns the forecast of reads from `obs` and serves it if it is better calibrated than
    /// `prior` on held-out objects.
    pub fn learn_forecast(&mut self, obs: &[forecast::Observed], prior: forecast::Prior<'_>) {
        let (learned, info) = forecast::fit(obs, prior);
        self.learned = learned;
        self.info.forecast = info;
    }

    /// The learned forecast, when it serves.
    pub fn learned(&self) -> Option<&forecast::Learner> {
        self.learned.as_ref()
    }

    /// Persists the model (keeping only the newest).
    pub fn save(&self, conn: &Connection) -> Result<(), StoreError> {
        let info = serde_json::to_string(&self.info).unwrap_or_default();
        let forest = serde_json::to_string(&Persisted {
            forest: self.forest.clone(),
            learned: self.learned.clone(),
        })
        .ok();
        models::save_model(conn, self.info.trained_at.unwrap_or(0), &info, forest.as_deref())
    }

    /// The last persisted model, if any.
    pub fn load(conn: &Connection, m: &ModelConfig) -> Result<Option<Self>, StoreError> {
        Ok(models::last_model(conn)?.and_then(|(info, forest)| {
            let info: ModelInfo = serde_json::from_str(&info).ok()?;
            // Models saved before the learned forecast hold the forest alone.
            let saved: Persisted = forest
                .and_then(|f| {
                    serde_json::from_str::<Persisted>(&f).ok().or_else(|| {
                        serde_json::from_str::<Forest>(&f).ok().map(|forest| Persisted {
                            forest: Some(forest),
                            learned: None,
                        })
                    })
                })
                .unwrap_or_default();
            let hot_k = if info.label_k > 0 { info.label_k } else { m.hot_k };
            Some(Self {
                info,
                forest: saved.forest,
                // Another build's cells mean other strata: the prior serves until the next training.
                learned: saved.learned.filter(|l| l.is_current()),
                hot_k,
                horizon_secs: m.horizon_secs as f64,
            })
        }))
    }
}
