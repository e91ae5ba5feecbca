//! `cogsync check`, `cogsync list` and `cogsync replay`.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use clap::Args;
use serde::Deserialize;

use super::error::{CliError, CliResult};
use super::{EXIT_FAILED, EXIT_HARNESS, EXIT_NOT_REPRODUCED, EXIT_OK};
use crate::client::sigv4::Signer;
use crate::client::{Endpoint, EndpointOptions, Exchange, Reply, Trouble};
use crate::report::artifacts::{Artifacts, PREFLIGHT_ID, SavedFailure};
use crate::report::human::{Closing, HumanReporter, Style};
use crate::report::{RunReport, transcript};
use crate::server::{self, RunningServer, ServerConfig};
use crate::spec::{DatasetPath, ListRecordsRequest, Request};
use crate::suite::cases;
use crate::suite::machine::run_sequence;
use crate::suite::pacer::{INFLIGHT_MAX_DEFAULT, Jobs};
use crate::suite::partition::Partition;
use crate::suite::run::{
    CONCURRENT_ID, Pacing, Plan, RANDOM_ID, SuiteOptions, run_case, run_suite, selected_cases,
};
use crate::suite::session::{Clock, Namer};
use crate::suite::verdict::{CaseReport, Step, StepVerdict, Verdict};

#[derive(Debug, Clone, Args)]
pub struct EndpointArgs {
    /// Endpoint to test, e.g. http://127.0.0.1:8080. Default: an embedded reference server on
    /// 127.0.0.1 with a free port.
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Allow an endpoint that is not on loopback. The run writes data (under identities it
    /// generates) and deletes what it created at the end.
    #[arg(long)]
    pub allow_remote: bool,
    /// Per-request timeout in seconds; an endpoint slower than this is a finding.
    #[arg(long, default_value_t = 10.0, value_name = "SECS")]
    pub timeout: f64,
    /// Sign requests with SigV4 using AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
    /// AWS_SESSION_TOKEN and AWS_REGION from the environment.
    #[arg(long)]
    pub sign: bool,
    /// Sign requests with the static credentials of this profile in ~/.aws/credentials.
    #[arg(long, value_name = "NAME")]
    pub aws_profile: Option<String>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub endpoint: EndpointArgs,
    /// Seed of the random phase; printed first, so any run can be repeated.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Random sequences to generate (0 skips the random phase); `--cases` is an older name.
    #[arg(long = "sequences", alias = "cases", default_value_t = 1000, value_name = "N")]
    pub sequences: u32,
    /// Longest random sequence, in operations.
    #[arg(long, default_value_t = 40, value_name = "N")]
    pub steps_max: usize,
    /// Bound the whole run to about this long (e.g. 30s, 5m). The named cases always run; the
    /// random phase starts no new sequence once 80 % of the time the named cases left is
    /// spent (all of it when the concurrent phase does not run), and the concurrent phase
    /// ends by the deadline. Sequences in flight, and shrinking a failure, finish.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub time_budget: Option<Duration>,
    /// Devices racing on one dataset in the concurrent phase (0 skips the phase).
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub devices: usize,
    /// Rounds of the concurrent phase, each on a fresh dataset.
    #[arg(long, default_value_t = 25, value_name = "N")]
    pub rounds: usize,
    /// Operations per device per round.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub ops_per_device: usize,
    /// Cases and sequences in flight at once, each on its own identity: a number, or `auto`.
    ///
    /// `auto` starts at 8 and follows the endpoint's latency. After each window of finished
    /// cases or sequences (as many as are in flight) it compares their mean time per request
    /// with the lowest seen: within 1.25x (the endpoint is not queueing, so more in flight
    /// means more checks per second) it doubles the number in flight, up to --max-inflight;
    /// above 1.5x (requests queue) it drops by a quarter, not below 8. On a local server the
    /// time per request grows with the number in flight, so it stays low (16-40 here); one
    /// that answers 40 ms late gets the cap.
    #[arg(long, default_value = "auto", value_name = "N|auto")]
    pub jobs: Jobs,
    /// The most cases or sequences in flight under `--jobs auto`, so a shared endpoint is not
    /// flooded; `--jobs N` may not exceed it.
    #[arg(long, default_value_t = INFLIGHT_MAX_DEFAULT, value_name = "N", value_parser = at_least_one)]
    pub max_inflight: usize,
    /// Run shard K of N (e.g. 2/4), for CI that splits a run over N jobs with the same
    /// --seed: named cases go to shards by a stable hash of their ID, random sequence i to
    /// shard i % N + 1, and the concurrent phase runs in shard 1. Together the N shards run
    /// exactly what the whole run does, each once.
    #[arg(long, value_name = "K/N")]
    pub partition: Option<Partition>,
    /// Count NON-STRICT (allowed but not the reference outcome) as failure.
    #[arg(long)]
    pub strict: bool,
    /// Run only cases whose ID starts with one of these (`random` names the random phase).
    #[arg(long, num_args = 1.., value_name = "PREFIX")]
    pub only: Vec<String>,
    /// Skip cases whose ID starts with one of these (`random` names the random phase).
    #[arg(long, num_args = 1.., value_name = "PREFIX")]
    pub skip: Vec<String>,
    /// TOML file of known failures: `[expected-failures]` with `"case.id" = "reason"`.
    /// Listed failures count as XFAIL; a listed case that passes fails the run (XPASS).
    #[arg(long, value_name = "FILE")]
    pub expect_fail: Option<PathBuf>,
    /// Write the whole run as JSON.
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Write JUnit XML.
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,
    /// Where failing sequences are saved (JSON for `cogsync replay`, and a curl script).
    #[arg(long, default_value = "cogsync-failures", value_name = "DIR")]
    pub artifacts: PathBuf,
    /// Leave the datasets the run created on the endpoint.
    #[arg(long)]
    pub keep: bool,
    /// Print the transcript of every case, not only of failures.
    #[arg(long, conflicts_with = "quiet")]
    pub verbose: bool,
    /// Print one line per failure and the summary, nothing else.
    #[arg(long, short)]
    pub quiet: bool,
    /// Stop starting cases and phases after the first failure (the same as --max-fail 1).
    #[arg(long, conflicts_with = "max_fail")]
    pub fail_fast: bool,
    /// Stop starting cases and phases once N verdicts have failed; the rest are reported as
    /// not run.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_fail: Option<u32>,
    /// Run just the cases and phases that failed (FAIL, ERROR, XPASS) in an earlier `--json`
    /// report, with its seed unless --seed is given.
    #[arg(long, value_name = "REPORT.json", conflicts_with_all = ["only", "skip"])]
    pub rerun_failed: Option<PathBuf>,
    /// Colour the verdicts: auto (on a terminal, unless NO_COLOR is set), always or never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

/// When to colour verdicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// `auto`: stdout is a terminal, `NO_COLOR` is unset or empty (no-color.org) and `TERM` is
    /// not `dumb`.
    fn enabled(self) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
            }
        }
    }
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// A failure saved by `cogsync check` (JSON).
    pub file: PathBuf,
    #[command(flatten)]
    pub endpoint: EndpointArgs,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Show only cases whose ID starts with this (the rule of `check --only`), that cover this
    /// requirement ID (`UR-8`, `AMB-COLON`), or of this level (`MUST`, `SHOULD`, `UNSTATED`).
    pub filter: Option<String>,
    /// Print the selected cases and phases as a JSON array (id, kind, level, covers, title,
    /// requirement).
    #[arg(long)]
    pub json: bool,
}

/// `30s`, `5m`, `500ms`, `1h`, or plain seconds.
pub(super) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 30s, 5m or 500ms"))?;
    let secs = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(format!("unknown unit {unit:?}: use ms, s, m or h")),
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("{text:?} is not a positive duration"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// A count of at least 1.
fn at_least_one(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("{text:?} is not a number of at least 1")),
    }
}

/// The wall clock: the CLI is the one place that reads it and hands it to the suite.
pub(super) fn wall_clock() -> Clock {
    Arc::new(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
    })
}

/// Whether `url`'s host is on loopback.
pub fn is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or("");
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The endpoint accepted a connection and then hung, dripped or reset on its first request:
/// a finding about the endpoint, not harness trouble.
pub struct FirstRequestFinding {
    pub trouble: Trouble,
    pub exchange: Exchange,
}

/// The endpoint to test, and the embedded server when none was given.
pub struct Target {
    pub endpoint: Endpoint,
    pub label: String,
    pub embedded: Option<RunningServer>,
}

/// Resolves `--endpoint` (or starts the embedded server) and checks that it answers at all.
pub async fn target(args: &EndpointArgs) -> Result<Result<Target, FirstRequestFinding>, CliError> {
    let signer = match (&args.aws_profile, args.sign) {
        (Some(profile), _) => Some(Signer::from_profile(profile).map_err(anyhow::Error::from)?),
        (None, true) => Some(Signer::from_env().map_err(anyhow::Error::from)?),
        (None, false) => None,
    };
    let options = EndpointOptions {
        timeout: Duration::from_secs_f64(args.timeout.max(0.001)),
        signer,
        ..EndpointOptions::default()
    };
    let (url, label, embedded) = match &args.endpoint {
        Some(url) => {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(CliError::Usage(format!(
                    "--endpoint {url}: expected a URL that starts with http:// or https:// \
                     (try http://{url})"
                )));
            }
            if !is_loopback(url) && !args.allow_remote {
                return Err(CliError::Usage(format!(
                    "{url} is not a loopback address; a run writes data there. Pass \
                     --allow-remote if that is intended."
                )));
            }
            (url.clone(), url.clone(), None)
        }
        None => {
            let running = server::spawn(([127, 0, 0, 1], 0).into(), ServerConfig::default())
                .await
                .context("cannot start the embedded reference server")?;
            let url = running.url();
            (
                url.clone(),
                format!("embedded reference server at {url}"),
                Some(running),
            )
        }
    };
    let endpoint = Endpoint::new(&url, options).map_err(anyhow::Error::from)?;
    // Preflight: a read that changes nothing (ListRecords of a dataset nobody writes), to tell
    // "unreachable" and "not this API" from findings.
    let probe = Request::ListRecords(ListRecordsRequest {
        path: DatasetPath {
            identity_pool_id: "us-east-1:00000000-0000-4000-8000-000000000000".to_owned(),
            identity_id: "us-east-1:00000000-0000-4000-8000-000000000000".to_owned(),
            dataset_name: "cogsync-preflight".to_owned(),
        },
        ..ListRecordsRequest::default()
    });
    let (reply, exchange) = endpoint.call::<serde_json::Value>(&probe).await;
    match preflight(&reply) {
        Preflight::SpeaksTheApi => {}
        Preflight::Unreachable(trouble) if accepts_connections(&url, args.timeout).await => {
            // Connected, then no complete answer: the endpoint misbehaves.
            return Ok(Err(FirstRequestFinding { trouble, exchange }));
        }
        Preflight::Unreachable(trouble) => {
            // The innermost cause ("Connection refused (os error 111)"), not the whole chain.
            let cause = match &trouble {
                Trouble::Connection(why) => why.rsplit(": ").next().unwrap_or(why).to_owned(),
                other => other.to_string(),
            };
            return Err(CliError::Harness(format!(
                "cannot reach {url}: {cause}. Is the server running? To try the suite on the \
                 reference server, run `cogsync check` without --endpoint, or start one with \
                 `cogsync serve`."
            )));
        }
        Preflight::NotThisApi(what) => {
            let body: String = exchange.response_body.chars().take(200).collect();
            return Err(CliError::Harness(format!(
                "{url} does not answer like a Cognito Sync endpoint, so no check ran.\n\
                 Sent: {} {} (ListRecords of a dataset nobody writes).\n\
                 Got: {} {what}; body: {body:?}\n\
                 A Cognito Sync endpoint answers it with a JSON object that has Records, Count, \
                 DatasetExists and SyncSessionToken, or with an error that has an \
                 x-amzn-ErrorType header and a JSON message. Check the base path (the URL must \
                 be the one the API's /identitypools/... paths hang off), the port, and http:// \
                 versus https://.",
                exchange.method,
                exchange.url,
                exchange
                    .status
                    .map_or_else(|| "no status".to_owned(), |s| s.to_string()),
            )));
        }
    }
    Ok(Ok(Target {
        endpoint,
        label,
        embedded,
    }))
}

/// Whether a TCP connection to `url`'s host and port opens within `timeout` seconds: tells an
/// endpoint that is not there (harness trouble) from one that accepts and then misbehaves (a
/// finding).
async fn accepts_connections(url: &str, timeout: f64) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return false;
    };
    let (Some(host), Some(port)) = (parsed.host_str(), parsed.port_or_known_default()) else {
        return false;
    };
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let limit = Duration::from_secs_f64(timeout.clamp(0.001, 10.0));
    matches!(
        tokio::time::timeout(limit, tokio::net::TcpStream::connect((host.as_str(), port))).await,
        Ok(Ok(_))
    )
}

/// The report of a run that stopped at the preflight because the endpoint accepted the
/// connection and then gave no complete answer.
fn preflight_finding(trouble: &Trouble, exchange: Exchange) -> CaseReport {
    CaseReport {
        id: PREFLIGHT_ID.to_owned(),
        title: "the endpoint answers its first request".to_owned(),
        requirement: "Every request gets a complete answer within --timeout (ERR-3: a server \
                      never closes the connection without a response)"
            .to_owned(),
        level: "MUST".to_owned(),
        covers: vec!["ERR-3".to_owned()],
        verdict: Verdict::Fail,
        detail: Some(format!(
            "the endpoint accepted the connection, then: {trouble}; no other check ran"
        )),
        ambiguities: Vec::new(),
        duration_ms: exchange.elapsed_ms,
        steps: vec![Step {
            operation: "ListRecords (preflight: a dataset nobody writes)".to_owned(),
            exchanges: vec![exchange],
            expected: "a complete answer: 200 with the ListRecords members, or an error".to_owned(),
            actual: trouble.to_string(),
            verdict: StepVerdict::Trouble {
                trouble: trouble.to_string(),
            },
        }],
    }
}

/// What the preflight probe learned about the endpoint.
#[derive(Debug, PartialEq)]
enum Preflight {
    SpeaksTheApi,
    Unreachable(Trouble),
    /// What came back instead of an answer of this API.
    NotThisApi(String),
}

/// A ListRecords answer of this API (some of its members), or an error with the ERR-1 shape.
/// Only an answer that is plainly another kind of server (HTML, a JSON document of another
/// API, an error without the error shape) stops the run here; an answer of this API with
/// faults in it is left to the suite, which reports them as findings.
fn preflight(reply: &Reply<serde_json::Value>) -> Preflight {
    match reply {
        Reply::Broken(trouble @ (Trouble::Connection(_) | Trouble::Timeout { .. })) => {
            Preflight::Unreachable(trouble.clone())
        }
        Reply::Broken(Trouble::BodyTooLarge { .. }) => Preflight::SpeaksTheApi,
        Reply::Broken(trouble) => Preflight::NotThisApi(trouble.to_string()),
        Reply::Success(value) => {
            let members = ["Records", "Count", "DatasetExists", "SyncSessionToken"];
            let found = members.iter().filter(|m| value.get(**m).is_some()).count();
            if found >= 2 {
                Preflight::SpeaksTheApi
            } else {
                Preflight::NotThisApi("a JSON answer without the ListRecords members".to_owned())
            }
        }
        Reply::Error(e) => {
            // Lenient on purpose: either half of the error shape says "this API, with faults",
            // which the suite then reports.
            let shaped = e.shape_name().is_some() || e.message().is_some();
            if shaped {
                Preflight::SpeaksTheApi
            } else {
                Preflight::NotThisApi(
                    "an error without an x-amzn-ErrorType header or a JSON message".to_owned(),
                )
            }
        }
    }
}

fn read_expect_fail(path: &Path) -> Result<BTreeMap<String, String>, CliError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        #[serde(rename = "expected-failures", default)]
        expected_failures: BTreeMap<String, String>,
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let file: File = match toml::from_str(&text) {
        Ok(file) => file,
        Err(e) => {
            return Err(CliError::Usage(format!(
                "--expect-fail {}: {} (the file has one table, [expected-failures], of \
                 \"case.id\" = \"reason\" lines)",
                path.display(),
                e.message()
            )));
        }
    };
    let known = known_ids();
    for id in file.expected_failures.keys() {
        if !known.contains(&id.as_str()) {
            return Err(CliError::Usage(format!(
                "--expect-fail {}: no case has the ID {id:?}{}",
                path.display(),
                did_you_mean(id, &known)
            )));
        }
    }
    Ok(file.expected_failures)
}

/// Every case ID, and the pseudo IDs of the two phases.
fn known_ids() -> Vec<&'static str> {
    let mut ids: Vec<&'static str> = cases::all().iter().map(|c| c.id).collect();
    ids.extend([RANDOM_ID, CONCURRENT_ID]);
    ids
}

/// `--only` and `--skip` take prefixes of IDs; one that matches nothing is a typo.
fn check_selectors(only: &[String], skip: &[String]) -> Result<(), CliError> {
    let known = known_ids();
    for (flag, prefixes) in [("--only", only), ("--skip", skip)] {
        for prefix in prefixes {
            if !known.iter().any(|id| id.starts_with(prefix.as_str())) {
                // Compare with the IDs' own prefixes of about the same length.
                let length = prefix.chars().count();
                let prefixes: Vec<String> = known
                    .iter()
                    .flat_map(|id| {
                        (length.saturating_sub(1)..=length + 1)
                            .map(move |n| id.chars().take(n).collect::<String>())
                    })
                    .collect();
                let prefixes: Vec<&str> = prefixes.iter().map(String::as_str).collect();
                return Err(CliError::Usage(format!(
                    "{flag} {prefix}: no case ID starts with it{} (`cogsync list` prints them)",
                    did_you_mean(prefix, &prefixes)
                )));
            }
        }
    }
    Ok(())
}

/// `--jobs N` above `--max-inflight` would flood the endpoint the cap protects.
fn check_inflight(jobs: Jobs, inflight_max: usize) -> Result<(), CliError> {
    match jobs {
        Jobs::Fixed(n) if n > inflight_max => Err(CliError::Usage(format!(
            "--jobs {n} is above --max-inflight {inflight_max}; raise --max-inflight too, or use \
             --jobs auto"
        ))),
        _ => Ok(()),
    }
}

/// `; did you mean "…"?` with the known ID closest to `wanted`, if one is close enough.
fn did_you_mean(wanted: &str, known: &[&str]) -> String {
    known
        .iter()
        .map(|id| (edit_distance(wanted, id), *id))
        .min()
        .filter(|(distance, id)| *distance <= wanted.len().max(id.len()) / 3 + 1)
        .map_or_else(String::new, |(_, id)| format!("; did you mean {id:?}?"))
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(above + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

/// ` --endpoint URL` when the run was against an endpoint of the user's, for printed commands.
fn endpoint_flag(args: &CheckArgs) -> String {
    args.endpoint
        .endpoint
        .as_ref()
        .map_or_else(String::new, |url| format!(" --endpoint {url}"))
}

/// What `--rerun-failed` takes from an earlier report.
struct Rerun {
    seed: u64,
    ids: Vec<String>,
}

fn read_rerun(path: &Path) -> Result<Rerun, CliError> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let report: RunReport = match serde_json::from_str(&text) {
        Ok(report) => report,
        Err(e) => {
            return Err(CliError::Usage(format!(
                "--rerun-failed {}: not a report written by `cogsync check --json` ({e})",
                path.display()
            )));
        }
    };
    let mut ids: Vec<String> = report
        .cases
        .iter()
        .filter(|c| c.verdict.fails_run() && c.id != PREFLIGHT_ID)
        .map(|c| c.id.clone())
        .collect();
    if report
        .random
        .as_ref()
        .is_some_and(|r| r.verdict.fails_run())
    {
        ids.push(RANDOM_ID.to_owned());
    }
    if report
        .concurrent
        .as_ref()
        .is_some_and(|c| c.verdict.fails_run())
    {
        ids.push(CONCURRENT_ID.to_owned());
    }
    // Cases that did not run because of --max-fail count as not yet passed.
    ids.extend(report.not_run.iter().cloned());
    let known = known_ids();
    if let Some(unknown) = ids.iter().find(|id| !known.contains(&id.as_str())) {
        return Err(CliError::Usage(format!(
            "--rerun-failed {}: the report names {unknown:?}, which this version has no case \
             for",
            path.display()
        )));
    }
    Ok(Rerun {
        seed: report.seed,
        ids,
    })
}

/// Writes the JSON and JUnit reports asked for, and says where.
fn write_reports(
    report: &RunReport,
    args: &CheckArgs,
    human: &HumanReporter,
) -> anyhow::Result<()> {
    for (path, what, text) in [
        (
            &args.json,
            "JSON",
            RunReport::to_json as fn(&RunReport) -> String,
        ),
        (&args.junit, "JUnit", RunReport::to_junit),
    ]
    .into_iter()
    .filter_map(|(path, what, render)| path.as_ref().map(|p| (p, what, render(report))))
    {
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
        human.written(what, path);
    }
    Ok(())
}

/// The end of every run: failures saved for replay, the closing lines, the report files, the
/// summary; and the exit code.
fn close_run(
    report: &mut RunReport,
    args: &CheckArgs,
    human: &HumanReporter,
    embedded: bool,
    pacing: Option<(Pacing, usize)>,
) -> CliResult {
    report.tally();
    let artifacts = Artifacts {
        dir: args.artifacts.clone(),
    };
    artifacts
        .save(report, embedded)
        .map_err(|e| CliError::Harness(e.to_string()))?;
    let closing = Closing {
        artifacts,
        endpoint_flag: endpoint_flag(args),
        partition_flag: args
            .partition
            .map_or_else(String::new, |p| format!(" --partition {p}")),
        json: args.json.clone(),
        pacing,
    };
    human.closing(report, &closing);
    write_reports(report, args, human)?;
    human.summary(report);
    Ok(exit_code(report))
}

/// Findings fail the run (1); a run with harness trouble (ERROR) but no finding exits 3, like
/// any other harness trouble; otherwise 0.
fn exit_code(report: &RunReport) -> u8 {
    let s = &report.summary;
    if s.failed > 0 || s.xpass > 0 {
        EXIT_FAILED
    } else if s.errors > 0 {
        EXIT_HARNESS
    } else if s.success() && report.not_run.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAILED
    }
}

pub async fn check(args: CheckArgs) -> CliResult {
    let human = HumanReporter::new(Style {
        quiet: args.quiet,
        verbose: args.verbose,
        colour: args.color.enabled(),
        progress: std::io::stderr().is_terminal(),
    });
    let style = human.style();
    let rerun = match &args.rerun_failed {
        Some(path) => match read_rerun(path)? {
            rerun if rerun.ids.is_empty() => {
                println!(
                    "cogsync check: nothing failed in {}; nothing to re-run",
                    path.display()
                );
                return Ok(EXIT_OK);
            }
            rerun => Some(rerun),
        },
        None => None,
    };
    let seed = args
        .seed
        .or(rerun.as_ref().map(|r| r.seed))
        .unwrap_or_else(rand::random);
    if !style.quiet {
        println!("cogsync check: seed {seed} (repeat with --seed {seed})");
    }
    let expect_fail = match &args.expect_fail {
        Some(path) => read_expect_fail(path)?,
        None => BTreeMap::new(),
    };
    check_selectors(&args.only, &args.skip)?;
    check_inflight(args.jobs, args.max_inflight)?;
    let clock = wall_clock();
    let started_at = clock();
    let started = Instant::now();
    let run_id: u32 = rand::random();
    let target = match target(&args.endpoint).await? {
        Ok(t) => t,
        Err(FirstRequestFinding { trouble, exchange }) => {
            let base = args
                .endpoint
                .endpoint
                .clone()
                .unwrap_or_else(|| exchange.url.clone());
            let mut report = RunReport::new(&base, run_id, seed, args.strict, started_at);
            report.cases.push(preflight_finding(&trouble, exchange));
            report.elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
            return close_run(&mut report, &args, &human, false, None);
        }
    };
    if !style.quiet {
        println!("endpoint: {}", target.label);
        println!(
            "run id: {run_id:08x} (every identity this run creates starts with us-east-1:{run_id:08x}-)"
        );
        if let Some(path) = &args.rerun_failed {
            println!(
                "re-running what failed in {}: {}",
                path.display(),
                rerun.as_ref().map_or(String::new(), |r| r.ids.join(" "))
            );
        }
    }
    let plan = Plan {
        endpoint: target.endpoint.clone(),
        clock: clock.clone(),
        run_id,
        jobs: args.jobs,
        inflight_max: args.max_inflight,
        keep: args.keep,
        strict: args.strict,
        expect_fail: expect_fail.clone(),
        max_fail: if args.fail_fast {
            Some(1)
        } else {
            args.max_fail.map(|n| n as usize)
        },
    };
    let options = SuiteOptions {
        only: rerun
            .as_ref()
            .map_or_else(|| args.only.clone(), |r| r.ids.clone()),
        only_exact: rerun.is_some(),
        skip: args.skip.clone(),
        seed,
        sequences: args.sequences,
        steps_max: args.steps_max,
        time_budget: args.time_budget,
        partition: args.partition.unwrap_or_default(),
        devices: args.devices,
        rounds: args.rounds,
        ops_per_device: args.ops_per_device,
    };
    if let Some(partition) = args.partition.filter(|_| !style.quiet) {
        println!(
            "partition {partition}: {} of {} named cases, {} of {} random sequences (those \
             whose number i has i % {} = {}), {}",
            selected_cases(&options).len(),
            cases::select(&args.only, &args.skip).len(),
            options.partition.sequences_of(args.sequences),
            args.sequences,
            partition.count(),
            partition.shard() - 1,
            if partition.has_concurrent() {
                "and the concurrent phase"
            } else {
                "no concurrent phase (shard 1 runs it)"
            }
        );
    }
    let reporter = Arc::new(human);
    let sink = reporter.clone();
    let outcome = run_suite(&plan, &options, Arc::new(move |event| sink.event(event))).await;
    let mut report = RunReport::new(
        target.endpoint.base_url(),
        run_id,
        seed,
        args.strict,
        started_at,
    );
    report.cases = outcome.cases;
    report.not_run = outcome.not_run;
    report.random = outcome.random;
    report.concurrent = outcome.concurrent;
    report.elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    let embedded = target.embedded.is_some();
    if let Some(running) = target.embedded {
        running
            .shutdown()
            .await
            .context("the embedded server did not stop cleanly")?;
    }
    close_run(
        &mut report,
        &args,
        &reporter,
        embedded,
        Some((outcome.pacing, args.max_inflight)),
    )
}

/// Says why `file` is not something `replay` runs, when it is another file cogsync writes.
fn not_a_replay_file(file: &Path, text: &str) -> Option<String> {
    let name = file.file_name()?.to_string_lossy().into_owned();
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    if name.contains(".history.") || value.get("operations").is_some() || value.is_array() {
        return Some(format!(
            "{name} is a concurrent history: races depend on timing, so it cannot be replayed \
             step by step. Re-run the phase with `cogsync check --only concurrent --seed SEED`, \
             or feed the .edn file beside it to a linearizability checker."
        ));
    }
    if name.contains(".finding.") || value.get("oracle").is_some() {
        return Some(format!(
            "{name} is a network-fuzz finding: run the curl script saved beside it (same name, \
             .sh) to send the request again, or `cogsync fuzz --seed SEED` to repeat the run."
        ));
    }
    if value.get("tool").is_some() && value.get("summary").is_some() {
        return Some(format!(
            "{name} is a run report: `cogsync check --rerun-failed {}` runs what failed in it",
            file.display()
        ));
    }
    None
}

pub async fn replay(args: ReplayArgs) -> CliResult {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let saved: SavedFailure = match serde_json::from_str(&text) {
        Ok(saved) => saved,
        Err(e) => {
            let why = not_a_replay_file(&args.file, &text).unwrap_or_else(|| {
                format!(
                    "{} is not a failure saved by `cogsync check` ({e})",
                    args.file.display()
                )
            });
            return Err(CliError::Usage(why));
        }
    };
    let case = match &saved.case {
        Some(id) => match cases::all().into_iter().find(|c| c.id == id) {
            Some(case) => Some(case),
            None => {
                return Err(CliError::Usage(format!(
                    "{} names the case {id:?}, which this version does not have",
                    args.file.display()
                )));
            }
        },
        None if saved.actions.is_empty() => {
            return Err(CliError::Usage(format!(
                "{} holds neither a case nor actions",
                args.file.display()
            )));
        }
        None => None,
    };
    // The endpoint the failure was found on, unless --endpoint names another; a failure
    // found on an embedded server replays on a fresh one.
    let mut endpoint_args = args.endpoint.clone();
    let whose = match (&args.endpoint.endpoint, saved.embedded) {
        (Some(_), _) => "--endpoint",
        (None, Some(false)) => {
            endpoint_args.endpoint = Some(saved.endpoint.clone());
            "the endpoint saved in the file"
        }
        (None, Some(true)) => "the failure was found on an embedded reference server",
        (None, None) => {
            "the file does not say where it was found; --endpoint URL replays elsewhere"
        }
    };
    let target = match target(&endpoint_args).await? {
        Ok(t) => t,
        Err(FirstRequestFinding { trouble, .. }) => {
            println!(
                "the endpoint accepted the connection, then: {trouble} (on the first request)"
            );
            println!("0 passed, 1 failed");
            return Ok(EXIT_FAILED);
        }
    };
    let what = match &case {
        Some(case) => format!("case {}", case.id),
        None => format!("{} action(s)", saved.actions.len()),
    };
    println!(
        "cogsync replay: {what} from {} against {} ({whose})",
        args.file.display(),
        target.label
    );
    println!("originally: {}", saved.reason);
    let run_id: u32 = rand::random();
    let (failure, steps) = match case {
        Some(case) => {
            let plan = Plan {
                endpoint: target.endpoint.clone(),
                clock: wall_clock(),
                run_id,
                jobs: Jobs::Fixed(1),
                inflight_max: 1,
                keep: false,
                strict: false,
                expect_fail: BTreeMap::new(),
                max_fail: None,
            };
            let report = run_case(&plan, case, 1).await;
            let failure = report
                .verdict
                .fails_run()
                .then(|| report.detail.clone().unwrap_or_default());
            (failure, report.steps)
        }
        None => {
            let run = run_sequence(
                target.endpoint.clone(),
                wall_clock(),
                Namer::new(run_id, 1),
                &saved.actions,
                false,
            )
            .await;
            (run.failure.map(|stop| stop.to_string()), run.steps)
        }
    };
    print!("{}", transcript(&steps));
    if let Some(running) = target.embedded {
        running
            .shutdown()
            .await
            .context("the embedded server did not stop cleanly")?;
    }
    match failure {
        Some(why) => {
            println!("reproduced: {why}");
            println!("0 passed, 1 failed");
            Ok(EXIT_FAILED)
        }
        None => {
            println!(
                "did not reproduce: each of the {} answers above was compared with the model \
                 (status, error type, records, counts and flags) and every one was allowed",
                steps.len()
            );
            println!("1 passed, 0 failed");
            Ok(EXIT_NOT_REPRODUCED)
        }
    }
}

pub fn list(args: ListArgs) -> u8 {
    let all = cases::all();
    let wanted = |id: &str, level: &str, covers: &[&str]| {
        args.filter.as_deref().is_none_or(|f| {
            id.starts_with(f) || level.eq_ignore_ascii_case(f) || covers.contains(&f)
        })
    };
    let shown: Vec<_> = all
        .iter()
        .filter(|c| wanted(c.id, c.level.as_str(), c.covers))
        .collect();
    let phases = [
        (
            RANDOM_ID,
            &["model"][..],
            "Model-based random sequences (the random phase)",
        ),
        (
            CONCURRENT_ID,
            &["UR-2", "UR-3", "DATA-3"][..],
            "Racing devices; histories checked for linearizability",
        ),
    ];
    let phases_shown: Vec<_> = phases
        .iter()
        .filter(|(id, covers, _)| wanted(id, "MUST", covers))
        .collect();
    if args.json {
        let mut rows: Vec<serde_json::Value> = shown
            .iter()
            .map(|c| {
                serde_json::json!({
                    "id": c.id,
                    "kind": "case",
                    "level": c.level.as_str(),
                    "covers": c.covers,
                    "title": c.title,
                    "requirement": c.requirement,
                })
            })
            .collect();
        rows.extend(phases_shown.iter().map(|(id, covers, title)| {
            serde_json::json!({
                "id": id, "kind": "phase", "level": "MUST", "covers": covers, "title": title,
            })
        }));
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_else(|_| "[]".to_owned())
        );
        return EXIT_OK;
    }
    let width = shown.iter().map(|c| c.id.len()).max().unwrap_or(10);
    for case in &shown {
        println!(
            "{:<width$}  {:<8}  {:<24}  {}",
            case.id,
            case.level.as_str(),
            case.covers.join(","),
            case.title
        );
    }
    for (id, covers, title) in &phases_shown {
        println!(
            "{id:<width$}  {:<8}  {:<24}  {title}",
            "MUST",
            covers.join(",")
        );
    }
    // `check` reports one verdict per case and one per phase, so count the same way.
    println!(
        "{} of {} named cases, and {} of 2 phases",
        shown.len(),
        all.len(),
        phases_shown.len()
    );
    EXIT_OK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_common_units() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("3d").is_err());
    }

    #[test]
    fn only_loopback_endpoints_are_local() {
        for url in [
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:9/",
            "http://127.3.2.1",
        ] {
            assert!(is_loopback(url), "{url}");
        }
        for url in [
            "https://cognito-sync.us-east-1.amazonaws.com",
            "http://10.0.0.1:80",
            "http://example.com",
        ] {
            assert!(!is_loopback(url), "{url}");
        }
    }
}
