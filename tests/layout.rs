//! Structural rules of the project that the compiler cannot enforce.
//!
//! - The model (oracle) and the reference server are two independent readings of SPEC.md: if
//!   either imported the other, a shared mistake would pass the suite unseen.
//! - Every requirement ID of SPEC.md §1–§7 is named by a model unit test and by an integration
//!   test, so no requirement is silently left unchecked.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Finds `crate::other`, `super::other` (from the module root) and `cogsync::other` paths.
fn imports_of(text: &str, other: &str) -> Vec<String> {
    let needles = [
        format!("crate::{other}"),
        format!("cogsync::{other}"),
        format!("super::{other}::"),
        format!("super::super::{other}"),
    ];
    text.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .filter(|line| needles.iter().any(|n| line.contains(n.as_str())))
        .map(str::to_owned)
        .collect()
}

fn assert_never_imports(module: &str, other: &str) {
    let files = rust_files(&root().join("src").join(module));
    assert!(!files.is_empty(), "src/{module} has source files");
    for file in files {
        let hits = imports_of(&read(&file), other);
        assert!(
            hits.is_empty(),
            "{} imports {other}: {hits:?}; src/model and src/server must stay independent",
            file.display()
        );
    }
}

#[test]
fn model_never_imports_server() {
    assert_never_imports("model", "server");
}

#[test]
fn server_never_imports_model() {
    assert_never_imports("server", "model");
}

#[test]
fn the_import_scan_sees_an_import() {
    assert_eq!(imports_of("use crate::server::spawn;", "server").len(), 1);
    assert_eq!(
        imports_of("let m = cogsync::model::Model::default();", "model").len(),
        1
    );
    assert!(imports_of("// crate::server is not used here", "server").is_empty());
}

/// IDs such as `UR-2` from the bold `**ID**` markers of SPEC.md sections 1 to 7.
fn requirement_ids() -> BTreeSet<String> {
    let spec = read(&root().join("docs/spec.md"));
    let body = spec.split("## 8.").next().expect("SPEC.md has text");
    let mut ids = BTreeSet::new();
    for piece in body.split("**").skip(1).step_by(2) {
        let mut parts = piece.splitn(2, '-');
        let (Some(prefix), Some(number)) = (parts.next(), parts.next()) else {
            continue;
        };
        if !prefix.is_empty()
            && prefix.chars().all(|c| c.is_ascii_uppercase())
            && !number.is_empty()
            && number.chars().all(|c| c.is_ascii_digit())
        {
            ids.insert(piece.to_owned());
        }
    }
    ids
}

/// Names of functions marked `#[test]` or `#[tokio::test]` in the files under `dir`.
fn test_names(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for file in rust_files(dir) {
        let text = read(&file);
        let mut marked = false;
        for line in text.lines().map(str::trim) {
            if line.starts_with("#[test]") || line.starts_with("#[tokio::test") {
                marked = true;
            } else if marked && let Some(rest) = line.split("fn ").nth(1) {
                names.push(rest.split('(').next().unwrap_or(rest).trim().to_owned());
                marked = false;
            }
        }
    }
    names
}

fn missing_ids(names: &[String]) -> Vec<String> {
    requirement_ids()
        .into_iter()
        .filter(|id| {
            let prefix = format!("{}_", id.to_lowercase().replace('-', "_"));
            !names.iter().any(|n| n.starts_with(&prefix))
        })
        .collect()
}

#[test]
fn spec_lists_the_expected_requirement_ids() {
    let ids = requirement_ids();
    for id in ["DATA-1", "UR-10", "LR-5", "DS-5", "VAL-3", "LIM-3", "ERR-4"] {
        assert!(ids.contains(id), "{id} found in SPEC.md; got {ids:?}");
    }
    assert!(
        !ids.iter().any(|id| id.starts_with("AMB")),
        "§8 is not scanned"
    );
}

#[test]
fn every_requirement_is_named_by_a_model_unit_test() {
    let missing = missing_ids(&test_names(&root().join("src/model")));
    assert!(
        missing.is_empty(),
        "no model unit test named after {missing:?}"
    );
}

#[test]
fn every_requirement_is_named_by_an_integration_test() {
    let missing = missing_ids(&test_names(&root().join("tests")));
    assert!(
        missing.is_empty(),
        "no integration test named after {missing:?}"
    );
}
