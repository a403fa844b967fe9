//! SVG plots of the report (plotters' SVG backend with its built-in font metrics, so no
//! system font library is needed): accuracy vs dimension per data-set family with 95 %
//! confidence bands, and a critical-difference diagram of the average ranks.

use super::report::Analysis;
use crate::error::{Error, Result};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::{Path, PathBuf};

fn plot_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Io {
        path: path.display().to_string(),
        message: format!("drawing the plot: {e}"),
    }
}

/// Writes `accuracy_<family>.svg` for every family and `critical_difference.svg` (when the
/// Friedman test ran) into `dir`; returns the files.
pub fn write_plots(dir: &Path, analysis: &Analysis) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut families: Vec<String> = Vec::new();
    for s in &analysis.per_dataset {
        if !families.contains(&s.family) {
            families.push(s.family.clone());
        }
    }
    for family in &families {
        let path = dir.join(format!("accuracy_{family}.svg"));
        accuracy_plot(&path, family, analysis)?;
        files.push(path);
    }
    if let (Some(f), Some(cd)) = (&analysis.friedman, analysis.critical_difference) {
        let path = dir.join("critical_difference.svg");
        cd_diagram(&path, &analysis.models, &f.average_ranks, cd)?;
        files.push(path);
    }
    Ok(files)
}

fn accuracy_plot(path: &Path, family: &str, analysis: &Analysis) -> Result<()> {
    let rows: Vec<_> = analysis
        .per_dataset
        .iter()
        .filter(|s| s.family == family)
        .collect();
    let dims: Vec<usize> = rows.iter().map(|s| s.dimension).collect();
    let (lo, hi) = (
        dims.iter().copied().min().unwrap_or(1) as f64,
        dims.iter().copied().max().unwrap_or(1) as f64,
    );
    let (x0, x1) = if hi > lo {
        (lo, hi)
    } else {
        (lo - 1.0, hi + 1.0)
    };
    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_err(path, e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("{family}: test accuracy vs dimension (95 % CI)"),
            ("sans-serif", 22),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(x0..x1, 0.0..1.05)
        .map_err(|e| plot_err(path, e))?;
    chart
        .configure_mesh()
        .x_desc("dimension")
        .y_desc("accuracy")
        .draw()
        .map_err(|e| plot_err(path, e))?;
    for (i, model) in analysis.models.iter().enumerate() {
        let mut pts: Vec<_> = rows.iter().filter(|s| &s.model == model).collect();
        pts.sort_by_key(|s| s.dimension);
        if pts.is_empty() {
            continue;
        }
        let color = Palette99::pick(i).to_rgba();
        let quantum = pts[0].quantum;
        let mut band: Vec<(f64, f64)> = pts
            .iter()
            .map(|s| (s.dimension as f64, s.accuracy.high.min(1.05)))
            .collect();
        band.extend(
            pts.iter()
                .rev()
                .map(|s| (s.dimension as f64, s.accuracy.low.max(0.0))),
        );
        chart
            .draw_series(std::iter::once(Polygon::new(band, color.mix(0.12))))
            .map_err(|e| plot_err(path, e))?;
        let line: Vec<(f64, f64)> = pts
            .iter()
            .map(|s| (s.dimension as f64, s.accuracy.mean))
            .collect();
        let style = if quantum {
            color.stroke_width(2)
        } else {
            color.stroke_width(4)
        };
        chart
            .draw_series(LineSeries::new(line.clone(), style))
            .map_err(|e| plot_err(path, e))?
            .label(model.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
        chart
            .draw_series(
                line.iter()
                    .map(|&(x, y)| Circle::new((x, y), 3, color.filled())),
            )
            .map_err(|e| plot_err(path, e))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| plot_err(path, e))?;
    root.present().map_err(|e| plot_err(path, e))
}

/// Demšar's critical-difference diagram: the rank axis (1 = best, on the left), every model
/// at its average rank, the CD as a bar, and thick lines joining groups of models whose
/// ranks differ by less than the CD (not significantly different).
fn cd_diagram(path: &Path, models: &[String], ranks: &[f64], cd: f64) -> Result<()> {
    let k = models.len();
    let (w, h) = (900i32, 130 + 22 * k.div_ceil(2) as i32);
    let root = SVGBackend::new(path, (w as u32, h as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_err(path, e))?;
    let (left, right, axis_y) = (150i32, w - 150, 70i32);
    let x_of = |r: f64| left + ((r - 1.0) / (k.max(2) - 1) as f64 * (right - left) as f64) as i32;
    let text = |s: &str, x: i32, y: i32, anchor: HPos| {
        Text::new(
            s.to_string(),
            (x, y),
            ("sans-serif", 14)
                .into_font()
                .into_text_style(&root)
                .pos(Pos::new(anchor, VPos::Center)),
        )
    };
    let draw = |e: std::result::Result<(), DrawingAreaErrorKind<std::io::Error>>| {
        e.map_err(|e| plot_err(path, e))
    };
    draw(root.draw(&PathElement::new(
        vec![(left, axis_y), (right, axis_y)],
        BLACK.stroke_width(2),
    )))?;
    for r in 1..=k {
        let x = x_of(r as f64);
        draw(root.draw(&PathElement::new(vec![(x, axis_y - 6), (x, axis_y)], BLACK)))?;
        draw(root.draw(&text(&r.to_string(), x, axis_y - 16, HPos::Center)))?;
    }
    // CD bar.
    let cd_x = x_of(1.0 + cd.min((k - 1) as f64));
    draw(root.draw(&PathElement::new(
        vec![(left, 22), (cd_x, 22)],
        RED.stroke_width(3),
    )))?;
    draw(root.draw(&text(&format!("CD = {cd:.2}"), cd_x + 8, 22, HPos::Left)))?;
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| ranks[a].total_cmp(&ranks[b]));
    let half = k.div_ceil(2);
    for (pos, &i) in order.iter().enumerate() {
        let x = x_of(ranks[i]);
        let y = axis_y + 40 + 22 * (if pos < half { pos } else { k - 1 - pos }) as i32;
        let (end, anchor) = if pos < half {
            (left - 10, HPos::Right)
        } else {
            (right + 10, HPos::Left)
        };
        draw(root.draw(&PathElement::new(
            vec![(x, axis_y), (x, y), (end, y)],
            BLACK,
        )))?;
        draw(root.draw(&text(
            &format!("{} ({:.2})", models[i], ranks[i]),
            end + if pos < half { -4 } else { 4 },
            y,
            anchor,
        )))?;
    }
    // Cliques: maximal runs of sorted ranks spanning less than the CD.
    let mut cliques: Vec<(usize, usize)> = Vec::new();
    for a in 0..k {
        let mut b = a;
        while b + 1 < k && ranks[order[b + 1]] - ranks[order[a]] < cd {
            b += 1;
        }
        if b > a && !cliques.iter().any(|&(p, q)| p <= a && q >= b) {
            cliques.push((a, b));
        }
    }
    for (n, &(a, b)) in cliques.iter().enumerate() {
        let y = axis_y + 12 + 7 * (n as i32 % 4);
        draw(root.draw(&PathElement::new(
            vec![
                (x_of(ranks[order[a]]) - 3, y),
                (x_of(ranks[order[b]]) + 3, y),
            ],
            BLACK.stroke_width(4),
        )))?;
    }
    root.present().map_err(|e| plot_err(path, e))
}
