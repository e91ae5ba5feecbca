//! `cogsync check`, `cogsync list` and `cogsync replay`.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use super::{EXIT_FAILED, EXIT_HARNESS, EXIT_NOT_REPRODUCED, EXIT_OK, EXIT_USAGE};
use crate::client::sigv4::Signer;
use crate::client::{Endpoint, EndpointOptions, Reply, Trouble};
use crate::report::{RunReport, curl_script, transcript};
use crate::server::{self, RunningServer, ServerConfig};
use crate::spec::{DatasetPath, ListRecordsRequest, Request};
use crate::suite::cases;
use crate::suite::machine::{Action, run_sequence};
use crate::suite::run::{
    CONCURRENT_ID, CaseReport, Plan, RANDOM_ID, SuiteOptions, Verdict, run_suite,
};
use crate::suite::session::{Clock, Namer};

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
    /// Stop generating random sequences after this long (e.g. 30s, 5m); shrinking finishes.
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
    /// Cases and sequences run at once, each on its own identity.
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub jobs: usize,
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
    #[arg(long)]
    pub verbose: bool,
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

/// A failing random sequence as saved on disk.
#[derive(Debug, Serialize, Deserialize)]
pub struct SavedFailure {
    pub cogsync: String,
    pub seed: u64,
    pub endpoint: String,
    pub reason: String,
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

/// The endpoint to test, and the embedded server when none was given.
pub struct Target {
    pub endpoint: Endpoint,
    pub label: String,
    pub embedded: Option<RunningServer>,
}

/// Resolves `--endpoint` (or starts the embedded server) and checks that it answers at all.
pub async fn target(args: &EndpointArgs) -> anyhow::Result<Result<Target, u8>> {
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
                return Ok(Err(EXIT_USAGE));
            }
            if !is_loopback(url) && !args.allow_remote {
                eprintln!(
                    "cogsync: {url} is not a loopback address; a run writes data there. \
                     Pass --allow-remote if that is intended."
                );
                return Ok(Err(EXIT_USAGE));
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
            return Ok(Err(EXIT_HARNESS));
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
            return Ok(Err(EXIT_HARNESS));
        }
    }
    Ok(Ok(Target {
        endpoint,
        label,
        embedded,
    }))
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

/// The end of a failing run: every failed ID on one line with what was saved for it, and the
/// command that runs just those again.
fn print_failed(report: &RunReport, args: &CheckArgs, seed: u64) {
    let mut failed: Vec<(String, String)> = report
        .cases
        .iter()
        .filter(|c| c.verdict.fails_run())
        .map(|c| {
            let saved = if c.steps.is_empty() {
                String::new()
            } else {
                format!(
                    "curl script {}",
                    args.artifacts.join(format!("{}.sh", c.id)).display()
                )
            };
            (format!("{} {}", c.verdict.label(), c.id), saved)
        })
        .collect();
    if let Some(random) = report.random.as_ref().filter(|r| r.verdict.fails_run()) {
        let file = args.artifacts.join(format!("random-{seed}.json"));
        let saved = if random.failure.is_some() {
            format!("cogsync replay {}{}", file.display(), endpoint_flag(args))
        } else {
            random.vacuous.clone().unwrap_or_default()
        };
        failed.push((format!("{} {RANDOM_ID}", random.verdict.label()), saved));
    }
    if let Some(concurrent) = report.concurrent.as_ref().filter(|c| c.verdict.fails_run()) {
        let file = args.artifacts.join(format!("concurrent-{seed}.json"));
        let saved = if concurrent.violation.is_some() {
            format!("history {} (not replayable)", file.display())
        } else {
            String::new()
        };
        failed.push((
            format!("{} {CONCURRENT_ID}", concurrent.verdict.label()),
            saved,
        ));
    }
    if failed.is_empty() {
        return;
    }
    println!("\nfailed ({}):", failed.len());
    let width = failed.iter().map(|(id, _)| id.len()).max().unwrap_or(0);
    for (id, saved) in &failed {
        println!("  {id:<width$}  {saved}");
    }
    let ids: Vec<&str> = failed
        .iter()
        .filter_map(|(id, _)| id.split_once(' ').map(|(_, id)| id))
        .collect();
    println!(
        "re-run just these: cogsync check --seed {seed}{} --only {}",
        endpoint_flag(args),
        ids.join(" ")
    );
}

/// ` --endpoint URL` when the run was against an endpoint of the user's, for printed commands.
fn endpoint_flag(args: &CheckArgs) -> String {
    args.endpoint
        .endpoint
        .as_ref()
        .map_or_else(String::new, |url| format!(" --endpoint {url}"))
}

pub async fn check(args: CheckArgs) -> anyhow::Result<u8> {
    let seed = args.seed.unwrap_or_else(rand::random);
    println!("cogsync check: seed {seed} (repeat with --seed {seed})");
    let expect_fail = match &args.expect_fail {
        Some(path) => read_expect_fail(path)?,
        None => Ok(BTreeMap::new()),
    };
    let expect_fail =
        match expect_fail.and_then(|e| check_selectors(&args.only, &args.skip).map(|()| e)) {
            Ok(expect_fail) => expect_fail,
            Err(usage) => {
                eprintln!("cogsync check: {usage}");
                return Ok(EXIT_USAGE);
            }
        };
    let target = match target(&args.endpoint).await? {
        Ok(t) => t,
        Err(code) => return Ok(code),
    };
    let run_id: u32 = rand::random();
    println!("endpoint: {}", target.label);
    println!(
        "run id: {run_id:08x} (every identity this run creates starts with us-east-1:{run_id:08x}-)"
    );
    let started = Instant::now();
    let clock = wall_clock();
    let plan = Plan {
        endpoint: target.endpoint.clone(),
        clock: clock.clone(),
        run_id,
        jobs: args.jobs.max(1),
        keep: args.keep,
        strict: args.strict,
        expect_fail: expect_fail.clone(),
        fail_fast: false,
    };
    let mut report = RunReport::new(target.endpoint.base_url(), run_id, seed, args.strict);

    let options = SuiteOptions {
        only: args.only.clone(),
        skip: args.skip.clone(),
        seed,
        sequences: args.sequences,
        steps_max: args.steps_max,
        time_budget: args.time_budget,
        devices: args.devices,
        rounds: args.rounds,
        ops_per_device: args.ops_per_device,
    };
    let case_count = cases::select(&args.only, &args.skip).len() as u64;
    let bar = progress_bar(case_count + u64::from(args.sequences), "check");
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
    let verbose = args.verbose;
    let outcome = run_suite(
        &plan,
        &options,
        |r: &CaseReport| match &bar {
            Some(bar) => {
                bar.inc(1);
                if r.verdict != Verdict::Pass {
                    bar.println(format!("{:<10} {}", r.verdict.label(), r.id));
                }
                if verbose && !r.steps.is_empty() {
                    bar.println(transcript(&r.steps));
                }
            }
            None => {
                println!(
                    "{:<10} {} ({:.0} ms)",
                    r.verdict.label(),
                    r.id,
                    r.duration_ms
                );
                if verbose && !r.steps.is_empty() {
                    println!("{}", transcript(&r.steps));
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
    for case in report
        .cases
        .iter()
        .filter(|c| c.verdict.fails_run() || c.verdict == Verdict::NonStrict)
    {
        println!("\n{} {} — {}", case.verdict.label(), case.id, case.title);
        println!(
            "  requirement ({}; {}): {}",
            case.level,
            case.covers.join(", "),
            case.requirement
        );
        if let Some(detail) = &case.detail {
            println!("  {detail}");
        }
        if case.verdict.fails_run() && !case.steps.is_empty() {
            print!("{}", transcript(&case.steps));
            let path = save(
                &args.artifacts,
                &format!("{}.sh", case.id),
                &curl_script(&case.steps),
            )?;
            println!("  curl script: {}", path.display());
        }
    }
    if let Some(random) = outcome.random {
        let c = random.coverage;
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
                "  NON-STRICT: allowed, not the reference outcome on {}",
                random.ambiguities.join(", ")
            );
        }
        if let Some(why) = &random.vacuous {
            println!("  FAIL: {why} (vacuity guard: run more --cases or a longer --steps-max)");
        }
        if let Some(f) = &random.failure {
            println!(
                "\nFAIL random sequence (seed {seed}), shrunk to {} step(s): {}",
                f.actions.len(),
                f.reason
            );
            let text = transcript(&f.steps);
            print!("{text}");
            let saved = SavedFailure {
                cogsync: env!("CARGO_PKG_VERSION").to_owned(),
                seed,
                endpoint: target.endpoint.base_url().to_owned(),
                reason: f.reason.clone(),
                actions: f.actions.clone(),
                transcript: text,
                embedded: Some(target.embedded.is_some()),
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
            println!(
                "  saved: {} (cogsync replay {}{})",
                json.display(),
                json.display(),
                endpoint_flag(&args)
            );
            println!("  curl script: {}", sh.display());
        }
        report.random = Some(random);
    }
    if let Some(concurrent) = outcome.concurrent {
        let rounds = if concurrent.rounds_run < concurrent.rounds {
            format!("{} of {}", concurrent.rounds_run, concurrent.rounds)
        } else {
            concurrent.rounds.to_string()
        };
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
        if let Some(detail) = &concurrent.detail {
            println!("  {}: {detail}", concurrent.verdict.label());
        }
        if let Some(v) = &concurrent.violation {
            println!(
                "\nFAIL concurrent history is not linearizable: {} operations on {} devices \
                 (no order of the operations explains every answer; `!` marks the ones that cannot come next)",
                v.operations, v.devices
            );
            print!("{}", v.timeline);
            let json = save(
                &args.artifacts,
                &format!("concurrent-{seed}.json"),
                &serde_json::to_string_pretty(&v.history)?,
            )?;
            let edn = save(&args.artifacts, &format!("concurrent-{seed}.edn"), &v.edn)?;
            println!(
                "  history: {} (EDN for external checkers: {})",
                json.display(),
                edn.display()
            );
        }
        report.concurrent = Some(concurrent);
    }

    report.elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    report.tally();
    print_failed(&report, &args, seed);
    if let Some(path) = &args.json {
        std::fs::write(path, report.to_json())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &args.junit {
        std::fs::write(path, report.to_junit())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(running) = target.embedded {
        running
            .shutdown()
            .await
            .context("the embedded server did not stop cleanly")?;
    }
    println!("\ncogsync: {:.1} s", report.elapsed_ms / 1000.0);
    println!("{}", report.summary.line());
    if report.summary.total() == 0 {
        println!("nothing ran: check --only / --skip");
    }
    Ok(if report.summary.success() {
        EXIT_OK
    } else {
        EXIT_FAILED
    })
}

pub async fn replay(args: ReplayArgs) -> anyhow::Result<u8> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let saved: SavedFailure = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a saved cogsync failure", args.file.display()))?;
    if saved.actions.is_empty() {
        bail!("{} holds no actions", args.file.display());
    }
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
        Err(code) => return Ok(code),
    };
    println!(
        "cogsync replay: {} action(s) from {} against {} ({whose})",
        saved.actions.len(),
        args.file.display(),
        target.label
    );
    println!("originally: {}", saved.reason);
    let run_id: u32 = rand::random();
    let run = run_sequence(
        target.endpoint.clone(),
        wall_clock(),
        Namer::new(run_id, 1),
        &saved.actions,
        false,
    )
    .await;
    print!("{}", transcript(&run.steps));
    if let Some(running) = target.embedded {
        running
            .shutdown()
            .await
            .context("the embedded server did not stop cleanly")?;
    }
    match run.failure {
        Some(stop) => {
            println!("reproduced: {stop}");
            println!("0 passed, 1 failed");
            Ok(EXIT_FAILED)
        }
        None => {
            println!(
                "did not reproduce: each of the {} answers above was compared with the model \
                 (status, error type, records, counts and flags) and every one was allowed",
                run.steps.len()
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
