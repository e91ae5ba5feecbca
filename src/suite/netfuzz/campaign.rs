//! A campaign's memory: the corpus of inputs that reached new behaviour, the signatures reached
//! so far, and (with a corpus directory) both on disk, with the findings.
//!
//! The directory is shared without a lock server: every file is written under `tmp/` and
//! renamed into place (a rename within one file system is atomic), file names are content
//! digests (two processes that save the same input write the same name), and readers skip what
//! they cannot parse. Several processes, on one machine or on several that sync the directory,
//! pick up each other's inputs at [`Campaign::sync`].
//!
//! Layout of `DIR`:
//! - `queue/<digest>.json`: one input and every signature it reached ([`SavedInput`]);
//! - `findings/<oracle>--<signature digest>/<steps>-<bytes>-<genes>-<digest>.json`: one
//!   finding per file; the smallest reproduction of each finding signature is the one that
//!   counts, larger ones are pruned;
//! - `tmp/`: files being written.

use std::collections::{BTreeMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};

use rand::Rng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use super::Finding;
use super::genome::{Input, mutate};
use super::signature::digest;

/// Inputs kept in memory; past it a new input replaces a random one, so memory stays flat
/// over a campaign of any length (the directory keeps them all).
const CORPUS_MAX: usize = 4096;
/// Share of inputs drawn by mutating the corpus (the rest are fresh), once it has entries.
const MUTATE_SHARE: f64 = 0.5;
/// Share of parents taken from the inputs that reached new model behaviour (a valid call's
/// answer or a state shape), when there are any: the many message templates of malformed
/// requests would otherwise crowd out the sequences that build state.
const STATE_SHARE: f64 = 0.75;

/// Whether a signature is about model behaviour (a valid call's answer or a state shape) rather
/// than about the answer to a malformed request.
fn is_state(signature: &str) -> bool {
    signature.starts_with("valid|") || signature.starts_with("shape|")
}

/// One corpus file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedInput {
    pub input: Input,
    /// Every signature the input reached when it was saved.
    pub signatures: Vec<String>,
}

/// One findings file: the finding and the input that led to it (up to the gene that showed it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedFinding {
    pub finding: Finding,
    pub input: Input,
}

impl SavedFinding {
    /// Smaller is a better reproduction: fewer steps, then fewer body bytes, then fewer genes.
    fn size(&self) -> (usize, usize, usize) {
        (
            self.finding.steps.len(),
            self.finding.body_bytes_shrunk,
            self.input.genes.len(),
        )
    }

    fn file_name(&self) -> String {
        let (steps, bytes, genes) = self.size();
        format!(
            "{steps:03}-{bytes:08}-{genes:03}-{}.json",
            self.input.digest()
        )
    }

    /// The directory of its signature under `findings/`: the oracle's ID (for people) and
    /// the signature's digest.
    fn group(&self) -> String {
        let oracle: String = self
            .finding
            .oracle_id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!("{oracle}--{:016x}", digest(&self.finding.signature))
    }
}

/// A corpus directory.
#[derive(Debug, Clone)]
pub struct CorpusDir {
    root: PathBuf,
}

impl CorpusDir {
    /// Opens (creating if needed) a corpus directory.
    pub fn open(root: &Path) -> io::Result<CorpusDir> {
        for sub in ["queue", "findings", "tmp"] {
            std::fs::create_dir_all(root.join(sub))?;
        }
        Ok(CorpusDir {
            root: root.to_owned(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Writes `bytes` to `relative` atomically: to `tmp/` first, then renamed into place.
    fn write_atomic(&self, relative: &Path, bytes: &[u8]) -> io::Result<()> {
        let target = self.root.join(relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let tmp = self.root.join("tmp").join(format!(
            "{}.{}.{nanos}.{}",
            relative
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, &target)
    }

    /// Names of the queue's input files.
    fn queue_names(&self) -> io::Result<Vec<String>> {
        let mut names: Vec<String> = std::fs::read_dir(self.root.join("queue"))?
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".json"))
            .collect();
        names.sort();
        Ok(names)
    }

    /// Reads one queue file; `None` for a file that is not one (skipped, never fatal).
    fn read_input(&self, name: &str) -> Option<SavedInput> {
        let bytes = std::fs::read(self.root.join("queue").join(name)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Every input of the queue, with its file name.
    pub fn inputs(&self) -> io::Result<Vec<(String, SavedInput)>> {
        Ok(self
            .queue_names()?
            .into_iter()
            .filter_map(|name| self.read_input(&name).map(|saved| (name, saved)))
            .collect())
    }

    /// Saves an input under its digest; returns the file name.
    pub fn save_input(&self, saved: &SavedInput) -> io::Result<String> {
        let name = format!("{}.json", saved.input.digest());
        let bytes = serde_json::to_vec(saved).map_err(io::Error::other)?;
        self.write_atomic(&Path::new("queue").join(&name), &bytes)?;
        Ok(name)
    }

    fn remove_input(&self, name: &str) -> io::Result<()> {
        std::fs::remove_file(self.root.join("queue").join(name))
    }

    /// The best (smallest) finding of each group, by group name.
    pub fn findings(&self) -> io::Result<BTreeMap<String, SavedFinding>> {
        let mut best = BTreeMap::new();
        for group in std::fs::read_dir(self.root.join("findings"))?.filter_map(Result::ok) {
            let mut files: Vec<PathBuf> = match std::fs::read_dir(group.path()) {
                Ok(dir) => dir.filter_map(Result::ok).map(|e| e.path()).collect(),
                Err(_) => continue,
            };
            // Names start with the size, so the first readable file is the best.
            files.sort();
            let found = files.iter().find_map(|path| {
                let bytes = std::fs::read(path).ok()?;
                serde_json::from_slice::<SavedFinding>(&bytes).ok()
            });
            if let Some(found) = found {
                best.insert(group.file_name().to_string_lossy().into_owned(), found);
            }
        }
        Ok(best)
    }

    /// Saves a finding when it is smaller than the group's best so far (or the first); prunes
    /// the group's larger files. Returns whether it was saved.
    pub fn save_finding(&self, saved: &SavedFinding) -> io::Result<bool> {
        let group = self.root.join("findings").join(saved.group());
        let name = saved.file_name();
        let mut existing: Vec<String> = match std::fs::read_dir(&group) {
            Ok(dir) => dir
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".json"))
                .collect(),
            Err(_) => Vec::new(),
        };
        existing.sort();
        if existing.first().is_some_and(|best| *best <= name) {
            return Ok(false);
        }
        let bytes = serde_json::to_vec_pretty(saved).map_err(io::Error::other)?;
        self.write_atomic(
            &Path::new("findings").join(saved.group()).join(&name),
            &bytes,
        )?;
        for larger in existing {
            let _ = std::fs::remove_file(group.join(larger));
        }
        Ok(true)
    }
}

/// What the campaign holds in memory.
pub struct Campaign {
    feedback: bool,
    /// Inputs that reached a new valid-call or state-shape signature.
    corpus_state: Vec<Input>,
    /// Inputs that reached only new signatures of malformed requests.
    corpus_other: Vec<Input>,
    seen: HashSet<u64>,
    dir: Option<CorpusDir>,
    /// Queue files already read or written by this process.
    known_files: HashSet<String>,
    /// Findings groups the directory held when the run started.
    pub known_findings: usize,
    /// Inputs this run added to the corpus.
    pub added: u64,
    /// Inputs read from the directory that other processes wrote during the run.
    pub imported: u64,
    /// Inputs drawn by mutation and fresh.
    pub mutated: u64,
    pub fresh: u64,
    /// Signatures reached this run that were new to the campaign.
    pub new_signatures: u64,
    /// Why the directory could not be written, once (the run goes on in memory).
    pub disk_trouble: Option<String>,
}

impl Campaign {
    /// A campaign; with feedback, inputs that reach new signatures join the corpus and most
    /// inputs are mutants of it. With a directory, resumes from what it holds.
    pub fn new(feedback: bool, dir: Option<CorpusDir>) -> io::Result<Campaign> {
        let mut campaign = Campaign {
            feedback,
            corpus_state: Vec::new(),
            corpus_other: Vec::new(),
            seen: HashSet::new(),
            dir,
            known_files: HashSet::new(),
            known_findings: 0,
            added: 0,
            imported: 0,
            mutated: 0,
            fresh: 0,
            new_signatures: 0,
            disk_trouble: None,
        };
        if let Some(dir) = &campaign.dir {
            campaign.known_findings = dir.findings()?.len();
        }
        campaign.sync_from_disk()?;
        campaign.imported = 0;
        Ok(campaign)
    }

    pub fn dir(&self) -> Option<&CorpusDir> {
        self.dir.as_ref()
    }

    pub fn corpus_len(&self) -> usize {
        self.corpus_state.len() + self.corpus_other.len()
    }

    /// Distinct signatures the campaign has reached (this run and, resumed, before).
    pub fn signatures(&self) -> usize {
        self.seen.len()
    }

    /// Reads queue files this process has not seen yet (other processes' inputs).
    fn sync_from_disk(&mut self) -> io::Result<()> {
        let Some(dir) = self.dir.clone() else {
            return Ok(());
        };
        for name in dir.queue_names()? {
            if self.known_files.contains(&name) {
                continue;
            }
            if let Some(saved) = dir.read_input(&name) {
                let mut state = false;
                for signature in &saved.signatures {
                    if self.seen.insert(digest(signature)) {
                        state |= is_state(signature);
                    }
                }
                self.keep(saved.input, state);
                self.imported += 1;
            }
            self.known_files.insert(name);
        }
        Ok(())
    }

    /// Picks up other processes' inputs; a directory that cannot be read is noted once.
    pub fn sync(&mut self) {
        if let Err(e) = self.sync_from_disk() {
            self.note_disk_trouble(&e);
        }
    }

    fn note_disk_trouble(&mut self, e: &io::Error) {
        if self.disk_trouble.is_none() {
            let root = self
                .dir
                .as_ref()
                .map_or_else(String::new, |d| d.root().display().to_string());
            self.disk_trouble = Some(format!("{root}: {e}"));
        }
    }

    fn keep(&mut self, input: Input, state: bool) {
        let pool = if state {
            &mut self.corpus_state
        } else {
            &mut self.corpus_other
        };
        if pool.len() < CORPUS_MAX / 2 {
            pool.push(input);
        } else {
            let at = rand::rng().random_range(0..pool.len());
            pool[at] = input;
        }
    }

    /// A parent for the next mutant: from the inputs that reached new model behaviour at
    /// [`STATE_SHARE`], else from the others; `None` when the corpus is empty.
    fn parent(&self, rng: &mut StdRng) -> Option<&Input> {
        let from_state = !self.corpus_state.is_empty()
            && (self.corpus_other.is_empty() || rng.random_bool(STATE_SHARE));
        let pool = if from_state {
            &self.corpus_state
        } else {
            &self.corpus_other
        };
        pool.get(rng.random_range(0..pool.len().max(1)))
    }

    /// The next input to run: mostly a mutant of the corpus (with feedback), else fresh.
    pub fn next_input(&mut self, rng: &mut StdRng) -> Input {
        if self.feedback && self.corpus_len() > 0 && rng.random_bool(MUTATE_SHARE) {
            let parent = self
                .parent(rng)
                .cloned()
                .unwrap_or_else(|| Input::fresh(rng));
            let other = self
                .parent(rng)
                .cloned()
                .unwrap_or_else(|| Input::fresh(rng));
            let input = mutate(rng, &parent, &other);
            self.mutated += 1;
            input
        } else {
            self.fresh += 1;
            Input::fresh(rng)
        }
    }

    /// Records what an input reached; with feedback, an input that reached a new signature
    /// joins the corpus (and the directory). Returns how many signatures were new.
    pub fn observe(&mut self, input: &Input, signatures: &[String]) -> usize {
        let mut state = false;
        let new = signatures
            .iter()
            .filter(|s| self.seen.insert(digest(s)))
            .inspect(|s| state |= is_state(s))
            .count();
        self.new_signatures += new as u64;
        if new > 0 && self.feedback && !input.genes.is_empty() {
            self.added += 1;
            if let Some(dir) = self.dir.clone() {
                let mut unique: Vec<String> = signatures.to_vec();
                unique.sort();
                unique.dedup();
                let saved = SavedInput {
                    input: input.clone(),
                    signatures: unique,
                };
                match dir.save_input(&saved) {
                    Ok(name) => {
                        self.known_files.insert(name);
                    }
                    Err(e) => self.note_disk_trouble(&e),
                }
            }
            self.keep(input.clone(), state);
        }
        new
    }

    /// Saves a finding to the directory when it is the smallest of its group.
    pub fn save_finding(&mut self, finding: &Finding, input: &Input) {
        let Some(dir) = self.dir.clone() else {
            return;
        };
        let saved = SavedFinding {
            finding: finding.clone(),
            input: input.clone(),
        };
        if let Err(e) = dir.save_finding(&saved) {
            self.note_disk_trouble(&e);
        }
    }
}

/// What [`merge`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeSummary {
    pub inputs_read: usize,
    pub inputs_kept: usize,
    pub inputs_added: usize,
    pub inputs_removed: usize,
    pub signatures: usize,
    pub finding_groups: usize,
    pub findings_improved: usize,
}

/// Merges the corpora and findings of `sources` into `dest`: the inputs are cut to a set that
/// still reaches every signature any of them reached (smallest inputs first), and each
/// finding group keeps its smallest reproduction. Runs nothing against an endpoint.
pub fn merge(dest: &CorpusDir, sources: &[CorpusDir]) -> io::Result<MergeSummary> {
    let mut summary = MergeSummary::default();
    // (input, signatures, where it is: None = already in dest).
    let mut all: Vec<(SavedInput, Option<usize>, String)> = Vec::new();
    for (name, saved) in dest.inputs()? {
        all.push((saved, None, name));
    }
    for (i, source) in sources.iter().enumerate() {
        for (name, saved) in source.inputs()? {
            all.push((saved, Some(i), name));
        }
    }
    summary.inputs_read = all.len();
    all.sort_by_key(|(saved, _, _)| (saved.input.genes.len(), saved.input.digest()));
    let mut covered: HashSet<u64> = HashSet::new();
    let mut kept_names: HashSet<String> = HashSet::new();
    for (saved, from, name) in &all {
        let new = saved
            .signatures
            .iter()
            .filter(|s| covered.insert(digest(s)))
            .count();
        if new == 0 || kept_names.contains(name) {
            continue;
        }
        kept_names.insert(name.clone());
        summary.inputs_kept += 1;
        if from.is_some() {
            dest.save_input(saved)?;
            summary.inputs_added += 1;
        }
    }
    for (_, from, name) in &all {
        if from.is_none() && !kept_names.contains(name) {
            dest.remove_input(name)?;
            summary.inputs_removed += 1;
        }
    }
    summary.signatures = covered.len();
    for source in sources {
        for saved in source.findings()?.into_values() {
            if dest.save_finding(&saved)? {
                summary.findings_improved += 1;
            }
        }
    }
    summary.finding_groups = dest.findings()?.len();
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Level;
    use crate::suite::netfuzz::{Gene, SavedRequest};

    fn scratch(name: &str) -> CorpusDir {
        let root = std::env::temp_dir().join(format!(
            "cogsync-campaign-unit-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&root);
        CorpusDir::open(&root).expect("opens")
    }

    fn finding(body_bytes: usize, genes: usize) -> SavedFinding {
        SavedFinding {
            finding: Finding {
                oracle: "o".into(),
                oracle_id: "valid.mismatch".into(),
                level: Level::Must,
                mutation: "valid:ListRecords".into(),
                detail: "d".into(),
                request: SavedRequest {
                    method: "GET".into(),
                    path_and_query: "/".into(),
                    headers: vec![],
                    body: None,
                    body_base64: None,
                },
                body_bytes_original: body_bytes,
                body_bytes_shrunk: body_bytes,
                answer: String::new(),
                steps: vec![],
                occurrences: 1,
                signature: "valid.mismatch|d".into(),
            },
            input: Input {
                genes: (0..genes)
                    .map(|i| Gene {
                        seed: i as u64,
                        tweak: None,
                    })
                    .collect(),
            },
        }
    }

    #[test]
    fn a_finding_group_keeps_only_its_smallest_reproduction() {
        let dir = scratch("findings");
        assert!(dir.save_finding(&finding(500, 9)).expect("saves"));
        assert!(
            !dir.save_finding(&finding(900, 3)).expect("compares"),
            "larger body"
        );
        assert!(
            dir.save_finding(&finding(20, 30)).expect("saves"),
            "smaller body"
        );
        assert!(
            dir.save_finding(&finding(20, 4)).expect("saves"),
            "same body, fewer genes"
        );
        let best = dir.findings().expect("reads");
        assert_eq!(best.len(), 1);
        let kept = best.values().next().expect("one");
        assert_eq!(
            (kept.finding.body_bytes_shrunk, kept.input.genes.len()),
            (20, 4)
        );
        let group = dir.root().join("findings").join(kept.group());
        assert_eq!(
            std::fs::read_dir(group).expect("group").count(),
            1,
            "larger pruned"
        );
    }

    #[test]
    fn merging_keeps_a_smallest_cover_of_the_signatures() {
        let dest = scratch("merge-dest");
        let source = scratch("merge-source");
        let input = |seeds: &[u64]| Input {
            genes: seeds
                .iter()
                .map(|&seed| Gene { seed, tweak: None })
                .collect(),
        };
        let saved = |seeds: &[u64], sigs: &[&str]| SavedInput {
            input: input(seeds),
            signatures: sigs.iter().map(|s| (*s).to_owned()).collect(),
        };
        // Smallest first: the one-gene inputs cover a and b, the long one adds c, and the
        // two-gene input adds nothing.
        dest.save_input(&saved(&[1, 2, 3, 4], &["a", "b", "c"]))
            .expect("saves");
        source.save_input(&saved(&[5], &["a"])).expect("saves");
        source.save_input(&saved(&[6], &["b"])).expect("saves");
        source
            .save_input(&saved(&[7, 8], &["a", "b"]))
            .expect("saves");
        let summary = merge(&dest, std::slice::from_ref(&source)).expect("merges");
        assert_eq!(summary.inputs_read, 4);
        assert_eq!(summary.signatures, 3);
        assert_eq!(summary.inputs_kept, 3, "{summary:?}");
        assert_eq!(summary.inputs_added, 2);
        assert_eq!(summary.inputs_removed, 0);
        let kept: Vec<usize> = dest
            .inputs()
            .expect("reads")
            .iter()
            .map(|(_, s)| s.input.genes.len())
            .collect();
        assert_eq!(kept.len(), 3);
        assert!(
            !kept.contains(&2),
            "the two-gene input adds nothing: {kept:?}"
        );
    }
}
