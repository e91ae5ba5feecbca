//! `cogsync list`: the named cases and the phases, filtered as `check --only` filters.

use clap::Args;

use super::EXIT_OK;
use crate::suite::cases;
use crate::suite::run::{CONCURRENT_ID, RANDOM_ID};

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
