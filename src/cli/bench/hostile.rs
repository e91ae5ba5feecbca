//! `cogsync bench --hostile`: how a normal client fares while many connections sit idle or
//! send slowly, the traffic a server without timeouts or a connection cap falls over under.
//!
//! The server runs as its own `cogsync serve` process (unless --endpoint), so that its
//! resident memory can be read and the hostile connections' descriptors are not counted
//! against it twice. Each hostile connection is reopened when the server closes it, so the
//! number stays up for the whole measurement.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::{BenchArgs, Measurement, Workload, measure_workload};
use crate::cli::{EXIT_FAILED, EXIT_OK};
use crate::server;

/// How often a slow connection sends its next few bytes.
const TRICKLE_EVERY: Duration = Duration::from_millis(500);
/// Hostile connections opened at once (the listen backlog is finite).
const CONNECTS_AT_ONCE: usize = 64;
/// How long to wait for every hostile connection to be open.
const OPEN_WAIT: Duration = Duration::from_secs(30);

/// A `cogsync serve` child process, killed when dropped.
struct ServeProcess {
    child: Child,
    url: String,
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_serve() -> anyhow::Result<ServeProcess> {
    let exe = std::env::current_exe().context("cannot find this program to start the server")?;
    let mut child = Command::new(exe)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot start cogsync serve")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .context("cogsync serve said nothing")?;
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .map(str::to_owned);
    let process = ServeProcess {
        child,
        url: url.unwrap_or_default(),
    };
    if process.url.is_empty() {
        bail!("cogsync serve did not print its URL: {first:?}");
    }
    Ok(process)
}

/// The resident memory of a process in MiB (Linux), if it can be read.
fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

#[derive(Debug, Clone, Copy)]
enum Hostile {
    /// Opens and sends nothing.
    Idle,
    /// Sends a head one header line at a time, never ending it.
    SlowHead,
    /// Sends a complete head announcing a body, then the body a byte at a time.
    SlowBody,
}

/// Keeps one hostile connection open until aborted; counts itself in `open` once connected.
async fn hostile(authority: String, kind: Hostile, open: Arc<AtomicUsize>, gate: Arc<Semaphore>) {
    let mut counted = false;
    loop {
        let stream = {
            let _turn = gate.acquire().await;
            TcpStream::connect(&authority).await
        };
        let Ok(mut stream) = stream else {
            tokio::time::sleep(TRICKLE_EVERY).await;
            continue;
        };
        if !counted {
            open.fetch_add(1, Ordering::Relaxed);
            counted = true;
        }
        let head: &[u8] = match kind {
            Hostile::Idle => b"",
            Hostile::SlowHead => b"POST /identitypools/p/identities/i/datasets/d HTTP/1.1\r\n",
            Hostile::SlowBody => {
                b"POST /identitypools/p/identities/i/datasets/d HTTP/1.1\r\nhost: h\r\ncontent-length: 100000\r\n\r\n"
            }
        };
        if stream.write_all(head).await.is_err() {
            continue;
        }
        let mut sink = [0u8; 1024];
        loop {
            let trickle: &[u8] = match kind {
                Hostile::Idle => b"",
                Hostile::SlowHead => b"x-slow: 1\r\n",
                Hostile::SlowBody => b" ",
            };
            let closed = tokio::select! {
                read = stream.read(&mut sink) => !matches!(read, Ok(n) if n > 0),
                () = tokio::time::sleep(TRICKLE_EVERY) => {
                    !trickle.is_empty() && stream.write_all(trickle).await.is_err()
                }
            };
            if closed {
                break;
            }
        }
    }
}

fn print_row(phase: &str, workload: Workload, m: &Measurement, rss: Option<f64>) {
    let rss = rss.map_or_else(|| "n/a".to_owned(), |r| format!("{r:.1}"));
    println!(
        "{:<22} {:<14} {:>9} {:>7} {:>10.0} {:>8.2} {:>8.2} {:>10}",
        phase,
        workload.name(),
        m.ok + m.errors,
        m.errors,
        m.rate(),
        m.percentile_ms(0.50),
        m.percentile_ms(0.99),
        rss
    );
}

pub(super) async fn run(args: &BenchArgs) -> anyhow::Result<u8> {
    if args.connections == 0 || args.keys == 0 || args.seconds <= 0.0 {
        bail!("--connections, --keys and --seconds must be positive");
    }
    // Our own descriptors: one per hostile connection, plus the client's.
    server::raise_fd_limit();
    let measure = Duration::from_secs_f64(args.seconds);
    let (url, process) = match &args.endpoint {
        Some(url) => (url.trim_end_matches('/').to_owned(), None),
        None => {
            let process = start_serve()?;
            (process.url.clone(), Some(process))
        }
    };
    let authority = url
        .strip_prefix("http://")
        .context("the benchmark speaks plain http:// only")?
        .to_owned();
    let rss = || process.as_ref().and_then(|p| rss_mib(p.child.id()));
    println!(
        "cogsync bench --hostile: {} client connection(s), {} keys per dataset, {:.1} s per \
         measurement; hostile: {} idle + {} slow connections; server {}",
        args.connections,
        args.keys,
        args.seconds,
        args.idle,
        args.slow,
        if process.is_some() {
            "a cogsync serve process (in memory)"
        } else {
            url.as_str()
        }
    );
    println!(
        "{:<22} {:<14} {:>9} {:>7} {:>10} {:>8} {:>8} {:>10}",
        "phase", "operation", "requests", "errors", "ops/s", "p50 ms", "p99 ms", "RSS MiB"
    );
    let mut any_errors = false;
    for workload in [Workload::UpdateRecords, Workload::ListRecords] {
        let m = measure_workload(&url, workload, args, measure).await?;
        any_errors |= m.errors > 0;
        print_row("quiet", workload, &m, rss());
    }

    let open = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(Semaphore::new(CONNECTS_AT_ONCE));
    let mut tasks = JoinSet::new();
    let kinds = std::iter::repeat_n(Hostile::Idle, args.idle).chain((0..args.slow).map(|i| {
        if i % 2 == 0 {
            Hostile::SlowHead
        } else {
            Hostile::SlowBody
        }
    }));
    for kind in kinds {
        tasks.spawn(hostile(
            authority.clone(),
            kind,
            Arc::clone(&open),
            Arc::clone(&gate),
        ));
    }
    let wanted = args.idle + args.slow;
    let started = Instant::now();
    while open.load(Ordering::Relaxed) < wanted && started.elapsed() < OPEN_WAIT {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let opened = open.load(Ordering::Relaxed);
    println!(
        "{:<22} {opened} of {wanted} hostile connections open after {:.1} s; server RSS {} MiB",
        "",
        started.elapsed().as_secs_f64(),
        rss().map_or_else(|| "n/a".to_owned(), |r| format!("{r:.1}"))
    );
    for workload in [Workload::UpdateRecords, Workload::ListRecords] {
        let m = measure_workload(&url, workload, args, measure).await?;
        any_errors |= m.errors > 0;
        print_row("hostile", workload, &m, rss());
    }
    tasks.abort_all();
    drop(process);
    if any_errors {
        println!("some requests failed: the figures above count successes only");
        return Ok(EXIT_FAILED);
    }
    Ok(EXIT_OK)
}
