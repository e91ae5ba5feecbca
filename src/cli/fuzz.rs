//! `cogsync fuzz`: network fuzzing of an endpoint (default: an embedded reference server).

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use super::endpoint::{
    EndpointArgs, FirstRequestFinding, Target, parse_duration, target, wall_clock,
};
use super::error::{CliError, CliResult};
use super::{EXIT_FAILED, EXIT_OK};
use crate::client::{Endpoint, EndpointOptions};
use crate::report::artifacts::Artifacts;
use crate::report::fuzz as fuzz_report;
use crate::server::{self, Fault, ServerConfig, Variant};
use crate::suite::netfuzz::{self, Campaign, CorpusDir, NetFuzzOptions, NetFuzzReport, Progress};

/// How long a run goes when neither --duration nor --iterations is given.
const DURATION_DEFAULT: Duration = Duration::from_secs(60);
/// Status lines: this often on a terminal, [`STATUS_LOG`] in a log.
const STATUS_TERMINAL: Duration = Duration::from_secs(2);
const STATUS_LOG: Duration = Duration::from_secs(10);

/// How long a run may go: a duration, or until it is stopped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RunLength {
    For(Duration),
    Forever,
}

fn parse_run_length(text: &str) -> Result<RunLength, String> {
    if text.trim().eq_ignore_ascii_case("forever") {
        Ok(RunLength::Forever)
    } else {
        parse_duration(text).map(RunLength::For)
    }
}

#[derive(Debug, Args)]
pub struct FuzzArgs {
    #[command(flatten)]
    pub endpoint: EndpointArgs,
    /// How long to fuzz (e.g. 30s, 5m, 12h), or `forever`: until Ctrl-C or SIGTERM, which
    /// stop any run cleanly (the corpus, findings and report are saved) [default: 60s, or no
    /// time bound with --iterations].
    #[arg(long, value_name = "DURATION", value_parser = parse_run_length)]
    pub duration: Option<RunLength>,
    /// Seed of the run; printed first, so any run can be repeated.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Stop after this many iterations, even if time is left. With --seed, it repeats a run
    /// exactly: the end of every run prints both.
    #[arg(long, value_name = "N")]
    pub iterations: Option<u64>,
    /// Serve the embedded reference server with this injected fault (see `cogsync mutants`),
    /// to see the fuzzer catch it. Not allowed with --endpoint.
    #[arg(long, value_name = "NAME")]
    pub fault: Option<String>,
    /// Fail on NON-STRICT outcomes too: answers the spec allows but the reference does not give
    /// (SHOULD) and answers to situations it leaves open (UNSTATED).
    #[arg(long)]
    pub strict: bool,
    /// Serve the embedded reference server with this allowed variant (see `cogsync mutants`),
    /// to see that the fuzzer accepts it. Not allowed with --endpoint.
    #[arg(long, value_name = "NAME")]
    pub variant: Option<String>,
    /// Where findings are saved: JSON and a curl script each.
    #[arg(long, default_value = "cogsync-failures", value_name = "DIR")]
    pub artifacts: PathBuf,
    /// Write the whole report as JSON.
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Keep the campaign in DIR: the corpus of inputs that reached new behaviour and the
    /// findings (the smallest reproduction of each). A run resumes from what DIR holds, and
    /// picks up what other processes sharing DIR add (every 30 s).
    #[arg(long, value_name = "DIR")]
    pub corpus: Option<PathBuf>,
    /// End the run at its first finding (after shrinking it), as a quick gate or to time how
    /// soon a fault is found.
    #[arg(long)]
    pub stop_on_finding: bool,
    /// Fuzzing loops in this process, each on its own identities.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub workers: u16,
    /// Draw every input fresh, learning nothing from the answers (for comparison with the
    /// default feedback mode).
    #[arg(long, conflicts_with = "corpus")]
    pub blind: bool,
    /// Merge the corpora and findings of these directories into --corpus DIR (keeping a
    /// smallest set of inputs that reaches every signature, and the smallest reproduction of
    /// each finding), then exit without fuzzing.
    #[arg(long, value_name = "DIR", num_args = 1.., requires = "corpus")]
    pub merge: Vec<PathBuf>,
}

/// The embedded reference server, with a fault injected and/or a variant served. Its store is
/// a SQLite file in the temporary directory (removed at the end), not memory: a deleted dataset
/// keeps its marker (DS-4), so a long campaign's fresh identities would grow an in-memory store
/// without bound.
async fn embedded_target(
    args: &EndpointArgs,
    fault: Option<Fault>,
    variant: Option<Variant>,
    db: &std::path::Path,
) -> anyhow::Result<Target> {
    let config = ServerConfig {
        fault,
        variant,
        db: Some(db.to_owned()),
        ..ServerConfig::default()
    };
    let running = server::spawn(([127, 0, 0, 1], 0).into(), config)
        .await
        .context("cannot start the embedded reference server")?;
    let url = running.url();
    let options = EndpointOptions {
        timeout: Duration::from_secs_f64(args.timeout.max(0.001)),
        ..EndpointOptions::default()
    };
    Ok(Target {
        endpoint: Endpoint::new(&url, options)?,
        label: format!(
            "embedded reference server at {url}{}{}",
            fault.map_or(String::new(), |f| format!(" with fault {f}")),
            variant.map_or(String::new(), |v| format!(" with variant {v}"))
        ),
        embedded: Some(running),
    })
}

/// Reads an option naming a fault or a variant of the embedded server; a usage error for an
/// unknown name or when `--endpoint` was given too.
fn embedded_only<T: std::str::FromStr<Err: std::fmt::Display>>(
    option: &str,
    value: Option<&str>,
    endpoint: &EndpointArgs,
) -> Result<Option<T>, CliError> {
    match value {
        None => Ok(None),
        Some(_) if endpoint.endpoint.is_some() => Err(CliError::Usage(format!(
            "{option} applies to the embedded server only, not to --endpoint"
        ))),
        Some(name) => name
            .parse::<T>()
            .map(Some)
            .map_err(|e| CliError::Usage(e.to_string())),
    }
}

/// The command that repeats the run exactly: its seed and iteration count, and what chose the
/// endpoint; the sequence digest of a repeat is the same.
fn repeat_line(args: &FuzzArgs, report: &NetFuzzReport) -> String {
    let mut line = format!(
        "repeat exactly: cogsync fuzz --seed {} --iterations {}",
        report.seed, report.iterations
    );
    for (flag, value) in [
        ("--endpoint", &args.endpoint.endpoint),
        ("--fault", &args.fault),
        ("--variant", &args.variant),
    ] {
        if let Some(value) = value {
            line.push_str(&format!(" {flag} {value}"));
        }
    }
    if report.strict {
        line.push_str(" --strict");
    }
    if args.blind {
        line.push_str(" --blind");
    }
    if args.workers > 1 || args.corpus.is_some() {
        // Workers interleave and a corpus carries earlier runs: the choices differ.
        return line.replace(
            "repeat exactly:",
            "repeat (without --workers and --corpus):",
        );
    }
    format!("{line} (sequence digest {})", report.sequence_digest)
}

/// `--merge`: combines directories into --corpus, fuzzing nothing.
fn merge(args: &FuzzArgs) -> CliResult {
    let dest = args
        .corpus
        .as_deref()
        .ok_or_else(|| CliError::Usage("--merge needs --corpus DIR to merge into".into()))?;
    let open = |path: &std::path::Path| {
        CorpusDir::open(path)
            .map_err(|e| CliError::Harness(format!("cannot open corpus {}: {e}", path.display())))
    };
    let mut sources = Vec::new();
    for path in &args.merge {
        if !path.join("queue").is_dir() {
            return Err(CliError::Usage(format!(
                "{} is not a corpus directory of cogsync fuzz (it has no queue/)",
                path.display()
            )));
        }
        sources.push(open(path)?);
    }
    let dest_dir = open(dest)?;
    let summary = netfuzz::merge(&dest_dir, &sources)
        .map_err(|e| CliError::Harness(format!("merge failed: {e}")))?;
    println!(
        "merged {} director{} into {}: {} inputs read, {} kept ({} added, {} removed as \
         redundant), {} signatures; {} finding groups ({} improved or new)",
        sources.len(),
        if sources.len() == 1 { "y" } else { "ies" },
        dest.display(),
        summary.inputs_read,
        summary.inputs_kept,
        summary.inputs_added,
        summary.inputs_removed,
        summary.signatures,
        summary.finding_groups,
        summary.findings_improved
    );
    Ok(EXIT_OK)
}

/// The process's resident memory in MiB (Linux; `None` elsewhere).
fn rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// One status line.
fn status_line(p: &Progress) -> String {
    let secs = p.elapsed.as_secs_f64();
    format!(
        "  {:>7.1} s: {} iterations, {} requests ({:.0}/s), {} signatures, corpus {}, {} \
         findings, RSS {}",
        secs,
        p.iterations,
        p.requests,
        if secs > 0.0 {
            p.requests as f64 / secs
        } else {
            0.0
        },
        p.signatures,
        p.corpus,
        p.findings,
        rss_mib().map_or_else(|| "?".to_owned(), |m| format!("{m:.1} MiB"))
    )
}

/// Sets `stop` on the first Ctrl-C or SIGTERM; a second one ends the process at once.
fn stop_on_signal(stop: Arc<AtomicBool>) {
    tokio::spawn(async move {
        super::shutdown_signal().await;
        stop.store(true, Ordering::Relaxed);
        println!("stopping: finishing the current requests and saving (again to quit now)");
        super::shutdown_signal().await;
        std::process::exit(130);
    });
}

pub async fn fuzz(args: FuzzArgs) -> CliResult {
    if !args.merge.is_empty() {
        return merge(&args);
    }
    let seed = args.seed.unwrap_or_else(rand::random);
    // Without --duration, --iterations alone bounds the run, so that seed and count repeat it.
    let duration = match (args.duration, args.iterations) {
        (None, Some(_)) | (Some(RunLength::Forever), _) => None,
        (Some(RunLength::For(d)), _) => Some(d),
        (None, None) => Some(DURATION_DEFAULT),
    };
    match (args.iterations, duration) {
        (Some(n), None) => println!(
            "cogsync fuzz: seed {seed}, {n} iterations (repeat with --seed {seed} --iterations {n})"
        ),
        (None, None) => println!(
            "cogsync fuzz: seed {seed}, until Ctrl-C or SIGTERM (then everything is saved)"
        ),
        _ => println!(
            "cogsync fuzz: seed {seed} (repeat with --seed {seed} and the --iterations count \
             printed at the end)"
        ),
    }
    let fault = embedded_only::<Fault>("--fault", args.fault.as_deref(), &args.endpoint)?;
    let variant = embedded_only::<Variant>("--variant", args.variant.as_deref(), &args.endpoint)?;
    let dir = match &args.corpus {
        None => None,
        Some(path) => Some(CorpusDir::open(path).map_err(|e| {
            CliError::Harness(format!("cannot open corpus {}: {e}", path.display()))
        })?),
    };
    let campaign = Campaign::new(!args.blind, dir)
        .map_err(|e| CliError::Harness(format!("cannot read the corpus directory: {e}")))?;
    if let Some(path) = &args.corpus {
        println!(
            "corpus: {} ({} inputs, {} signatures, {} findings known)",
            path.display(),
            campaign.corpus_len(),
            campaign.signatures(),
            campaign.known_findings
        );
    }
    let db = std::env::temp_dir().join(format!(
        "cogsync-fuzz-{}-{:08x}.sqlite",
        std::process::id(),
        rand::random::<u32>()
    ));
    let target = if args.endpoint.endpoint.is_none() {
        embedded_target(&args.endpoint, fault, variant, &db).await?
    } else {
        match target(&args.endpoint).await? {
            Ok(t) => t,
            Err(FirstRequestFinding { trouble, .. }) => {
                println!(
                    "FAIL preflight: the endpoint accepted the connection, then: {trouble} (on \
                     the first request; nothing was fuzzed)"
                );
                return Ok(EXIT_FAILED);
            }
        }
    };
    let run_id: u32 = rand::random();
    println!("endpoint: {}", target.label);
    println!(
        "run id: {run_id:08x} (every identity this run creates starts with us-east-1:{run_id:08x}-)"
    );
    println!(
        "mode: {}, {} worker{}",
        if args.blind { "blind" } else { "feedback" },
        args.workers,
        if args.workers == 1 { "" } else { "s" }
    );
    let stop = Arc::new(AtomicBool::new(false));
    stop_on_signal(stop.clone());
    let options = NetFuzzOptions {
        seed,
        duration,
        iterations_max: args.iterations,
        run_id,
        strict: args.strict,
        workers: usize::from(args.workers),
        feedback: !args.blind,
        stop: Some(stop),
        stop_on_finding: args.stop_on_finding,
    };
    // A status line every 2 s on a terminal, every 10 s in a log.
    let every = if std::io::stdout().is_terminal() {
        STATUS_TERMINAL
    } else {
        STATUS_LOG
    };
    let mut last_line = Duration::ZERO;
    let mut progress = |p: Progress| {
        if p.elapsed >= last_line + every {
            last_line = p.elapsed;
            println!("{}", status_line(&p));
            let _ = std::io::stdout().flush();
        }
    };
    let (report, campaign) = netfuzz::run(
        &target.endpoint,
        wall_clock(),
        &options,
        campaign,
        &mut progress,
    )
    .await
    .map_err(anyhow::Error::from)?;
    let artifacts = Artifacts {
        dir: args.artifacts.clone(),
    };
    fuzz_report::print_notes(&report);
    fuzz_report::save_and_print_findings(&report, target.endpoint.base_url(), &artifacts)
        .map_err(|e| CliError::Harness(e.to_string()))?;
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&report).context("cannot encode the report")?;
        std::fs::write(path, json).with_context(|| format!("cannot write {}", path.display()))?;
    }
    fuzz_report::print_summary(&report);
    if let Some(trouble) = &campaign.disk_trouble {
        println!("WARNING the corpus directory could not be written or read: {trouble}");
    }
    if let Some(mib) = rss_mib() {
        println!("memory: RSS {mib:.1} MiB at the end");
    }
    println!("{}", repeat_line(&args, &report));
    if let Some(running) = target.embedded {
        running
            .shutdown()
            .await
            .context("the embedded server did not stop cleanly")?;
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut path = db.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
    Ok(if report.findings.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAILED
    })
}
