//! Helpers shared by integration tests (not a test target of its own).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

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
