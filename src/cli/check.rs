//! `cogsync check`: the suite against one endpoint.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use serde::Deserialize;

use super::endpoint::{
    EndpointArgs, FirstRequestFinding, parse_duration, preflight_finding, target, wall_clock,
};
use super::error::{CliError, CliResult};
use super::report_file::read_report;
use super::{EXIT_FAILED, EXIT_HARNESS, EXIT_OK};
use crate::report::RunReport;
use crate::report::artifacts::{Artifacts, PREFLIGHT_ID};
use crate::report::html;
use crate::report::human::{Closing, HumanReporter, Style};
use crate::suite::cases;
use crate::suite::pacer::{INFLIGHT_MAX_DEFAULT, Jobs};
use crate::suite::partition::Partition;
use crate::suite::run::{
    CONCURRENT_ID, DEFAULT, Pacing, Plan, RANDOM_ID, SuiteOptions, run_suite, selected_cases,
};

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub endpoint: EndpointArgs,
    /// Seed of the random phase; printed first, so any run can be repeated.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Random sequences to generate (0 skips the random phase); `--cases` is an older name.
    #[arg(
        long = "sequences",
        alias = "cases",
        default_value_t = DEFAULT.sequences,
        value_name = "N"
    )]
    pub sequences: u32,
    /// Longest random sequence, in operations.
    #[arg(long, default_value_t = DEFAULT.steps_max, value_name = "N")]
    pub steps_max: usize,
    /// Bound the whole run to about this long (e.g. 30s, 5m). The named cases always run; the
    /// random phase starts no new sequence once 80 % of the time the named cases left is
    /// spent (all of it when the concurrent phase does not run), and the concurrent phase
    /// ends by the deadline. Sequences in flight, and shrinking a failure, finish.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub time_budget: Option<Duration>,
    /// Devices racing on one dataset in the concurrent phase (0 skips the phase).
    #[arg(long, default_value_t = DEFAULT.devices, value_name = "N")]
    pub devices: usize,
    /// Rounds of the concurrent phase, each on a fresh dataset.
    #[arg(long, default_value_t = DEFAULT.rounds, value_name = "N")]
    pub rounds: usize,
    /// Operations per device per round.
    #[arg(long, default_value_t = DEFAULT.ops_per_device, value_name = "N")]
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
    /// Write the run as one self-contained HTML page: results by requirement, every case's
    /// transcript, the concurrent rounds as timelines, the ambiguity profile.
    #[arg(long, value_name = "PATH")]
    pub html: Option<PathBuf>,
    /// What to call this endpoint in the reports (the column of `cogsync matrix`); the
    /// default is its address.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
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

/// A count of at least 1.
fn at_least_one(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("{text:?} is not a number of at least 1")),
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
    let report = read_report(path).map_err(|e| match e {
        CliError::Usage(why) => CliError::Usage(format!("--rerun-failed: {why}")),
        other => other,
    })?;
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

/// Writes the JSON, JUnit and HTML reports asked for, and says where.
fn write_reports(
    report: &RunReport,
    args: &CheckArgs,
    human: &HumanReporter,
    closing: &Closing,
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
    if let Some(path) = &args.html {
        // Timed, with its size printed: that is how the page's cost is measured.
        let started = Instant::now();
        let page = html::render(report, closing);
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        std::fs::write(path, &page).with_context(|| format!("cannot write {}", path.display()))?;
        human.written_measured("HTML", path, page.len(), ms);
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
    report.render_histories();
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
    write_reports(report, args, human, &closing)?;
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
            report.name = args.name.clone();
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
    report.name = args.name.clone();
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
