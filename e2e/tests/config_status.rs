//! Mistakes between objects, as the user sees them: the later object gets Accepted=False
//! within 2 s, naming the field and the other object, with an Event; fixing it flips it back.

use std::time::Duration;

use ferrolb_crds::{BGPPeer, IPAddressPool, L2Advertisement};
use ferrolb_e2e::wait_accepted;
use ferrolb_lab::{Lab, LabOptions};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

const WITHIN: Duration = Duration::from_secs(2);

async fn lab_with_controller() -> Result<Lab> {
    let lab = Lab::up(LabOptions { nodes: 1, ..LabOptions::for_test() }).await?;
    assert!(
        lab.record().daemons.iter().any(|d| d.name == "ferrolb-controller"),
        "the lab did not start ferrolb-controller: build it (cargo build --workspace)"
    );
    Ok(lab)
}

fn pool(name: &str, addresses: &str) -> String {
    format!(
        "apiVersion: ferrolb.io/v1beta1\nkind: IPAddressPool\nmetadata: {{name: {name}}}\nspec: {{addresses: [{addresses}]}}\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn an_overlapping_pool_is_flagged_and_recovers_when_fixed() -> Result {
    let mut lab = lab_with_controller().await?;
    lab.apply(&pool("first", "203.0.113.0/24"))?;
    let (c, took) = wait_accepted::<IPAddressPool>(&mut lab, "first", "True", WITHIN).await?;
    assert_eq!(c.reason, "Accepted");
    eprintln!("first pool accepted after {took:?}");

    lab.apply(&pool("second", "'198.51.100.0/28', '203.0.113.128/25'"))?;
    let (c, took) = wait_accepted::<IPAddressPool>(&mut lab, "second", "False", WITHIN).await?;
    eprintln!("overlapping pool refused after {took:?}: {}", c.message);
    assert_eq!(c.reason, "AddressesOverlap");
    assert!(c.message.contains("spec.addresses[1]") && c.message.contains("first"), "{}", c.message);
    // The pool that was there first keeps working.
    wait_accepted::<IPAddressPool>(&mut lab, "first", "True", WITHIN).await?;
    let events =
        lab.kubectl(&["get", "events", "-A", "--field-selector", "involvedObject.name=second", "-o", "wide"])?;
    assert!(events.contains("AddressesOverlap") && events.contains("Warning"), "{events}");

    lab.apply(&pool("second", "'198.51.100.0/28'"))?;
    let (_, took) = wait_accepted::<IPAddressPool>(&mut lab, "second", "True", WITHIN).await?;
    eprintln!("fixed pool accepted again after {took:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn references_to_missing_objects_are_flagged_until_they_exist() -> Result {
    let mut lab = lab_with_controller().await?;
    lab.apply("apiVersion: ferrolb.io/v1beta1\nkind: L2Advertisement\nmetadata: {name: l2}\nspec: {ipAddressPools: [later]}\n")?;
    let (c, _) = wait_accepted::<L2Advertisement>(&mut lab, "l2", "False", WITHIN).await?;
    assert_eq!(c.reason, "ReferenceNotFound");
    assert!(c.message.contains("spec.ipAddressPools[0]") && c.message.contains("later"), "{}", c.message);
    lab.apply(&pool("later", "198.51.100.200-198.51.100.250"))?;
    wait_accepted::<L2Advertisement>(&mut lab, "l2", "True", WITHIN).await?;

    // A peer whose password Secret does not exist yet.
    lab.apply(
        "apiVersion: ferrolb.io/v1beta1\nkind: BGPPeer\nmetadata: {name: router}\n\
         spec: {myASN: 64600, peerASN: 64512, peerAddress: 198.51.100.1, passwordSecret: {name: bgp-auth}}\n",
    )?;
    let (c, _) = wait_accepted::<BGPPeer>(&mut lab, "router", "False", WITHIN).await?;
    assert!(c.message.contains("spec.passwordSecret") && c.message.contains("bgp-auth"), "{}", c.message);
    lab.apply(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: bgp-auth, namespace: ferrolb-system}\n\
         type: kubernetes.io/basic-auth\nstringData: {password: s3cr3t}\n",
    )?;
    wait_accepted::<BGPPeer>(&mut lab, "router", "True", WITHIN).await?;
    Ok(())
}
