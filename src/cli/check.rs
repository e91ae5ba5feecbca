//! `cogsync check`, `cogsync list` and `cogsync replay`.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use super::{EXIT_FAILED, EXIT_HARNESS, EXIT_NOT_REPRODUCED, EXIT_OK, EXIT_USAGE};
use crate::client::sigv4::Signer;
use crate::client::{Endpoint, EndpointOptions, Exchange, Reply, Trouble};
use crate::report::{RunReport, curl_script, transcript};
use crate::server::{self, RunningServer, ServerConfig};
use crate::spec::{DatasetPath, ListRecordsRequest, Request};
use crate::suite::cases;
use crate::suite::machine::{Action, run_sequence};
use crate::suite::pacer::{INFLIGHT_MAX_DEFAULT, Jobs};
use crate::suite::partition::Partition;
use crate::suite::run::{
    CONCURRENT_ID, Plan, RANDOM_ID, SuiteOptions, run_case, run_suite, selected_cases,
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
    /// Random sequences to generate (0 skips the random phase).
    #[arg(long = "cases", default_value_t = 1000, value_name = "N")]
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

/// A verdict's label, in its colour when `colour` is on.
fn painted(verdict: Verdict, colour: bool) -> String {
    let code = match verdict {
        Verdict::Pass => "32",
        Verdict::NonStrict => "33",
        Verdict::Xfail => "36",
        Verdict::Fail | Verdict::Error | Verdict::Xpass => "1;31",
    };
    if colour {
        format!("\x1b[{code}m{}\x1b[0m", verdict.label())
    } else {
        verdict.label().to_owned()
    }
}

/// `painted`, padded to the widest label, for columns (escape codes do not count).
fn painted_column(verdict: Verdict, colour: bool) -> String {
    let pad = 10usize.saturating_sub(verdict.label().len());
    format!("{}{}", painted(verdict, colour), " ".repeat(pad))
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

/// A failure as saved on disk for `cogsync replay`: a random sequence (its actions), or a
/// named case (its ID).
#[derive(Debug, Serialize, Deserialize)]
pub struct SavedFailure {
    pub cogsync: String,
    #[serde(with = "crate::spec::seed_text")]
    pub seed: u64,
    /// The sequence's number in the run with `seed` (absent in files of older versions).
    #[serde(default)]
    pub index: Option<u32>,
    pub endpoint: String,
    pub reason: String,
    /// The named case that failed; absent for a random sequence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<String>,
    #[serde(default)]
    pub actions: Vec<Action>,
    #[serde(default)]
    pub transcript: String,
    /// Whether `endpoint` was an embedded reference server (gone with its run): `replay` then
    /// starts a fresh one instead of calling `endpoint`. Absent in files of older versions.
    #[serde(default)]
    pub embedded: Option<bool>,
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

/// Why there is no endpoint to run against.
pub enum NoTarget {
    /// Said already; exit with this code (usage error, harness trouble).
    Exit(u8),
    /// The endpoint accepted a connection and then hung, dripped or reset on its first
    /// request: a finding about the endpoint, not harness trouble.
    Finding {
        trouble: Trouble,
        exchange: Box<Exchange>,
    },
}

/// The endpoint to test, and the embedded server when none was given.
pub struct Target {
    pub endpoint: Endpoint,
    pub label: String,
    pub embedded: Option<RunningServer>,
}

/// Resolves `--endpoint` (or starts the embedded server) and checks that it answers at all.
pub async fn target(args: &EndpointArgs) -> anyhow::Result<Result<Target, NoTarget>> {
    let signer = match (&args.aws_profile, args.sign) {
        (Some(profile), _) => Some(Signer::from_profile(profile)?),
        (None, true) => Some(Signer::from_env()?),
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
                eprintln!(
                    "cogsync: --endpoint {url}: expected a URL that starts with http:// or \
                     https:// (try http://{url})"
                );
                return Ok(Err(NoTarget::Exit(EXIT_USAGE)));
            }
            if !is_loopback(url) && !args.allow_remote {
                eprintln!(
                    "cogsync: {url} is not a loopback address; a run writes data there. \
                     Pass --allow-remote if that is intended."
                );
                return Ok(Err(NoTarget::Exit(EXIT_USAGE)));
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
    let endpoint = Endpoint::new(&url, options)?;
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
            return Ok(Err(NoTarget::Finding {
                trouble,
                exchange: Box::new(exchange),
            }));
        }
        Preflight::Unreachable(trouble) => {
            // The innermost cause ("Connection refused (os error 111)"), not the whole chain.
            let cause = match &trouble {
                Trouble::Connection(why) => why.rsplit(": ").next().unwrap_or(why).to_owned(),
                other => other.to_string(),
            };
            eprintln!(
                "cogsync: cannot reach {url}: {cause}. Is the server running? To try the suite \
                 on the reference server, run `cogsync check` without --endpoint, or start one \
                 with `cogsync serve`."
            );
            return Ok(Err(NoTarget::Exit(EXIT_HARNESS)));
        }
        Preflight::NotThisApi(what) => {
            let body: String = exchange.response_body.chars().take(200).collect();
            eprintln!(
                "cogsync: {url} does not answer like a Cognito Sync endpoint, so no check ran.\n\
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
            );
            return Ok(Err(NoTarget::Exit(EXIT_HARNESS)));
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

/// The ID under which a preflight finding is reported.
const PREFLIGHT_ID: &str = "preflight";

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

/// A usage error: the message says what was wrong and what would be right.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Usage(String);

fn read_expect_fail(path: &Path) -> anyhow::Result<Result<BTreeMap<String, String>, Usage>> {
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
            return Ok(Err(Usage(format!(
                "--expect-fail {}: {} (the file has one table, [expected-failures], of \
                 \"case.id\" = \"reason\" lines)",
                path.display(),
                e.message()
            ))));
        }
    };
    let known = known_ids();
    for id in file.expected_failures.keys() {
        if !known.contains(&id.as_str()) {
            return Ok(Err(Usage(format!(
                "--expect-fail {}: no case has the ID {id:?}{}",
                path.display(),
                did_you_mean(id, &known)
            ))));
        }
    }
    Ok(Ok(file.expected_failures))
}

/// Every case ID, and the pseudo IDs of the two phases.
fn known_ids() -> Vec<&'static str> {
    let mut ids: Vec<&'static str> = cases::all().iter().map(|c| c.id).collect();
    ids.extend([RANDOM_ID, CONCURRENT_ID]);
    ids
}

/// `--only` and `--skip` take prefixes of IDs; one that matches nothing is a typo.
fn check_selectors(only: &[String], skip: &[String]) -> Result<(), Usage> {
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
                return Err(Usage(format!(
                    "{flag} {prefix}: no case ID starts with it{} (`cogsync list` prints them)",
                    did_you_mean(prefix, &prefixes)
                )));
            }
        }
    }
    Ok(())
}

/// `--jobs N` above `--max-inflight` would flood the endpoint the cap protects.
fn check_inflight(jobs: Jobs, inflight_max: usize) -> Result<(), Usage> {
    match jobs {
        Jobs::Fixed(n) if n > inflight_max => Err(Usage(format!(
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

fn progress_bar(len: u64, what: &str) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() || len == 0 {
        return None;
    }
    let bar = ProgressBar::new(len);
    let style = ProgressStyle::with_template("{prefix:>10} [{bar:40}] {pos}/{len} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(what.to_owned());
    Some(bar)
}

fn save(dir: &Path, name: &str, contents: &str) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(name);
    std::fs::write(&path, contents).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// How much the human output says.
#[derive(Debug, Clone, Copy)]
struct Style {
    quiet: bool,
    verbose: bool,
    colour: bool,
}

/// The end of a failing run: every failed ID on one line with what was saved for it, and the
/// command that runs just those again.
fn print_failed(report: &RunReport, args: &CheckArgs, seed: u64, style: Style) {
    let mut failed: Vec<(Verdict, String, String)> = report
        .cases
        .iter()
        .filter(|c| c.verdict.fails_run())
        .map(|c| {
            let saved = if c.steps.is_empty() || c.id == PREFLIGHT_ID {
                String::new()
            } else {
                format!(
                    "cogsync replay {}{}",
                    args.artifacts.join(format!("{}.json", c.id)).display(),
                    endpoint_flag(args)
                )
            };
            (c.verdict, c.id.clone(), saved)
        })
        .collect();
    if let Some(random) = report.random.as_ref().filter(|r| r.verdict.fails_run()) {
        let file = args.artifacts.join(format!("random-{seed}.json"));
        let saved = if random.failure.is_some() {
            format!("cogsync replay {}{}", file.display(), endpoint_flag(args))
        } else {
            random.vacuous.clone().unwrap_or_default()
        };
        failed.push((random.verdict, RANDOM_ID.to_owned(), saved));
    }
    if let Some(concurrent) = report.concurrent.as_ref().filter(|c| c.verdict.fails_run()) {
        let saved = if concurrent.violation.is_some() {
            format!(
                "history {} (a race is not replayable; re-run the phase with the same seed)",
                args.artifacts
                    .join(format!("concurrent-{seed}.history.json"))
                    .display()
            )
        } else {
            String::new()
        };
        failed.push((concurrent.verdict, CONCURRENT_ID.to_owned(), saved));
    }
    if !report.not_run.is_empty() {
        let shown: Vec<&str> = report.not_run.iter().take(5).map(String::as_str).collect();
        let more = report.not_run.len() - shown.len();
        println!(
            "\nnot run ({}, --max-fail reached): {}{}",
            report.not_run.len(),
            shown.join(" "),
            if more > 0 {
                format!(" and {more} more (the JSON report lists all)")
            } else {
                String::new()
            }
        );
    }
    if failed.is_empty() {
        return;
    }
    if !style.quiet {
        println!("\nfailed ({}):", failed.len());
        let width = failed.iter().map(|(_, id, _)| id.len()).max().unwrap_or(0);
        for (verdict, id, saved) in &failed {
            println!(
                "  {} {id:<width$}  {saved}",
                painted_column(*verdict, style.colour)
            );
        }
    }
    let rerunnable: Vec<&str> = failed
        .iter()
        .map(|(_, id, _)| id.as_str())
        .filter(|id| *id != PREFLIGHT_ID)
        .collect();
    if rerunnable.is_empty() {
        return;
    }
    let partition = args
        .partition
        .map_or_else(String::new, |p| format!(" --partition {p}"));
    match &args.json {
        Some(json) => println!(
            "re-run just these: cogsync check --rerun-failed {}{}{partition}",
            json.display(),
            endpoint_flag(args)
        ),
        None => println!(
            "re-run just these: cogsync check --seed {seed}{}{partition} --only {}",
            endpoint_flag(args),
            rerunnable.join(" ")
        ),
    }
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

fn read_rerun(path: &Path) -> anyhow::Result<Result<Rerun, Usage>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let report: RunReport = match serde_json::from_str(&text) {
        Ok(report) => report,
        Err(e) => {
            return Ok(Err(Usage(format!(
                "--rerun-failed {}: not a report written by `cogsync check --json` ({e})",
                path.display()
            ))));
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
        return Ok(Err(Usage(format!(
            "--rerun-failed {}: the report names {unknown:?}, which this version has no case \
             for",
            path.display()
        ))));
    }
    Ok(Ok(Rerun {
        seed: report.seed,
        ids,
    }))
}

/// Writes a report file and says where.
fn write_report(path: &Path, what: &str, text: &str, style: Style) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    if !style.quiet {
        println!("{what} report written to {}", path.display());
    }
    Ok(())
}

/// Saves what reproduces a failing case: a replay file and a curl script.
fn save_case(
    args: &CheckArgs,
    seed: u64,
    base_url: &str,
    embedded: bool,
    case: &CaseReport,
) -> anyhow::Result<(PathBuf, PathBuf)> {
    let saved = SavedFailure {
        cogsync: env!("CARGO_PKG_VERSION").to_owned(),
        seed,
        index: None,
        endpoint: base_url.to_owned(),
        reason: case.detail.clone().unwrap_or_default(),
        case: Some(case.id.clone()),
        actions: Vec::new(),
        transcript: transcript(&case.steps),
        embedded: Some(embedded),
    };
    let json = save(
        &args.artifacts,
        &format!("{}.json", case.id),
        &serde_json::to_string_pretty(&saved)?,
    )?;
    let sh = save(
        &args.artifacts,
        &format!("{}.sh", case.id),
        &curl_script(&case.steps),
    )?;
    Ok((json, sh))
}

/// Writes the JSON and JUnit reports asked for.
fn write_reports(report: &RunReport, args: &CheckArgs, style: Style) -> anyhow::Result<()> {
    if let Some(path) = &args.json {
        write_report(path, "JSON", &report.to_json(), style)?;
    }
    if let Some(path) = &args.junit {
        write_report(path, "JUnit", &report.to_junit(), style)?;
    }
    Ok(())
}

/// The last lines of a run: its time and the counts.
fn print_summary(report: &RunReport, seed: u64, style: Style) {
    if !style.quiet {
        println!("\ncogsync: {:.1} s", report.elapsed_ms / 1000.0);
    }
    let line = report.summary.line();
    if style.quiet {
        println!("{line} (seed {seed}, {:.1} s)", report.elapsed_ms / 1000.0);
    } else {
        println!("{line}");
    }
    if report.summary.total() == 0 {
        println!("nothing ran: check --only / --skip / --partition");
    }
}

pub async fn check(args: CheckArgs) -> anyhow::Result<u8> {
    let style = Style {
        quiet: args.quiet,
        verbose: args.verbose,
        colour: args.color.enabled(),
    };
    let rerun = match &args.rerun_failed {
        Some(path) => match read_rerun(path)? {
            Ok(rerun) if rerun.ids.is_empty() => {
                println!(
                    "cogsync check: nothing failed in {}; nothing to re-run",
                    path.display()
                );
                return Ok(EXIT_OK);
            }
            Ok(rerun) => Some(rerun),
            Err(usage) => {
                eprintln!("cogsync check: {usage}");
                return Ok(EXIT_USAGE);
            }
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
        None => Ok(BTreeMap::new()),
    };
    let expect_fail = match expect_fail
        .and_then(|e| check_selectors(&args.only, &args.skip).map(|()| e))
        .and_then(|e| check_inflight(args.jobs, args.max_inflight).map(|()| e))
    {
        Ok(expect_fail) => expect_fail,
        Err(usage) => {
            eprintln!("cogsync check: {usage}");
            return Ok(EXIT_USAGE);
        }
    };
    let clock = wall_clock();
    let started_at = clock();
    let started = Instant::now();
    let run_id: u32 = rand::random();
    let target = match target(&args.endpoint).await? {
        Ok(t) => t,
        Err(NoTarget::Exit(code)) => return Ok(code),
        Err(NoTarget::Finding { trouble, exchange }) => {
            let url = exchange.url.clone();
            let base = args.endpoint.endpoint.clone().unwrap_or(url);
            let mut report = RunReport::new(&base, run_id, seed, args.strict, started_at);
            let case = preflight_finding(&trouble, *exchange);
            println!(
                "\n{} {} — {}",
                painted(case.verdict, style.colour),
                case.id,
                case.title
            );
            println!("  {}", case.detail.as_deref().unwrap_or_default());
            if !style.quiet {
                print!("{}", transcript(&case.steps));
            }
            report.cases.push(case);
            report.elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
            report.tally();
            write_reports(&report, &args, style)?;
            print_summary(&report, seed, style);
            return Ok(EXIT_FAILED);
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
    let mut report = RunReport::new(
        target.endpoint.base_url(),
        run_id,
        seed,
        args.strict,
        started_at,
    );

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
    let case_count = selected_cases(&options).len() as u64;
    let sequence_count = options.partition.sequences_of(args.sequences);
    if let Some(partition) = args.partition.filter(|_| !style.quiet) {
        println!(
            "partition {partition}: {case_count} of {} named cases, {sequence_count} of {} random \
             sequences (those whose number i has i % {} = {}), {}",
            cases::select(&args.only, &args.skip).len(),
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
    let bar = progress_bar(case_count + u64::from(sequence_count), "check");
    let shown = bar.clone();
    let progress: Arc<dyn Fn(u64) + Send + Sync> = Arc::new(move |n| {
        if let Some(bar) = &shown {
            bar.set_position(case_count + n);
        }
    });
    // The concurrent phase gets its own bar once it starts, in place of the first one.
    let rounds_bar: Arc<std::sync::Mutex<Option<ProgressBar>>> = Arc::default();
    let (earlier_bar, shown_rounds, rounds) = (bar.clone(), rounds_bar.clone(), args.rounds);
    let rounds_done: Arc<dyn Fn(usize) + Send + Sync> = Arc::new(move |n| {
        let Ok(mut shown) = shown_rounds.lock() else {
            return;
        };
        if n == 0 {
            if let Some(bar) = &earlier_bar {
                bar.finish_and_clear();
            }
            *shown = progress_bar(rounds as u64, "concurrent");
        }
        if let Some(bar) = shown.as_ref() {
            bar.set_position(n as u64);
        }
    });
    let outcome = run_suite(
        &plan,
        &options,
        |r: &CaseReport| {
            let line = if style.quiet {
                r.verdict.fails_run().then(|| {
                    format!(
                        "{} {} — {}",
                        painted(r.verdict, style.colour),
                        r.id,
                        r.detail.as_deref().unwrap_or_default()
                    )
                })
            } else if bar.is_some() {
                (r.verdict != Verdict::Pass)
                    .then(|| format!("{} {}", painted_column(r.verdict, style.colour), r.id))
            } else {
                Some(format!(
                    "{} {} ({:.0} ms)",
                    painted_column(r.verdict, style.colour),
                    r.id,
                    r.duration_ms
                ))
            };
            let steps = (style.verbose && !r.steps.is_empty()).then(|| transcript(&r.steps));
            match &bar {
                Some(bar) => {
                    bar.inc(1);
                    for text in line.iter().chain(steps.iter()) {
                        bar.println(text);
                    }
                }
                None => {
                    for text in line.iter().chain(steps.iter()) {
                        println!("{text}");
                    }
                }
            }
        },
        progress,
        rounds_done,
    )
    .await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if let Some(bar) = rounds_bar.lock().ok().and_then(|mut b| b.take()) {
        bar.finish_and_clear();
    }
    report.cases = outcome.cases;
    report.not_run = outcome.not_run;
    let embedded = target.embedded.is_some();
    for case in report
        .cases
        .iter()
        .filter(|c| c.verdict.fails_run() || c.verdict == Verdict::NonStrict)
    {
        let saved = if case.verdict.fails_run() && !case.steps.is_empty() {
            Some(save_case(
                &args,
                seed,
                target.endpoint.base_url(),
                embedded,
                case,
            )?)
        } else {
            None
        };
        if style.quiet {
            continue;
        }
        println!(
            "\n{} {} — {}",
            painted(case.verdict, style.colour),
            case.id,
            case.title
        );
        println!(
            "  requirement ({}; {}): {}",
            case.level,
            case.covers.join(", "),
            case.requirement
        );
        if let Some(detail) = &case.detail {
            println!("  {detail}");
        }
        if let Some((json, sh)) = saved {
            print!("{}", transcript(&case.steps));
            println!(
                "  saved: {} (cogsync replay {}{}); curl script: {}",
                json.display(),
                json.display(),
                endpoint_flag(&args),
                sh.display()
            );
        }
    }
    if let Some(random) = outcome.random {
        let c = random.coverage;
        if !style.quiet {
            println!(
                "\nrandom phase: {} sequences, {} checked operations in {:.1} s ({:.0} ops/s); \
                 {} conflicts, {} tombstone writes, {} multi-page lists",
                random.sequences,
                c.operations,
                random.elapsed_ms / 1000.0,
                random.operations_per_sec,
                c.conflicts,
                c.tombstones,
                c.multi_page_lists
            );
            if !random.ambiguities.is_empty() {
                println!(
                    "  {}: allowed, not the reference outcome on {}",
                    painted(Verdict::NonStrict, style.colour),
                    random.ambiguities.join(", ")
                );
            }
        }
        if let Some(why) = &random.vacuous {
            println!(
                "{}{} {RANDOM_ID} — {why} (vacuity guard: run more --cases or a longer --steps-max)",
                if style.quiet { "" } else { "  " },
                painted(random.verdict, style.colour)
            );
        }
        if let Some(f) = &random.failure {
            let text = transcript(&f.steps);
            let saved = SavedFailure {
                cogsync: env!("CARGO_PKG_VERSION").to_owned(),
                seed,
                index: Some(f.index),
                endpoint: target.endpoint.base_url().to_owned(),
                reason: f.reason.clone(),
                case: None,
                actions: f.actions.clone(),
                transcript: text.clone(),
                embedded: Some(embedded),
            };
            let json = save(
                &args.artifacts,
                &format!("random-{seed}.json"),
                &serde_json::to_string_pretty(&saved)?,
            )?;
            let sh = save(
                &args.artifacts,
                &format!("random-{seed}.sh"),
                &curl_script(&f.steps),
            )?;
            if style.quiet {
                println!(
                    "{} {RANDOM_ID} — sequence {}, shrunk to {} step(s) from {}: {}",
                    painted(random.verdict, style.colour),
                    f.index,
                    f.actions.len(),
                    f.original_len,
                    f.reason
                );
            } else {
                println!(
                    "\n{} random sequence {} (seed {seed}), shrunk to {} step(s) from {}: {}",
                    painted(random.verdict, style.colour),
                    f.index,
                    f.actions.len(),
                    f.original_len,
                    f.reason
                );
                print!("{text}");
                println!(
                    "  saved: {} (cogsync replay {}{})",
                    json.display(),
                    json.display(),
                    endpoint_flag(&args)
                );
                println!("  curl script: {}", sh.display());
            }
        }
        report.random = Some(random);
    }
    if let Some(concurrent) = outcome.concurrent {
        let rounds = if concurrent.rounds_run < concurrent.rounds {
            format!("{} of {}", concurrent.rounds_run, concurrent.rounds)
        } else {
            concurrent.rounds.to_string()
        };
        if !style.quiet {
            println!(
                "\nconcurrent phase: {} devices x {rounds} rounds, {} operations ({} conflicts, {} indeterminate) in {:.1} s; \
                 linearizability checked in {:.0} ms",
                concurrent.devices,
                concurrent.operations,
                concurrent.conflicts,
                concurrent.indeterminate,
                concurrent.elapsed_ms / 1000.0,
                concurrent.check_ms
            );
        }
        if let Some(detail) = &concurrent.detail
            && (!style.quiet || concurrent.verdict.fails_run())
        {
            println!(
                "{}{}: {detail}",
                if style.quiet { "" } else { "  " },
                painted(concurrent.verdict, style.colour)
            );
        }
        if let Some(v) = &concurrent.violation {
            // Named so that nobody takes it for a replay file: a race depends on timing.
            let json = save(
                &args.artifacts,
                &format!("concurrent-{seed}.history.json"),
                &serde_json::to_string_pretty(&v.history)?,
            )?;
            let edn = save(
                &args.artifacts,
                &format!("concurrent-{seed}.history.edn"),
                &v.edn,
            )?;
            if style.quiet {
                println!(
                    "{} {CONCURRENT_ID} — not linearizable: {} operations on {} devices",
                    painted(concurrent.verdict, style.colour),
                    v.operations,
                    v.devices
                );
            } else {
                println!(
                    "\n{} concurrent history is not linearizable: {} operations on {} devices \
                     (no order of the operations explains every answer; `!` marks the ones that cannot come next)",
                    painted(concurrent.verdict, style.colour),
                    v.operations,
                    v.devices
                );
                print!("{}", v.timeline);
                println!(
                    "  history: {} (EDN for external checkers: {})",
                    json.display(),
                    edn.display()
                );
            }
        }
        report.concurrent = Some(concurrent);
    }
    let pacing = outcome.pacing;
    match pacing.jobs {
        _ if style.quiet => {}
        Jobs::Auto => println!(
            "\nin flight: up to {} cases or sequences at once (--jobs auto, --max-inflight {}{})",
            pacing.peak,
            args.max_inflight,
            pacing
                .unloaded_latency_ms
                .map_or_else(String::new, |ms| format!(
                    "; lowest latency {ms:.1} ms per request"
                ))
        ),
        Jobs::Fixed(n) => println!("\nin flight: {n} cases or sequences at once (--jobs {n})"),
    }

    report.elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    report.tally();
    print_failed(&report, &args, seed, style);
    write_reports(&report, &args, style)?;
    if let Some(running) = target.embedded {
        running
            .shutdown()
            .await
            .context("the embedded server did not stop cleanly")?;
    }
    print_summary(&report, seed, style);
    Ok(if report.summary.success() && report.not_run.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAILED
    })
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

pub async fn replay(args: ReplayArgs) -> anyhow::Result<u8> {
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
            eprintln!("cogsync replay: {why}");
            return Ok(EXIT_USAGE);
        }
    };
    let case = match &saved.case {
        Some(id) => match cases::all().into_iter().find(|c| c.id == id) {
            Some(case) => Some(case),
            None => {
                eprintln!(
                    "cogsync replay: {} names the case {id:?}, which this version does not have",
                    args.file.display()
                );
                return Ok(EXIT_USAGE);
            }
        },
        None if saved.actions.is_empty() => {
            eprintln!(
                "cogsync replay: {} holds neither a case nor actions",
                args.file.display()
            );
            return Ok(EXIT_USAGE);
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
        Err(NoTarget::Exit(code)) => return Ok(code),
        Err(NoTarget::Finding { trouble, .. }) => {
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
