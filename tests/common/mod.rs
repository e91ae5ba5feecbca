//! Helpers shared by integration tests (not a test target of its own). Each test target
//! compiles this module and uses only some of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

/// Each verdict as the HTML pages spell it (`#count-…`, `data-verdict`) and as the JSON
/// report's summary names its count.
pub const VERDICT_FIELDS: [(&str, &str); 6] = [
    ("pass", "passed"),
    ("fail", "failed"),
    ("non-strict", "non_strict"),
    ("error", "errors"),
    ("xfail", "xfail"),
    ("xpass", "xpass"),
];

/// Runs the `cogsync` binary with `args` and collects its output.
pub fn cogsync(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cogsync"))
        .args(args)
        .output()
        .expect("cogsync runs")
}

/// A fresh, empty scratch directory for test `test` (part `name`) of this process.
pub fn scratch(test: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cogsync-{test}-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// A `cogsync serve` process that is killed when dropped (also when a test panics).
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// [`spawn_serve`], killed on drop.
pub fn serve(extra: &[&str]) -> (Server, String) {
    let (child, url) = spawn_serve(extra);
    (Server(child), url)
}

/// Starts `cogsync serve` on a free loopback port with `extra` arguments, and returns the
/// process and the URL it printed.
pub fn spawn_serve(extra: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cogsync"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .expect("cogsync serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("serve prints its URL")
            .expect("readable");
        if let Some(at) = line.find("http://") {
            break line[at..]
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned();
        }
    };
    (child, url)
}
