//! Encoding 10,000 IPv4 and 10,000 IPv6 host prefixes into UPDATEs (what a speaker sends when a
//! session comes up with many Services).

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use criterion::{Criterion, criterion_group, criterion_main};
use ferrolb_bgp::codec::{Community, Ipv6NextHop, LargeCommunity, Prefix, RouteAttributes, encode_announcements};

fn prefixes() -> Vec<Prefix> {
    let v4 = (0..10_000u32).map(|i| Prefix::host(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i))));
    let v6_base = u128::from(Ipv6Addr::new(0x2001, 0xdb8, 0x100, 0, 0, 0, 0, 0));
    let v6 = (0..10_000u128).map(|i| Prefix::host(IpAddr::V6(Ipv6Addr::from(v6_base + i))));
    v4.chain(v6).collect()
}

fn attributes() -> RouteAttributes {
    let next_hop = Ipv6NextHop { global: Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), link_local: None };
    let mut attributes = RouteAttributes::new(vec![64600], Some(Ipv4Addr::new(192, 0, 2, 1)), Some(next_hop));
    attributes.communities = vec![Community::new(64600, 100)];
    attributes.large_communities = vec![LargeCommunity { global_admin: 64600, local_data1: 1, local_data2: 2 }];
    attributes
}

fn encode(c: &mut Criterion) {
    let prefixes = prefixes();
    let attributes = attributes();
    let mut out = Vec::with_capacity(256 * 1024);
    let count = encode_announcements(&attributes, &prefixes, &mut out).unwrap_or(0);
    println!("20,000 host prefixes -> {count} UPDATEs, {} octets", out.len());
    c.bench_function("encode 10k IPv4 + 10k IPv6 host prefixes", |b| {
        b.iter(|| {
            out.clear();
            black_box(encode_announcements(black_box(&attributes), black_box(&prefixes), &mut out).unwrap_or(0))
        })
    });
}

criterion_group!(benches, encode);
criterion_main!(benches);
