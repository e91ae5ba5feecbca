//! The concurrent phase against real servers: no false alarm on the clean reference server.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use cogsync::client::{Endpoint, EndpointOptions};
use cogsync::server::{self, ServerConfig};
use cogsync::suite::concurrent::{ConcurrentPlan, run_concurrent};
use cogsync::suite::run::Verdict;
use cogsync::suite::session::Clock;

fn wall_clock() -> Clock {
    Arc::new(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
    })
}

async fn plan_for(config: ServerConfig, rounds: usize) -> (ConcurrentPlan, server::RunningServer) {
    let running = server::spawn(([127, 0, 0, 1], 0).into(), config)
        .await
        .expect("server starts");
    let endpoint = Endpoint::new(&running.url(), EndpointOptions::default()).expect("client");
    let plan = ConcurrentPlan {
        endpoint,
        clock: wall_clock(),
        run_id: 0xc0c0,
        seed: 11,
        devices: 4,
        rounds,
        ops_per_device: 20,
        keep: false,
        shrink_runs: 6,
    };
    (plan, running)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_rounds_on_the_clean_server_raise_no_false_alarm() {
    let (plan, running) = plan_for(ServerConfig::default(), 100).await;
    let report = run_concurrent(&plan).await;
    assert_eq!(
        report.verdict,
        Verdict::Pass,
        "false alarm:\n{}",
        report.violation.map(|v| v.timeline).unwrap_or_default()
    );
    assert!(
        report.operations >= 100 * 4 * 20,
        "every round ran: {}",
        report.operations
    );
    assert!(report.conflicts > 0, "devices did race on the same keys");
    running.shutdown().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lost_update_race_is_caught_and_shown_as_a_timeline() {
    let config = ServerConfig {
        fault: Some(server::Fault::LostUpdateRace),
        ..ServerConfig::default()
    };
    let (plan, running) = plan_for(config, 25).await;
    let report = run_concurrent(&plan).await;
    assert_eq!(
        report.verdict,
        Verdict::Fail,
        "two winners with one SyncCount must be caught"
    );
    let violation = report.violation.expect("the violation is reported");
    assert!(
        violation.timeline.contains('!'),
        "the timeline marks the operations that cannot be ordered:\n{}",
        violation.timeline
    );
    assert!(
        violation.edn.contains(":type :invoke"),
        "an EDN history is exported"
    );
    assert!(
        violation.operations <= 4 * 20,
        "the history is one round at most: {}",
        violation.operations
    );
    running.shutdown().await.expect("stops");
}
