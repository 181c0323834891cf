//! What a benchmark run found, as data (written to `results.json`) and as the report
//! (`docs/benchmarks.md` with its SVG plots). Pure: rendering touches no files.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::svg::{self, Line};

/// One measured quantity of one implementation in one scenario.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    /// Which scenario, e.g. `create-single`; figures of both implementations share it.
    pub scenario: String,
    /// What it measures, as the report's table says it.
    pub title: String,
    /// `FerroLB` or `MetalLB` (or a tuned variant's name).
    pub implementation: String,
    /// The unit of every sample: `ms`, `s`, `MiB`, `CPU s/min`.
    pub unit: String,
    /// One value per trial (one in all for a single figure like memory).
    pub samples: Vec<f64>,
    /// Trials that gave no value (the event did not happen within the scenario's timeout).
    pub failures: u32,
}

impl Figure {
    /// The `p` quantile (0 to 1) of the samples, nearest rank; None without samples.
    pub fn quantile(&self, p: f64) -> Option<f64> {
        let mut sorted = self.samples.clone();
        sorted.sort_by(f64::total_cmp);
        let last = sorted.len().checked_sub(1)?;
        sorted.get(((last as f64 * p).round() as usize).min(last)).copied()
    }
}

/// A value sampled over time, e.g. a controller's memory while 10,000 Services are created.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub scenario: String,
    pub title: String,
    pub implementation: String,
    pub unit: String,
    /// (seconds since the scenario began, value).
    pub points: Vec<(f64, f64)>,
}

/// The machine a run was made on, and its load.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    pub cores: usize,
    pub memory_gib: f64,
    pub kernel: String,
    pub load_before: String,
    pub load_after: String,
}

/// A whole run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Results {
    /// When it started (UTC, RFC 3339).
    pub started: String,
    /// The command line that made it.
    pub command: String,
    pub machine: Machine,
    /// FerroLB's commit, MetalLB's release, Go and the kernel.
    pub versions: BTreeMap<String, String>,
    pub figures: Vec<Figure>,
    pub series: Vec<Series>,
    /// What happened that a reader must know (a scenario skipped, a trial that timed out).
    pub notes: Vec<String>,
}

/// The two implementations compared, in the report's column order.
pub const FERROLB: &str = "FerroLB";
pub const METALLB: &str = "MetalLB";
/// MetalLB with memberlist tuned for fast failure detection (Layer2 scenarios only).
pub const METALLB_TUNED: &str = "MetalLB tuned";
/// FerroLB with BFD on its BGP sessions (BGP scenarios only).
pub const FERROLB_BFD: &str = "FerroLB + BFD";

impl Results {
    /// Scenarios in the order they were first measured.
    fn scenarios(&self) -> Vec<(&str, &str, &str)> {
        let mut seen: Vec<(&str, &str, &str)> = Vec::new();
        for f in &self.figures {
            if !seen.iter().any(|(s, _, _)| *s == f.scenario) {
                seen.push((&f.scenario, &f.title, &f.unit));
            }
        }
        seen
    }

    fn figure(&self, scenario: &str, implementation: &str) -> Option<&Figure> {
        self.figures.iter().find(|f| f.scenario == scenario && f.implementation == implementation)
    }

    /// The implementations measured, FerroLB first, then in the order they appear.
    fn implementations(&self) -> Vec<&str> {
        let mut names: Vec<&str> = vec![FERROLB];
        for f in &self.figures {
            if !names.contains(&f.implementation.as_str()) {
                names.push(&f.implementation);
            }
        }
        names
    }

    /// The report's table of figures: each scenario with every implementation's p50 and p99,
    /// trials and failures, and the ratio of FerroLB's median to each other's (below 1 means
    /// FerroLB is faster or smaller; "–" where either was not measured).
    pub fn table(&self) -> String {
        let names = self.implementations();
        let others: Vec<&str> = names.iter().copied().filter(|n| n.starts_with("MetalLB")).collect();
        let mut head = String::from("| scenario | unit |");
        let mut rule = String::from("|---|---|");
        for n in &names {
            head.push_str(&format!(" {n} p50 | {n} p99 |"));
            rule.push_str("---|---|");
        }
        head.push_str(" trials (failed) |");
        rule.push_str("---|");
        for n in &others {
            head.push_str(&format!(" FerroLB / {n} (p50) |"));
            rule.push_str("---|");
        }
        let mut out = format!("{head}\n{rule}\n");
        for (scenario, title, unit) in self.scenarios() {
            let figs: Vec<Option<&Figure>> = names.iter().map(|n| self.figure(scenario, n)).collect();
            let q = |fig: Option<&Figure>, p| fig.and_then(|fig| fig.quantile(p)).map_or("–".to_owned(), number);
            let mut row = format!("| {title} | {unit} |");
            for fig in &figs {
                row.push_str(&format!(" {} | {} |", q(*fig, 0.5), q(*fig, 0.99)));
            }
            let trials: Vec<String> = figs
                .iter()
                .map(|fig| {
                    fig.map_or("–".to_owned(), |fig| {
                        format!("{} ({})", fig.samples.len() as u32 + fig.failures, fig.failures)
                    })
                })
                .collect();
            row.push_str(&format!(" {} |", trials.join(" / ")));
            let ferrolb = figs[0].and_then(|f| f.quantile(0.5));
            for other in others.iter().map(|n| self.figure(scenario, n)) {
                let ratio = match (ferrolb, other.and_then(|m| m.quantile(0.5))) {
                    (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
                    (Some(0.0), Some(_)) => "1.00".to_owned(),
                    (Some(_), Some(_)) => "∞".to_owned(),
                    _ => "–".to_owned(),
                };
                row.push_str(&format!(" {ratio} |"));
            }
            out.push_str(&row);
            out.push('\n');
        }
        out
    }

    /// One plot per scenario with more than one sample per implementation (a CDF), and one per
    /// series scenario (values over time): (file name, SVG).
    pub fn plots(&self) -> Vec<(String, String)> {
        let mut plots = Vec::new();
        for (scenario, title, unit) in self.scenarios() {
            let lines: Vec<Line> = self
                .figures
                .iter()
                .filter(|f| f.scenario == scenario && f.samples.len() > 1)
                .map(|f| Line { label: f.implementation.clone(), points: svg::cdf(&f.samples) })
                .collect();
            if !lines.is_empty() {
                let svg = svg::chart(title, unit, "fraction of trials", &lines, true);
                plots.push((format!("{scenario}.svg"), svg));
            }
        }
        let mut series_scenarios: Vec<(&str, &str, &str)> = Vec::new();
        for s in &self.series {
            if !series_scenarios.iter().any(|(id, _, _)| *id == s.scenario) {
                series_scenarios.push((&s.scenario, &s.title, &s.unit));
            }
        }
        for (scenario, title, unit) in series_scenarios {
            let lines: Vec<Line> = self
                .series
                .iter()
                .filter(|s| s.scenario == scenario)
                .map(|s| Line { label: s.implementation.clone(), points: s.points.clone() })
                .collect();
            plots.push((format!("{scenario}.svg"), svg::chart(title, "seconds", unit, &lines, false)));
        }
        plots
    }

    /// The figures part of the report (machine, versions, table, plots, notes), in Markdown;
    /// `plot_dir` is where the SVGs sit relative to the report.
    pub fn markdown(&self, plot_dir: &str) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "Run of {} on {} cores, {:.0} GiB, kernel {}; load average before {}, after {}.\n\n",
            self.started,
            self.machine.cores,
            self.machine.memory_gib,
            self.machine.kernel,
            self.machine.load_before,
            self.machine.load_after
        ));
        out.push_str(&format!("Command: `{}`\n\n", self.command));
        out.push_str("Versions: ");
        out.push_str(&self.versions.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", "));
        out.push_str(".\n\n");
        out.push_str(&self.table());
        if !self.notes.is_empty() {
            out.push_str("\nNotes from the run:\n\n");
            for n in &self.notes {
                out.push_str(&format!("- {n}\n"));
            }
        }
        out.push('\n');
        for (file, _) in self.plots() {
            let name = file.trim_end_matches(".svg");
            out.push_str(&format!("![{name}]({plot_dir}/{file})\n"));
        }
        out
    }
}

/// A figure for a table: three significant digits at most, thousands separated.
pub fn number(v: f64) -> String {
    if v >= 100.0 {
        let whole = v.round() as u64;
        let digits = whole.to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figure(scenario: &str, implementation: &str, samples: &[f64], failures: u32) -> Figure {
        Figure {
            scenario: scenario.into(),
            title: format!("{scenario} title"),
            implementation: implementation.into(),
            unit: "ms".into(),
            samples: samples.to_vec(),
            failures,
        }
    }

    #[test]
    fn quantiles_are_nearest_rank() {
        let f = figure("a", FERROLB, &[5.0, 1.0, 3.0, 2.0, 4.0], 0);
        assert_eq!(f.quantile(0.5), Some(3.0));
        assert_eq!(f.quantile(0.99), Some(5.0));
        assert_eq!(figure("a", FERROLB, &[], 2).quantile(0.5), None);
    }

    #[test]
    fn the_table_puts_both_implementations_on_one_row_with_the_ratio_of_medians() {
        let results = Results {
            figures: vec![
                figure("create", FERROLB, &[10.0, 20.0, 30.0], 0),
                figure("create", METALLB, &[40.0, 40.0], 1),
                figure("failover", METALLB, &[6000.0], 0),
            ],
            ..Results::default()
        };
        let table = results.table();
        assert!(
            table.starts_with("| scenario | unit | FerroLB p50 | FerroLB p99 | MetalLB p50 | MetalLB p99 |"),
            "{table}"
        );
        assert!(table.contains("| create title | ms | 20.0 | 30.0 | 40.0 | 40.0 | 3 (0) / 3 (1) | 0.50 |"), "{table}");
        assert!(table.contains("| failover title | ms | – | – | 6,000 | 6,000 | – / 1 (0) | – |"), "{table}");
        let with_tuned = Results {
            figures: vec![figure("create", FERROLB, &[10.0], 0), figure("create", METALLB_TUNED, &[5.0], 0)],
            ..Results::default()
        };
        let table = with_tuned.table();
        assert!(table.contains("FerroLB / MetalLB tuned (p50)") && table.contains("| 2.00 |"), "{table}");
        let with_bfd = Results {
            figures: vec![figure("cut", FERROLB, &[3000.0], 0), figure("cut", FERROLB_BFD, &[300.0], 0)],
            ..Results::default()
        };
        let table = with_bfd.table();
        assert!(table.contains("FerroLB + BFD p50") && !table.contains("FerroLB / FerroLB"), "{table}");
    }

    #[test]
    fn plots_are_cdfs_of_multi_sample_figures_and_series_over_time() {
        let results = Results {
            figures: vec![figure("create", FERROLB, &[1.0, 2.0], 0), figure("rss", FERROLB, &[30.0], 0)],
            series: vec![Series {
                scenario: "memory".into(),
                title: "controller memory".into(),
                implementation: FERROLB.into(),
                unit: "MiB".into(),
                points: vec![(0.0, 10.0), (1.0, 12.0)],
            }],
            ..Results::default()
        };
        let names: Vec<String> = results.plots().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, vec!["create.svg".to_owned(), "memory.svg".to_owned()]);
        assert!(results.markdown("benchmarks").contains("![create](benchmarks/create.svg)"));
    }

    #[test]
    fn numbers_keep_three_significant_digits() {
        assert_eq!(number(1234.4), "1,234");
        assert_eq!(number(12.345), "12.3");
        assert_eq!(number(0.256), "0.26");
        assert_eq!(number(1_000_000.0), "1,000,000");
    }
}
