//! `cogsync replay` for people: what is replayed against what, the transcript, and whether
//! the failure came back.

use std::path::Path;

use super::transcript;
use crate::client::Trouble;
use crate::suite::verdict::Step;

/// The first lines: what runs, from which file, against which endpoint and why that one.
pub fn opening(what: &str, file: &Path, endpoint: &str, whose: &str, originally: &str) {
    println!(
        "cogsync replay: {what} from {} against {endpoint} ({whose})",
        file.display()
    );
    println!("originally: {originally}");
}

/// The transcript of the replay and its result: reproduced (with why) or not (with what was
/// compared).
pub fn outcome(steps: &[Step], failure: Option<&str>) {
    print!("{}", transcript(steps));
    match failure {
        Some(why) => {
            println!("reproduced: {why}");
            println!("0 passed, 1 failed");
        }
        None => {
            println!(
                "did not reproduce: each of the {} answers above was compared with the model \
                 (status, error type, records, counts and flags) and every one was allowed",
                steps.len()
            );
            println!("1 passed, 0 failed");
        }
    }
}

/// The endpoint accepted the connection and gave no complete answer to the first request.
pub fn first_request_finding(trouble: &Trouble) {
    println!("the endpoint accepted the connection, then: {trouble} (on the first request)");
    println!("0 passed, 1 failed");
}
