//! The concurrent phase against real servers: no false alarm on the clean reference server,
//! and a bounded phase: a search past its budget and a deadline are reported, never passed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use cogsync::client::{Endpoint, EndpointOptions};
use cogsync::server::{self, ServerConfig};
use cogsync::suite::concurrent::{ConcurrentPlan, run_concurrent};
use cogsync::suite::linear::SearchBudget;
use cogsync::suite::session::Now;
use cogsync::suite::verdict::Verdict;

fn wall_clock() -> Now {
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
        search_budget: SearchBudget::default(),
        deadline: None,
        progress: Arc::new(|_| {}),
        // Several rounds at once, as `check` runs them against a slow endpoint.
        rounds_in_flight: 4,
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
        report
            .violation
            .map(|v| cogsync::report::history::timeline(&v.ops, &v.stuck, 100))
            .unwrap_or_default()
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
    let mut violation = report.violation.expect("the violation is reported");
    cogsync::report::history::render(&mut violation);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rounds_past_the_search_budget_are_unknown_not_passed() {
    let (mut plan, running) = plan_for(ServerConfig::default(), 3).await;
    plan.devices = 8;
    // Any order of a round's 160 operations takes more configurations than this.
    plan.search_budget = SearchBudget {
        configurations_max: 10,
        ..SearchBudget::default()
    };
    let seen = Arc::new(Mutex::new(Vec::new()));
    let recorder = seen.clone();
    plan.progress = Arc::new(move |n| recorder.lock().expect("not poisoned").push(n));
    let report = run_concurrent(&plan).await;
    assert_eq!(report.verdict, Verdict::NonStrict, "{:?}", report.detail);
    assert_eq!((report.rounds_run, report.unknown_rounds), (3, 3));
    assert!(report.violation.is_none());
    let detail = report.detail.unwrap_or_default();
    assert!(
        detail.starts_with("unknown (search budget exceeded) in 3 of 3 rounds"),
        "{detail}"
    );
    assert_eq!(*seen.lock().expect("not poisoned"), vec![0, 1, 2, 3]);
    running.shutdown().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_round_starts_after_the_deadline_and_none_run_is_no_pass() {
    let (mut plan, running) = plan_for(ServerConfig::default(), 5).await;
    plan.deadline = Some(Instant::now());
    let rounds = Arc::new(AtomicUsize::new(usize::MAX));
    let last = rounds.clone();
    plan.progress = Arc::new(move |n| last.store(n, Ordering::Relaxed));
    let report = run_concurrent(&plan).await;
    assert_eq!(report.rounds_run, 0);
    assert_eq!(report.operations, 0);
    assert_eq!(report.verdict, Verdict::NonStrict);
    assert_eq!(
        report.detail.as_deref(),
        Some("0 of 5 rounds ran before the time budget ended")
    );
    assert_eq!(
        rounds.load(Ordering::Relaxed),
        0,
        "the phase said it started"
    );
    running.shutdown().await.expect("stops");
}
