//! Reading a run report that `cogsync check --json` wrote, for the commands that compare runs
//! (`matrix`, `diff`): a file that is not one is a usage error that names the file and says
//! what it is instead.

use std::path::Path;

use super::error::CliError;
use crate::report::RunReport;

/// The report in `path`, or a usage error saying which file and why it is not one.
pub fn read_report(path: &Path) -> Result<RunReport, CliError> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Usage(format!("cannot read {shown}: {e}")))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        CliError::Usage(format!(
            "{shown} is not a report written by `cogsync check --json`: it is not JSON ({e})"
        ))
    })?;
    if let Some(what) = other_cogsync_file(path, &value) {
        return Err(CliError::Usage(format!(
            "{shown} is {what}, not a run report; write one with `cogsync check --json PATH`"
        )));
    }
    if value.get("tool").and_then(|t| t.as_str()) != Some("cogsync") {
        return Err(CliError::Usage(format!(
            "{shown} is not a report written by `cogsync check --json` (no \"tool\": \"cogsync\")"
        )));
    }
    serde_json::from_value(value).map_err(|e| {
        CliError::Usage(format!(
            "{shown} looks like a cogsync run report but cannot be read ({e}); was it written by \
             another version of cogsync, or edited?"
        ))
    })
}

/// The JSON files cogsync writes, which people hand to the wrong command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SavedKind {
    /// `concurrent-SEED.history.json`: a concurrent history.
    History,
    /// `netfuzz-SEED-NN.finding.json`: a network-fuzz finding.
    Finding,
    /// `DIR/findings/…/*.json` of `fuzz --corpus DIR`: a campaign's finding.
    CampaignFinding,
    /// `check --json`: a run report.
    RunReport,
    /// `ID.json`, `random-SEED.json`: a failure saved for `cogsync replay`.
    Replay,
}

/// Which kind of cogsync file `value` (read from a file named `name`) is, told by its name
/// and its fields.
pub fn kind_of(name: &str, value: &serde_json::Value) -> Option<SavedKind> {
    if name.contains(".history.") || value.is_array() || value.get("operations").is_some() {
        Some(SavedKind::History)
    } else if value.get("finding").is_some() && value.get("input").is_some() {
        Some(SavedKind::CampaignFinding)
    } else if name.contains(".finding.") || value.get("oracle").is_some() {
        Some(SavedKind::Finding)
    } else if value.get("cogsync").is_some() && value.get("reason").is_some() {
        Some(SavedKind::Replay)
    } else if value.get("tool").is_some() && value.get("summary").is_some() {
        Some(SavedKind::RunReport)
    } else {
        None
    }
}

/// What another file cogsync writes is, in words.
fn other_cogsync_file(path: &Path, value: &serde_json::Value) -> Option<&'static str> {
    let name = path.file_name()?.to_string_lossy();
    match kind_of(&name, value)? {
        SavedKind::History => Some("a concurrent history"),
        SavedKind::Finding => Some("a network-fuzz finding"),
        SavedKind::CampaignFinding => Some("a finding of a fuzz campaign"),
        SavedKind::Replay => Some("a failure saved for `cogsync replay`"),
        SavedKind::RunReport => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(name: &str, text: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("cogsync-report-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(name);
        std::fs::write(&path, text).expect("written");
        path
    }

    fn usage(path: &Path) -> String {
        match read_report(path) {
            Err(CliError::Usage(why)) => why,
            other => panic!("expected a usage error, got {other:?}"),
        }
    }

    #[test]
    fn a_file_that_is_not_a_report_is_named_with_the_reason() {
        let garbage = written("garbage.json", "not json at all");
        assert!(usage(&garbage).contains("garbage.json is not a report"));
        assert!(usage(&garbage).contains("not JSON"));
        let replay = written(
            "replay.json",
            r#"{"cogsync": "0.1.0", "seed": "1", "endpoint": "x", "reason": "r"}"#,
        );
        assert!(usage(&replay).contains("a failure saved for `cogsync replay`"));
        let other = written("other.json", r#"{"tool": "else"}"#);
        assert!(usage(&other).contains("no \"tool\": \"cogsync\""));
        let truncated = written("truncated.json", r#"{"tool": "cogsync"}"#);
        assert!(usage(&truncated).contains("cannot be read"));
        assert!(usage(&garbage.with_file_name("missing.json")).contains("cannot read"));
    }

    #[test]
    fn a_report_reads_back() {
        let report = crate::report::RunReport::new("http://127.0.0.1:9", 1, 5, false, 0.0);
        let path = written("report.json", &report.to_json());
        let read = read_report(&path).expect("a report");
        assert_eq!(read.seed, 5);
    }
}
