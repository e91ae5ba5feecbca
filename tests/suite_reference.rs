//! The named cases against the embedded reference server: every case must PASS (not merely
//! NON-STRICT), since the reference server makes every reference choice.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use cogsync::client::{Endpoint, EndpointOptions};
use cogsync::server::{self, ServerConfig};
use cogsync::suite::cases;
use cogsync::suite::pacer::Jobs;
use cogsync::suite::run::{Plan, run_cases};
use cogsync::suite::session::Now;
use cogsync::suite::verdict::Verdict;

fn wall_clock() -> Now {
    Arc::new(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_named_case_passes_the_reference_server() {
    let running = server::spawn(([127, 0, 0, 1], 0).into(), ServerConfig::default())
        .await
        .expect("server starts");
    let endpoint = Endpoint::new(&running.url(), EndpointOptions::default()).expect("client");
    let plan = Plan {
        endpoint,
        clock: wall_clock(),
        run_id: 0x5eed,
        jobs: Jobs::Fixed(8),
        inflight_max: 8,
        keep: false,
        strict: true,
        expect_fail: Default::default(),
        max_fail: None,
    };
    let all = cases::all();
    assert!(!all.is_empty());
    let reports = run_cases(&plan, all, |_| {}).await;
    let bad: Vec<String> = reports
        .iter()
        .filter(|r| r.verdict != Verdict::Pass)
        .map(|r| {
            let last = r
                .steps
                .last()
                .map(|s| {
                    format!(
                        "\n    last step: {} → expected {} / actual {}",
                        s.operation, s.expected, s.actual
                    )
                })
                .unwrap_or_default();
            format!(
                "{} {}: {}{last}",
                r.verdict.label(),
                r.id,
                r.detail.clone().unwrap_or_default()
            )
        })
        .collect();
    assert!(
        bad.is_empty(),
        "cases that did not pass:\n{}",
        bad.join("\n")
    );
    running.shutdown().await.expect("server stops");
}
