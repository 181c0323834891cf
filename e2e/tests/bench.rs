//! The side-by-side benchmark's smoke run (`ferrolb-bench --smoke`): FerroLB and MetalLB each in
//! a fresh Layer2 lab, a few Services created, burst and deleted, so that the harness cannot rot.
//! The figures are printed, not judged: what is asserted is that both implementations were
//! measured the same way and every trial got its answer. The full run is by hand
//! (docs/benchmarks.md). Needs root and MetalLB's build (scripts/build-metallb, cached).

use ferrolb_e2e::bench::results::{FERROLB, METALLB};
use ferrolb_e2e::bench::run::{Options, run};

#[tokio::test(flavor = "multi_thread")]
async fn both_implementations_are_measured_by_the_same_scenarios() -> Result<(), String> {
    let results = run(&Options::smoke(), "ferrolb-bench --smoke (tests/bench.rs)").await?;
    println!("{}", results.markdown("."));
    for scenario in ["create-single", "create-burst-10", "delete-reuse", "idle-rss-controller", "idle-cpu-speaker"] {
        for implementation in [FERROLB, METALLB] {
            let figure = results
                .figures
                .iter()
                .find(|f| f.scenario == scenario && f.implementation == implementation)
                .ok_or(format!("no {scenario} figure for {implementation}"))?;
            assert_eq!(figure.failures, 0, "{implementation} {scenario}: {figure:?}");
            assert!(!figure.samples.is_empty(), "{implementation} {scenario}: {figure:?}");
        }
    }
    // Both got addresses from the same pool for the same trials, each within the scenario's timeout.
    let created: Vec<_> = results.figures.iter().filter(|f| f.scenario == "create-single").collect();
    assert!(created.iter().all(|f| f.samples.len() == 2 && f.samples.iter().all(|ms| *ms < 30_000.0)), "{created:?}");
    // A process of tens of MiB, not a dead one.
    for f in results.figures.iter().filter(|f| f.scenario.starts_with("idle-rss")) {
        assert!(f.samples.iter().all(|mib| *mib > 1.0), "{f:?}");
    }
    let table = results.table();
    assert!(table.lines().filter(|l| l.starts_with("| create")).all(|l| !l.contains("| – |")), "{table}");
    Ok(())
}
