//! `--chart FILE.png`: each policy's cumulative cost over trace time (plotters, bitmap backend).

use std::path::Path;
use std::sync::OnceLock;

use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use super::report::Report;

/// DejaVu Sans, vendored (assets/fonts/LICENSE-DejaVu): the chart's labels must not depend on the
/// fonts a machine happens to have.
const FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

#[derive(Debug, thiserror::Error)]
#[error("cannot draw the chart {path}: {message}")]
pub struct ChartError {
    pub path: String,
    pub message: String,
}

fn font() -> Result<(), String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            register_font("sans-serif", FontStyle::Normal, FONT)
                .map_err(|_| "the embedded font is unusable".to_string())
        })
        .clone()
}

pub fn draw(r: &Report, path: &Path) -> Result<(), ChartError> {
    let err = |e: String| ChartError {
        path: path.display().to_string(),
        message: e,
    };
    font().map_err(err)?;
    // Plotters would say this in its Debug form only after drawing everything.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty() && !d.is_dir()) {
        return Err(err(format!(
            "the folder {} does not exist: create it, or give --chart a path in an existing folder",
            dir.display()
        )));
    }
    let root = BitMapBackend::new(path, (1280, 720)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let x_max = r.curve_hours.last().copied().unwrap_or(1.0).max(1e-9);
    let totals: Vec<(&str, f64)> = r.policies.iter().map(|p| (p.policy.as_str(), p.total_cost)).collect();
    let y_max = y_max(&totals);
    // Enough decimals to tell the axis labels apart, no more.
    let decimals = (2 - y_max.log10().floor() as i32).clamp(2, 9) as usize;
    let title = format!(
        "Cumulative cost per policy — {} events, {} objects, time scale {}",
        r.events, r.objects, r.time_scale
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(96)
        .build_cartesian_2d(0.0..x_max, 0.0..y_max)
        .map_err(|e| err(e.to_string()))?;
    chart
        .configure_mesh()
        .x_desc("trace time (hours)")
        .y_desc("cost so far ($)")
        .y_label_formatter(&|v| format!("${v:.decimals$}"))
        .label_style(("sans-serif", 15))
        .draw()
        .map_err(|e| err(e.to_string()))?;
    for (k, p) in r.policies.iter().enumerate() {
        let color = Palette99::pick(k).to_rgba();
        let width = if p.policy == "dim" || super::policy::ORACLES.contains(&p.policy.as_str()) {
            3
        } else {
            2
        };
        let style = ShapeStyle::from(&color).stroke_width(width);
        // A policy far above the rest runs along the top edge, its total in the legend.
        let points = std::iter::once((0.0, 0.0)).chain(
            r.curve_hours
                .iter()
                .copied()
                .zip(p.cumulative_cost.iter().map(|c| c.min(y_max))),
        );
        let off = if p.total_cost > y_max { ", off the chart" } else { "" };
        chart
            .draw_series(LineSeries::new(points, style))
            .map_err(|e| err(e.to_string()))?
            .label(format!("{} (${}{off})", p.policy, crate::format::money(p.total_cost)))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 15))
        .draw()
        .map_err(|e| err(e.to_string()))?;
    root.present().map_err(|e| err(e.to_string()))?;
    Ok(())
}

/// How far from the cheapest policy a curve may end and still set the axis: beyond it (all-cold
/// at 60× the rest, say) the curves that decide "which saves most" would lie flat on the floor.
const RELEVANT_WITHIN: f64 = 3.0;

/// The cost axis's top: every policy within `RELEVANT_WITHIN` of the cheapest, dim and the
/// oracles always, with a margin above.
fn y_max(totals: &[(&str, f64)]) -> f64 {
    let best = totals.iter().map(|t| t.1).fold(f64::INFINITY, f64::min);
    totals
        .iter()
        .filter(|(name, total)| {
            *total <= best * RELEVANT_WITHIN || *name == "dim" || super::policy::ORACLES.contains(name)
        })
        .map(|t| t.1)
        .fold(0.0, f64::max)
        .max(1e-12)
        * 1.05
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As on the EPA trace: all-cold costs 66× the rest; the axis is scaled to the rest, so
    /// dim, the oracles and the rules are told apart.
    #[test]
    fn the_axis_is_scaled_to_the_policies_that_matter() {
        let totals = [
            ("dim", 0.0259),
            ("oracle", 0.0238),
            ("oracle-landing", 0.0251),
            ("intelligent-tiering", 0.0262),
            ("all-hot", 0.0271),
            ("all-cold", 1.65),
        ];
        let top = y_max(&totals);
        assert!((0.0271..0.03).contains(&top), "{top}");
        // dim is kept on the chart however far it is from the best rule.
        assert!(y_max(&[("dim", 1.0), ("lru", 0.1)]) >= 1.0);
    }
}
