//! What a campaign keeps and mutates: an input is a sequence of genes, and each gene is one
//! iteration of the fuzzer (one valid call or one malformed request), drawn from the gene's own
//! seed against the session's state at that point. A tweak on a gene changes one detail of what
//! the seed draws: one count, one key, one byte of a body, one header.
//!
//! Because a gene only seeds choices, any splice or change of genes is still a well-formed
//! input: the fuzzer draws patches at the model's counts, so a gene moved after a remove meets a
//! tombstone, a changed count turns a fresh write stale, and so on. Every answer is still judged
//! by the model or by the refusal oracle, so a mutated input can never make a correct server
//! fail.

use rand::Rng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

/// Genes in a fresh input: long enough to build records, tombstones and stale tokens, short
/// enough that a finding's reproduction stays readable.
const FRESH_LEN: std::ops::RangeInclusive<usize> = 4..=40;
/// Mutated inputs are cut to this length.
pub(super) const INPUT_MAX: usize = 64;

/// One iteration's choices.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Gene {
    /// Seeds everything the iteration draws.
    #[serde(with = "crate::spec::seed_text")]
    pub seed: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tweak: Option<Tweak>,
}

/// One detail changed after the seed drew the iteration's request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tweak {
    /// A valid write: one patch's SyncCount moved by this much (never below 0).
    Count { patch: u8, delta: i8 },
    /// A valid write: one patch's key replaced by the fuzzer's key of this index.
    Key { patch: u8, key: u8 },
    /// A valid write: one patch's key at the longest length allowed (VAL-1: 1,024 characters),
    /// a limit edge that fresh draws never reach.
    LongestKey { patch: u8 },
    /// A malformed request that carries a garbage session token: one body byte XORed (the
    /// request stays one every reading must refuse).
    BodyByte { at: u32, xor: u8 },
    /// A malformed request that carries a garbage session token: one header dropped, changed or
    /// added.
    Header { which: u8 },
}

/// A sequence of genes, run on fresh identities.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Input {
    pub genes: Vec<Gene>,
}

impl Input {
    /// A fresh input: random genes without tweaks.
    pub fn fresh(rng: &mut StdRng) -> Input {
        let len = rng.random_range(FRESH_LEN);
        Input {
            genes: (0..len).map(|_| fresh_gene(rng)).collect(),
        }
    }

    /// A short stable name for files and reports: the first 16 hex digits of its digest.
    pub fn digest(&self) -> String {
        use sha2::{Digest as _, Sha256};
        let mut hash = Sha256::new();
        for gene in &self.genes {
            hash.update(gene.seed.to_le_bytes());
            hash.update(format!("{:?}", gene.tweak).as_bytes());
        }
        hash.finalize()
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

fn fresh_gene(rng: &mut StdRng) -> Gene {
    Gene {
        seed: rng.random(),
        tweak: None,
    }
}

fn random_tweak(rng: &mut StdRng) -> Tweak {
    match rng.random_range(0..5) {
        4 => Tweak::LongestKey {
            patch: rng.random_range(0..3),
        },
        0 => Tweak::Count {
            patch: rng.random_range(0..3),
            delta: *[-2, -1, 1, 2, 5].get(rng.random_range(0..5)).unwrap_or(&1),
        },
        1 => Tweak::Key {
            patch: rng.random_range(0..3),
            key: rng.random(),
        },
        2 => Tweak::BodyByte {
            at: rng.random(),
            xor: rng.random_range(1..=255),
        },
        _ => Tweak::Header {
            which: rng.random(),
        },
    }
}

/// A mutant of `parent` (and, for a splice, of `other`): one of splice, a tweak on one gene, a
/// gene's seed redrawn, a gene inserted, dropped or repeated.
pub fn mutate(rng: &mut StdRng, parent: &Input, other: &Input) -> Input {
    let mut genes = parent.genes.clone();
    if genes.is_empty() {
        return Input::fresh(rng);
    }
    let at = rng.random_range(0..genes.len());
    match rng.random_range(0..10) {
        0 | 1 if !other.genes.is_empty() => {
            let cut = rng.random_range(0..=genes.len());
            let from = rng.random_range(0..other.genes.len());
            genes.truncate(cut);
            genes.extend_from_slice(&other.genes[from..]);
        }
        0..=3 => {
            genes[at].tweak = Some(random_tweak(rng));
        }
        4 | 5 => {
            genes[at].seed = rng.random();
        }
        6 | 7 => {
            genes.insert(at, fresh_gene(rng));
        }
        8 => {
            if genes.len() > 1 {
                genes.remove(at);
            }
        }
        _ => {
            let copy = genes[at].clone();
            genes.insert(at, copy);
        }
    };
    genes.truncate(INPUT_MAX);
    Input { genes }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn mutants_stay_bounded_and_differ() {
        let mut rng = StdRng::seed_from_u64(7);
        let a = Input::fresh(&mut rng);
        let b = Input::fresh(&mut rng);
        let mut differ = 0;
        for _ in 0..500 {
            let m = mutate(&mut rng, &a, &b);
            assert!(!m.genes.is_empty() && m.genes.len() <= INPUT_MAX);
            differ += usize::from(m != a);
        }
        // A "drop" of a one-gene input or a redraw to the same seed may leave it unchanged,
        // but nearly every mutant differs.
        assert!(differ > 450, "{differ} of 500 mutants differ");
    }

    #[test]
    fn inputs_round_trip_through_json_and_digest_stably() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut input = Input::fresh(&mut rng);
        input.genes[0].tweak = Some(Tweak::BodyByte { at: 3, xor: 9 });
        let text = serde_json::to_string(&input).expect("encodes");
        let back: Input = serde_json::from_str(&text).expect("decodes");
        assert_eq!(back, input);
        assert_eq!(back.digest(), input.digest());
        assert_ne!(Input::fresh(&mut rng).digest(), input.digest());
    }
}
