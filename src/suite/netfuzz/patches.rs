//! Realistic record patches at the model's current counts, shared by valid traffic and by the
//! malformed requests built on a valid body, so both draw from the run's RNG the same way.

use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;

use super::KEYS;
use crate::spec::{DatasetPath, RecordPatch};
use crate::suite::session::{Session, remove, replace};

fn value(rng: &mut StdRng) -> String {
    match rng.random_range(0..6) {
        0 => String::new(),
        1 => "v".to_owned(),
        2 => rng.random_range(0..100_000).to_string(),
        3 => "ünïcödé 😀".to_owned(),
        4 => "x".repeat(rng.random_range(100..3000)),
        _ => format!("{{\"level\":{}}}", rng.random_range(0..50)),
    }
}

fn key(rng: &mut StdRng) -> String {
    (*KEYS.choose(rng).unwrap_or(&"a")).to_owned()
}

/// One to three patches at the session's model counts (sometimes stale, to provoke a 409).
pub(super) fn patches(rng: &mut StdRng, session: &Session, path: &DatasetPath) -> Vec<RecordPatch> {
    let n = rng.random_range(1..=3);
    let mut keys: Vec<String> = (0..n).map(|_| key(rng)).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|key| {
            let mut count = session.count_of(path, &key);
            if rng.random_bool(0.1) {
                count += if count > 0 && rng.random_bool(0.5) {
                    -1
                } else {
                    1
                };
            }
            if rng.random_bool(0.25) {
                remove(&key, count)
            } else {
                let value = value(rng);
                let mut patch = replace(&key, &value, count);
                if rng.random_bool(0.3) {
                    patch.device_last_modified_date =
                        Some(1_700_000_000.0 + f64::from(rng.random_range(0..1000u32)));
                }
                patch
            }
        })
        .collect()
}
