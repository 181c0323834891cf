//! The `ferrolb` binary as a user runs it: `ferrolb migrate` on files, on standard input, and
//! on input it cannot migrate.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use ferrolb_cli::yaml::{parse_document, split_documents};
use serde_json::Value;

fn fixture_path(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Runs `ferrolb ARGS`, writing `stdin` to its standard input.
fn ferrolb(args: &[&str], stdin: impl AsRef<[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferrolb"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ferrolb starts");
    child.stdin.take().expect("stdin is piped").write_all(stdin.as_ref()).expect("stdin takes the input");
    child.wait_with_output().expect("ferrolb ends")
}

fn documents(stdout: &[u8]) -> Vec<Value> {
    let text = std::str::from_utf8(stdout).expect("output is UTF-8");
    split_documents(text).iter().map(|d| parse_document(d).expect("output parses").expect("not empty")).collect()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn migrates_a_file_to_yaml_on_stdout() {
    let output = ferrolb(&["migrate", &fixture_path("metallb/bgppeers.yaml")], "");
    assert!(output.status.success(), "{}", stderr(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.starts_with("# from: BGPPeer/router (") && text.contains("bgppeers.yaml#1)\n"), "{text}");
    assert!(text.contains("# ferrolb migrate: BGPPeer/router-secret: spec.passwordSecret.namespace is set to "));
    assert!(text.contains("dualStackAddressFamily: true"), "{text}");
    let docs = documents(&output.stdout);
    assert_eq!(docs.len(), 4);
    assert!(docs.iter().all(|d| d["apiVersion"] == "ferrolb.io/v1beta1" && d["kind"] == "BGPPeer"));
    assert_eq!(docs[0]["spec"]["peerAddress"], "198.51.100.1");
}

#[test]
fn migrates_stdin_when_given_no_file_or_a_dash() {
    let input = std::fs::read_to_string(fixture_path("metallb/legacy-configmap.yaml")).expect("fixture reads");
    for args in [&["migrate"][..], &["migrate", "-"]] {
        let output = ferrolb(args, &input);
        assert!(output.status.success(), "{}", stderr(&output));
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(text.starts_with("# from: ConfigMap/config (<stdin>#1)\n"), "{text}");
        let docs = documents(&output.stdout);
        assert_eq!(docs.len(), 11);
        assert_eq!(docs[0]["kind"], "IPAddressPool");
    }
}

#[test]
fn several_files_are_migrated_in_order() {
    let (pools, ads) = (fixture_path("metallb/ipaddresspools.yaml"), fixture_path("metallb/l2advertisements.yaml"));
    let output = ferrolb(&["migrate", &pools, &ads], "");
    assert!(output.status.success(), "{}", stderr(&output));
    let kinds: Vec<Value> = documents(&output.stdout).iter().map(|d| d["kind"].clone()).collect();
    assert_eq!(kinds, ["IPAddressPool"; 4].into_iter().chain(["L2Advertisement"; 3]).collect::<Vec<_>>());
}

#[test]
fn malformed_yaml_exits_2_naming_the_file_and_document_and_writes_nothing() {
    let path = fixture_path("malformed/broken.yaml");
    let output = ferrolb(&["migrate", &path], "");
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(output.stdout.is_empty(), "nothing is written when an input is broken");
    let message = stderr(&output);
    assert!(message.contains(&format!("{path}: document 2 is not valid YAML: line 13, column")), "{message}");
    assert!(!message.contains("panicked"), "{message}");

    let output = ferrolb(&["migrate"], "a: 1\n---\nb: [\n");
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("<stdin>: document 2 is not valid YAML: line 3"), "{}", stderr(&output));
}

#[test]
fn an_unreadable_file_exits_2_naming_it() {
    let output = ferrolb(&["migrate", "/nonexistent/pools.yaml"], "");
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("cannot read /nonexistent/pools.yaml"), "{}", stderr(&output));
}

#[test]
fn input_that_is_not_utf8_or_has_wrong_types_exits_2_without_panicking() {
    let output = ferrolb(&["migrate"], b"kind: IPAddressPool\nname: \xff\xfe\n");
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("cannot read standard input"), "{}", stderr(&output));

    let output = ferrolb(&["migrate"], "apiVersion: metallb.io/v1beta1\nkind: AddressPool\nspec:\n  protocol: [bgp]\n");
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("<stdin>: document 1 (AddressPool/<unnamed>): spec.protocol should be a string"));
}

#[test]
fn explain_service_has_help_naming_its_options() {
    for args in [&["explain", "--help"][..], &["explain", "service", "--help"]] {
        let output = ferrolb(args, "");
        assert!(output.status.success(), "{}", stderr(&output));
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(text.contains("service"), "{text}");
    }
    let output = ferrolb(&["explain", "service", "--help"], "");
    let text = String::from_utf8_lossy(&output.stdout);
    for option in ["<NAME>", "--namespace", "-n", "--kubeconfig"] {
        assert!(text.contains(option), "{option} missing from:\n{text}");
    }
}

#[test]
fn explain_with_a_missing_kubeconfig_exits_1_naming_it() {
    let output = ferrolb(&["explain", "service", "web", "--kubeconfig", "/nonexistent/kubeconfig"], "");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(output.stdout.is_empty());
    assert!(
        stderr(&output).contains("cannot load the Kubernetes configuration from /nonexistent/kubeconfig"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn explain_with_an_unreachable_cluster_exits_1_naming_the_server_and_the_kubeconfig() {
    let dir = std::env::temp_dir().join(format!("ferrolb-explain-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let kubeconfig = dir.join("kubeconfig");
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"https://127.0.0.1:1\"}\n\
         users:\n- name: u\n  user: {token: t}\ncontexts:\n- name: x\n  context: {cluster: c, user: u, namespace: team-a}\n\
         current-context: x\n",
    )
    .expect("kubeconfig written");
    let path = kubeconfig.display().to_string();
    let output = ferrolb(&["explain", "service", "web", "--kubeconfig", &path], "");
    std::fs::remove_dir_all(&dir).ok();

    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains(&format!("cannot reach the cluster at https://127.0.0.1:1/ (kubeconfig: {path})")),
        "{message}"
    );
    assert!(!message.contains("panicked"), "{message}");
}
