//! `cogsync diff`: what changed between two runs of one endpoint, so that CI can keep a
//! baseline report and fail only on regressions — a case or phase that fails a run now and
//! did not before — while known failures stay tolerated until they are fixed.

use std::fmt::Write as _;

use serde::Serialize;

use super::profile::{Choice, ProfileEntry};
use super::{Row, RunReport};
use crate::suite::verdict::Verdict;

/// Which run a side of the diff is, for the header and the warnings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunLabel {
    pub name: String,
    pub endpoint: String,
    #[serde(with = "crate::spec::seed_text")]
    pub seed: u64,
    pub run_id: String,
    pub started_at: String,
}

impl RunLabel {
    fn of(report: &RunReport) -> RunLabel {
        RunLabel {
            name: report.display_name().to_owned(),
            endpoint: report.endpoint.clone(),
            seed: report.seed,
            run_id: report.run_id.clone(),
            started_at: report.started_at.clone(),
        }
    }
}

/// A case or phase whose verdict differs between the runs; `None` on the side that lacks it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerdictChange {
    pub id: String,
    pub old: Option<Verdict>,
    pub new: Option<Verdict>,
    /// NEW's detail (why it failed or was not strict), empty when none.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// Why OLD has a case NEW lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Absence {
    /// NEW stopped before it (`--max-fail`), or it failed in OLD: either way nothing says it
    /// is fixed.
    NotRun,
    /// It passed in OLD and NEW does not have it (another selection or version).
    Missing,
}

/// A case or phase of OLD that NEW lacks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Removed {
    pub id: String,
    pub old: Verdict,
    pub absence: Absence,
}

/// An AMB- row whose choice changed; `None` on the side whose profile lacks the row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProfileChange {
    pub id: String,
    pub old: Option<Choice>,
    pub new: Option<Choice>,
    /// NEW's answer where it took an alternative.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed: Option<String>,
}

/// Everything that changed from OLD to NEW.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunDiff {
    pub old: RunLabel,
    pub new: RunLabel,
    /// The runs may not be comparable: other endpoints or names, other seeds.
    pub warnings: Vec<String>,
    /// Fails a run in NEW, did not in OLD (or OLD did not have it): the regressions.
    pub newly_failing: Vec<VerdictChange>,
    /// Failed a run in OLD, does not in NEW.
    pub fixed: Vec<VerdictChange>,
    /// Other verdict changes on both sides of the line, e.g. PASS → NON-STRICT, FAIL → ERROR.
    pub changed: Vec<VerdictChange>,
    /// In NEW only, not failing.
    pub added: Vec<VerdictChange>,
    /// In OLD only.
    pub removed: Vec<Removed>,
    pub profile: Vec<ProfileChange>,
}

impl RunDiff {
    /// Whether anything regressed: the rule for `cogsync diff`'s exit status.
    pub fn regressed(&self) -> bool {
        !self.newly_failing.is_empty()
    }

    /// The last line: `3 regressions (1 fixed)` or `no regressions: 2 fixed, 1 changed`.
    pub fn verdict_line(&self) -> String {
        let not_run = self
            .removed
            .iter()
            .filter(|r| r.absence == Absence::NotRun)
            .count();
        let counts: Vec<String> = [
            (self.fixed.len(), "fixed"),
            (self.changed.len(), "changed"),
            (self.added.len(), "added"),
            (not_run, "not run"),
            (self.removed.len() - not_run, "missing"),
            (self.profile.len(), "profile changes"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| {
            if n == 1 && what == "profile changes" {
                "1 profile change".to_owned()
            } else {
                format!("{n} {what}")
            }
        })
        .collect();
        match self.newly_failing.len() {
            0 if counts.is_empty() => "no regressions: nothing changed".to_owned(),
            0 => format!("no regressions: {}", counts.join(", ")),
            n => {
                let head = if n == 1 {
                    "1 regression".to_owned()
                } else {
                    format!("{n} regressions")
                };
                if counts.is_empty() {
                    head
                } else {
                    format!("{head} ({})", counts.join(", "))
                }
            }
        }
    }
}

/// Compares two runs, case by case (the phases included) and AMB- row by AMB- row.
pub fn diff(old: &RunReport, new: &RunReport) -> RunDiff {
    let old_rows = old.rows();
    let new_rows = new.rows();
    let find = |rows: &'_ [Row], id: &str| rows.iter().position(|r| r.name == id);
    let mut result = RunDiff {
        old: RunLabel::of(old),
        new: RunLabel::of(new),
        warnings: warnings(old, new),
        newly_failing: Vec::new(),
        fixed: Vec::new(),
        changed: Vec::new(),
        added: Vec::new(),
        removed: Vec::new(),
        profile: profile_changes(&old.profile, &new.profile),
    };
    for row in &new_rows {
        let before = find(&old_rows, &row.name).map(|i| old_rows[i].verdict);
        if before == Some(row.verdict) {
            continue;
        }
        let change = VerdictChange {
            id: row.name.clone(),
            old: before,
            new: Some(row.verdict),
            detail: row.detail.clone(),
        };
        let failed_before = before.is_some_and(Verdict::fails_run);
        match (row.verdict.fails_run(), failed_before, before) {
            (true, false, _) => result.newly_failing.push(change),
            (false, true, _) => result.fixed.push(change),
            (_, _, None) => result.added.push(change),
            _ => result.changed.push(change),
        }
    }
    for row in old_rows
        .iter()
        .filter(|r| find(&new_rows, &r.name).is_none())
    {
        let stopped = new.not_run.contains(&row.name);
        result.removed.push(Removed {
            id: row.name.clone(),
            old: row.verdict,
            absence: if stopped || row.verdict.fails_run() {
                Absence::NotRun
            } else {
                Absence::Missing
            },
        });
    }
    result
}

fn warnings(old: &RunReport, new: &RunReport) -> Vec<String> {
    let mut warnings = Vec::new();
    // Without names, an address is all there is to go by (an embedded server's port changes
    // from run to run, which this then reports too).
    let other_endpoint = match (&old.name, &new.name) {
        (Some(a), Some(b)) => a != b,
        _ => old.endpoint != new.endpoint,
    };
    if other_endpoint {
        warnings.push(format!(
            "the reports name different endpoints: OLD {} ({}), NEW {} ({}); compared anyway",
            old.display_name(),
            old.endpoint,
            new.display_name(),
            new.endpoint
        ));
    }
    if old.seed != new.seed {
        warnings.push(format!(
            "the runs used different seeds (OLD {}, NEW {}): the random phase tried other \
             sequences, so its verdicts may differ by chance",
            old.seed, new.seed
        ));
    }
    warnings
}

fn profile_changes(old: &[ProfileEntry], new: &[ProfileEntry]) -> Vec<ProfileChange> {
    let mut ids: Vec<&str> = Vec::new();
    for entry in old.iter().chain(new) {
        if !ids.contains(&entry.id.as_str()) {
            ids.push(&entry.id);
        }
    }
    ids.into_iter()
        .filter_map(|id| {
            let before = old.iter().find(|e| e.id == id);
            let after = new.iter().find(|e| e.id == id);
            let (old_choice, new_choice) = (before.map(|e| e.choice), after.map(|e| e.choice));
            (old_choice != new_choice).then(|| ProfileChange {
                id: id.to_owned(),
                old: old_choice,
                new: new_choice,
                observed: after.and_then(|e| e.observed.clone()),
            })
        })
        .collect()
}

fn label(verdict: Option<Verdict>) -> &'static str {
    verdict.map_or("absent", Verdict::label)
}

fn choice_label(choice: Option<Choice>) -> &'static str {
    choice.map_or("absent", Choice::label)
}

/// The diff for people: the two runs, warnings, one line per change grouped by kind, and the
/// verdict line last.
pub fn render(diff: &RunDiff) -> String {
    let mut out = String::new();
    for (side, run) in [("OLD", &diff.old), ("NEW", &diff.new)] {
        let _ = writeln!(
            out,
            "{side}: {} ({}), seed {}, run {}, started {}",
            run.name, run.endpoint, run.seed, run.run_id, run.started_at
        );
    }
    for warning in &diff.warnings {
        let _ = writeln!(out, "warning: {warning}");
    }
    let groups = [
        ("newly failing", &diff.newly_failing),
        ("newly passing", &diff.fixed),
        ("changed", &diff.changed),
        ("added", &diff.added),
    ];
    for (title, changes) in groups {
        if changes.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{title} ({}):", changes.len());
        for change in changes {
            let was = match change.old {
                Some(old) => format!("was {}", old.label()),
                None => "not in OLD".to_owned(),
            };
            let _ = write!(out, "  {:<10} {}  ({was})", label(change.new), change.id);
            if !change.detail.is_empty() {
                let _ = write!(out, " — {}", first_line(&change.detail));
            }
            out.push('\n');
        }
    }
    for (absence, title) in [(Absence::NotRun, "not run"), (Absence::Missing, "missing")] {
        let removed: Vec<&Removed> = diff
            .removed
            .iter()
            .filter(|r| r.absence == absence)
            .collect();
        if removed.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{title} in NEW ({}):", removed.len());
        for r in removed {
            let why = match (absence, r.old.fails_run()) {
                (Absence::NotRun, true) => "not a fix: NEW did not run it",
                (Absence::NotRun, false) => "NEW stopped before it",
                (Absence::Missing, _) => "NEW has no such case",
            };
            let _ = writeln!(out, "  {:<10} {}  ({why})", r.old.label(), r.id);
        }
    }
    if !diff.profile.is_empty() {
        let _ = writeln!(out, "\nprofile changes ({}):", diff.profile.len());
        for change in &diff.profile {
            let _ = write!(
                out,
                "  {}  {} → {}",
                change.id,
                choice_label(change.old),
                choice_label(change.new)
            );
            if let Some(observed) = &change.observed {
                let _ = write!(out, ": {observed}");
            }
            out.push('\n');
        }
    }
    let _ = writeln!(out, "\n{}", diff.verdict_line());
    out
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::verdict::CaseReport;

    fn case(id: &str, verdict: Verdict) -> CaseReport {
        CaseReport {
            id: id.to_owned(),
            title: String::new(),
            requirement: String::new(),
            level: "MUST".to_owned(),
            covers: vec!["UR-2".to_owned()],
            verdict,
            detail: (verdict != Verdict::Pass).then(|| format!("why {id}")),
            ambiguities: Vec::new(),
            duration_ms: 0.0,
            steps: Vec::new(),
        }
    }

    fn report(cases: &[(&str, Verdict)]) -> RunReport {
        let mut report = RunReport::new("http://127.0.0.1:9", 1, 7, false, 0.0);
        report.name = Some("endpoint".to_owned());
        report.cases = cases.iter().map(|(id, v)| case(id, *v)).collect();
        report.tally();
        report
    }

    fn ids(changes: &[VerdictChange]) -> Vec<&str> {
        changes.iter().map(|c| c.id.as_str()).collect()
    }

    #[test]
    fn a_run_against_itself_has_no_changes() {
        let run = report(&[("a", Verdict::Pass), ("b", Verdict::Fail)]);
        let diff = diff(&run, &run);
        assert!(!diff.regressed());
        assert!(diff.warnings.is_empty());
        assert_eq!(diff.verdict_line(), "no regressions: nothing changed");
    }

    #[test]
    fn each_verdict_change_lands_in_its_group() {
        use Verdict::*;
        let old = report(&[
            ("regress", Pass),
            ("fixed", Fail),
            ("loosened", Pass),
            ("still-failing-otherwise", Fail),
            ("xfail-now", Fail),
            ("stale-expect", Xfail),
            ("gone-failed", Fail),
            ("gone-passed", Pass),
        ]);
        let new = report(&[
            ("regress", Fail),
            ("fixed", Pass),
            ("loosened", NonStrict),
            ("still-failing-otherwise", Error),
            ("xfail-now", Xfail),
            ("stale-expect", Xpass),
            ("new-failing", Fail),
            ("new-passing", Pass),
        ]);
        let diff = diff(&old, &new);
        assert_eq!(
            ids(&diff.newly_failing),
            ["regress", "stale-expect", "new-failing"]
        );
        assert_eq!(diff.newly_failing[2].old, None, "a new case that fails");
        assert_eq!(ids(&diff.fixed), ["fixed", "xfail-now"]);
        assert_eq!(ids(&diff.changed), ["loosened", "still-failing-otherwise"]);
        assert_eq!(ids(&diff.added), ["new-passing"]);
        let removed: Vec<(&str, Absence)> = diff
            .removed
            .iter()
            .map(|r| (r.id.as_str(), r.absence))
            .collect();
        assert_eq!(
            removed,
            [
                ("gone-failed", Absence::NotRun),
                ("gone-passed", Absence::Missing)
            ]
        );
        assert!(diff.regressed());
        assert_eq!(
            diff.verdict_line(),
            "3 regressions (2 fixed, 2 changed, 1 added, 1 not run, 1 missing)"
        );
        let text = render(&diff);
        assert!(
            text.contains("newly failing (3):\n  FAIL       regress  (was PASS) — why regress")
        );
        assert!(text.contains("  FAIL       gone-failed  (not a fix: NEW did not run it)"));
    }

    #[test]
    fn a_case_new_stopped_before_is_not_run_even_when_it_passed() {
        let old = report(&[("a", Verdict::Pass), ("b", Verdict::Pass)]);
        let mut new = report(&[("a", Verdict::Fail)]);
        new.not_run.push("b".to_owned());
        let diff = diff(&old, &new);
        assert_eq!(diff.removed[0].absence, Absence::NotRun);
        assert_eq!(diff.verdict_line(), "1 regression (1 not run)");
    }

    #[test]
    fn profile_changes_and_other_runs_are_reported() {
        let old = report(&[("a", Verdict::Pass)]);
        let mut new = old.clone();
        new.seed = 8;
        new.name = Some("other".to_owned());
        let row = new
            .profile
            .iter_mut()
            .find(|e| e.id == "AMB-DUP-KEY")
            .expect("every AMB row");
        row.choice = Choice::Alternative;
        row.observed = Some("400 ValidationException".to_owned());
        let diff = diff(&old, &new);
        assert_eq!(diff.profile.len(), 1);
        assert_eq!(diff.profile[0].old, Some(Choice::NotObserved));
        assert_eq!(diff.profile[0].new, Some(Choice::Alternative));
        assert_eq!(diff.warnings.len(), 2, "{:?}", diff.warnings);
        assert!(!diff.regressed());
        assert!(
            render(&diff)
                .contains("  AMB-DUP-KEY  not observed → alternative: 400 ValidationException")
        );
        assert_eq!(diff.verdict_line(), "no regressions: 1 profile change");
    }
}
