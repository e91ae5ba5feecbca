//! `cogsync bench`: throughput of UpdateRecords and ListRecords over loopback.
//!
//! Each connection works on its own identity and dataset, so writes never conflict and the
//! figure is the server's sustained rate of successful operations, not of rejections. The load
//! generator is a minimal HTTP/1.1 client in the same process; it costs far less CPU than the
//! server, so on a 2-core machine the figure is the server's, not the client's.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::client::{Endpoint, EndpointOptions};
use crate::server::{self, ServerConfig};
use crate::spec::ListRecordsResponse;
use crate::suite::concurrent::{ConcurrentPlan, run_round};
use crate::suite::linear::{self, HistoryOp, SearchBudget};

use super::{EXIT_FAILED, EXIT_OK};

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Concurrent HTTP/1.1 connections, one worker each.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Seconds each measurement runs (after one second of warm-up).
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Storage of the embedded server; ignored with --endpoint.
    #[arg(long, value_enum, default_value_t = Storage::Both)]
    storage: Storage,
    /// Benchmark this endpoint instead of an embedded server (loopback only).
    #[arg(long, value_name = "URL")]
    endpoint: Option<String>,
    /// Records per dataset that ListRecords returns (each worker writes this many keys).
    #[arg(long, default_value_t = 16)]
    keys: usize,
    /// The embedded server appends push messages and stream records to this file
    /// (`serve --events`); without it no event is written.
    #[arg(long, value_name = "PATH")]
    events: Option<PathBuf>,
    /// Devices each worker registers and subscribes to its dataset before measuring, so each
    /// UpdateRecords has this many push messages to write (with --events).
    #[arg(long, default_value_t = 0, value_name = "N")]
    subscribers: usize,
    /// Measure the linearizability checker instead: record concurrent histories of 1k, 10k and
    /// 100k operations from the embedded server, then time their check.
    #[arg(long)]
    checker: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Storage {
    Memory,
    File,
    Both,
}

#[derive(Debug, Clone, Copy)]
enum Workload {
    UpdateRecords,
    ListRecords,
}

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Workload::UpdateRecords => "UpdateRecords",
            Workload::ListRecords => "ListRecords",
        }
    }
}

struct Measurement {
    ok: u64,
    errors: u64,
    elapsed: Duration,
    latencies_us: Vec<u64>,
}

impl Measurement {
    fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let mut sorted = self.latencies_us.clone();
        sorted.sort_unstable();
        let rank = ((sorted.len() - 1) as f64 * p).round() as usize;
        sorted[rank.min(sorted.len() - 1)] as f64 / 1000.0
    }
}

pub async fn run(args: BenchArgs) -> anyhow::Result<u8> {
    if args.checker {
        return bench_checker().await;
    }
    if args.connections == 0 || args.keys == 0 || args.seconds <= 0.0 {
        bail!("--connections, --keys and --seconds must be positive");
    }
    let measure = Duration::from_secs_f64(args.seconds);
    println!(
        "cogsync bench: {} connections, {} keys per dataset, {:.1} s per measurement",
        args.connections, args.keys, args.seconds
    );
    if let Some(path) = &args.events {
        println!(
            "events to {}, {} subscribed devices per dataset",
            path.display(),
            args.subscribers
        );
    }
    println!(
        "{:<14} {:<22} {:>9} {:>7} {:>10} {:>8} {:>8}",
        "operation", "endpoint", "requests", "errors", "ops/s", "p50 ms", "p99 ms"
    );
    let mut any_errors = false;
    let targets: Vec<(String, Option<PathBuf>)> = match (&args.endpoint, args.storage) {
        (Some(url), _) => vec![(url.clone(), None)],
        (None, Storage::Memory) => vec![("memory".into(), None)],
        (None, Storage::File) => vec![("file".into(), Some(temp_db()))],
        (None, Storage::Both) => vec![("memory".into(), None), ("file".into(), Some(temp_db()))],
    };
    for (label, db) in targets {
        let (url, running) = match &args.endpoint {
            Some(url) => (url.trim_end_matches('/').to_owned(), None),
            None => {
                let config = ServerConfig {
                    db: db.clone(),
                    events: args.events.clone(),
                    ..ServerConfig::default()
                };
                let running = server::spawn(([127, 0, 0, 1], 0).into(), config)
                    .await
                    .context("cannot start the embedded server")?;
                (running.url(), Some(running))
            }
        };
        let label = if running.is_some() {
            format!("embedded/{label}")
        } else {
            label
        };
        for workload in [Workload::UpdateRecords, Workload::ListRecords] {
            let m = measure_workload(&url, workload, &args, measure).await?;
            any_errors |= m.errors > 0;
            println!(
                "{:<14} {:<22} {:>9} {:>7} {:>10.0} {:>8.2} {:>8.2}",
                workload.name(),
                label,
                m.ok + m.errors,
                m.errors,
                m.rate(),
                m.percentile_ms(0.50),
                m.percentile_ms(0.99)
            );
        }
        if let Some(running) = running {
            running
                .shutdown()
                .await
                .context("the embedded server did not stop cleanly")?;
        }
        if let Some(path) = db {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
    }
    if any_errors {
        println!("some requests failed: the figures above count successes only");
        return Ok(EXIT_FAILED);
    }
    Ok(EXIT_OK)
}

fn temp_db() -> PathBuf {
    std::env::temp_dir().join(format!("cogsync-bench-{}.db", std::process::id()))
}

async fn measure_workload(
    url: &str,
    workload: Workload,
    args: &BenchArgs,
    measure: Duration,
) -> anyhow::Result<Measurement> {
    let authority = url
        .strip_prefix("http://")
        .context("the benchmark speaks plain http:// only")?
        .trim_end_matches('/')
        .to_owned();
    let run_id: u32 = rand::random();
    let mut workers = Vec::with_capacity(args.connections);
    for index in 0..args.connections {
        let mut worker = Worker::connect(&authority, run_id, index, args.keys).await?;
        worker.subscribe(args.subscribers).await?;
        workers.push(tokio::spawn(worker.run(workload, measure)));
    }
    let mut total = Measurement {
        ok: 0,
        errors: 0,
        elapsed: measure,
        latencies_us: Vec::new(),
    };
    for worker in workers {
        let m = worker.await.context("a benchmark worker panicked")??;
        total.ok += m.ok;
        total.errors += m.errors;
        total.latencies_us.extend(m.latencies_us);
    }
    Ok(total)
}

/// One keep-alive HTTP/1.1 connection speaking just enough of the protocol to measure the
/// server rather than the load generator: requests are formatted by hand and only the status
/// line and `content-length` of answers are read on the hot path.
struct Worker {
    stream: BufReader<TcpStream>,
    authority: String,
    /// `/identitypools/{pool}` and `identity/{identity}`, still encoded.
    pool_path: String,
    identity: String,
    dataset_path: String,
    keys: Vec<String>,
    /// Each worker owns its dataset, so it knows every count without parsing answers:
    /// a successful write moves the dataset to `dataset_count + 1` and the key with it.
    dataset_count: i64,
    counts: Vec<i64>,
    token: String,
}

impl Worker {
    async fn connect(
        authority: &str,
        run_id: u32,
        index: usize,
        keys: usize,
    ) -> anyhow::Result<Worker> {
        let stream = TcpStream::connect(authority)
            .await
            .with_context(|| format!("cannot connect to {authority}"))?;
        stream.set_nodelay(true)?;
        let pool = "us-east-1%3A00000000-0000-0000-0000-00000000b0b0";
        let identity = format!("us-east-1%3A{run_id:08x}-0000-0000-0000-{index:012x}");
        Ok(Worker {
            stream: BufReader::new(stream),
            authority: authority.to_owned(),
            pool_path: format!("/identitypools/{pool}"),
            identity: identity.clone(),
            dataset_path: format!("/identitypools/{pool}/identities/{identity}/datasets/bench"),
            keys: (0..keys).map(|k| format!("key-{k:04}")).collect(),
            dataset_count: 0,
            counts: vec![0; keys],
            token: String::new(),
        })
    }

    async fn exchange(&mut self, head: &str, body: &[u8]) -> anyhow::Result<(u16, Vec<u8>)> {
        let stream = self.stream.get_mut();
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body).await?;
        let mut status_line = String::new();
        self.stream.read_line(&mut status_line).await?;
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .with_context(|| format!("bad status line {status_line:?}"))?;
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            if self.stream.read_line(&mut line).await? == 0 {
                bail!("connection closed mid-answer");
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().context("bad content-length")?;
            }
        }
        let mut answer = vec![0; length];
        self.stream.read_exact(&mut answer).await?;
        Ok((status, answer))
    }

    async fn post(&mut self, path: &str, body: &str) -> anyhow::Result<Vec<u8>> {
        let head = format!(
            "POST {path} HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            self.authority,
            body.len()
        );
        let (status, answer) = self.exchange(&head, body.as_bytes()).await?;
        if status != 200 {
            bail!(
                "POST {path} answered {status}: {}",
                String::from_utf8_lossy(&answer)
            );
        }
        Ok(answer)
    }

    /// Configures push sync on the pool, registers `devices` devices of this worker's identity
    /// and subscribes each to the worker's dataset (DEV-1, DEV-2).
    async fn subscribe(&mut self, devices: usize) -> anyhow::Result<()> {
        if devices == 0 {
            return Ok(());
        }
        let config = r#"{"PushSync":{"ApplicationArns":["arn:aws:sns:us-east-1:123456789012:app/GCM/bench"]}}"#;
        let path = format!("{}/configuration", self.pool_path);
        self.post(&path, config).await?;
        for device in 0..devices {
            let path = format!("{}/identity/{}/device", self.pool_path, self.identity);
            let body = format!(r#"{{"Platform":"GCM","Token":"bench-{device}"}}"#);
            let answer: serde_json::Value =
                serde_json::from_slice(&self.post(&path, &body).await?)?;
            let id = answer["DeviceId"]
                .as_str()
                .context("RegisterDevice answered no DeviceId")?
                .to_owned();
            let path = format!("{}/subscriptions/{id}", self.dataset_path);
            self.post(&path, "").await?;
        }
        Ok(())
    }

    async fn list(&mut self, parse: bool) -> anyhow::Result<bool> {
        let head = format!(
            "GET {}/records HTTP/1.1\r\nhost: {}\r\n\r\n",
            self.dataset_path, self.authority
        );
        let (status, body) = self.exchange(&head, b"").await?;
        if status != 200 {
            return Ok(false);
        }
        if parse {
            let body: ListRecordsResponse = serde_json::from_slice(&body)?;
            self.token = body.sync_session_token.unwrap_or_default();
            self.dataset_count = body.dataset_sync_count.unwrap_or(0);
            for record in body.records.unwrap_or_default() {
                if let (Some(key), Some(count)) = (record.key, record.sync_count)
                    && let Some(i) = self.keys.iter().position(|k| *k == key)
                {
                    self.counts[i] = count;
                }
            }
        }
        Ok(true)
    }

    async fn update(&mut self, step: usize) -> anyhow::Result<bool> {
        let k = step % self.keys.len();
        let body = format!(
            r#"{{"DeviceId":"bench","SyncSessionToken":"{}","RecordPatches":[{{"Op":"replace","Key":"{}","Value":"value-{step}","SyncCount":{}}}]}}"#,
            self.token, self.keys[k], self.counts[k]
        );
        let head = format!(
            "POST {} HTTP/1.1\r\nhost: {}\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: {}\r\n\r\n",
            self.dataset_path,
            self.authority,
            body.len()
        );
        let (status, _) = self.exchange(&head, body.as_bytes()).await?;
        if status != 200 {
            return Ok(false);
        }
        self.dataset_count += 1;
        self.counts[k] = self.dataset_count;
        Ok(true)
    }

    async fn run(mut self, workload: Workload, measure: Duration) -> anyhow::Result<Measurement> {
        // Set up: a token, and every key written once so ListRecords has records to return.
        if !self.list(true).await? {
            bail!("ListRecords failed during set-up of {}", self.dataset_path);
        }
        for k in 0..self.keys.len() {
            if !self.update(k).await? {
                bail!(
                    "UpdateRecords failed during set-up of {}",
                    self.dataset_path
                );
            }
        }
        let warmup_end = Instant::now() + Duration::from_secs(1);
        let mut m = Measurement {
            ok: 0,
            errors: 0,
            elapsed: measure,
            latencies_us: Vec::new(),
        };
        let mut step = 0usize;
        let mut measuring_since: Option<Instant> = None;
        loop {
            let now = Instant::now();
            match measuring_since {
                Some(since) if now - since >= measure => break,
                None if now >= warmup_end => measuring_since = Some(now),
                _ => {}
            }
            let ok = match workload {
                Workload::UpdateRecords => self.update(step).await?,
                Workload::ListRecords => self.list(false).await?,
            };
            step += 1;
            if measuring_since.is_some() {
                m.latencies_us.push(now.elapsed().as_micros() as u64);
                if ok {
                    m.ok += 1;
                } else {
                    m.errors += 1;
                }
            }
            if !ok && matches!(workload, Workload::UpdateRecords) {
                // Resynchronise counts and token after a failure, as a sync client would.
                self.list(true).await?;
            }
        }
        Ok(m)
    }
}

/// Records a history of about `total` operations: rounds of 4 devices on fresh datasets, each
/// round `per_dataset` operations on one dataset.
async fn record_history(
    url: &str,
    total: usize,
    per_dataset: usize,
) -> anyhow::Result<Vec<HistoryOp>> {
    let endpoint = Endpoint::new(url, EndpointOptions::default())?;
    let clock = super::endpoint::wall_clock();
    let devices = 4;
    let plan = ConcurrentPlan {
        endpoint,
        clock,
        run_id: rand::random(),
        seed: 1,
        devices,
        rounds: 1,
        ops_per_device: per_dataset / devices,
        keep: false,
        shrink_runs: 0,
        search_budget: SearchBudget::default(),
        deadline: None,
        progress: Arc::new(|_| {}),
        rounds_in_flight: 1,
    };
    let mut history = Vec::with_capacity(total);
    let mut round = 0;
    let mut offset = 0u64;
    while history.len() < total {
        let ops = run_round(
            &plan,
            round,
            devices,
            per_dataset / devices,
            round as u32 * 64,
        )
        .await;
        // Rounds ran one after another: shift their times so the merged history keeps real order.
        let span = ops.iter().filter_map(|o| o.complete_ns).max().unwrap_or(0);
        history.extend(ops.into_iter().map(|mut o| {
            o.invoke_ns += offset;
            o.complete_ns = o.complete_ns.map(|c| c + offset);
            o.lane += round as u32 * 1000;
            o
        }));
        offset += span + 1;
        round += 1;
    }
    Ok(history)
}

async fn bench_checker() -> anyhow::Result<u8> {
    let running = server::spawn(([127, 0, 0, 1], 0).into(), ServerConfig::default())
        .await
        .context("cannot start the embedded server")?;
    println!(
        "cogsync bench --checker: histories recorded from 4 racing devices on the embedded server"
    );
    println!(
        "{:>9} {:>9} {:>9} {:>12} {:>10}",
        "ops", "datasets", "ops/set", "check ms", "verdict"
    );
    let mut all_ok = true;
    for (total, per_dataset) in [
        (1_000, 1_000),
        (10_000, 1_000),
        (10_000, 10_000),
        (100_000, 1_000),
    ] {
        let history = record_history(&running.url(), total, per_dataset).await?;
        let started = Instant::now();
        let parts = linear::check_history(&history, &SearchBudget::default());
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let ok = parts.iter().all(|p| p.verdict.is_linearizable());
        let violated = parts
            .iter()
            .any(|p| matches!(p.verdict, linear::Linearizability::Violation { .. }));
        all_ok &= ok;
        println!(
            "{:>9} {:>9} {:>9} {:>12.1} {:>10}",
            history.len(),
            parts.len(),
            per_dataset,
            ms,
            if ok {
                "linearizable"
            } else if violated {
                "VIOLATION"
            } else {
                "unknown (search budget exceeded)"
            }
        );
    }
    running
        .shutdown()
        .await
        .context("the embedded server did not stop cleanly")?;
    Ok(if all_ok { EXIT_OK } else { EXIT_FAILED })
}
