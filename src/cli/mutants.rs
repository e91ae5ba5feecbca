//! `cogsync mutants`: the suite against every injected server fault and every allowed variant.
//! A conformance suite is worth what it catches (every fault killed) and what it lets through
//! (every variant passed); this command measures both on every CI run.

use std::time::Instant;

use anyhow::Context;
use clap::Args;

use super::endpoint::wall_clock;
use super::error::{CliError, CliResult};
use super::{EXIT_FAILED, EXIT_OK};
use crate::client::{Endpoint, EndpointOptions};
use crate::report::Summary;
use crate::report::mutants::{
    MutantRow, MutantsReport, VariantRow, print_clean, print_closing, print_fault_header,
    print_fault_row, print_figures, print_variant_header, print_variant_row,
};
use crate::server::{self, Fault, ServerConfig, Variant};
use crate::suite::pacer::Jobs;
use crate::suite::run::{DEFAULT, Plan, SuiteOptions, SuiteOutcome, run_suite};

#[derive(Debug, Args)]
pub struct MutantsArgs {
    /// Run only these faults and variants (names from `cogsync serve --fault list` and
    /// `cogsync serve --variant list`).
    #[arg(long, num_args = 1.., value_name = "NAME")]
    pub only: Vec<String>,
    /// Seed of the random phase (default: random, printed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Random sequences per server, as `check --sequences`.
    #[arg(
        long = "sequences",
        alias = "cases",
        default_value_t = DEFAULT.sequences,
        value_name = "N"
    )]
    pub sequences: u32,
    /// Longest random sequence, as `check --steps-max`.
    #[arg(long, default_value_t = DEFAULT.steps_max, value_name = "N")]
    pub steps_max: usize,
    /// Cases and sequences at once for the clean and the fault runs, as `check --jobs`.
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub jobs: usize,
    /// Cases and sequences at once for the variant runs, which are whole runs (some variants
    /// answer slowly on purpose).
    #[arg(long, default_value_t = 32, value_name = "N")]
    pub variant_jobs: usize,
    /// Write both tables as JSON.
    #[arg(long, value_name = "PATH")]
    pub json: Option<std::path::PathBuf>,
}

/// What one run serves: the reference server, one fault, or one variant.
#[derive(Debug, Clone, Copy)]
enum Subject {
    Clean,
    Fault(Fault),
    Variant(Variant),
}

/// Runs the whole suite against a fresh embedded server. A fault run stops at the first
/// failure (one is enough to kill it); the clean and variant runs go to the end, since every
/// failure there is a false alarm to report.
async fn run_against(
    subject: Subject,
    args: &MutantsArgs,
    seed: u64,
) -> anyhow::Result<SuiteOutcome> {
    let (fault, variant) = match subject {
        Subject::Clean => (None, None),
        Subject::Fault(fault) => (Some(fault), None),
        Subject::Variant(variant) => (None, Some(variant)),
    };
    let config = ServerConfig {
        fault,
        variant,
        ..ServerConfig::default()
    };
    let running = server::spawn(([127, 0, 0, 1], 0).into(), config)
        .await
        .context("cannot start the embedded server")?;
    let endpoint = Endpoint::new(&running.url(), EndpointOptions::default())?;
    let jobs = match subject {
        Subject::Variant(_) => args.variant_jobs,
        Subject::Clean | Subject::Fault(_) => args.jobs,
    };
    let plan = Plan {
        endpoint,
        clock: wall_clock(),
        run_id: rand::random(),
        jobs: Jobs::Fixed(jobs.max(1)),
        inflight_max: jobs.max(1),
        keep: false,
        // A fault that breaks only a SHOULD is caught as a failure only under --strict.
        strict: fault.is_some_and(Fault::breaks_should_only),
        expect_fail: Default::default(),
        max_fail: fault.is_some().then_some(1),
    };
    let options = SuiteOptions {
        seed,
        sequences: args.sequences,
        steps_max: args.steps_max,
        ..SuiteOptions::default()
    };
    let outcome = run_suite(&plan, &options, crate::suite::events::ignore()).await;
    running
        .shutdown()
        .await
        .context("the embedded server did not stop cleanly")?;
    Ok(outcome)
}

fn summary(outcome: &SuiteOutcome) -> Summary {
    Summary::of(outcome.verdicts())
}

/// Every part of a run that failed it, in run order: (ID, why).
fn failures(outcome: &SuiteOutcome) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = outcome
        .cases
        .iter()
        .filter(|c| c.verdict.fails_run())
        .map(|c| {
            let why = c.detail.clone().unwrap_or_default();
            (c.id.clone(), format!("{} {why}", c.verdict.label()))
        })
        .collect();
    if let Some(random) = outcome.random.as_ref().filter(|r| r.verdict.fails_run()) {
        let why = match (&random.failure, &random.vacuous) {
            (Some(failure), _) => failure.reason.clone(),
            (None, Some(vacuous)) => format!("vacuous: {vacuous}"),
            (None, None) => String::new(),
        };
        found.push((
            "random".to_owned(),
            format!("{} {why}", random.verdict.label()),
        ));
    }
    if let Some(concurrent) = outcome
        .concurrent
        .as_ref()
        .filter(|c| c.verdict.fails_run())
    {
        let why = concurrent.violation.as_ref().map_or(String::new(), |v| {
            format!(
                "not linearizable: {} operations on {} devices",
                v.operations, v.devices
            )
        });
        found.push((
            "concurrent".to_owned(),
            format!("{} {why}", concurrent.verdict.label()),
        ));
    }
    found
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

/// What `--only` names (or everything): the faults and the variants to run.
fn selection(only: &[String]) -> Result<(Vec<Fault>, Vec<Variant>), CliError> {
    if only.is_empty() {
        return Ok((Fault::ALL.to_vec(), Variant::ALL.to_vec()));
    }
    let (mut faults, mut variants) = (Vec::new(), Vec::new());
    for name in only {
        match (name.parse::<Fault>(), name.parse::<Variant>()) {
            (Ok(fault), _) => faults.push(fault),
            (_, Ok(variant)) => variants.push(variant),
            (Err(fault), Err(variant)) => {
                return Err(CliError::Usage(format!(
                    "{name:?} is neither a fault nor a variant\n{fault}\n{variant}"
                )));
            }
        }
    }
    Ok((faults, variants))
}

async fn run_fault(fault: Fault, args: &MutantsArgs, seed: u64) -> anyhow::Result<MutantRow> {
    let started = Instant::now();
    let outcome = run_against(Subject::Fault(fault), args, seed).await?;
    let found = killer(&outcome);
    Ok(MutantRow {
        fault: fault.name().to_owned(),
        description: fault.description().to_owned(),
        killed: found.is_some(),
        needs_concurrency: found.is_none() && fault.needs_concurrency(),
        killed_by: found.as_ref().map(|(by, _)| {
            if fault.breaks_should_only() {
                format!("{by} (--strict)")
            } else {
                by.clone()
            }
        }),
        first_failure_ms: outcome.first_failure_ms,
        shrunk_len: found.as_ref().map(|(_, len)| *len),
        wall_ms: started.elapsed().as_secs_f64() * 1000.0,
    })
}

async fn run_variant(
    variant: Variant,
    args: &MutantsArgs,
    seed: u64,
) -> anyhow::Result<VariantRow> {
    let started = Instant::now();
    let outcome = run_against(Subject::Variant(variant), args, seed).await?;
    let summary = summary(&outcome);
    let failures = failures(&outcome);
    Ok(VariantRow {
        variant: variant.name().to_owned(),
        description: variant.description().to_owned(),
        covers: variant.covers().iter().map(|&id| id.to_owned()).collect(),
        passed: failures.is_empty() && summary.total() > 0,
        summary: summary.line(),
        first_failure: failures.first().map(|(id, why)| format!("{id}: {why}")),
        failing: failures.into_iter().map(|(id, _)| id).collect(),
        wall_ms: started.elapsed().as_secs_f64() * 1000.0,
    })
}

pub async fn run(args: MutantsArgs) -> CliResult {
    let seed = args.seed.unwrap_or_else(rand::random);
    let (faults, variants) = selection(&args.only)?;
    println!(
        "cogsync mutants: {} fault(s), {} variant(s), seed {seed} (repeat with --seed {seed})",
        faults.len(),
        variants.len()
    );

    let started = Instant::now();
    let clean = run_against(Subject::Clean, &args, seed).await?;
    let clean_summary = summary(&clean);
    let clean_passed = clean_summary.success() && clean_summary.non_strict == 0;
    print_clean(&clean_summary, &clean.cases, started.elapsed());

    let mut rows = Vec::new();
    if !faults.is_empty() {
        print_fault_header();
        for fault in faults {
            let row = run_fault(fault, &args, seed).await?;
            print_fault_row(&row);
            rows.push(row);
        }
    }

    let mut variant_rows = Vec::new();
    if !variants.is_empty() {
        print_variant_header();
        for variant in variants {
            let row = run_variant(variant, &args, seed).await?;
            print_variant_row(&row);
            variant_rows.push(row);
        }
    }

    let killed = rows.iter().filter(|r| r.killed).count();
    let pending = rows.iter().filter(|r| r.needs_concurrency).count();
    let survived = rows.len() - killed - pending;
    let variants_passed = variant_rows.iter().filter(|r| r.passed).count();
    let report = MutantsReport {
        seed,
        killed,
        total: rows.len(),
        variants_passed,
        variants_total: variant_rows.len(),
        median_time_to_kill_ms: median(rows.iter().filter_map(|r| r.first_failure_ms).collect()),
        median_shrunk_len: median(
            rows.iter()
                .filter_map(|r| r.shrunk_len.map(|n| n as f64))
                .collect(),
        ),
        clean_passed,
        clean_summary: clean_summary.line(),
        rows,
        variants: variant_rows,
        wall_ms: started.elapsed().as_secs_f64() * 1000.0,
    };
    print_figures(&report, pending);
    if let Some(path) = &args.json {
        std::fs::write(
            path,
            serde_json::to_string_pretty(&report).map_err(anyhow::Error::from)?,
        )
        .with_context(|| format!("cannot write {}", path.display()))?;
    }
    print_closing(&report);
    let ok = clean_passed && survived == 0 && variants_passed == report.variants_total;
    Ok(if ok { EXIT_OK } else { EXIT_FAILED })
}
