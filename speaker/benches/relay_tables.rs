//! The stray relay's tables at scale: how long encoding and writing FerroLB's nftables tables
//! takes with N Service addresses (every decision that changes the addresses writes them whole).
//!
//! Runs in a network namespace of its own (created and removed here), so the machine's tables
//! are never touched. `cargo bench -p ferrolb-speaker --bench relay_tables -- [ADDRESSES] [ROUNDS]`
//! (defaults 10000, 20). Needs root and `ip`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::fs::File;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::AsFd;
use std::process::Command;
use std::time::{Duration, Instant};

use ferrolb_speaker::layer2::MacAddr;
use ferrolb_speaker::rawsock::enter_network_namespace;
use ferrolb_speaker::relay::ruleset::{FamilyRules, Target};
use ferrolb_speaker::relay::{self, Ruleset, nft};

fn arg(n: usize, default: usize) -> usize {
    std::env::args().filter(|a| !a.starts_with('-')).nth(n).and_then(|a| a.parse().ok()).unwrap_or(default)
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let addresses = arg(0, 10_000);
    let rounds = arg(1, 20).max(1);
    let ns = format!("flbrelaybench{}", std::process::id());
    let ok = Command::new("ip").args(["netns", "add", &ns]).status().is_ok_and(|s| s.success());
    assert!(ok, "cannot create a network namespace (run as root)");
    let result = std::thread::spawn({
        let ns = ns.clone();
        move || {
            let file = File::open(format!("/run/netns/{ns}")).expect("namespace");
            enter_network_namespace(file.as_fd()).expect("setns");
            // Half IPv4 (in 10.0.0.0/8 only inside this namespace), half IPv6.
            let v4: Vec<IpAddr> =
                (0..addresses / 2).map(|i| IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i as u32))).collect();
            let v6: Vec<IpAddr> = (0..addresses - addresses / 2)
                .map(|i| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0xf, 0, 0, 0, 0, i as u16)))
                .collect();
            let macs: BTreeSet<MacAddr> = (1..=9).map(|i| MacAddr([2, 0, 0, 0, 0, i])).collect();
            let targets = |base: IpAddr| vec![Target { ip: base, ifindex: 1 }];
            let ruleset = Ruleset {
                v4: FamilyRules {
                    vips: v4,
                    peer_macs: macs.clone(),
                    targets: targets("198.51.100.12".parse().unwrap()),
                },
                v6: FamilyRules { vips: v6, peer_macs: macs, targets: targets("2001:db8:1::12".parse().unwrap()) },
            };
            let mut encode = Vec::new();
            let mut write = Vec::new();
            let mut bytes = 0;
            for _ in 0..rounds {
                let t = Instant::now();
                let encoded = nft::replace(&ruleset, 1);
                encode.push(t.elapsed());
                bytes = encoded.bytes.len();
                let t = Instant::now();
                relay::install(&ruleset).expect("install");
                write.push(t.elapsed());
            }
            relay::remove().expect("remove");
            (encode, write, bytes)
        }
    })
    .join();
    let _ = Command::new("ip").args(["netns", "del", &ns]).status();
    let (mut encode, mut write, bytes) = result.expect("bench thread");
    encode.sort();
    write.sort();
    println!(
        "{addresses} addresses, {rounds} rounds, {} KiB a transaction: encode p50 {:?} max {:?}; write (encode + kernel) p50 {:?} p90 {:?} max {:?}",
        bytes / 1024,
        percentile(&encode, 0.5),
        encode[encode.len() - 1],
        percentile(&write, 0.5),
        percentile(&write, 0.9),
        write[write.len() - 1]
    );
}
