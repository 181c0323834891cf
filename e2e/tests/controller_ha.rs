//! Two controller replicas: one leads; when it dies, the other takes over within 5 s and
//! keeps the configuration's status truthful; a replica told to stop hands over at once.

use std::time::{Duration, Instant};

use ferrolb_crds::IPAddressPool;
use ferrolb_e2e::wait_accepted;
use ferrolb_lab::{Lab, LabOptions};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

use ferrolb_e2e::controller_leader as holder;

async fn wait_holder(lab: &Lab, not: &str, timeout: Duration) -> Result<(String, Duration)> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        let h = holder(lab);
        if !h.is_empty() && h != not {
            return Ok((h, start.elapsed()));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("no replica other than {not:?} took the lease within {timeout:?} (holder: {:?})", holder(lab)).into())
}

fn pool(name: &str, cidr: &str) -> String {
    format!(
        "apiVersion: ferrolb.io/v1beta1\nkind: IPAddressPool\nmetadata: {{name: {name}}}\nspec: {{addresses: ['{cidr}']}}\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_standby_controller_takes_over_within_five_seconds() -> Result {
    let mut lab = Lab::up(LabOptions { nodes: 1, controllers: 2, ..LabOptions::for_test() }).await?;
    let (leader, _) = wait_holder(&lab, "", Duration::from_secs(15)).await?;
    let daemon =
        lab.record().daemons.iter().find(|d| d.name == leader).cloned().ok_or("the leader is no lab process")?;

    // The leader dies without a word.
    kill(Pid::from_raw(daemon.pid), Signal::SIGKILL)?;
    let died = Instant::now();
    lab.apply(&pool("a-first", "203.0.113.0/24"))?;
    lab.apply(&pool("b-second", "203.0.113.0/25"))?;
    let (new_leader, _) = wait_holder(&lab, &leader, Duration::from_secs(10)).await?;
    let verdict = wait_accepted::<IPAddressPool>(&mut lab, "b-second", "False", Duration::from_secs(10)).await;
    let Ok((c, _)) = verdict else {
        for d in lab.record().daemons.iter().filter(|d| d.name.starts_with("ferrolb-controller")) {
            let log = d.log_tail(2000);
            let ours: Vec<&str> = log
                .lines()
                .filter(|l| {
                    l.contains("ferrolb_controller")
                        || l.contains("ERROR")
                        || l.contains("kube_runtime")
                        || l.contains("kube_client")
                })
                .collect();
            eprintln!("--- {} (alive: {}):\n{}", d.name, d.alive(), ours.join("\n"));
        }
        return Err(verdict.err().unwrap_or_default().into());
    };
    let took = died.elapsed();
    eprintln!("{leader} killed; {new_leader} leads and judged the new pools {took:?} later");
    assert_eq!(c.reason, "AddressesOverlap");
    assert!(took < Duration::from_secs(5), "takeover took {took:?}");

    // Asked to stop, the new leader releases the lease and exits cleanly.
    let daemon = lab.record().daemons.iter().find(|d| d.name == new_leader).cloned().ok_or("no such process")?;
    kill(Pid::from_raw(daemon.pid), Signal::SIGTERM)?;
    let start = Instant::now();
    while daemon.alive() && start.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!daemon.alive(), "{new_leader} did not exit within 5 s of SIGTERM");
    assert_ne!(holder(&lab), new_leader, "the lease was not released");
    Ok(())
}
