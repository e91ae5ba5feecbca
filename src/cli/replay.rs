//! `cogsync replay`: run a saved failure again, against the endpoint it was found on.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

use super::endpoint::{EndpointArgs, FirstRequestFinding, target, wall_clock};
use super::error::{CliError, CliResult};
use super::report_file::{SavedKind, kind_of};
use super::{EXIT_FAILED, EXIT_NOT_REPRODUCED};
use crate::report::artifacts::SavedFailure;
use crate::report::replay as replay_report;
use crate::suite::cases;
use crate::suite::machine::run_sequence;
use crate::suite::pacer::Jobs;
use crate::suite::run::{Plan, run_case};
use crate::suite::session::Namer;

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// A failure saved by `cogsync check` (JSON).
    pub file: PathBuf,
    #[command(flatten)]
    pub endpoint: EndpointArgs,
}

/// Says why `file` is not something `replay` runs, when it is another file cogsync writes.
fn not_a_replay_file(file: &Path, text: &str) -> Option<String> {
    let name = file.file_name()?.to_string_lossy().into_owned();
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    match kind_of(&name, &value)? {
        SavedKind::History => Some(format!(
            "{name} is a concurrent history: races depend on timing, so it cannot be replayed \
             step by step. Re-run the phase with `cogsync check --only concurrent --seed SEED`, \
             or feed the .edn file beside it to a linearizability checker."
        )),
        SavedKind::Finding => Some(format!(
            "{name} is a network-fuzz finding: run the curl script saved beside it (same name, \
             .sh) to send the request again, or `cogsync fuzz --seed SEED` to repeat the run."
        )),
        SavedKind::CampaignFinding => Some(format!(
            "{name} is a finding of a fuzz campaign (`cogsync fuzz --corpus`): its request is \
             `finding.request` in the file, and the run that found it saved a curl script in its \
             --artifacts directory."
        )),
        SavedKind::RunReport => Some(format!(
            "{name} is a run report: `cogsync check --rerun-failed {}` runs what failed in it",
            file.display()
        )),
        SavedKind::Replay => None,
    }
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
            replay_report::first_request_finding(&trouble);
            return Ok(EXIT_FAILED);
        }
    };
    let what = match &case {
        Some(case) => format!("case {}", case.id),
        None => format!("{} action(s)", saved.actions.len()),
    };
    replay_report::opening(&what, &args.file, &target.label, whose, &saved.reason);
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
    replay_report::outcome(&steps, failure.as_deref());
    if let Some(running) = target.embedded {
        running
            .shutdown()
            .await
            .context("the embedded server did not stop cleanly")?;
    }
    match failure {
        Some(_) => Ok(EXIT_FAILED),
        None => Ok(EXIT_NOT_REPRODUCED),
    }
}
