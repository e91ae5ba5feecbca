//! `cogsync mutants`: the suite against every injected server fault. A conformance suite is
//! worth what it catches; this command measures it on every CI run.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use serde::Serialize;

use super::check::wall_clock;
use super::{EXIT_FAILED, EXIT_OK};
use crate::client::{Endpoint, EndpointOptions};
use crate::server::{self, Fault, ServerConfig};
use crate::suite::run::{Plan, SuiteOptions, SuiteOutcome, Verdict, run_suite};

#[derive(Debug, Args)]
pub struct MutantsArgs {
    /// Run only these faults (names from `cogsync serve --fault list`).
    #[arg(long, num_args = 1.., value_name = "NAME")]
    pub only: Vec<String>,
    /// Seed of the random phase (default: random, printed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Random sequences per fault, as `check --cases`.
    #[arg(long = "cases", default_value_t = 1000, value_name = "N")]
    pub sequences: u32,
    /// Longest random sequence, as `check --steps-max`.
    #[arg(long, default_value_t = 40, value_name = "N")]
    pub steps_max: usize,
    /// Cases and sequences at once, as `check --jobs`.
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub jobs: usize,
    /// Write the table as JSON.
    #[arg(long, value_name = "PATH")]
    pub json: Option<std::path::PathBuf>,
}

/// One row of the table.
#[derive(Debug, Clone, Serialize)]
pub struct MutantRow {
    pub fault: String,
    pub description: String,
    pub killed: bool,
    /// Only a concurrent phase can catch this fault, and it survived.
    pub needs_concurrency: bool,
    /// The case ID (or `random`) whose failure killed the fault.
    pub killed_by: Option<String>,
    pub first_failure_ms: Option<f64>,
    /// Steps of the killing case's transcript, or actions of the shrunk random sequence.
    pub shrunk_len: Option<usize>,
    pub wall_ms: f64,
}

#[derive(Debug, Serialize)]
struct MutantsReport {
    seed: u64,
    rows: Vec<MutantRow>,
    clean_passed: bool,
    clean_summary: String,
    killed: usize,
    total: usize,
    median_time_to_kill_ms: Option<f64>,
    median_shrunk_len: Option<f64>,
}

/// Runs the whole suite against a fresh embedded server with `fault`. Every fault is a
/// deviation SPEC.md forbids, so a plain run (without `--strict`) must catch it.
async fn run_against(
    fault: Option<Fault>,
    args: &MutantsArgs,
    seed: u64,
    fail_fast: bool,
) -> anyhow::Result<SuiteOutcome> {
    let config = ServerConfig {
        fault,
        ..ServerConfig::default()
    };
    let running = server::spawn(([127, 0, 0, 1], 0).into(), config)
        .await
        .context("cannot start the embedded server")?;
    let endpoint = Endpoint::new(&running.url(), EndpointOptions::default())?;
    let plan = Plan {
        endpoint,
        clock: wall_clock(),
        run_id: rand::random(),
        jobs: args.jobs.max(1),
        keep: false,
        strict: false,
        expect_fail: Default::default(),
        fail_fast,
    };
    let options = SuiteOptions {
        only: Vec::new(),
        skip: Vec::new(),
        seed,
        sequences: args.sequences,
        steps_max: args.steps_max,
        time_budget: None,
        devices: 4,
        rounds: 25,
        ops_per_device: 20,
    };
    let outcome = run_suite(&plan, &options, |_| {}, Arc::new(|_| {})).await;
    running
        .shutdown()
        .await
        .context("the embedded server did not stop cleanly")?;
    Ok(outcome)
}

fn killer(outcome: &SuiteOutcome) -> Option<(String, usize)> {
    if let Some(case) = outcome.cases.iter().find(|c| c.verdict.fails_run()) {
        return Some((case.id.clone(), case.steps.len()));
    }
    if let Some(random) = outcome.random.as_ref().filter(|r| r.verdict.fails_run()) {
        return Some(match &random.failure {
            Some(f) => ("random".to_owned(), f.actions.len()),
            None => ("random (vacuity guard)".to_owned(), 0),
        });
    }
    let concurrent = outcome
        .concurrent
        .as_ref()
        .filter(|c| c.verdict.fails_run())?;
    Some((
        "concurrent".to_owned(),
        concurrent.violation.as_ref().map_or(0, |v| v.operations),
    ))
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    })
}

pub async fn run(args: MutantsArgs) -> anyhow::Result<u8> {
    let seed = args.seed.unwrap_or_else(rand::random);
    let faults: Vec<Fault> = if args.only.is_empty() {
        Fault::ALL.to_vec()
    } else {
        args.only
            .iter()
            .map(|n| n.parse::<Fault>().map_err(|e| anyhow::anyhow!("{e}")))
            .collect::<anyhow::Result<_>>()?
    };
    println!(
        "cogsync mutants: {} fault(s), seed {seed} (repeat with --seed {seed})",
        faults.len()
    );

    let started = Instant::now();
    let clean = run_against(None, &args, seed, false).await?;
    let mut clean_summary = crate::report::Summary::default();
    for c in &clean.cases {
        clean_summary.add(c.verdict);
    }
    if let Some(r) = &clean.random {
        clean_summary.add(r.verdict);
    }
    if let Some(c) = &clean.concurrent {
        clean_summary.add(c.verdict);
    }
    let clean_passed = clean_summary.success() && clean_summary.non_strict == 0;
    println!(
        "clean server: {} ({:.1} s)",
        clean_summary.line(),
        started.elapsed().as_secs_f64()
    );
    for case in clean.cases.iter().filter(|c| c.verdict != Verdict::Pass) {
        println!(
            "  {} {}: {}",
            case.verdict.label(),
            case.id,
            case.detail.as_deref().unwrap_or("")
        );
    }

    println!(
        "\n{:<40} {:<9} {:<52} {:>9} {:>7}",
        "fault", "verdict", "killed by", "1st fail", "length"
    );
    let mut rows = Vec::new();
    for fault in faults {
        let fault_started = Instant::now();
        let outcome = run_against(Some(fault), &args, seed, true).await?;
        let found = killer(&outcome);
        let killed_by = found.as_ref().map(|(by, _)| by.clone());
        let row = MutantRow {
            fault: fault.name().to_owned(),
            description: fault.description().to_owned(),
            killed: found.is_some(),
            needs_concurrency: found.is_none() && fault.needs_concurrency(),
            killed_by,
            first_failure_ms: outcome.first_failure_ms,
            shrunk_len: found.as_ref().map(|(_, len)| *len),
            wall_ms: fault_started.elapsed().as_secs_f64() * 1000.0,
        };
        let verdict = match (row.killed, row.needs_concurrency) {
            (true, _) => "killed",
            (false, true) => "survived*",
            (false, false) => "SURVIVED",
        };
        println!(
            "{:<40} {:<9} {:<52} {:>9} {:>7}",
            row.fault,
            verdict,
            row.killed_by.as_deref().unwrap_or("-"),
            row.first_failure_ms
                .map_or("-".to_owned(), |ms| format!("{:.2} s", ms / 1000.0)),
            row.shrunk_len.map_or("-".to_owned(), |n| n.to_string()),
        );
        rows.push(row);
    }
    let killed = rows.iter().filter(|r| r.killed).count();
    let pending = rows.iter().filter(|r| r.needs_concurrency).count();
    let survived = rows.len() - killed - pending;
    let report = MutantsReport {
        seed,
        killed,
        total: rows.len(),
        median_time_to_kill_ms: median(rows.iter().filter_map(|r| r.first_failure_ms).collect()),
        median_shrunk_len: median(
            rows.iter()
                .filter_map(|r| r.shrunk_len.map(|n| n as f64))
                .collect(),
        ),
        clean_passed,
        clean_summary: clean_summary.line(),
        rows,
    };
    println!(
        "\nmutation score: {killed}/{} killed ({:.0}%); median time to kill {}; median length {}",
        report.total,
        if report.total == 0 {
            0.0
        } else {
            100.0 * killed as f64 / report.total as f64
        },
        report
            .median_time_to_kill_ms
            .map_or("-".to_owned(), |ms| format!("{:.2} s", ms / 1000.0)),
        report
            .median_shrunk_len
            .map_or("-".to_owned(), |n| format!("{n} steps")),
    );
    if pending > 0 {
        println!("* survived, and only a concurrent phase can catch it: {pending} fault(s)");
    }
    println!("total {:.1} s", started.elapsed().as_secs_f64());
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let ok = clean_passed && survived == 0;
    println!(
        "{} passed, {} failed",
        killed + usize::from(clean_passed),
        survived + usize::from(!clean_passed)
    );
    Ok(if ok { EXIT_OK } else { EXIT_FAILED })
}
