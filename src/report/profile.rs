//! The endpoint's ambiguity profile: for every AMB- row, which allowed outcome the endpoint
//! chose (the reference one or an alternative) and the case that showed it. Reports print it,
//! `cogsync matrix` sets profiles side by side and `cogsync diff` compares them.

use serde::{Deserialize, Serialize};

use crate::model::Ambiguity;
use crate::suite::machine::RandomReport;
use crate::suite::verdict::{CaseReport, StepVerdict, Verdict};

/// What the endpoint did on one AMB- row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Choice {
    /// The reference outcome, in the case that makes the situation happen.
    Reference,
    /// An allowed outcome other than the reference one.
    Alternative,
    /// The reference outcome in the row's own case, an alternative elsewhere.
    Mixed,
    /// The row's case failed or errored, so no choice was seen.
    Failed,
    /// No case of this run made the situation happen (not selected, or not run).
    NotObserved,
}

impl Choice {
    pub fn label(self) -> &'static str {
        match self {
            Choice::Reference => "reference",
            Choice::Alternative => "alternative",
            Choice::Mixed => "mixed",
            Choice::Failed => "failed",
            Choice::NotObserved => "not observed",
        }
    }

    /// The choice as the JSON report spells it, for class names and `data-choice`.
    pub fn value(self) -> &'static str {
        match self {
            Choice::Reference => "reference",
            Choice::Alternative => "alternative",
            Choice::Mixed => "mixed",
            Choice::Failed => "failed",
            Choice::NotObserved => "not-observed",
        }
    }
}

/// One AMB- row of the profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileEntry {
    /// The row's ID (`AMB-DUP-KEY`).
    pub id: String,
    pub choice: Choice,
    /// The endpoint's answer where it took an alternative (the step's answer, first line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<String>,
    /// The case (or `random.sequences`) that showed the choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<String>,
    /// The step of that case's transcript (from 1) that showed an alternative.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<usize>,
}

/// The longest answer kept in a profile entry.
const OBSERVED_CHARS_MAX: usize = 160;

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    if line.chars().count() > OBSERVED_CHARS_MAX {
        let cut: String = line.chars().take(OBSERVED_CHARS_MAX).collect();
        format!("{cut}…")
    } else {
        line.to_owned()
    }
}

/// The profile of a run, one entry per AMB- row in the specification's order. Needs the
/// transcripts of every case (run it before a report drops passing ones).
pub fn profile(cases: &[CaseReport], random: Option<&RandomReport>) -> Vec<ProfileEntry> {
    Ambiguity::ALL
        .iter()
        .map(|ambiguity| entry(ambiguity.id(), cases, random))
        .collect()
}

fn entry(id: &str, cases: &[CaseReport], random: Option<&RandomReport>) -> ProfileEntry {
    // The first step that took an alternative on this row: in the row's own cases first, then
    // in the others in case order.
    let own = |c: &&CaseReport| c.covers.iter().any(|x| x == id);
    let in_order = cases
        .iter()
        .filter(own)
        .chain(cases.iter().filter(|c| !own(c)));
    let alternative = in_order.into_iter().find_map(|case| {
        case.steps
            .iter()
            .enumerate()
            .find_map(|(i, step)| match &step.verdict {
                StepVerdict::NonStrict { ambiguities } if ambiguities.iter().any(|a| a == id) => {
                    Some((case.id.clone(), i + 1, first_line(&step.actual)))
                }
                _ => None,
            })
    });
    let covering: Vec<&CaseReport> = cases
        .iter()
        .filter(|c| c.covers.iter().any(|x| x == id))
        .collect();
    // The row's own case saw the reference outcome when it passed (NON-STRICT included)
    // without taking an alternative on this row.
    let reference = covering.iter().find(|c| {
        matches!(c.verdict, Verdict::Pass | Verdict::NonStrict)
            && !c.steps.iter().any(|s| {
                matches!(&s.verdict, StepVerdict::NonStrict { ambiguities }
                    if ambiguities.iter().any(|a| a == id))
            })
    });
    let failed = covering
        .iter()
        .find(|c| matches!(c.verdict, Verdict::Fail | Verdict::Error | Verdict::Xfail));
    let random_alternative = random.filter(|r| r.ambiguities.iter().any(|a| a == id));
    let mut entry = ProfileEntry {
        id: id.to_owned(),
        choice: Choice::NotObserved,
        observed: None,
        case: None,
        step: None,
    };
    match (alternative, reference) {
        (Some((case, step, observed)), reference) => {
            entry.choice = if reference.is_some() {
                Choice::Mixed
            } else {
                Choice::Alternative
            };
            entry.observed = Some(observed);
            entry.case = Some(case);
            entry.step = Some(step);
        }
        (None, Some(reference)) if random_alternative.is_some() => {
            entry.choice = Choice::Mixed;
            entry.case = Some(reference.id.clone());
        }
        (None, Some(reference)) => {
            entry.choice = Choice::Reference;
            entry.case = Some(reference.id.clone());
        }
        (None, None) if random_alternative.is_some() => {
            entry.choice = Choice::Alternative;
            entry.case = Some(super::RANDOM_ROW.to_owned());
        }
        (None, None) => {
            if let Some(failed) = failed {
                entry.choice = Choice::Failed;
                entry.case = Some(failed.id.clone());
            }
        }
    }
    entry
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::verdict::Step;

    fn case(id: &str, covers: &[&str], verdict: Verdict, steps: Vec<Step>) -> CaseReport {
        CaseReport {
            id: id.to_owned(),
            title: String::new(),
            requirement: String::new(),
            level: "MUST".to_owned(),
            covers: covers.iter().map(|c| (*c).to_owned()).collect(),
            verdict,
            detail: None,
            ambiguities: Vec::new(),
            duration_ms: 0.0,
            steps,
        }
    }

    fn step(verdict: StepVerdict, actual: &str) -> Step {
        Step {
            operation: "UpdateRecords".to_owned(),
            exchanges: Vec::new(),
            expected: String::new(),
            actual: actual.to_owned(),
            verdict,
        }
    }

    fn of<'a>(profile: &'a [ProfileEntry], id: &str) -> &'a ProfileEntry {
        profile.iter().find(|e| e.id == id).expect("every row")
    }

    #[test]
    fn each_row_says_which_outcome_the_endpoint_chose_and_where() {
        let non_strict = |id: &str| StepVerdict::NonStrict {
            ambiguities: vec![id.to_owned()],
        };
        let cases = vec![
            case(
                "ambiguity.count",
                &["AMB-COUNT"],
                Verdict::NonStrict,
                vec![
                    step(StepVerdict::Reference, "200"),
                    step(non_strict("AMB-ORDER"), "200 pages=[b, a]\nmore"),
                ],
            ),
            case(
                "ambiguity.dup-key",
                &["AMB-DUP-KEY"],
                Verdict::NonStrict,
                vec![step(
                    non_strict("AMB-DUP-KEY"),
                    "400 ValidationException: dup",
                )],
            ),
            case("ambiguity.order", &["AMB-ORDER"], Verdict::Pass, vec![]),
            case("ambiguity.colon", &["AMB-COLON"], Verdict::Fail, vec![]),
            case(
                "ambiguity.empty-value",
                &["AMB-EMPTY-VALUE"],
                Verdict::Pass,
                vec![],
            ),
        ];
        let profile = profile(&cases, None);
        assert_eq!(profile.len(), Ambiguity::ALL.len());
        let dup = of(&profile, "AMB-DUP-KEY");
        assert_eq!(dup.choice, Choice::Alternative);
        assert_eq!(
            dup.observed.as_deref(),
            Some("400 ValidationException: dup")
        );
        assert_eq!(
            (dup.case.as_deref(), dup.step),
            (Some("ambiguity.dup-key"), Some(1))
        );
        // The row's own case passed strictly, another case took an alternative.
        let order = of(&profile, "AMB-ORDER");
        assert_eq!(order.choice, Choice::Mixed);
        assert_eq!(
            (order.case.as_deref(), order.step),
            (Some("ambiguity.count"), Some(2))
        );
        assert_eq!(order.observed.as_deref(), Some("200 pages=[b, a]"));
        assert_eq!(of(&profile, "AMB-EMPTY-VALUE").choice, Choice::Reference);
        assert_eq!(of(&profile, "AMB-COLON").choice, Choice::Failed);
        // NON-STRICT on another row, the reference on its own.
        assert_eq!(of(&profile, "AMB-COUNT").choice, Choice::Reference);
        assert_eq!(of(&profile, "AMB-TOKEN-REUSE").choice, Choice::NotObserved);
    }

    #[test]
    fn choice_values_are_the_json_spelling() {
        for choice in [
            Choice::Reference,
            Choice::Alternative,
            Choice::Mixed,
            Choice::Failed,
            Choice::NotObserved,
        ] {
            let json = serde_json::to_string(&choice).expect("serialises");
            assert_eq!(json.trim_matches('"'), choice.value());
        }
    }
}
