//! Command-line interface: the only room that sees every other room.

mod bench;
mod check;
mod diff;
mod endpoint;
mod error;
mod fuzz;
mod list;
mod matrix;
mod mutants;
mod replay;
mod report_file;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};

use self::error::{CliError, CliResult};

use crate::server::{self, Fault, ServerConfig, Variant};

/// The command did what was asked.
pub const EXIT_OK: u8 = 0;
/// The command ran and found the endpoint wanting (used by later commands such as `check`).
pub const EXIT_FAILED: u8 = 1;
/// The command line was wrong (clap's own code).
pub const EXIT_USAGE: u8 = 2;
/// Harness trouble: an address could not be bound, a database could not be opened, an
/// endpoint could not be reached.
pub const EXIT_HARNESS: u8 = 3;
/// `replay`: every answer to the saved actions was allowed this time.
pub const EXIT_NOT_REPRODUCED: u8 = 4;

const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  the endpoint failed a check
  2  usage error
  3  harness trouble (cannot bind, cannot open the database, endpoint unreachable)
  4  replay: the saved failure did not reproduce";

const SERVE_EXIT_HELP: &str = "\
Exit codes:
  0  stopped cleanly (Ctrl-C or SIGTERM)
  2  usage error (e.g. an unknown --fault or --variant)
  3  cannot listen on --addr or open the --db file";

const CHECK_EXIT_HELP: &str = "\
Exit codes:
  0  everything ran and passed (NON-STRICT and XFAIL do not fail a run)
  1  the endpoint failed a check: FAIL or XPASS, or it hung or reset on its first request
  2  usage error (unknown case ID in --only/--skip/--expect-fail, bad --partition, ...)
  3  harness trouble: the endpoint is unreachable or does not speak this API, or a case or
     phase could not be judged (ERROR) and nothing failed";

const MUTANTS_EXIT_HELP: &str = "\
Exit codes:
  0  every fault was caught and every variant passed
  1  a fault survived, a variant failed, or the clean server failed
  2  usage error
  3  harness trouble";

const REPLAY_EXIT_HELP: &str = "\
Exit codes:
  1  the failure reproduced
  2  usage error (the file is not a replay file)
  3  harness trouble: the endpoint is unreachable or does not speak this API
  4  the failure did not reproduce";

const FUZZ_EXIT_HELP: &str = "\
Exit codes:
  0  no finding (NON-STRICT notes do not fail a run); --merge: merged
  1  findings (saved with a curl script each)
  2  usage error
  3  harness trouble: the endpoint is unreachable or does not speak this API";

const MATRIX_EXIT_HELP: &str = "\
Exit codes:
  0  written (the verdicts in the reports do not change it)
  2  usage error: no reports, or a file that cannot be read or is not a report written by
     `cogsync check --json` (the message names it and says why)
  3  cannot write --html or --markdown";

const DIFF_EXIT_HELP: &str = "\
A regression is a case or phase whose verdict fails a run (FAIL, ERROR, XPASS) in NEW but did
not in OLD, a case OLD did not have included. Known failures that still fail are tolerated; a
failing case that NEW did not run is listed as not run, never as fixed.

Exit codes:
  0  no regressions (fixes, other verdict changes, profile changes and warnings allowed)
  1  something regressed
  2  usage error: a file cannot be read or is not a report written by `cogsync check --json`
  3  cannot write --json";

const BENCH_EXIT_HELP: &str = "\
Exit codes:
  0  measured
  1  some requests failed (the figures count successes only)
  2  usage error
  3  cannot start the server or reach the endpoint";

#[derive(Debug, Parser)]
#[command(
    name = "cogsync",
    version,
    about = "Conformance suite, reference model and reference server for the Amazon Cognito Sync dataset API",
    after_help = EXIT_CODES_HELP
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the reference server: a persistent local stand-in for Cognito Sync.
    ///
    /// Point any AWS SDK or the AWS CLI at it with an endpoint URL override and any static
    /// credentials; it does not check signatures.
    #[command(after_help = SERVE_EXIT_HELP)]
    Serve {
        /// Address to listen on; port 0 picks a free port.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        /// SQLite database file; created if missing, kept across restarts.
        /// Without it the data lives in memory and is lost on exit.
        #[arg(long, value_name = "PATH")]
        db: Option<PathBuf>,
        /// Serve with one deliberate deviation from the spec, to show the suite catches it;
        /// `--fault list` prints every fault's name and description.
        #[arg(long, value_name = "NAME")]
        fault: Option<String>,
        /// Serve with one other choice the spec allows instead of the reference one, to show
        /// the suite accepts it; `--variant list` prints every variant's name and description.
        #[arg(long, value_name = "NAME")]
        variant: Option<String>,
        /// Send every answer this late (e.g. 40ms), to try a client or `cogsync check` against
        /// a stand-in for a remote endpoint. Each answer waits on its own: concurrent requests
        /// overlap their waits.
        #[arg(long, value_name = "DURATION", value_parser = endpoint::parse_duration)]
        latency: Option<Duration>,
        /// Append push messages to subscribed devices and Cognito stream records to this file,
        /// one JSON object per line, flushed per event (docs/events.md).
        #[arg(long, value_name = "PATH")]
        events: Option<PathBuf>,
        /// Call this URL (a local webhook standing in for the Lambda function) with every
        /// UpdateRecords of a pool whose SyncTrigger event is set, and apply what it returns
        /// (docs/events.md); without it a SyncTrigger is only stored.
        #[arg(long, value_name = "URL")]
        sync_trigger: Option<String>,
    },
    /// Run the conformance suite against an endpoint (default: an embedded reference server).
    ///
    /// Named cases first, then model-based random sequences; every answer is compared with the
    /// model's allowed outcomes. Failures are shrunk and saved for `cogsync replay`.
    #[command(after_help = CHECK_EXIT_HELP)]
    Check(Box<check::CheckArgs>),
    /// Run `check` against the reference server with each injected fault and with each allowed
    /// variant: every fault must be caught, every variant must pass.
    ///
    /// A fault run serves one deliberate bug and stops at the first failure, which kills the
    /// fault. A variant run serves one deviation the spec allows (another choice on an AMB- row,
    /// an error decoration ERR-1 permits, a situation the spec leaves open) and runs the whole
    /// suite: the variant passes when nothing FAILs or ERRORs (NON-STRICT is fine), so every
    /// failure is a false alarm the suite would raise against a correct server. The clean
    /// server must pass in the same run.
    #[command(after_help = MUTANTS_EXIT_HELP)]
    Mutants(mutants::MutantsArgs),
    /// List the named cases: ID, level, requirements covered, title.
    List(list::ListArgs),
    /// Run a failing sequence saved by `cogsync check` again.
    #[command(after_help = REPLAY_EXIT_HELP)]
    Replay(replay::ReplayArgs),
    /// Measure UpdateRecords/s and ListRecords/s over loopback with concurrent connections.
    #[command(after_help = BENCH_EXIT_HELP)]
    Bench(bench::BenchArgs),
    /// Fuzz an endpoint over the network: model-checked valid traffic interleaved with
    /// malformed requests, each answered as the spec allows for it (most with a clean 4xx,
    /// ERR-1..3) and none changing data.
    ///
    /// The fuzzer learns from the answers: inputs (request sequences) that reach a new
    /// behaviour signature join a corpus and are mutated. With --corpus DIR a campaign is kept
    /// on disk and resumed; several processes or machines may share the directory; --merge
    /// combines directories. --duration forever runs until Ctrl-C or SIGTERM, then saves.
    #[command(after_help = FUZZ_EXIT_HELP)]
    Fuzz(Box<fuzz::FuzzArgs>),
    /// Set the JSON reports of several endpoints side by side: one column per report, one row
    /// per case grouped under the specification's requirements, the ambiguity profiles.
    ///
    /// Without --html or --markdown the Markdown goes to stdout. The HTML page links every
    /// cell to that endpoint's transcript on the same page.
    #[command(after_help = MATRIX_EXIT_HELP)]
    Matrix(matrix::MatrixArgs),
    /// What changed between two runs of one endpoint: newly failing, newly passing, other
    /// verdict changes, cases added or gone, ambiguity-profile changes.
    ///
    /// For CI baselines: keep a report of an accepted run, and fail only when a new run
    /// regresses against it.
    #[command(after_help = DIFF_EXIT_HELP)]
    Diff(diff::DiffArgs),
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cogsync: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_HARNESS);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve {
                addr,
                db,
                fault,
                variant,
                latency,
                events,
                sync_trigger,
            } => {
                serve(
                    addr,
                    db,
                    fault.as_deref(),
                    variant.as_deref(),
                    latency.unwrap_or_default(),
                    Effects {
                        events,
                        sync_trigger,
                    },
                )
                .await
            }
            Command::Bench(args) => bench::run(args).await.map_err(CliError::from),
            Command::Fuzz(args) => fuzz::fuzz(*args).await,
            Command::Check(args) => check::check(*args).await,
            Command::List(args) => Ok(list::list(args)),
            Command::Mutants(args) => mutants::run(args).await,
            Command::Replay(args) => replay::replay(args).await,
            Command::Matrix(args) => matrix::run(args),
            Command::Diff(args) => diff::run(args),
        }
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            match &e {
                CliError::Other(cause) => eprintln!("cogsync: {cause:#}"),
                said => eprintln!("cogsync: {said}"),
            }
            ExitCode::from(e.exit_code())
        }
    }
}

/// What `--fault` or `--variant` asked for.
enum Choice<T> {
    /// The option was not given.
    Absent,
    /// `list` printed every name; nothing more to do.
    Listed,
    One(T),
    /// An unknown name, and what was wrong with it.
    Unknown(String),
}

/// Reads a `--fault`/`--variant` value: `list` prints `all` with their descriptions.
fn choose<T: std::str::FromStr<Err: std::fmt::Display> + Copy>(
    value: Option<&str>,
    all: &[T],
    describe: impl Fn(T) -> (&'static str, &'static str),
) -> Choice<T> {
    match value {
        None => Choice::Absent,
        Some("list") => {
            for &item in all {
                let (name, description) = describe(item);
                say(format_args!("{name:<36} {description}"));
            }
            Choice::Listed
        }
        Some(name) => match name.parse::<T>() {
            Ok(item) => Choice::One(item),
            Err(e) => Choice::Unknown(e.to_string()),
        },
    }
}

/// A start-up failure of `serve`, said once (no repeated cause chain), with what to do.
fn serve_error_help(error: &server::ServerError) -> String {
    match error {
        server::ServerError::Database { path, source } => {
            // rusqlite repeats its message through its own source; its first line is enough.
            let why = match source {
                rusqlite::Error::SqliteFailure(code, Some(message)) => {
                    format!("{message} (SQLite error {})", code.extended_code)
                }
                other => other.to_string(),
            };
            format!(
                "cannot open the database {path}: {why}. --db creates the file but not its \
                 directory: check that the directory exists and is writable."
            )
        }
        server::ServerError::Events { path, source } => {
            format!("cannot open the events file {path}: {source}")
        }
        server::ServerError::SyncTrigger { url, source } => {
            format!("cannot use --sync-trigger {url}: {source}")
        }
        server::ServerError::Bind { addr, source } => {
            let hint = match source.kind() {
                std::io::ErrorKind::AddrInUse => format!(
                    "another process already listens on port {}; pick another with --addr \
                     {}:PORT, or port 0 for a free one.",
                    addr.port(),
                    addr.ip()
                ),
                std::io::ErrorKind::PermissionDenied => {
                    "ports below 1024 need privileges; use a port above 1023.".to_owned()
                }
                std::io::ErrorKind::AddrNotAvailable => {
                    "that address is not one of this machine's; use 127.0.0.1 or 0.0.0.0."
                        .to_owned()
                }
                _ => "check the address given to --addr.".to_owned(),
            };
            format!("cannot listen on {addr}: {source}; {hint}")
        }
        other => other.to_string(),
    }
}

/// What `serve` shows of the effects a stand-in cannot have (docs/events.md).
struct Effects {
    events: Option<PathBuf>,
    sync_trigger: Option<String>,
}

async fn serve(
    addr: SocketAddr,
    db: Option<PathBuf>,
    fault: Option<&str>,
    variant: Option<&str>,
    latency: Duration,
    effects: Effects,
) -> CliResult {
    let fault = match choose(fault, &Fault::ALL, |f| (f.name(), f.description())) {
        Choice::Absent => None,
        Choice::One(fault) => Some(fault),
        Choice::Listed => return Ok(EXIT_OK),
        Choice::Unknown(why) => return Err(CliError::Usage(why)),
    };
    let variant = match choose(variant, &Variant::ALL, |v| (v.name(), v.description())) {
        Choice::Absent => None,
        Choice::One(variant) => Some(variant),
        Choice::Listed => return Ok(EXIT_OK),
        Choice::Unknown(why) => return Err(CliError::Usage(why)),
    };
    if let Some(fault) = fault {
        say(format_args!(
            "cogsync serve: WARNING: serving with injected fault {}: {}",
            fault.name(),
            fault.description()
        ));
    }
    if let Some(variant) = variant {
        eprintln!(
            "cogsync serve: serving allowed variant {} instead of the reference choice: {}",
            variant.name(),
            variant.description()
        );
    }
    let mut storage = match &db {
        Some(path) => format!("database {}", path.display()),
        None => "in memory; data is lost on exit, use --db PATH to keep it".to_owned(),
    };
    if !latency.is_zero() {
        storage.push_str(&format!("; every answer {latency:?} late"));
    }
    if let Some(path) = &effects.events {
        storage.push_str(&format!("; events to {}", path.display()));
    }
    if let Some(url) = &effects.sync_trigger {
        storage.push_str(&format!("; SyncTrigger calls {url}"));
    }
    let config = ServerConfig {
        db,
        fault,
        variant,
        latency,
        events: effects.events,
        sync_trigger: effects.sync_trigger,
        ..ServerConfig::default()
    };
    let running = match server::spawn(addr, config).await {
        Ok(running) => running,
        Err(e) => return Err(CliError::Harness(serve_error_help(&e))),
    };
    let bound = running.addr();
    if bound.ip().is_loopback() {
        say(format_args!(
            "cogsync serve: listening on {} ({storage})",
            running.url()
        ));
    } else {
        say(format_args!(
            "cogsync serve: listening on {bound} ({storage}); from this machine: {}",
            running.url()
        ));
        eprintln!(
            "cogsync serve: WARNING: {bound} is reachable from the network, and this server \
             checks no signatures: anyone who can reach it can read and write its data. Use \
             --addr 127.0.0.1:PORT to keep it on this machine."
        );
    }
    say(format_args!("Press Ctrl-C to stop."));
    shutdown_signal().await;
    say(format_args!("cogsync serve: shutting down"));
    running
        .shutdown()
        .await
        .context("the server did not stop cleanly")?;
    Ok(EXIT_OK)
}

/// Prints a line for a long-running server, whose stdout may be a pipe nobody reads any more
/// (`cogsync serve | head -1`): a closed pipe must not bring the server down.
fn say(line: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = out
        .write_fmt(line)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
}

/// Ctrl-C, or SIGTERM on Unix (what service managers and CI runners send).
pub(super) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
