//! Replays every committed fuzz corpus file through the library's target bodies on stable, so
//! a regression that a fuzzer once found fails `cargo test` without nightly.
//!
//! `COGSYNC_WRITE_SEEDS=1 cargo test --test fuzz_corpus` (re)writes the generated seeds into
//! `fuzz/corpus/<target>/seed-*` first; commit what it writes.

use std::path::{Path, PathBuf};

use cogsync::fuzzing::{TARGETS, seeds};

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join("corpus")
        .join(target)
}

fn write_seeds() {
    for (target, _) in TARGETS {
        let dir = corpus_dir(target);
        std::fs::create_dir_all(&dir).expect("create corpus dir");
        for (name, bytes) in seeds::for_target(target).expect("every target has seeds") {
            std::fs::write(dir.join(format!("seed-{name}")), bytes).expect("write seed");
        }
    }
}

#[test]
fn every_committed_corpus_file_replays_without_a_finding() {
    if std::env::var_os("COGSYNC_WRITE_SEEDS").is_some() {
        write_seeds();
    }
    for (target, body) in TARGETS {
        let dir = corpus_dir(target);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("corpus of {target} at {}: {e}", dir.display()))
            .map(|entry| entry.expect("corpus entry").path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        assert!(
            !files.is_empty(),
            "the corpus of {target} at {} is empty",
            dir.display()
        );
        for file in &files {
            let data = std::fs::read(file).expect("read corpus file");
            let replay = std::panic::catch_unwind(|| body(&data));
            assert!(
                replay.is_ok(),
                "{target}: {} is a finding (run `cargo fuzz run {target} {}` to see it)",
                file.display(),
                file.display()
            );
        }
        eprintln!("{target}: {} corpus files replayed", files.len());
    }
}

#[test]
fn generated_seeds_replay_without_a_finding() {
    for (target, body) in TARGETS {
        for (name, bytes) in seeds::for_target(target).expect("every target has seeds") {
            let replay = std::panic::catch_unwind(|| body(&bytes));
            assert!(replay.is_ok(), "{target}: seed {name} is a finding");
        }
    }
}
