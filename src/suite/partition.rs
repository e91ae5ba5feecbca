//! `check --partition K/N`: shard K of N of a run, for CI that splits the suite over N jobs.
//!
//! Named cases go to a shard by a stable hash of their ID (FNV-1a, the same on every
//! platform, Rust version and run), random sequences by index (`i % N == K - 1`), and the
//! concurrent phase runs in shard 1 only. So the N shards of a seed together run exactly the
//! cases and sequences of the unsharded run with that seed, each once.

use std::fmt;
use std::str::FromStr;

/// One shard of a run: `shard` is 1-based, as on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Partition {
    shard: u32,
    count: u32,
}

impl Default for Partition {
    fn default() -> Partition {
        Partition::WHOLE
    }
}

impl Partition {
    /// The whole run: one shard of one.
    pub const WHOLE: Partition = Partition { shard: 1, count: 1 };

    /// Shard `shard` (1-based) of `count`.
    pub fn new(shard: u32, count: u32) -> Result<Partition, String> {
        if count == 0 || shard == 0 || shard > count {
            return Err(format!(
                "shard {shard} of {count}: K/N needs 1 <= K <= N (e.g. 1/4 … 4/4)"
            ));
        }
        Ok(Partition { shard, count })
    }

    /// K, 1-based.
    pub fn shard(self) -> u32 {
        self.shard
    }

    /// N.
    pub fn count(self) -> u32 {
        self.count
    }

    pub fn is_whole(self) -> bool {
        self.count == 1
    }

    /// Whether the named case `id` belongs to this shard.
    pub fn has_case(self, id: &str) -> bool {
        fnv1a_64(id.as_bytes()) % u64::from(self.count) == u64::from(self.shard - 1)
    }

    /// Whether random sequence `index` (0-based) belongs to this shard.
    pub fn has_sequence(self, index: u32) -> bool {
        index % self.count == self.shard - 1
    }

    /// How many of the sequences `0..total` belong to this shard.
    pub fn sequences_of(self, total: u32) -> u32 {
        (total / self.count) + u32::from(total % self.count >= self.shard)
    }

    /// Whether this shard runs the concurrent phase (one shard does).
    pub fn has_concurrent(self) -> bool {
        self.shard == 1
    }
}

impl FromStr for Partition {
    type Err = String;

    fn from_str(text: &str) -> Result<Partition, String> {
        let (k, n) = text
            .split_once('/')
            .ok_or_else(|| format!("{text:?} is not K/N, e.g. 2/4 for the second of 4 shards"))?;
        let number = |part: &str| {
            part.trim()
                .parse::<u32>()
                .map_err(|_| format!("{text:?} is not K/N with whole numbers, e.g. 2/4"))
        };
        Partition::new(number(k)?, number(n)?)
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.shard, self.count)
    }
}

/// 64-bit FNV-1a: a tiny hash whose value never changes (std's hashers are randomly seeded or
/// unspecified across releases, so they cannot assign cases to CI shards).
pub fn fnv1a_64(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::cases;
    use std::collections::BTreeMap;

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        assert_eq!(fnv1a_64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a_64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn every_case_id_is_in_exactly_one_shard() {
        let all = cases::all();
        for count in 1..=7 {
            let mut owners: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
            for shard in 1..=count {
                let partition = Partition::new(shard, count).expect("valid");
                for case in all.iter().filter(|c| partition.has_case(c.id)) {
                    owners.entry(case.id).or_default().push(shard);
                }
            }
            assert_eq!(
                owners.len(),
                all.len(),
                "the union is every case ({count} shards)"
            );
            for (id, shards) in &owners {
                assert_eq!(shards.len(), 1, "{id} is in shards {shards:?} of {count}");
            }
        }
    }

    #[test]
    fn cases_spread_over_every_shard() {
        let all = cases::all();
        for count in 2..=4 {
            for shard in 1..=count {
                let partition = Partition::new(shard, count).expect("valid");
                let mine = all.iter().filter(|c| partition.has_case(c.id)).count();
                assert!(mine > 0, "shard {partition} has no case");
            }
        }
    }

    #[test]
    fn every_sequence_index_is_in_exactly_one_shard() {
        for total in [0, 1, 7, 1000] {
            for count in 1..=7 {
                let mut seen = vec![0u32; total as usize];
                for shard in 1..=count {
                    let partition = Partition::new(shard, count).expect("valid");
                    let mine: Vec<u32> =
                        (0..total).filter(|&i| partition.has_sequence(i)).collect();
                    assert_eq!(mine.len() as u32, partition.sequences_of(total));
                    for i in mine {
                        seen[i as usize] += 1;
                    }
                }
                assert!(
                    seen.iter().all(|&n| n == 1),
                    "{total} sequences over {count} shards: {seen:?}"
                );
            }
        }
    }

    #[test]
    fn only_the_first_shard_runs_the_concurrent_phase() {
        let shards: Vec<u32> = (1..=4)
            .filter(|&k| Partition::new(k, 4).expect("valid").has_concurrent())
            .collect();
        assert_eq!(shards, [1]);
        assert!(Partition::WHOLE.has_concurrent());
    }

    #[test]
    fn k_over_n_parses_and_bad_shards_are_refused() {
        assert_eq!("2/4".parse::<Partition>(), Partition::new(2, 4));
        assert_eq!("1/1".parse::<Partition>(), Ok(Partition::WHOLE));
        assert_eq!(Partition::new(3, 5).expect("valid").to_string(), "3/5");
        for bad in [
            "0/4", "5/4", "1/0", "0/0", "2", "a/4", "2/b", "-1/4", "1/4/2", "",
        ] {
            assert!(bad.parse::<Partition>().is_err(), "{bad:?} is refused");
        }
    }
}
