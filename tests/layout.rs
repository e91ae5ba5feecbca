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

/// The module a source file is, as a path: `src/suite/netfuzz/mod.rs` → `suite::netfuzz`.
fn module_of(file: &Path) -> Vec<String> {
    let rel = file
        .strip_prefix(root().join("src"))
        .expect("a file under src/");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// Every module path a file names (`crate::a::b`, `super::c`, `use crate::{a, b::c}`),
/// resolved to absolute paths; comments are skipped.
fn module_refs(file: &Path) -> BTreeSet<Vec<String>> {
    let me = module_of(file);
    // `super` of a mod.rs file is its parent's parent... no: of `a/b/mod.rs` (module a::b) it
    // is `a`; of `a/b.rs` (module a::b) it is `a` too.
    let parent: Vec<String> = me[..me.len().saturating_sub(1)].to_vec();
    let mut refs = BTreeSet::new();
    let ident = |s: &str| -> Vec<String> {
        s.split("::")
            .map(|p| p.trim().to_owned())
            .take_while(|p| {
                !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            })
            .collect()
    };
    for line in read(file).lines() {
        let line = line.trim_start();
        if line.starts_with("//") {
            continue;
        }
        for (needle, base) in [("crate::", Vec::new()), ("super::", parent.clone())] {
            let mut rest = line;
            while let Some(i) = rest.find(needle) {
                let before = &rest[..i];
                rest = &rest[i + needle.len()..];
                if needle == "super::" && before.ends_with("super::") {
                    continue;
                }
                let groups: Vec<String> = match rest.strip_prefix('{') {
                    Some(group) => group
                        .split(['}', ';'])
                        .next()
                        .unwrap_or("")
                        .split(',')
                        .map(|s| s.trim().to_owned())
                        .collect(),
                    None => vec![rest.to_owned()],
                };
                for group in groups {
                    let path = ident(&group);
                    if !path.is_empty() && path[0] != "self" {
                        let mut full = base.clone();
                        full.extend(path);
                        refs.insert(full);
                    }
                }
            }
        }
    }
    refs
}

/// The rooms of the crate, and which rooms each may import: spec ← model, server, client ←
/// suite ← report ← cli, and fuzzing as a leaf user of spec, model, server, client and suite.
/// Fuzzing may use the suite so that the `model_vs_server` target drives the in-process server
/// through the suite's own session (one driver); the suite never sees fuzzing or the server.
const ROOMS: [(&str, &[&str]); 8] = [
    ("spec", &[]),
    ("model", &["spec"]),
    ("server", &["spec"]),
    ("client", &["spec"]),
    ("suite", &["spec", "model", "client"]),
    ("report", &["spec", "model", "client", "suite"]),
    ("fuzzing", &["spec", "model", "server", "client", "suite"]),
    (
        "cli",
        &[
            "spec", "model", "server", "client", "suite", "report", "fuzzing",
        ],
    ),
];

#[test]
fn rooms_import_only_rooms_below_them() {
    for file in rust_files(&root().join("src")) {
        let me = module_of(&file);
        let Some(room) = me.first() else {
            continue;
        };
        let Some((_, allowed)) = ROOMS.iter().find(|(r, _)| r == room) else {
            continue;
        };
        for path in module_refs(&file) {
            let Some(target) = path.first() else {
                continue;
            };
            let is_room = ROOMS.iter().any(|(r, _)| r == target);
            assert!(
                !is_room || target == room || allowed.contains(&target.as_str()),
                "{} ({room}) imports {}: {room} may import only {allowed:?}",
                file.display(),
                path.join("::")
            );
        }
    }
}

/// The module (file) graph of `src/` has no cycles. A child module naming its own ancestor
/// (a room's `mod.rs` facade) is not an edge: only imports between siblings and cousins count.
#[test]
fn no_module_imports_form_a_cycle() {
    let files = rust_files(&root().join("src"));
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(f)).collect();
    // The longest known module that is a prefix of `path`.
    let resolve = |path: &[String]| -> Option<Vec<String>> {
        (1..=path.len())
            .rev()
            .map(|n| path[..n].to_vec())
            .find(|p| modules.contains(p))
    };
    let mut edges: std::collections::BTreeMap<Vec<String>, BTreeSet<Vec<String>>> =
        Default::default();
    for file in &files {
        let me = module_of(file);
        for path in module_refs(file) {
            if let Some(target) = resolve(&path)
                && target != me
                && !me.starts_with(&target)
                && !target.starts_with(&me)
            {
                edges.entry(me.clone()).or_default().insert(target);
            }
        }
    }
    // Depth-first search for a back edge.
    fn visit(
        node: &Vec<String>,
        edges: &std::collections::BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        on_path: &mut Vec<Vec<String>>,
        done: &mut BTreeSet<Vec<String>>,
    ) {
        if done.contains(node) {
            return;
        }
        if let Some(i) = on_path.iter().position(|n| n == node) {
            let cycle: Vec<String> = on_path[i..]
                .iter()
                .chain(std::iter::once(node))
                .map(|n| n.join("::"))
                .collect();
            panic!("import cycle: {}", cycle.join(" → "));
        }
        on_path.push(node.clone());
        for next in edges.get(node).into_iter().flatten() {
            visit(next, edges, on_path, done);
        }
        on_path.pop();
        done.insert(node.clone());
    }
    let mut done = BTreeSet::new();
    for node in edges.keys() {
        visit(node, &edges, &mut Vec::new(), &mut done);
    }
    assert!(
        edges.len() > 10,
        "the scan sees the imports of the crate's modules: {edges:?}"
    );
}

#[test]
fn the_module_scan_resolves_crate_super_and_groups() {
    let file = root().join("src/suite/run.rs");
    let refs = module_refs(&file);
    assert!(
        refs.iter()
            .any(|p| p.starts_with(&["suite".to_owned(), "verdict".to_owned()])),
        "{refs:?}"
    );
    assert!(
        refs.iter()
            .any(|p| p.first().is_some_and(|r| r == "client")),
        "{refs:?}"
    );
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
