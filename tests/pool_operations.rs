//! The cases of the eleven pool-level operations (spec §11) against the reference server's
//! variants and faults: an endpoint that does not implement them is told once per operation
//! and fails nothing; every allowed variant passes; every fault of these operations is caught
//! by a named case.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use cogsync::client::{Endpoint, EndpointOptions};
use cogsync::server::{self, ServerConfig};
use cogsync::spec::POOL_OPERATIONS;
use cogsync::suite::pacer::Jobs;
use cogsync::suite::run::{Plan, SuiteOptions, run_cases, selected_cases};
use cogsync::suite::session::Now;
use cogsync::suite::verdict::{CaseReport, Verdict};

/// The families of the eleven's cases, and the errors case that calls all eleven.
const FAMILIES: [&str; 7] = [
    "other-operations.",
    "configuration.",
    "events.",
    "devices.",
    "bulk-publish.",
    "pool-usage.",
    "errors.other-operations.",
];

fn wall_clock() -> Now {
    Arc::new(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
    })
}

async fn run(config: ServerConfig, skip: &[&str]) -> Vec<CaseReport> {
    let running = server::spawn(([127, 0, 0, 1], 0).into(), config)
        .await
        .expect("server starts");
    let endpoint = Endpoint::new(&running.url(), EndpointOptions::default()).expect("client");
    let plan = Plan {
        endpoint,
        clock: wall_clock(),
        run_id: 0x1100_0011,
        jobs: Jobs::Fixed(8),
        inflight_max: 8,
        keep: false,
        strict: false,
        expect_fail: Default::default(),
        max_fail: None,
    };
    let options = SuiteOptions {
        only: FAMILIES.iter().map(|f| (*f).to_owned()).collect(),
        skip: skip.iter().map(|s| (*s).to_owned()).collect(),
        ..SuiteOptions::default()
    };
    let reports = run_cases(&plan, selected_cases(&options), |_| {}).await;
    running.shutdown().await.expect("server stops");
    reports
}

fn failures(reports: &[CaseReport]) -> Vec<String> {
    reports
        .iter()
        .filter(|r| r.verdict.fails_run())
        .map(|r| {
            format!(
                "{} {}: {}",
                r.verdict.label(),
                r.id,
                r.detail.clone().unwrap_or_default()
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_without_the_eleven_are_told_once_per_operation_and_fail_nothing() {
    for variant in ["other-operations-404", "other-operations-403"] {
        let config = ServerConfig {
            variant: Some(variant.parse().expect("variant")),
            ..ServerConfig::default()
        };
        let reports = run(config, &["bulk-publish.completes"]).await;
        assert!(
            failures(&reports).is_empty(),
            "{variant}: {:?}",
            failures(&reports)
        );
        let not_implemented: Vec<&CaseReport> = reports
            .iter()
            .filter(|r| r.verdict == Verdict::NotImplemented)
            .collect();
        let operations: BTreeSet<&str> = not_implemented
            .iter()
            .filter_map(|r| r.detail.as_deref())
            .filter_map(|d| d.strip_prefix("not implemented: "))
            .filter_map(|d| d.split_whitespace().next())
            .collect();
        assert_eq!(not_implemented.len(), 11, "{variant}: once per operation");
        assert_eq!(
            operations,
            POOL_OPERATIONS.into_iter().collect(),
            "{variant}"
        );
        let status = if variant.ends_with("404") {
            "(404 "
        } else {
            "(403 "
        };
        assert!(
            not_implemented
                .iter()
                .all(|r| r.detail.as_deref().is_some_and(|d| d.contains(status))),
            "{variant}"
        );
        for report in reports
            .iter()
            .filter(|r| !r.id.starts_with("other-operations."))
        {
            let expected = if report.id.starts_with("errors.") {
                Verdict::Pass
            } else {
                Verdict::Skipped
            };
            assert_eq!(report.verdict, expected, "{variant}: {}", report.id);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_allowed_variant_of_the_eleven_passes() {
    for variant in [
        "pool-empty-404",
        "config-merge-clears",
        "config-empty-clears",
        "event-type-stored",
        "new-device-id-each-time",
        "push-config-not-required",
        "device-unknown-400",
        "unsubscribe-not-subscribed-404",
        "bulk-no-stream-invalid-configuration",
        "bulk-publish-instant",
        "validation-as-invalid-parameter",
    ] {
        let config = ServerConfig {
            variant: Some(variant.parse().expect("variant")),
            ..ServerConfig::default()
        };
        let reports = run(config, &[]).await;
        assert!(
            failures(&reports).is_empty(),
            "{variant}: {:?}",
            failures(&reports)
        );
        assert!(
            reports.iter().all(|r| r.verdict != Verdict::NotImplemented),
            "{variant}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_of_the_eleven_is_caught_by_its_case() {
    for (fault, case) in [
        ("events-replaced-whole", "events.set-merge-remove"),
        ("event-empty-value-stored", "events.set-merge-remove"),
        ("config-streams-dropped", "configuration.round-trip"),
        (
            "pool-usage-ignores-deletes",
            "pool-usage.describe.sum-of-identities",
        ),
        (
            "pool-usage-one-identity",
            "pool-usage.describe.sum-of-identities",
        ),
        ("pool-list-skips-one", "pool-usage.list.contains-pool-once"),
        ("bulk-publish-duplicate-accepted", "bulk-publish.lifecycle"),
        (
            "subscribe-unregistered-accepted",
            "devices.subscribe.unknown-device",
        ),
        (
            "register-device-bad-platform-accepted",
            "devices.register.platforms",
        ),
    ] {
        let config = ServerConfig {
            fault: Some(fault.parse().expect("fault")),
            ..ServerConfig::default()
        };
        let reports = run(config, &["bulk-publish.completes"]).await;
        let verdict = reports.iter().find(|r| r.id == case).map(|r| r.verdict);
        assert_eq!(verdict, Some(Verdict::Fail), "{fault} is caught by {case}");
    }
}
