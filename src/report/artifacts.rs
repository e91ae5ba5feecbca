//! What a failing run leaves on disk, and where: a replay file and a curl script per failed
//! case and per shrunk random sequence, and the history of a concurrent violation (named
//! `.history.` so that nobody takes it for a replay file: a race depends on timing).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{RunReport, curl_script, transcript};
use crate::suite::machine::Action;
use crate::suite::verdict::CaseReport;

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

/// A file that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {source}")]
pub struct ArtifactError {
    path: String,
    #[source]
    source: std::io::Error,
}

/// The files of a run's failures, under one directory.
#[derive(Debug, Clone)]
pub struct Artifacts {
    pub dir: PathBuf,
}

impl Artifacts {
    /// The replay file of a failed named case.
    pub fn case_replay(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    pub fn case_curl(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.sh"))
    }

    /// The replay file of the shrunk random sequence of the run seeded with `seed`.
    pub fn random_replay(&self, seed: u64) -> PathBuf {
        self.dir.join(format!("random-{seed}.json"))
    }

    pub fn random_curl(&self, seed: u64) -> PathBuf {
        self.dir.join(format!("random-{seed}.sh"))
    }

    /// The history of a concurrent violation, as JSON and as EDN.
    pub fn concurrent_history(&self, seed: u64) -> (PathBuf, PathBuf) {
        (
            self.dir.join(format!("concurrent-{seed}.history.json")),
            self.dir.join(format!("concurrent-{seed}.history.edn")),
        )
    }

    /// The files of the network fuzzer's finding number `n` of the run seeded with `seed`: the
    /// finding as JSON and a curl script that resends its request.
    pub fn fuzz_finding(&self, seed: u64, n: usize) -> (PathBuf, PathBuf) {
        let stem = format!("netfuzz-{seed}-{n:02}");
        (
            self.dir.join(format!("{stem}.finding.json")),
            self.dir.join(format!("{stem}.finding.sh")),
        )
    }

    /// Writes one file under the directory, creating it first.
    pub fn write(&self, path: &Path, contents: &str) -> Result<(), ArtifactError> {
        let error = |source| ArtifactError {
            path: path.display().to_string(),
            source,
        };
        std::fs::create_dir_all(&self.dir).map_err(error)?;
        std::fs::write(path, contents).map_err(error)
    }

    /// Writes what reproduces each failure of `report`: the files the paths above name.
    /// `embedded` says whether the endpoint was an embedded server (replay starts a fresh one).
    pub fn save(&self, report: &RunReport, embedded: bool) -> Result<(), ArtifactError> {
        let saved = |reason: String, case: Option<String>| SavedFailure {
            cogsync: env!("CARGO_PKG_VERSION").to_owned(),
            seed: report.seed,
            index: None,
            endpoint: report.endpoint.clone(),
            reason,
            case,
            actions: Vec::new(),
            transcript: String::new(),
            embedded: Some(embedded),
        };
        for case in report.cases.iter().filter(|c| saves(c)) {
            let file = SavedFailure {
                transcript: transcript(&case.steps),
                ..saved(
                    case.detail.clone().unwrap_or_default(),
                    Some(case.id.clone()),
                )
            };
            self.write(&self.case_replay(&case.id), &to_json(&file))?;
            self.write(&self.case_curl(&case.id), &curl_script(&case.steps))?;
        }
        if let Some(f) = report.random.as_ref().and_then(|r| r.failure.as_ref()) {
            let file = SavedFailure {
                index: Some(f.index),
                actions: f.actions.clone(),
                transcript: transcript(&f.steps),
                ..saved(f.reason.clone(), None)
            };
            self.write(&self.random_replay(report.seed), &to_json(&file))?;
            self.write(&self.random_curl(report.seed), &curl_script(&f.steps))?;
        }
        if let Some(v) = report
            .concurrent
            .as_ref()
            .and_then(|c| c.violation.as_ref())
        {
            let (json, edn) = self.concurrent_history(report.seed);
            self.write(&json, &to_json(&v.history))?;
            self.write(&edn, &v.edn)?;
        }
        Ok(())
    }
}

/// Whether a case's failure leaves a replay file (a failure with a transcript; the preflight
/// finding has nothing to replay).
pub fn saves(case: &CaseReport) -> bool {
    case.verdict.fails_run() && !case.steps.is_empty() && case.id != PREFLIGHT_ID
}

/// The ID under which a preflight finding is reported.
pub const PREFLIGHT_ID: &str = "preflight";

fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}
