//! `cogsync fuzz`: network fuzzing of an endpoint (default: an embedded reference server).

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
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
use crate::suite::netfuzz::{self, NetFuzzOptions, NetFuzzReport, Progress};

/// How long a run goes when neither --duration nor --iterations is given.
const DURATION_DEFAULT: Duration = Duration::from_secs(60);

#[derive(Debug, Args)]
pub struct FuzzArgs {
    #[command(flatten)]
    pub endpoint: EndpointArgs,
    /// How long to fuzz (e.g. 30s, 5m) [default: 60s, or no time bound with --iterations].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub duration: Option<Duration>,
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
}

/// The embedded reference server with a fault injected and/or a variant served.
async fn deviating_target(
    args: &EndpointArgs,
    fault: Option<Fault>,
    variant: Option<Variant>,
) -> anyhow::Result<Target> {
    let config = ServerConfig {
        fault,
        variant,
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
    format!("{line} (sequence digest {})", report.sequence_digest)
}

pub async fn fuzz(args: FuzzArgs) -> CliResult {
    let seed = args.seed.unwrap_or_else(rand::random);
    // Without --duration, --iterations alone bounds the run, so that seed and count repeat it.
    let duration = match (args.duration, args.iterations) {
        (None, Some(_)) => None,
        (duration, _) => Some(duration.unwrap_or(DURATION_DEFAULT)),
    };
    match (args.iterations, duration) {
        (Some(n), None) => println!(
            "cogsync fuzz: seed {seed}, {n} iterations (repeat with --seed {seed} --iterations {n})"
        ),
        _ => println!(
            "cogsync fuzz: seed {seed} (repeat with --seed {seed} and the --iterations count \
             printed at the end)"
        ),
    }
    let fault = embedded_only::<Fault>("--fault", args.fault.as_deref(), &args.endpoint)?;
    let variant = embedded_only::<Variant>("--variant", args.variant.as_deref(), &args.endpoint)?;
    let target = if fault.is_some() || variant.is_some() {
        deviating_target(&args.endpoint, fault, variant).await?
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
    let options = NetFuzzOptions {
        seed,
        duration,
        iterations_max: args.iterations,
        run_id,
        strict: args.strict,
    };
    // On a terminal a line every 1,000 iterations; in a log, one every 10 s.
    let terminal = std::io::stdout().is_terminal();
    let mut last_line = Duration::ZERO;
    let mut progress = |p: Progress| {
        let due = if terminal {
            p.iterations.is_multiple_of(1000)
        } else {
            p.elapsed >= last_line + Duration::from_secs(10)
        };
        if due {
            last_line = p.elapsed;
            println!(
                "  {} iterations, {} requests, {} findings ({:.1} s)",
                p.iterations,
                p.requests,
                p.findings,
                p.elapsed.as_secs_f64()
            );
            let _ = std::io::stdout().flush();
        }
    };
    let report = netfuzz::run(&target.endpoint, wall_clock(), &options, &mut progress)
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
    println!("{}", repeat_line(&args, &report));
    if let Some(running) = target.embedded {
        running
            .shutdown()
            .await
            .context("the embedded server did not stop cleanly")?;
    }
    Ok(if report.findings.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAILED
    })
}
