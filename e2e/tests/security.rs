//! What FerroLB's programs may do, and what they never say.
//!
//! 1. Each ServiceAccount can do exactly what docs/operations.md lists (its permissions table):
//!    the apiserver's answer to `kubectl auth can-i --list`, less what any authenticated user
//!    may do, compared with the table. An extra verb fails, a missing one too.
//! 2. Secrets stay secret: with a BGP session keyed by a TCP MD5 password from a Secret and
//!    the speakers' member key in use, neither appears in any log line of the controller or the
//!    speakers, in any Event, in the status of any object, or on the metrics and health ports.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use ferrolb_e2e::{host_prefix, ips, lb_service, ready, repo, wait_ingress, wait_nexthops};
use ferrolb_lab::{Lab, LabOptions, Mode};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

const NS: &str = "ferrolb-system";
const SOON: Duration = Duration::from_secs(30);

/// One permission: (scope, resource, resource name or "", verb).
type Grant = (String, String, String, String);

/// The rows of `kubectl auth can-i --list` as (resource, name, verb), non-resource URLs left out.
fn parse_can_i(out: &str) -> BTreeSet<(String, String, String)> {
    let mut grants = BTreeSet::new();
    for line in out.lines().skip(1) {
        if line.starts_with(' ') {
            continue; // a non-resource URL
        }
        let cols: Vec<&str> = line.split("  ").map(str::trim).filter(|c| !c.is_empty()).collect();
        let [resource, _urls, names, verbs] = cols[..] else { continue };
        let list = |s: &str| -> Vec<String> {
            s.trim_matches(['[', ']']).split_whitespace().map(str::to_owned).collect::<Vec<_>>()
        };
        let names = list(names);
        for verb in list(verbs) {
            if names.is_empty() {
                grants.insert((resource.to_owned(), String::new(), verb.clone()));
            }
            for name in &names {
                grants.insert((resource.to_owned(), name.clone(), verb.clone()));
            }
        }
    }
    grants
}

/// What `account` may do in `namespace`, beyond what a ServiceAccount with no bindings may.
fn can_i(lab: &Lab, account: &str, namespace: &str) -> Result<BTreeSet<(String, String, String)>> {
    let ask = |who: &str| -> Result<BTreeSet<(String, String, String)>> {
        Ok(parse_can_i(&lab.kubectl(&["auth", "can-i", "--list", &format!("--as={who}"), "-n", namespace])?))
    };
    let everyone = ask("system:serviceaccount:default:default")?;
    Ok(ask(&format!("system:serviceaccount:{NS}:{account}"))?.difference(&everyone).cloned().collect())
}

/// The permissions table of docs/operations.md, expanded to one grant per resource and verb.
fn documented() -> Result<BTreeSet<Grant>> {
    let doc = std::fs::read_to_string(repo().join("docs/operations.md"))?;
    let table = doc.split("<!-- permissions:").nth(1).ok_or("docs/operations.md has no permissions table")?;
    let mut grants = BTreeSet::new();
    for row in table.lines().skip(3).take_while(|l| l.starts_with('|')) {
        let cols: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
        let [account, scope, resources, names, verbs, _why] = cols[..] else {
            return Err(format!("a row of the permissions table has not six columns: {row}").into());
        };
        for resource in resources.split(',').map(str::trim) {
            for verb in verbs.split(',').map(str::trim) {
                let names: Vec<&str> =
                    if names.is_empty() { vec![""] } else { names.split(',').map(str::trim).collect() };
                for name in names {
                    let scope = format!("{account} {scope}");
                    grants.insert((scope, resource.to_owned(), name.to_owned(), verb.to_owned()));
                }
            }
        }
    }
    Ok(grants)
}

/// What the apiserver grants, in the table's terms: `cluster` for what holds in a namespace
/// other than FerroLB's, `ferrolb-system` for what holds only there.
fn granted(lab: &Lab) -> Result<BTreeSet<Grant>> {
    let mut grants = BTreeSet::new();
    for (account, short) in [("ferrolb-controller", "controller"), ("ferrolb-speaker", "speaker")] {
        let cluster = can_i(lab, account, "default")?;
        let own = can_i(lab, account, NS)?;
        for (scope, set) in [("cluster", cluster.clone()), (NS, own.difference(&cluster).cloned().collect())] {
            for (resource, name, verb) in set {
                grants.insert((format!("{short} {scope}"), resource, name, verb));
            }
        }
    }
    Ok(grants)
}

#[tokio::test(flavor = "multi_thread")]
async fn service_accounts_can_do_exactly_what_the_docs_list() -> Result {
    let lab = Lab::up(LabOptions { nodes: 1, ..LabOptions::for_test() }).await?;
    let (granted, documented) = (granted(&lab)?, documented()?);
    // Not vacuous: both sides hold every rule (about a hundred grants each).
    assert!(granted.len() > 50 && documented.len() > 50, "{} granted, {} documented", granted.len(), documented.len());
    let extra: Vec<&Grant> = granted.difference(&documented).collect();
    let missing: Vec<&Grant> = documented.difference(&granted).collect();
    assert!(extra.is_empty(), "granted but not in docs/operations.md: {extra:#?}");
    assert!(missing.is_empty(), "in docs/operations.md but not granted: {missing:#?}");
    // Spelled out, what a compromised speaker cannot do.
    let speaker = format!("--as=system:serviceaccount:{NS}:ferrolb-speaker");
    for (verb, resource) in [
        ("patch", "services"),
        ("update", "services"),
        ("patch", "services/status"),
        ("delete", "services"),
        ("patch", "ipaddresspools.ferrolb.io"),
        ("update", "l2advertisements.ferrolb.io"),
        ("delete", "bgppeers.ferrolb.io"),
        ("get", "secrets"),
        ("patch", "nodes"),
    ] {
        let ns = if resource == "secrets" { "default" } else { NS };
        // can-i answers "no" on stdout and exits 1.
        let out = std::process::Command::new(lab.kubectl_binary())
            .arg("--kubeconfig")
            .arg(lab.kubeconfig())
            .args(["auth", "can-i", verb, resource, &speaker, "-n", ns])
            .output()?;
        let answer = String::from_utf8_lossy(&out.stdout);
        assert!(answer.trim_end().ends_with("no"), "the speaker may {verb} {resource} in {ns}: {answer}");
    }
    lab.down()?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn passwords_and_member_keys_appear_in_no_log_event_status_or_metric() -> Result {
    const PASSWORD: &str = "pw-9c1e7d0b55a3";
    let mut lab = Lab::up(LabOptions { nodes: 2, mode: Mode::Bgp, ..LabOptions::for_test() }).await?;
    let lines = ["router bgp 64512".to_owned()]
        .into_iter()
        .chain(["198.51.100.11", "198.51.100.12"].iter().map(|n| format!("neighbor {n} password {PASSWORD}")))
        .collect::<Vec<_>>();
    lab.frr_configure(&lines.iter().map(String::as_str).collect::<Vec<_>>())?;
    lab.apply(&format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: router-password, namespace: {NS}}}\n\
         type: kubernetes.io/basic-auth\nstringData: {{password: {PASSWORD}}}\n---\n\
         apiVersion: ferrolb.io/v1beta1\nkind: BGPPeer\nmetadata: {{name: router}}\n\
         spec: {{myASN: 64600, peerASN: 64512, peerAddress: 198.51.100.1, holdTime: 3s, keepaliveTime: 1s,\n\
                passwordSecret: {{name: router-password}}}}\n---\n\
         apiVersion: ferrolb.io/v1beta1\nkind: IPAddressPool\nmetadata: {{name: bgp}}\nspec: {{addresses: [203.0.113.0/24]}}\n---\n\
         apiVersion: ferrolb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {{name: bgp}}\nspec: {{ipAddressPools: [bgp]}}\n"
    ))?;
    lab.apply(&lb_service("web", 80, "", ""))?;
    lab.backends("default", "web", &ready(&["node1", "node2"])).await?;
    let ip = wait_ingress(&mut lab, "default", "web", 1, SOON).await?.0[0];
    // The sessions are up with the password: the secret was used, not just stored.
    wait_nexthops(&lab, &host_prefix(ip), &ips(&["198.51.100.11", "198.51.100.12"]), SOON).await?;

    // The member key, as the speakers read it, and both secrets as base64 (a Secret's data).
    let key = lab.kubectl(&[
        "get",
        "secret",
        "-n",
        NS,
        "ferrolb-memberlist",
        "-o",
        "go-template={{.data.secretkey | base64decode}}",
    ])?;
    let key_b64 =
        lab.kubectl(&["get", "secret", "-n", NS, "ferrolb-memberlist", "-o", "jsonpath={.data.secretkey}"])?;
    let password_b64 =
        lab.kubectl(&["get", "secret", "-n", NS, "router-password", "-o", "jsonpath={.data.password}"])?;
    assert!(key.trim().len() >= 16, "member key too short to search for: {key:?}");
    let needles = [
        ("the BGP password", PASSWORD.to_owned()),
        ("the BGP password, base64", password_b64.trim().to_owned()),
        ("the member key", key.trim().to_owned()),
        ("the member key, base64", key_b64.trim().to_owned()),
    ];

    // Let the programs run a while (a resync, a few session keepalives), then look everywhere.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut haystacks: Vec<(String, String)> = Vec::new();
    for entry in std::fs::read_dir(lab.state_dir().join("logs"))? {
        let path = entry?.path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if name.starts_with("ferrolb-") {
            haystacks.push((format!("log {name}"), std::fs::read_to_string(&path)?));
        }
    }
    assert!(haystacks.len() >= 3, "expected the controller's and two speakers' logs: {:?}", haystacks.len());
    haystacks.push(("Events".into(), lab.kubectl(&["get", "events", "-A", "-o", "yaml"])?));
    let kinds = "ipaddresspools,l2advertisements,bgpadvertisements,bgppeers,bfdprofiles,communities,\
                 servicel2statuses,servicebgpstatuses,services,leases";
    haystacks.push(("objects and their status".into(), lab.kubectl(&["get", kinds, "-A", "-o", "yaml"])?));
    for (host, port) in [("cp", 7472), ("node1", 7473), ("node2", 7473)] {
        for path in ["metrics", "healthz", "readyz"] {
            let url = format!("http://127.0.0.1:{port}/{path}");
            if let Ok(body) = lab.exec_ok(host, &["curl", "-sS", "--max-time", "3", &url]) {
                haystacks.push((format!("{url} on {host}"), body));
            }
        }
    }
    // The search finds what is there: the Secrets themselves hold the base64 forms.
    let secrets = lab.kubectl(&["get", "secrets", "-n", NS, "-o", "yaml"])?;
    assert!(needles.iter().filter(|(what, _)| what.ends_with("base64")).all(|(_, n)| secrets.contains(n.as_str())));
    let metrics = haystacks.iter().filter(|(w, b)| w.contains("/metrics") && b.contains("ferrolb_")).count();
    assert!(metrics >= 2, "the controller's and the speakers' metrics were not read");
    let started = Instant::now();
    for (what, text) in &haystacks {
        for (secret, needle) in &needles {
            assert!(!text.contains(needle.as_str()), "{secret} appears in {what}");
        }
    }
    eprintln!("searched {} outputs for {} secrets in {:?}", haystacks.len(), needles.len(), started.elapsed());
    lab.down()?;
    Ok(())
}
