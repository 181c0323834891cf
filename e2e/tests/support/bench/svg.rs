//! Plots for the benchmark report, as SVG text: latency CDFs and values over time, one line per
//! implementation. Hand-written (a few hundred bytes of markup per plot) rather than a plotting
//! crate: the report needs two kinds of chart, and these render in any browser and on GitHub.

use std::fmt::Write;

/// Width and height of every plot, in SVG user units.
const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 360.0;
/// Room around the plotting area for axes and labels.
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;
/// One colour per line, in the order lines are given (FerroLB first, MetalLB second).
const COLOURS: [&str; 4] = ["#d9480f", "#1c7ed6", "#2f9e44", "#7048e8"];

/// One line of a plot: its label and its points (x, y) in data units.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// A line chart: axes from zero (or the data's minimum) to a rounded maximum, grid lines,
/// a legend, and one polyline per line.
pub fn chart(title: &str, x_label: &str, y_label: &str, lines: &[Line], step: bool) -> String {
    let all = || lines.iter().flat_map(|l| l.points.iter());
    let x_max = nice_ceiling(all().map(|p| p.0).fold(0.0, f64::max));
    let y_max = nice_ceiling(all().map(|p| p.1).fold(0.0, f64::max));
    let (plot_w, plot_h) = (WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
    let x = |v: f64| LEFT + v / x_max * plot_w;
    let y = |v: f64| TOP + plot_h - v / y_max * plot_h;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="14">{}</text>"#,
        WIDTH / 2.0,
        escape(title)
    );
    for i in 0..=4 {
        let f = f64::from(i) / 4.0;
        let (gx, gy) = (x(f * x_max), y(f * y_max));
        let _ = writeln!(
            svg,
            r##"<line x1="{gx:.1}" y1="{TOP}" x2="{gx:.1}" y2="{:.1}" stroke="#ddd"/><text x="{gx:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            TOP + plot_h,
            TOP + plot_h + 16.0,
            label(f * x_max)
        );
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" y1="{gy:.1}" x2="{:.1}" y2="{gy:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            LEFT + plot_w,
            LEFT - 6.0,
            gy + 4.0,
            label(f * y_max)
        );
    }
    let _ =
        writeln!(svg, r##"<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#444"/>"##);
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
        LEFT + plot_w / 2.0,
        HEIGHT - 10.0,
        escape(x_label)
    );
    let _ = writeln!(
        svg,
        r#"<text x="16" y="{:.1}" text-anchor="middle" transform="rotate(-90 16 {:.1})">{}</text>"#,
        TOP + plot_h / 2.0,
        TOP + plot_h / 2.0,
        escape(y_label)
    );
    for (i, line) in lines.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let mut path = String::new();
        let mut previous: Option<(f64, f64)> = None;
        for &(px, py) in &line.points {
            if step && let Some((_, last_y)) = previous {
                let _ = write!(path, "{:.1},{:.1} ", x(px), y(last_y));
            }
            let _ = write!(path, "{:.1},{:.1} ", x(px), y(py));
            previous = Some((px, py));
        }
        let _ =
            writeln!(svg, r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#, path.trim_end());
        let ly = TOP + 16.0 + 18.0 * i as f64;
        let _ = writeln!(
            svg,
            r#"<line x1="{:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{colour}" stroke-width="3"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            LEFT + plot_w - 150.0,
            LEFT + plot_w - 130.0,
            LEFT + plot_w - 124.0,
            ly + 4.0,
            escape(&line.label)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// The empirical CDF of `samples` (any unit) as points: (value, fraction at or below it).
pub fn cdf(samples: &[f64]) -> Vec<(f64, f64)> {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len() as f64;
    let mut points = vec![(0.0, 0.0)];
    points.extend(sorted.iter().enumerate().map(|(i, v)| (*v, (i + 1) as f64 / n)));
    points
}

/// The smallest of 1, 2, 2.5, 5 times a power of ten that is at least `v` (1 for nothing).
pub fn nice_ceiling(v: f64) -> f64 {
    if !(v.is_finite() && v > 0.0) {
        return 1.0;
    }
    let power = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * power).find(|c| *c >= v * 0.999_999).unwrap_or(10.0 * power)
}

/// An axis label: no more digits than it needs.
fn label(v: f64) -> String {
    if v == v.trunc() {
        format!("{v:.0}")
    } else if (v * 10.0) == (v * 10.0).trunc() {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_are_round_and_not_below_the_value() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(3.2), 5.0);
        assert_eq!(nice_ceiling(20.0), 20.0);
        assert_eq!(nice_ceiling(21.0), 25.0);
        assert_eq!(nice_ceiling(730.0), 1000.0);
        assert_eq!(nice_ceiling(0.07), 0.1);
    }

    #[test]
    fn a_cdf_climbs_from_zero_to_one_in_value_order() {
        let points = cdf(&[30.0, 10.0, 20.0, 40.0]);
        assert_eq!(points, vec![(0.0, 0.0), (10.0, 0.25), (20.0, 0.5), (30.0, 0.75), (40.0, 1.0)]);
    }

    #[test]
    fn a_chart_draws_one_line_per_series_inside_the_frame_and_names_it() {
        let lines = vec![
            Line { label: "FerroLB".into(), points: cdf(&[1.0, 2.0]) },
            Line { label: "MetalLB <native>".into(), points: cdf(&[3.0, 9.0]) },
        ];
        let svg = chart("create -> EXTERNAL-IP", "ms", "fraction", &lines, true);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains("MetalLB &lt;native&gt;") && svg.contains("create -&gt; EXTERNAL-IP"));
        // Every point lies inside the plotting area.
        for points in svg.split("points=\"").skip(1).map(|s| s.split('"').next().unwrap_or_default()) {
            for p in points.split_whitespace() {
                let (px, py) = p.split_once(',').unwrap_or_default();
                let (px, py): (f64, f64) = (px.parse().unwrap_or(-1.0), py.parse().unwrap_or(-1.0));
                assert!((LEFT..=WIDTH - RIGHT).contains(&px) && (TOP..=HEIGHT - BOTTOM).contains(&py), "{p}");
            }
        }
    }
}
