//! Allocator throughput, single-threaded.
//!
//! - `slash16`: every address of one /16 pool assigned, one Service at a time, then every Service
//!   deleted (the budget: under one second).
//! - `pools100`: 10,000 Services over 100 pools (half selecting namespaces by priority, half
//!   general), a quarter of them sharing addresses by key.
//!
//! Run: `cargo bench -p ferrolb-controller --bench allocator -- --warm-up-time 1 --measurement-time 3`

// A panic in a benchmark is a failed benchmark.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use ferrolb_controller::allocator::{Allocator, Port, ServiceKey, ServiceSpec};
use ferrolb_core::annotations::SharingKey;
use ferrolb_core::config::{Allocation, Pool};

fn pool(name: String, range: &str, allocation: Option<Allocation>) -> (String, Pool) {
    let pool = Pool {
        name: name.clone(),
        labels: BTreeMap::new(),
        ranges: vec![range.parse().unwrap()],
        auto_assign: true,
        avoid_buggy_ips: false,
        allocation,
    };
    (name, pool)
}

fn slash16(c: &mut Criterion) {
    let pools: BTreeMap<String, Pool> = [pool("big".into(), "10.20.0.0/16", None)].into();
    let specs: Vec<ServiceSpec> =
        (0..65_536).map(|i| ServiceSpec::new(ServiceKey::new("bench", format!("svc-{i}")))).collect();
    c.bench_function("slash16: assign 65536 then release 65536", |b| {
        b.iter_batched(
            || Allocator::new(&pools),
            |mut alloc| {
                for spec in &specs {
                    black_box(alloc.apply(spec).unwrap());
                }
                assert_eq!(alloc.usage("big").unwrap().v4.available, 0);
                for spec in &specs {
                    black_box(alloc.delete(&spec.key));
                }
                alloc
            },
            BatchSize::PerIteration,
        )
    });
}

fn pools100(c: &mut Criterion) {
    let pools: BTreeMap<String, Pool> = (0..100)
        .map(|i| {
            let allocation = (i % 2 == 0).then(|| Allocation {
                priority: (i % 3 != 0).then_some(i % 5),
                namespaces: vec![format!("team{}", i % 20)],
                namespace_selectors: Vec::new(),
                service_selectors: Vec::new(),
            });
            pool(format!("pool-{i:03}"), &format!("10.{i}.0.0/24"), allocation)
        })
        .collect();
    let specs: Vec<ServiceSpec> = (0..10_000u16)
        .map(|i| {
            let mut spec = ServiceSpec::new(ServiceKey::new(format!("team{}", i % 20), format!("svc-{i}")));
            spec.ports = vec![Port::tcp(i)];
            if i % 4 == 0 {
                spec.request.sharing_key = Some(SharingKey::new(format!("key-{}", i % 50)).unwrap());
            }
            spec
        })
        .collect();
    c.bench_function("pools100: assign 10000 services over 100 pools", |b| {
        b.iter_batched(
            || Allocator::new(&pools),
            |mut alloc| {
                for spec in &specs {
                    black_box(alloc.apply(spec).unwrap());
                }
                alloc
            },
            BatchSize::PerIteration,
        )
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = slash16, pools100
}
criterion_main!(benches);
