//! Server-side SVG charts (plotters, SVG backend only): horizontal bar charts that read
//! without JavaScript. Labels are restricted to `[a-z0-9 +-]` before drawing, so no text from a
//! submission can reach the SVG markup.

use plotters::prelude::*;

/// A chart of the report, with a file name for the Markdown form.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    /// `verdicts`, `vectors`, `ecosystems`.
    pub name: &'static str,
    /// Caption and `alt` text.
    pub title: String,
    /// The SVG document.
    pub svg: String,
}

fn clean_label(label: &str) -> String {
    label
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '+'))
        .take(32)
        .collect()
}

/// Colours: this period, previous period.
const CURRENT: RGBColor = RGBColor(0x1f, 0x6f, 0xb2);
const PREVIOUS: RGBColor = RGBColor(0xb8, 0xc4, 0xd0);

/// Horizontal bars, one row per label; with `previous`, a thinner bar for the previous period
/// under each row's bar.
///
/// # Errors
/// When plotters fails to draw (a bug; the message names the chart).
pub fn bars(title: &str, rows: &[(String, u64, Option<u64>)]) -> Result<String, String> {
    let mut svg = String::new();
    let n = rows.len().max(1);
    let height = 60 + 28 * n as u32;
    {
        let root = SVGBackend::with_string(&mut svg, (640, height)).into_drawing_area();
        root.fill(&WHITE)
            .map_err(|e| format!("chart {title}: {e}"))?;
        let max = rows
            .iter()
            .map(|(_, c, p)| (*c).max(p.unwrap_or(0)))
            .max()
            .unwrap_or(0)
            .max(1);
        let labels: Vec<String> = rows.iter().map(|(l, _, _)| clean_label(l)).collect();
        let mut chart = ChartBuilder::on(&root)
            .caption(clean_label(title), ("sans-serif", 16))
            .margin(8)
            .x_label_area_size(24)
            .y_label_area_size(150)
            .build_cartesian_2d(0u64..max + max / 10 + 1, 0u32..n as u32)
            .map_err(|e| format!("chart {title}: {e}"))?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n)
            .y_label_formatter(&|y| {
                labels
                    .get(n.saturating_sub(1).saturating_sub(*y as usize))
                    .cloned()
                    .unwrap_or_default()
            })
            .x_labels(6)
            .draw()
            .map_err(|e| format!("chart {title}: {e}"))?;
        let top = n as u32 - 1;
        chart
            .draw_series(
                rows.iter()
                    .enumerate()
                    .flat_map(|(i, (_, current, previous))| {
                        let y = top - i as u32;
                        let mut bars = vec![Rectangle::new(
                            [(0, y), (*current, y + 1)],
                            CURRENT.filled(),
                        )];
                        if let Some(p) = previous {
                            bars[0] = Rectangle::new([(0, y), (*current, y + 1)], CURRENT.filled());
                            bars.push(Rectangle::new([(0, y), (*p, y)], PREVIOUS.stroke_width(4)));
                        }
                        bars
                    }),
            )
            .map_err(|e| format!("chart {title}: {e}"))?;
        root.present().map_err(|e| format!("chart {title}: {e}"))?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bar_chart_is_an_svg_without_style_attributes_or_script() {
        let svg = bars(
            "Attack vectors",
            &[("ci".into(), 12, Some(4)), ("<script>x".into(), 3, None)],
        )
        .unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..80]);
        assert!(svg.contains("ci"));
        assert!(!svg.contains("<script"));
        assert!(!svg.contains("style="), "{svg}");
    }

    #[test]
    fn an_empty_chart_still_draws() {
        assert!(bars("Verdicts", &[]).unwrap().contains("</svg>"));
    }
}
