//! Named cases: each has a permanent dotted ID, a title, the requirement it checks, a level,
//! the SPEC requirement IDs it covers, and a body that runs on its own fresh identity.
//!
//! IDs are permanent: never renumber, rename or reuse one. A retired case keeps its ID retired.

use std::future::Future;
use std::pin::Pin;

use super::session::Session;
use super::verdict::Stop;

pub use crate::spec::Level;

/// The body of a case.
pub type CaseFn =
    for<'a> fn(&'a mut Session) -> Pin<Box<dyn Future<Output = Result<(), Stop>> + Send + 'a>>;

/// One named case.
#[derive(Clone, Copy)]
pub struct Case {
    pub id: &'static str,
    pub title: &'static str,
    /// The requirement in one sentence, as a report prints it.
    pub requirement: &'static str,
    pub level: Level,
    /// SPEC.md requirement IDs (and AMB- rows) the case covers.
    pub covers: &'static [&'static str],
    pub run: CaseFn,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Case")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Declares cases: `id, level, [covers], title, requirement => async_fn;`
macro_rules! cases {
    ($( $id:literal, $level:ident, [$($cov:literal),* $(,)?], $title:literal, $req:literal => $body:path; )*) => {
        pub(super) fn cases() -> Vec<$crate::suite::cases::Case> {
            vec![$(
                $crate::suite::cases::Case {
                    id: $id,
                    title: $title,
                    requirement: $req,
                    level: $crate::suite::cases::Level::$level,
                    covers: &[$($cov),*],
                    run: {
                        fn run(s: &mut $crate::suite::session::Session)
                            -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), $crate::suite::verdict::Stop>> + Send + '_>> {
                            Box::pin($body(s))
                        }
                        run
                    },
                },
            )*]
        }
    };
}

// Case files come after the macro: macro_rules! scope is textual.
mod ambiguities;
mod datasets;
mod errors;
mod limits;
mod list_records;
mod other_operations;
mod pool;
mod support;
mod tokens;
mod update_records;
mod validation;

/// Every case, in ID order.
pub fn all() -> Vec<Case> {
    let mut all = Vec::new();
    all.extend(ambiguities::cases());
    all.extend(datasets::cases());
    all.extend(errors::cases());
    all.extend(limits::cases());
    all.extend(list_records::cases());
    all.extend(other_operations::cases());
    all.extend(pool::cases());
    all.extend(tokens::cases());
    all.extend(update_records::cases());
    all.extend(validation::cases());
    all.sort_by_key(|c| c.id);
    all
}

/// The rank of a case that makes the first call of one of the eleven pool-level operations
/// (spec §11): such cases run before all others, one after the other in this order.
pub fn probe_rank(id: &str) -> Option<usize> {
    other_operations::PROBE_ORDER.iter().position(|p| *p == id)
}

/// Whether a case calls the eleven pool-level operations after their first calls.
pub fn needs_probes(id: &str) -> bool {
    pool::FAMILIES.iter().any(|family| id.starts_with(family))
}

/// Cases whose ID starts with one of `only` (all if empty) and with none of `skip`.
pub fn select(only: &[String], skip: &[String]) -> Vec<Case> {
    all()
        .into_iter()
        .filter(|c| only.is_empty() || only.iter().any(|p| c.id.starts_with(p.as_str())))
        .filter(|c| !skip.iter().any(|p| c.id.starts_with(p.as_str())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn ids_are_unique_dotted_kebab_case() {
        let cases = all();
        let mut seen = BTreeSet::new();
        for case in &cases {
            assert!(seen.insert(case.id), "duplicate case ID {}", case.id);
            assert!(case.id.split('.').count() >= 2, "{} is dotted", case.id);
            assert!(
                case.id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.'),
                "{} is kebab-case",
                case.id
            );
            assert!(!case.covers.is_empty(), "{} covers a requirement", case.id);
            assert!(
                !case.title.is_empty() && !case.requirement.is_empty(),
                "{} is described",
                case.id
            );
        }
    }

    #[test]
    fn every_requirement_and_ambiguity_is_covered() {
        let spec = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/spec.md"));
        let start = spec.find("## 1.").expect("SPEC has section 1");
        let end = spec.find("## 8.").expect("SPEC has section 8");
        let other = spec.find("## 11.").expect("SPEC has section 11");
        let text = format!("{}{}", &spec[start..end], &spec[other..]);
        let mut wanted: BTreeSet<String> = text
            .split("**")
            .skip(1)
            .step_by(2)
            .filter(|marker| {
                marker.split_once('-').is_some_and(|(letters, digits)| {
                    !letters.is_empty()
                        && letters.chars().all(|c| c.is_ascii_uppercase())
                        && !digits.is_empty()
                        && digits.chars().all(|c| c.is_ascii_digit())
                })
            })
            .map(str::to_owned)
            .collect();
        assert!(
            wanted.contains("DATA-1") && wanted.contains("ERR-4") && wanted.contains("POOL-1"),
            "{wanted:?}"
        );
        // Their effects leave the API (a Lambda call, a push message, a stream record): no
        // black-box case can see them; the reference server's own tests cover them.
        for unobservable in ["EVT-2", "DEV-3", "STREAM-1"] {
            assert!(wanted.remove(unobservable), "{unobservable} is in SPEC §11");
        }
        wanted.extend(
            crate::model::Ambiguity::ALL
                .iter()
                .map(|a| a.id().to_owned()),
        );
        let covered: BTreeSet<&str> = all()
            .iter()
            .flat_map(|c| c.covers.iter().copied())
            .collect();
        let uncovered: Vec<&String> = wanted
            .iter()
            .filter(|id| !covered.contains(id.as_str()))
            .collect();
        assert!(
            uncovered.is_empty(),
            "not covered by any case: {uncovered:?}"
        );
        let unknown: Vec<&&str> = covered.iter().filter(|id| !wanted.contains(**id)).collect();
        assert!(unknown.is_empty(), "covers names no SPEC ID: {unknown:?}");
    }

    #[test]
    fn select_filters_by_prefix() {
        let only = select(&["update-records.".to_owned()], &[]);
        assert!(!only.is_empty());
        assert!(only.iter().all(|c| c.id.starts_with("update-records.")));
        let first = only[0].id.to_owned();
        assert!(
            !select(
                &["update-records.".to_owned()],
                std::slice::from_ref(&first)
            )
            .iter()
            .any(|c| c.id == first)
        );
    }
}
