//! `--chart FILE.png`: each policy's cumulative cost over trace time (plotters, bitmap backend).

use std::path::Path;
use std::sync::OnceLock;

use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use super::report::Report;

/// DejaVu Sans, vendored (assets/fonts/LICENSE-DejaVu): the chart's labels must not depend on the
/// fonts a machine happens to have.
const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

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
    let y_max = r
        .policies
        .iter()
        .flat_map(|p| p.cumulative_cost.iter().copied())
        .fold(0.0, f64::max)
        .max(1e-12)
        * 1.05;
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
        let points =
            std::iter::once((0.0, 0.0)).chain(r.curve_hours.iter().copied().zip(p.cumulative_cost.iter().copied()));
        chart
            .draw_series(LineSeries::new(points, style))
            .map_err(|e| err(e.to_string()))?
            .label(format!("{} (${})", p.policy, crate::format::money(p.total_cost)))
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
