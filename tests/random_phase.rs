//! The random phase runs the same sequences for the same seed whatever runs beside them: any
//! number in flight (`--jobs`), any shard (`--partition`). Against the embedded reference
//! server, with and without an injected fault.

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use cogsync::client::{Endpoint, EndpointOptions};
use cogsync::server::{self, Fault, RunningServer, ServerConfig};
use cogsync::suite::machine::{RandomPlan, RandomReport, run_random};
use cogsync::suite::pacer::{Jobs, Pacer};
use cogsync::suite::partition::Partition;
use cogsync::suite::session::Now;

const SEQUENCES: u32 = 48;
const STEPS_MAX: usize = 20;

fn wall_clock() -> Now {
    Arc::new(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
    })
}

async fn start(fault: Option<Fault>) -> RunningServer {
    let config = ServerConfig {
        fault,
        ..ServerConfig::default()
    };
    server::spawn(([127, 0, 0, 1], 0).into(), config)
        .await
        .expect("server starts")
}

fn plan(running: &RunningServer, partition: Partition) -> RandomPlan {
    RandomPlan {
        endpoint: Endpoint::new(&running.url(), EndpointOptions::default()).expect("client"),
        clock: wall_clock(),
        run_id: rand::random(),
        seed: 11,
        sequences: SEQUENCES,
        steps_max: STEPS_MAX,
        keep: false,
        deadline: None,
        partition,
    }
}

async fn random(running: &RunningServer, jobs: Jobs, partition: Partition) -> RandomReport {
    let mut pacer = Pacer::new(jobs, 64);
    run_random(&plan(running, partition), &mut pacer, Arc::new(|_| {})).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_checks_the_same_operations_at_any_concurrency() {
    let running = start(None).await;
    let one = random(&running, Jobs::Fixed(1), Partition::WHOLE).await;
    assert!(one.failure.is_none(), "{:?}", one.failure);
    assert_eq!(one.sequences, u64::from(SEQUENCES));
    for jobs in [Jobs::Fixed(8), Jobs::Auto] {
        let other = random(&running, jobs, Partition::WHOLE).await;
        assert_eq!(other.sequences, one.sequences, "--jobs {jobs}");
        assert_eq!(
            other.coverage, one.coverage,
            "the same operations, conflicts, tombstones and multi-page lists at --jobs {jobs}"
        );
    }
    running.shutdown().await.expect("server stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shards_of_a_run_check_exactly_its_sequences() {
    let running = start(None).await;
    let whole = random(&running, Jobs::Fixed(4), Partition::WHOLE).await;
    let mut sequences = 0;
    let mut operations = 0;
    for shard in 1..=3 {
        let partition = Partition::new(shard, 3).expect("valid");
        let part = random(&running, Jobs::Fixed(4), partition).await;
        assert_eq!(
            part.sequences,
            u64::from(partition.sequences_of(SEQUENCES)),
            "shard {partition}"
        );
        sequences += part.sequences;
        operations += part.coverage.operations;
    }
    assert_eq!(sequences, whole.sequences);
    assert_eq!(operations, whole.coverage.operations);
    running.shutdown().await.expect("server stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_is_the_same_sequence_shrunk_the_same_way_at_any_concurrency() {
    let running = start(Some(Fault::StaleAccepted)).await;
    let one = random(&running, Jobs::Fixed(1), Partition::WHOLE).await;
    let eight = random(&running, Jobs::Fixed(8), Partition::WHOLE).await;
    let (one, eight) = (
        one.failure.expect("the fault is caught at --jobs 1"),
        eight.failure.expect("the fault is caught at --jobs 8"),
    );
    assert_eq!(one.index, eight.index, "the lowest failing sequence");
    assert_eq!(one.original_len, eight.original_len);
    assert_eq!(one.actions, eight.actions, "shrunk to the same sequence");
    assert!(
        one.actions.len() <= 3 && one.actions.len() < one.original_len,
        "shrunk from {} to {} actions",
        one.original_len,
        one.actions.len()
    );
    running.shutdown().await.expect("server stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_its_deadline_the_random_phase_starts_one_sequence_only() {
    let running = start(None).await;
    let plan = RandomPlan {
        deadline: Some(Instant::now()),
        ..plan(&running, Partition::WHOLE)
    };
    let report = run_random(&plan, &mut Pacer::new(Jobs::Fixed(8), 8), Arc::new(|_| {})).await;
    assert_eq!(
        report.sequences, 1,
        "the first sequence always runs, no other"
    );
    assert!(report.coverage.operations > 0);
    running.shutdown().await.expect("server stops");
}
