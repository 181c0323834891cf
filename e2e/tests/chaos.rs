//! A short chaos run: every kind of fault once, Services and pools changing throughout, and not one
//! promise broken (`ferrolb-chaos` runs longer ones by hand; docs/reliability.md has their figures).

use std::time::Duration;

use ferrolb_e2e::chaos::run::{Options, run};

#[tokio::test(flavor = "multi_thread")]
async fn under_faults_no_address_is_lost_or_duplicated() {
    // Every fault kind comes once in 60 s (the schedule's unit tests check it for seeds 0..20).
    let options = Options { seed: 1, length: Duration::from_secs(60), verbose: true };
    let plan = ferrolb_e2e::chaos::schedule::schedule(options.seed, options.length);
    let kinds: std::collections::BTreeSet<&str> = plan.faults.iter().map(|f| f.fault.kind()).collect();
    assert_eq!(kinds.len(), 7, "seed 1 injects every kind of fault: {kinds:?}");
    let report = run(options).await.expect("the chaos run could not be carried out");
    eprintln!("{}", report.markdown());
    assert!(report.faults.len() >= 7, "{}", report.markdown());
    assert!(report.ops.values().sum::<usize>() >= 40, "{}", report.markdown());
    assert!(report.settle.is_some(), "never settled:\n{}", report.markdown());
    assert!(report.ok(), "promises broken:\n{}", report.markdown());
}
