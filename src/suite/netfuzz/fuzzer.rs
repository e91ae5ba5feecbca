//! The run loop: valid traffic through a [`Session`] (judged by the model), interleaved with
//! malformed requests judged by the refusal oracle ([`judge`]); broken oracles are filed as
//! findings (MUST, or any level in a strict run, shrunk first) or as NON-STRICT notes.
//!
//! Each worker runs inputs ([`Input`]): a sequence of genes on fresh identities, each gene one
//! iteration. What every answer showed becomes signatures; the [`Campaign`] keeps inputs that
//! reached new ones and (with feedback) draws most inputs by mutating them. Workers share the
//! campaign and the report, and run as futures of one task, so nothing here needs a lock.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use sha2::{Digest as _, Sha256};

use super::campaign::Campaign;
use super::genome::{Input, Tweak};
use super::mutations::{GARBAGE_TOKEN, Malformed, Mutator};
use super::oracle::FuzzOracle;
use super::patches::patches;
use super::pool;
use super::shrink::{sendable, shrink_candidates};
use super::signature;
use super::{
    DATASET_NAMES, FINDINGS_MAX, Finding, FirstFinding, KEYS, NetFuzzError, NetFuzzOptions,
    NetFuzzReport, Progress, SHRINK_BUDGET, SavedRequest, describe_answer,
};
use crate::client::{Endpoint, Exchange, RawRequest, RawResponse, Trouble};
use crate::model::{Call, RecordState};
use crate::spec::{
    DatasetPath, DescribeDatasetRequest, DescribeIdentityUsageRequest, IdentityPath,
    ListDatasetsRequest, ListRecordsRequest, RECORD_KEY_LEN_MAX, RecordPatch,
};
use crate::suite::operations::OperationBook;
use crate::suite::refusal::{Allow, RawRule, judge};
use crate::suite::session::{Namer, Now, Session, TokenChoice, dataset_of};
use crate::suite::verdict::{Step, StepVerdict, Stop};

/// How often a worker reads the corpus directory for other processes' inputs.
const SYNC_EVERY: Duration = Duration::from_secs(30);
/// How often the run reports progress to its caller.
const PROGRESS_EVERY: Duration = Duration::from_millis(500);

/// What the workers of one run share.
struct Shared {
    report: NetFuzzReport,
    /// (oracle ID, template of the detail) → where its first occurrence was filed: one
    /// symptom is one finding, whichever mutations showed it.
    seen: BTreeMap<(&'static str, String), Filed>,
    /// What the run chose so far, for [`NetFuzzReport::sequence_digest`].
    sequence: Sha256,
    campaign: Campaign,
    started: Instant,
    /// Workers still running.
    running: usize,
}

/// One worker's state across iterations.
struct Fuzzer<'a> {
    endpoint: &'a Endpoint,
    clock: Now,
    options: &'a NetFuzzOptions,
    shared: &'a RefCell<Shared>,
    /// Decides which input runs next (the genes decide what each iteration does).
    schedule: StdRng,
    /// The current gene's RNG: every choice of one iteration.
    rng: StdRng,
    /// The current gene's tweak.
    tweak: Option<Tweak>,
    /// Names this worker's identities, carried from session to session so they never repeat.
    namer: Namer,
    session: Session,
    /// The session's own pool (a fresh one per session: the model knows all it holds).
    pool: String,
    identities: Vec<IdentityPath>,
    /// Which of the eleven pool-level operations the endpoint implements, for every worker.
    operations: Arc<OperationBook>,
    steps_counted: usize,
    /// Signatures the current input reached.
    signatures: Vec<String>,
    /// The genes of the current input run so far: a finding's reproduction.
    ran: Input,
    last_sync: Instant,
}

/// Where a broken oracle went: an index into `report.findings` or `report.notes`.
#[derive(Debug, Clone, Copy)]
enum Filed {
    Finding(usize),
    Note(usize),
}

/// What shows a broken oracle.
struct Evidence {
    /// A mutation name (`wrong-type:SyncCount`) or `valid:<Operation>`.
    mutation: String,
    detail: String,
    request: RawRequest,
    body_bytes_original: usize,
    /// The answer to `request`, for the report.
    answer: String,
    /// The session's last steps, for findings in valid traffic.
    steps: Vec<Step>,
    /// What the spec allows for `request`, to judge shrunk variants; `None` for valid traffic,
    /// whose shrunk variants must still fail on the server's side.
    allows: Option<RawRule<'static>>,
}

/// The request of a session exchange, as a replay sends it (the headers that matter only).
fn request_of(exchange: &Exchange, base_url: &str) -> RawRequest {
    RawRequest {
        method: exchange.method.clone(),
        path_and_query: exchange
            .url
            .strip_prefix(base_url)
            .unwrap_or(&exchange.url)
            .to_owned(),
        headers: exchange
            .request_headers
            .iter()
            .filter(|(n, _)| {
                let n = n.to_ascii_lowercase();
                n == "content-type" || n == "x-amz-client-context"
            })
            .cloned()
            .collect(),
        body: exchange.request_bytes(),
    }
}

/// The answer of a session exchange, as [`describe_answer`] shows a raw one.
fn answer_of(exchange: &Exchange) -> String {
    match exchange.status {
        None => "(no answer)".to_owned(),
        Some(status) => describe_answer(&Ok(RawResponse {
            status,
            headers: exchange.response_headers.clone(),
            body: exchange.response_body.clone().into_bytes(),
        })),
    }
}

/// Whether an answer is a server-side failure (5xx or no usable answer).
fn server_side_failure(result: &Result<RawResponse, Trouble>) -> bool {
    match result {
        Err(_) => true,
        Ok(r) => r.status >= 500,
    }
}

impl Fuzzer<'_> {
    fn datasets(&self) -> Vec<DatasetPath> {
        self.identities
            .iter()
            .flat_map(|i| DATASET_NAMES.iter().map(|n| dataset_of(i, n)))
            .collect()
    }

    fn pick_dataset(&mut self) -> DatasetPath {
        let datasets = self.datasets();
        datasets[self.rng.random_range(0..datasets.len())].clone()
    }

    fn pick_identity(&mut self) -> IdentityPath {
        self.identities[self.rng.random_range(0..self.identities.len())].clone()
    }

    /// Counts the HTTP exchanges of session steps recorded since the last call, and notes the
    /// steps the model judged NON-STRICT (an allowed answer other than the reference).
    fn count_session_requests(&mut self) {
        let steps = self.session.steps();
        let fresh = &steps[self.steps_counted.min(steps.len())..];
        let new: usize = fresh.iter().map(|s| s.exchanges.len()).sum();
        {
            let mut shared = self.shared.borrow_mut();
            for step in fresh {
                shared.sequence.update(step.operation.as_bytes());
                shared.sequence.update([b'\n']);
                self.signatures.push(signature::of_step(step));
            }
            shared.report.requests += new as u64;
        }
        let base_url = self.endpoint.base_url();
        let non_strict: Vec<Evidence> = fresh
            .iter()
            .filter_map(|step| {
                let StepVerdict::NonStrict { ambiguities } = &step.verdict else {
                    return None;
                };
                let exchange = step.exchanges.last()?;
                let request = request_of(exchange, base_url);
                Some(Evidence {
                    mutation: format!("valid:{}:{}", step.operation, ambiguities.join("+")),
                    detail: format!("{} (allowed by {})", step.actual, ambiguities.join(", ")),
                    body_bytes_original: request.body.len(),
                    request,
                    answer: answer_of(exchange),
                    steps: vec![step.clone()],
                    allows: None,
                })
            })
            .collect();
        self.steps_counted = steps.len();
        for evidence in non_strict {
            self.file_now(FuzzOracle::ValidNonStrict, evidence);
        }
    }

    /// A fresh session with fresh identities for the next input; the old one's data is
    /// deleted unjudged.
    async fn next_session(&mut self) {
        self.count_session_requests();
        let mut namer = self.namer.clone();
        self.pool = namer.fresh_pool();
        let mut session = Session::new(self.endpoint.clone(), self.clock.clone(), namer)
            .with_operations(self.operations.clone());
        self.identities = vec![
            session.identity_in(&self.pool),
            session.identity_in(&self.pool),
        ];
        self.namer = session.namer().clone();
        std::mem::swap(&mut self.session, &mut session);
        session.clean_up().await;
        self.steps_counted = 0;
    }

    /// One malformed request, aimed at a dataset of the run, with the gene's tweak applied.
    async fn malformed(&mut self) -> Result<Malformed, Stop> {
        let path = self.pick_dataset();
        let mut valid_calls = 0;
        let mut mutator = Mutator {
            rng: &mut self.rng,
            session: &mut self.session,
            clock: &self.clock,
            valid_calls: &mut valid_calls,
        };
        let made = mutator.malformed(path).await;
        self.shared.borrow_mut().report.valid_calls += valid_calls;
        let mut made = made?;
        if let Some(tweak) = self.tweak {
            tweak_malformed(&mut made, tweak);
        }
        Ok(made)
    }

    /// The shapes of model state a write meets, as signatures: each patch's key (absent, live,
    /// tombstone) against its count (fresh, stale, ahead) and op, and a write after a delete.
    fn write_shapes(&mut self, path: &DatasetPath, patches: &[RecordPatch], token: &str) {
        let model = self.session.model();
        let mut shapes = vec![format!("token:{token}")];
        if model.ever_deleted(path) && !model.dataset_exists(path) {
            shapes.push("write-after-delete".to_owned());
        }
        let mut keys: Vec<&str> = Vec::new();
        for patch in patches {
            let key = patch.key.as_deref().unwrap_or("");
            if keys.contains(&key) {
                shapes.push("duplicate-key".to_owned());
            }
            keys.push(key);
            if key.chars().count() == RECORD_KEY_LEN_MAX {
                shapes.push("key-at-limit".to_owned());
            }
            let count = patch.sync_count.unwrap_or(0);
            let op = patch.op.as_deref().unwrap_or("-");
            let (state, at) = match model.record_state(path, key) {
                RecordState::Absent => ("absent", 0),
                RecordState::Live(c) => ("live", c),
                RecordState::Tombstone(c) => ("tombstone", c),
            };
            let relation = match count.cmp(&at) {
                std::cmp::Ordering::Equal => "fresh",
                std::cmp::Ordering::Less => "stale",
                std::cmp::Ordering::Greater => "ahead",
            };
            shapes.push(format!("{op}:{state}:{relation}"));
        }
        for shape in shapes {
            self.signatures
                .push(signature::of_shape("UpdateRecords", &shape));
        }
    }

    /// The shape of a ListRecords page walk: how many changes lie beyond `lastSyncCount`
    /// against the page size (none, one page, exactly a page, several), and after a delete.
    fn list_shape(&mut self, request: &ListRecordsRequest) {
        let model = self.session.model();
        let since = request.last_sync_count.unwrap_or(0);
        let (changed, _) = model.changed_since(&request.path, since);
        let pages = match (changed, request.max_results) {
            (0, _) => "empty",
            (_, None) => "default-page",
            (n, Some(m)) if n < m as usize => "one-page",
            (n, Some(m)) if n == m as usize => "page-exact",
            _ => "several-pages",
        };
        let deleted = if model.ever_deleted(&request.path) {
            ":after-delete"
        } else {
            ""
        };
        self.signatures.push(signature::of_shape(
            "ListRecords",
            &format!("{pages}{deleted}"),
        ));
    }

    /// The valid patches of this gene, with its tweak (one count, one key) applied.
    fn tweaked_patches(&mut self, path: &DatasetPath) -> Vec<RecordPatch> {
        let mut drawn = patches(&mut self.rng, &self.session, path);
        let (patch, tweak) = match self.tweak {
            Some(
                Tweak::Count { patch, .. } | Tweak::Key { patch, .. } | Tweak::LongestKey { patch },
            ) => (patch, self.tweak),
            _ => return drawn,
        };
        let n = drawn.len().max(1);
        let Some(p) = drawn.get_mut(usize::from(patch) % n) else {
            return drawn;
        };
        match tweak {
            Some(Tweak::Count { delta, .. }) => {
                let count = p.sync_count.unwrap_or(0) + i64::from(delta);
                p.sync_count = Some(count.max(0));
            }
            Some(Tweak::Key { key, .. }) => {
                p.key = Some(KEYS[usize::from(key) % KEYS.len()].to_owned());
            }
            Some(Tweak::LongestKey { .. }) => {
                let key = "k".repeat(RECORD_KEY_LEN_MAX);
                p.sync_count = Some(self.session.count_of(path, &key));
                p.key = Some(key);
            }
            _ => {}
        }
        drawn
    }

    /// One call of valid traffic through the session (judged by the model).
    async fn valid_call(&mut self) -> Result<(), Stop> {
        self.shared.borrow_mut().report.valid_calls += 1;
        if self.rng.random_bool(0.2) {
            return self.pool_call().await;
        }
        let path = self.pick_dataset();
        match self.rng.random_range(0..20) {
            0..=8 => {
                let patches = self.tweaked_patches(&path);
                self.write_shapes(&path, &patches, "latest");
                let device = ["LGE-Nexus5", "iPhone14,2", "cogsync-netfuzz"]
                    .choose(&mut self.rng)
                    .copied();
                self.session
                    .update_with(&path, device, Some(patches), TokenChoice::Latest)
                    .await?;
            }
            9..=12 => {
                let count = self.session.model().dataset_sync_count(&path);
                let request = ListRecordsRequest {
                    path: path.clone(),
                    last_sync_count: self
                        .rng
                        .random_bool(0.5)
                        .then(|| self.rng.random_range(0..=count)),
                    max_results: self
                        .rng
                        .random_bool(0.3)
                        .then(|| self.rng.random_range(1..5)),
                    ..ListRecordsRequest::default()
                };
                self.list_shape(&request);
                self.session
                    .list_with(request, TokenChoice::Missing)
                    .await?;
            }
            13 => {
                let other = self.pick_dataset();
                if other != path && self.session.has_token(&other) {
                    let patches = self.tweaked_patches(&path);
                    self.write_shapes(&path, &patches, "other-dataset");
                    self.session
                        .update_with(&path, None, Some(patches), TokenChoice::From(other))
                        .await?;
                }
            }
            14 | 15 => {
                self.session
                    .call(Call::DescribeDataset(DescribeDatasetRequest { path }))
                    .await?;
            }
            16 => {
                if self.rng.random_bool(0.3) {
                    self.session
                        .call(Call::DeleteDataset(crate::spec::DeleteDatasetRequest {
                            path,
                        }))
                        .await?;
                }
            }
            17 | 18 => {
                let identity = self.pick_identity();
                self.session
                    .call(Call::ListDatasets(ListDatasetsRequest {
                        path: identity,
                        max_results: self
                            .rng
                            .random_bool(0.3)
                            .then(|| self.rng.random_range(1..3)),
                        next_token: None,
                    }))
                    .await?;
            }
            _ => {
                let identity = self.pick_identity();
                self.session
                    .call(Call::DescribeIdentityUsage(DescribeIdentityUsageRequest {
                        path: identity,
                    }))
                    .await?;
            }
        }
        Ok(())
    }

    /// A call of one of the eleven pool-level operations (spec §11) in the session's own pool,
    /// judged by the model. An operation's first call in the run is made only where the
    /// model's reference answer is a 200, so that a 4xx in the ERR-1 shape can only mean "not
    /// implemented" (then its calls are not judged further: no findings).
    async fn pool_call(&mut self) -> Result<(), Stop> {
        let identity = self.pick_identity();
        let path = self.pick_dataset();
        let (request, shape) = pool::draw(
            &mut self.rng,
            self.session.model(),
            &self.pool,
            &identity,
            &path,
        );
        let operation = request.operation_name();
        self.signatures.push(signature::of_shape(operation, &shape));
        let result = match self.operations.get(operation) {
            Some(_) => self.session.pool_call(request).await,
            None if pool::reference_is_success(self.session.model(), &request) => {
                self.session.probe(request).await
            }
            None => return Ok(()),
        };
        match result {
            Ok(_) | Err(Stop::NotImplemented(_) | Stop::Skipped(_)) => Ok(()),
            Err(other) => Err(other),
        }
    }

    async fn send(&mut self, request: &RawRequest) -> Result<RawResponse, Trouble> {
        self.shared.borrow_mut().report.requests += 1;
        self.endpoint.send_raw(request).await.0
    }

    /// Shrinks `request` while sending it still breaks `oracle` (judged as `allows` says, or,
    /// for valid traffic, still failing on the server's side).
    async fn shrink(
        &mut self,
        request: RawRequest,
        oracle: FuzzOracle,
        allows: Option<RawRule<'static>>,
    ) -> RawRequest {
        let mut current = request;
        let mut budget = SHRINK_BUDGET;
        'outer: while budget > 0 {
            for candidate in shrink_candidates(&current) {
                if budget == 0 {
                    break 'outer;
                }
                if !sendable(self.endpoint, &candidate.path_and_query) {
                    continue;
                }
                budget -= 1;
                let result = self.send(&candidate).await;
                let same = match allows {
                    Some(rule) => judge(&rule, &result)
                        .is_some_and(|d| FuzzOracle::Refusal(d.oracle) == oracle),
                    None => server_side_failure(&result),
                };
                if same {
                    current = candidate;
                    continue 'outer;
                }
            }
            break;
        }
        current
    }

    /// Whether `oracle` fails the run: a MUST, or anything in a strict run.
    fn binds(&self, oracle: FuzzOracle) -> bool {
        self.options.strict || oracle.level().binds()
    }

    /// Files a broken oracle, shrinking the request first when it is a new finding that can be
    /// re-checked alone.
    async fn file(&mut self, oracle: FuzzOracle, evidence: Evidence) {
        let fresh = !self
            .shared
            .borrow()
            .seen
            .contains_key(&(oracle.id(), signature::template(&evidence.detail)));
        if !(fresh && self.binds(oracle) && oracle.shrinkable()) {
            self.file_now(oracle, evidence);
            return;
        }
        let request = self
            .shrink(evidence.request.clone(), oracle, evidence.allows)
            .await;
        let evidence = if request == evidence.request {
            evidence
        } else {
            let answer = describe_answer(&self.send(&request).await);
            Evidence {
                request,
                answer,
                ..evidence
            }
        };
        self.file_now(oracle, evidence);
    }

    /// Files a broken oracle as it is: a finding when it binds, a NON-STRICT note otherwise;
    /// a repeat of (oracle, mutation) only counts.
    fn file_now(&mut self, oracle: FuzzOracle, evidence: Evidence) {
        let binds = self.binds(oracle);
        let mut guard = self.shared.borrow_mut();
        let shared = &mut *guard;
        if !binds {
            shared.report.non_strict += 1;
        }
        let key = (oracle.id(), signature::template(&evidence.detail));
        if let Some(filed) = shared.seen.get(&key) {
            let entry = match *filed {
                Filed::Finding(i) => shared.report.findings.get_mut(i),
                Filed::Note(i) => shared.report.notes.get_mut(i),
            };
            if let Some(entry) = entry {
                entry.occurrences += 1;
            }
            return;
        }
        if binds && shared.report.first_finding.is_none() {
            shared.report.first_finding = Some(FirstFinding {
                elapsed_ms: shared.started.elapsed().as_secs_f64() * 1000.0,
                requests: shared.report.requests,
                iterations: shared.report.iterations,
            });
        }
        let list = if binds {
            &mut shared.report.findings
        } else {
            &mut shared.report.notes
        };
        if list.len() >= FINDINGS_MAX {
            if let Some(last) = list.last_mut() {
                last.occurrences += 1;
            }
            return;
        }
        let index = list.len();
        let finding = Finding {
            oracle: oracle.to_string(),
            oracle_id: oracle.id().to_owned(),
            level: oracle.level(),
            mutation: evidence.mutation,
            detail: evidence.detail,
            body_bytes_original: evidence.body_bytes_original,
            body_bytes_shrunk: evidence.request.body.len(),
            request: SavedRequest::from_raw(&evidence.request),
            answer: evidence.answer,
            steps: evidence.steps,
            occurrences: 1,
            signature: format!("{}|{}", oracle.id(), key.1),
        };
        if binds {
            shared.campaign.save_finding(&finding, &self.ran);
        }
        list.push(finding);
        let filed = if binds {
            Filed::Finding(index)
        } else {
            Filed::Note(index)
        };
        shared.seen.insert(key, filed);
    }

    /// A finding in valid traffic: the last step of the session shows it.
    async fn valid_finding(&mut self, reason: String) {
        self.count_session_requests();
        let steps = self.session.steps();
        let Some(step) = steps.last() else {
            return;
        };
        let Some(exchange) = step.exchanges.last() else {
            return;
        };
        let oracle = if matches!(step.verdict, StepVerdict::Trouble { .. }) {
            FuzzOracle::ValidNoAnswer
        } else if exchange.status.is_some_and(|s| s >= 500) {
            FuzzOracle::ValidServerError
        } else {
            FuzzOracle::ValidMismatch
        };
        let request = request_of(exchange, self.endpoint.base_url());
        let evidence = Evidence {
            mutation: format!("valid:{}", step.operation),
            detail: reason,
            body_bytes_original: request.body.len(),
            request,
            answer: answer_of(exchange),
            steps: steps[steps.len().saturating_sub(4)..].to_vec(),
            allows: None,
        };
        self.file(oracle, evidence).await;
    }

    /// Sends one malformed request, judges its answer against what the spec allows for it,
    /// then checks that the dataset it aimed at is unchanged. `Ok(true)`: the input must end,
    /// because the endpoint may now hold data the model does not know of.
    async fn malformed_round(&mut self) -> Result<bool, NetFuzzError> {
        let made = match self.malformed().await {
            Ok(m) => m,
            Err(Stop::Finding(reason)) => {
                self.valid_finding(reason).await;
                return Ok(true);
            }
            Err(Stop::Harness(h)) => return Err(NetFuzzError::Harness(h)),
            // An operation of the eleven the endpoint does not implement: nothing to judge.
            Err(Stop::NotImplemented(_) | Stop::Skipped(_)) => return Ok(false),
        };
        {
            let mut shared = self.shared.borrow_mut();
            shared.sequence.update(made.label.as_bytes());
            shared.sequence.update([b'\n']);
            if !sendable(self.endpoint, &made.request.path_and_query) {
                shared.report.skipped += 1;
                return Ok(false);
            }
            shared.report.malformed += 1;
        }
        let result = self.send(&made.request).await;
        let answer = describe_answer(&result);
        let Malformed {
            label,
            request,
            dataset,
            allows,
        } = made;
        let departure = judge(&allows, &result);
        self.signatures.push(signature::of_malformed(
            &label,
            &result,
            departure
                .as_ref()
                .map(|d| FuzzOracle::Refusal(d.oracle).id()),
        ));
        if let Some(departure) = departure {
            let oracle = FuzzOracle::Refusal(departure.oracle);
            let must = oracle.level().binds();
            let evidence = Evidence {
                mutation: label.clone(),
                detail: departure.detail,
                body_bytes_original: request.body.len(),
                request: request.clone(),
                answer: answer.clone(),
                steps: Vec::new(),
                allows: Some(allows),
            };
            self.file(oracle, evidence).await;
            if must {
                return Ok(true);
            }
        }
        let Some(path) = dataset else {
            return Ok(false);
        };
        self.shared.borrow_mut().report.valid_calls += 1;
        match self.session.list(&path).await {
            Ok(_) => Ok(false),
            Err(Stop::Finding(reason)) => {
                self.count_session_requests();
                let tail = self.session.steps();
                let steps = tail[tail.len().saturating_sub(4)..].to_vec();
                let evidence = Evidence {
                    mutation: label,
                    detail: reason,
                    body_bytes_original: request.body.len(),
                    request,
                    answer,
                    steps,
                    allows: Some(allows),
                };
                self.file(FuzzOracle::StateChanged, evidence).await;
                Ok(true)
            }
            Err(Stop::Harness(h)) => Err(NetFuzzError::Harness(h)),
            Err(Stop::NotImplemented(_) | Stop::Skipped(_)) => Ok(false),
        }
    }

    /// Whether the run must stop: time, iterations, or a stop request (Ctrl-C, SIGTERM).
    fn must_stop(&self) -> bool {
        let shared = self.shared.borrow();
        self.options
            .duration
            .is_some_and(|d| shared.started.elapsed() >= d)
            || self
                .options
                .iterations_max
                .is_some_and(|m| shared.report.iterations >= m)
            || self
                .options
                .stop
                .as_ref()
                .is_some_and(|flag| flag.load(Ordering::Relaxed))
            || (self.options.stop_on_finding && !shared.report.findings.is_empty())
    }

    /// One iteration: the gene's valid call or malformed request. `Ok(true)`: the input ends.
    async fn iteration(&mut self) -> Result<bool, NetFuzzError> {
        let ended = if self.rng.random_bool(0.4) {
            match self.valid_call().await {
                Ok(()) => false,
                Err(Stop::Finding(reason)) => {
                    self.valid_finding(reason).await;
                    true
                }
                Err(Stop::Harness(h)) => return Err(NetFuzzError::Harness(h)),
                Err(Stop::NotImplemented(_) | Stop::Skipped(_)) => false,
            }
        } else {
            self.malformed_round().await?
        };
        self.count_session_requests();
        Ok(ended)
    }

    /// Runs inputs until the run must stop.
    async fn work(&mut self) -> Result<(), NetFuzzError> {
        while !self.must_stop() {
            if self.last_sync.elapsed() >= SYNC_EVERY {
                self.last_sync = Instant::now();
                self.shared.borrow_mut().campaign.sync();
            }
            let input = self
                .shared
                .borrow_mut()
                .campaign
                .next_input(&mut self.schedule);
            self.next_session().await;
            self.signatures.clear();
            self.ran.genes.clear();
            for gene in &input.genes {
                if self.must_stop() {
                    break;
                }
                self.shared.borrow_mut().report.iterations += 1;
                self.rng = StdRng::seed_from_u64(gene.seed);
                self.tweak = gene.tweak;
                self.ran.genes.push(gene.clone());
                if self.iteration().await? {
                    break;
                }
            }
            let ran = std::mem::replace(&mut self.ran, Input { genes: Vec::new() });
            let signatures = std::mem::take(&mut self.signatures);
            self.shared.borrow_mut().campaign.observe(&ran, &signatures);
            self.ran = ran;
        }
        self.count_session_requests();
        self.session.clean_up().await;
        Ok(())
    }
}

/// The gene's tweak on a malformed request, only where every reading of the spec must still
/// refuse whatever the tweak does: a request that must be refused and carries a session token
/// the endpoint never issued. Other requests are left as drawn.
fn tweak_malformed(made: &mut Malformed, tweak: Tweak) {
    let garbage = made.allows.accepted == Allow::No
        && made
            .request
            .body
            .windows(GARBAGE_TOKEN.len())
            .any(|w| w == GARBAGE_TOKEN.as_bytes());
    if !garbage {
        return;
    }
    let request = &mut made.request;
    match tweak {
        Tweak::BodyByte { at, xor } => {
            let n = request.body.len();
            if n > 0 {
                request.body[at as usize % n] ^= xor;
                made.label.push_str("+body-byte");
            }
        }
        Tweak::Header { which } => {
            match which % 3 {
                0 if !request.headers.is_empty() => {
                    let at = usize::from(which / 3) % request.headers.len();
                    request.headers.remove(at);
                }
                1 => {
                    request
                        .headers
                        .retain(|(name, _)| !name.eq_ignore_ascii_case("content-type"));
                    let types = ["text/plain", "application/x-amz-json-1.1", ""];
                    let ct = types[usize::from(which / 3) % types.len()];
                    request
                        .headers
                        .push(("content-type".to_owned(), ct.to_owned()));
                }
                _ => request.headers.push((
                    "x-amz-Client-Context".to_owned(),
                    "%%not-base64%%".to_owned(),
                )),
            }
            made.label.push_str("+header");
        }
        Tweak::Count { .. } | Tweak::Key { .. } | Tweak::LongestKey { .. } => {}
    }
}

/// The report a run starts with.
fn empty_report(endpoint: &Endpoint, options: &NetFuzzOptions) -> NetFuzzReport {
    NetFuzzReport {
        seed: options.seed,
        endpoint: endpoint.base_url().to_owned(),
        strict: options.strict,
        iterations: 0,
        requests: 0,
        sequence_digest: String::new(),
        malformed: 0,
        valid_calls: 0,
        skipped: 0,
        elapsed_ms: 0.0,
        findings: Vec::new(),
        non_strict: 0,
        notes: Vec::new(),
        workers: options.workers.max(1),
        feedback: options.feedback,
        signatures: 0,
        new_signatures: 0,
        corpus: 0,
        corpus_added: 0,
        corpus_imported: 0,
        known_findings: 0,
        first_finding: None,
        stopped: false,
    }
}

/// The progress a caller sees.
fn progress_of(shared: &Shared) -> Progress {
    Progress {
        iterations: shared.report.iterations,
        requests: shared.report.requests,
        findings: shared.report.findings.len(),
        signatures: shared.campaign.signatures(),
        corpus: shared.campaign.corpus_len(),
        elapsed: shared.started.elapsed(),
    }
}

/// Fuzzes `endpoint` with `options.workers` workers until the duration or the iteration bound
/// is reached or `options.stop` is set, learning from (and adding to) `campaign`.
///
/// `progress` is called about twice a second. Datasets the run wrote are deleted at the end
/// (unjudged).
pub async fn run(
    endpoint: &Endpoint,
    clock: Now,
    options: &NetFuzzOptions,
    campaign: Campaign,
    progress: &mut dyn FnMut(Progress),
) -> Result<(NetFuzzReport, Campaign), NetFuzzError> {
    let workers = options.workers.max(1);
    let shared = RefCell::new(Shared {
        report: empty_report(endpoint, options),
        seen: BTreeMap::new(),
        sequence: Sha256::new(),
        campaign,
        started: Instant::now(),
        running: workers,
    });
    let operations = Arc::new(OperationBook::default());
    let mut fuzzers: Vec<Fuzzer<'_>> = (0..workers)
        .map(|worker| {
            // Lane = worker: identities of different workers never collide.
            let namer = Namer::new(options.run_id, worker as u32);
            let session = Session::new(endpoint.clone(), clock.clone(), namer.clone())
                .with_operations(operations.clone());
            let seed = options.seed.wrapping_add(worker as u64);
            Fuzzer {
                endpoint,
                clock: clock.clone(),
                options,
                shared: &shared,
                schedule: StdRng::seed_from_u64(seed),
                rng: StdRng::seed_from_u64(seed),
                tweak: None,
                namer,
                session,
                pool: String::new(),
                identities: Vec::new(),
                operations: operations.clone(),
                steps_counted: 0,
                signatures: Vec::new(),
                ran: Input { genes: Vec::new() },
                last_sync: Instant::now(),
            }
        })
        .collect();
    let runs = fuzzers.iter_mut().map(|fuzzer| {
        let shared = &shared;
        async move {
            let result = fuzzer.work().await;
            shared.borrow_mut().running -= 1;
            result
        }
    });
    let all = futures_util::future::join_all(runs);
    let ticker = async {
        loop {
            if shared.borrow().running == 0 {
                break;
            }
            progress(progress_of(&shared.borrow()));
            tokio::time::sleep(PROGRESS_EVERY).await;
        }
    };
    let (results, ()) = tokio::join!(all, ticker);
    for result in results {
        result?;
    }
    let Shared {
        mut report,
        sequence,
        campaign,
        started,
        ..
    } = shared.into_inner();
    report.sequence_digest = sequence
        .finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    report.elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    report.signatures = campaign.signatures();
    report.new_signatures = campaign.new_signatures;
    report.corpus = campaign.corpus_len();
    report.corpus_added = campaign.added;
    report.corpus_imported = campaign.imported;
    report.known_findings = campaign.known_findings;
    report.stopped = options
        .stop
        .as_ref()
        .is_some_and(|flag| flag.load(Ordering::Relaxed));
    Ok((report, campaign))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn made(body: &str, allows: RawRule<'static>) -> Malformed {
        Malformed {
            label: "kind".to_owned(),
            request: RawRequest {
                method: "POST".to_owned(),
                path_and_query: "/x".to_owned(),
                headers: vec![("content-type".to_owned(), "application/json".to_owned())],
                body: body.as_bytes().to_vec(),
            },
            dataset: None,
            allows,
        }
    }

    #[test]
    fn body_and_header_tweaks_touch_only_requests_every_reading_refuses() {
        let garbage = format!(r#"{{"SyncSessionToken":"{GARBAGE_TOKEN}","RecordPatches":[]}}"#);
        let mut m = made(&garbage, RawRule::MUST_REFUSE);
        tweak_malformed(&mut m, Tweak::BodyByte { at: 3, xor: 1 });
        assert_ne!(m.request.body, garbage.as_bytes());
        assert_eq!(m.label, "kind+body-byte");

        // A request that some server may accept (a bad optional parameter it may ignore) and
        // one with a real token are left as drawn: a tweak could make them valid.
        let lenient = RawRule::OTHER_OPERATION;
        for (body, rule) in [
            (garbage.as_str(), lenient),
            (r#"{"SyncSessionToken":"real"}"#, RawRule::MUST_REFUSE),
        ] {
            let mut m = made(body, rule);
            tweak_malformed(&mut m, Tweak::BodyByte { at: 3, xor: 1 });
            tweak_malformed(&mut m, Tweak::Header { which: 0 });
            assert_eq!(m.request.body, body.as_bytes());
            assert_eq!(m.request.headers.len(), 1);
            assert_eq!(m.label, "kind");
        }
    }
}
