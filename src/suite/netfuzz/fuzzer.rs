//! The run loop: valid traffic through a [`Session`] (judged by the model), interleaved with
//! malformed requests judged by the refusal oracle ([`judge`]); broken oracles are filed as
//! findings (MUST, or any level in a strict run, shrunk first) or as NON-STRICT notes.

use std::collections::BTreeMap;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use sha2::{Digest as _, Sha256};

use super::mutations::{Malformed, Mutator};
use super::oracle::FuzzOracle;
use super::patches::patches;
use super::shrink::{sendable, shrink_candidates};
use super::{
    DATASET_NAMES, EPOCH_ITERATIONS, FINDINGS_MAX, Finding, NetFuzzError, NetFuzzOptions,
    NetFuzzReport, Progress, SHRINK_BUDGET, SavedRequest, describe_answer,
};
use crate::client::{Endpoint, Exchange, RawRequest, RawResponse, Trouble};
use crate::model::Call;
use crate::spec::{
    DatasetPath, DescribeDatasetRequest, DescribeIdentityUsageRequest, IdentityPath,
    ListDatasetsRequest, ListRecordsRequest,
};
use crate::suite::refusal::{RawRule, judge};
use crate::suite::session::{Namer, Now, Session, TokenChoice, dataset_of};
use crate::suite::verdict::{Step, StepVerdict, Stop};

/// The fuzzer's state across iterations.
struct Fuzzer<'a> {
    endpoint: &'a Endpoint,
    clock: Now,
    rng: StdRng,
    run_id: u32,
    epoch: u32,
    session: Session,
    identities: Vec<IdentityPath>,
    steps_counted: usize,
    report: NetFuzzReport,
    /// (oracle ID, mutation) → where its first occurrence was filed.
    seen: BTreeMap<(&'static str, String), Filed>,
    /// What the run chose so far, for [`NetFuzzReport::sequence_digest`].
    sequence: Sha256,
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

fn new_session(endpoint: &Endpoint, clock: &Now, run_id: u32, epoch: u32) -> Session {
    Session::new(endpoint.clone(), clock.clone(), Namer::new(run_id, epoch))
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
        for step in fresh {
            self.sequence.update(step.operation.as_bytes());
            self.sequence.update([b'\n']);
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
        self.report.requests += new as u64;
        self.steps_counted = steps.len();
        for evidence in non_strict {
            self.file_now(FuzzOracle::ValidNonStrict, evidence);
        }
    }

    /// A fresh session with fresh identities; the old one's data is deleted unjudged.
    async fn next_epoch(&mut self) {
        self.count_session_requests();
        self.epoch += 1;
        let mut session = new_session(self.endpoint, &self.clock, self.run_id, self.epoch);
        self.identities = vec![session.identity(), session.identity()];
        std::mem::swap(&mut self.session, &mut session);
        session.clean_up().await;
        self.steps_counted = 0;
    }

    /// One malformed request, aimed at a dataset of the run.
    async fn malformed(&mut self) -> Result<Malformed, Stop> {
        let path = self.pick_dataset();
        let mut mutator = Mutator {
            rng: &mut self.rng,
            session: &mut self.session,
            clock: &self.clock,
            valid_calls: &mut self.report.valid_calls,
        };
        mutator.malformed(path).await
    }

    /// One call of valid traffic through the session (judged by the model).
    async fn valid_call(&mut self) -> Result<(), Stop> {
        self.report.valid_calls += 1;
        let path = self.pick_dataset();
        match self.rng.random_range(0..20) {
            0..=8 => {
                let patches = patches(&mut self.rng, &self.session, &path);
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
                self.session
                    .list_with(request, TokenChoice::Missing)
                    .await?;
            }
            13 => {
                let other = self.pick_dataset();
                if other != path && self.session.has_token(&other) {
                    let patches = patches(&mut self.rng, &self.session, &path);
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

    async fn send(&mut self, request: &RawRequest) -> Result<RawResponse, Trouble> {
        self.report.requests += 1;
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
        self.report.strict || oracle.level().binds()
    }

    /// Files a broken oracle, shrinking the request first when it is a new finding that can be
    /// re-checked alone.
    async fn file(&mut self, oracle: FuzzOracle, evidence: Evidence) {
        let fresh = !self
            .seen
            .contains_key(&(oracle.id(), evidence.mutation.clone()));
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
        if !binds {
            self.report.non_strict += 1;
        }
        let key = (oracle.id(), evidence.mutation.clone());
        if let Some(filed) = self.seen.get(&key) {
            let entry = match *filed {
                Filed::Finding(i) => self.report.findings.get_mut(i),
                Filed::Note(i) => self.report.notes.get_mut(i),
            };
            if let Some(entry) = entry {
                entry.occurrences += 1;
            }
            return;
        }
        let list = if binds {
            &mut self.report.findings
        } else {
            &mut self.report.notes
        };
        if list.len() >= FINDINGS_MAX {
            if let Some(last) = list.last_mut() {
                last.occurrences += 1;
            }
            return;
        }
        let index = list.len();
        list.push(Finding {
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
        });
        let filed = if binds {
            Filed::Finding(index)
        } else {
            Filed::Note(index)
        };
        self.seen.insert(key, filed);
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
    /// then checks that the dataset it aimed at is unchanged.
    async fn malformed_round(&mut self) -> Result<(), NetFuzzError> {
        let made = match self.malformed().await {
            Ok(m) => m,
            Err(Stop::Finding(reason)) => {
                self.valid_finding(reason).await;
                self.next_epoch().await;
                return Ok(());
            }
            Err(Stop::Harness(h)) => return Err(NetFuzzError::Harness(h)),
        };
        self.sequence.update(made.label.as_bytes());
        self.sequence.update([b'\n']);
        if !sendable(self.endpoint, &made.request.path_and_query) {
            self.report.skipped += 1;
            return Ok(());
        }
        self.report.malformed += 1;
        let result = self.send(&made.request).await;
        let answer = describe_answer(&result);
        let Malformed {
            label,
            request,
            dataset,
            allows,
        } = made;
        if let Some(departure) = judge(&allows, &result) {
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
                // The endpoint may now hold data the model does not know of.
                self.next_epoch().await;
                return Ok(());
            }
        }
        let Some(path) = dataset else {
            return Ok(());
        };
        self.report.valid_calls += 1;
        match self.session.list(&path).await {
            Ok(_) => Ok(()),
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
                self.next_epoch().await;
                Ok(())
            }
            Err(Stop::Harness(h)) => Err(NetFuzzError::Harness(h)),
        }
    }
}

/// Fuzzes `endpoint` until the duration or the iteration bound is reached.
///
/// `progress` is called about once per 200 iterations. Datasets the run wrote are deleted at
/// the end (unjudged).
pub async fn run(
    endpoint: &Endpoint,
    clock: Now,
    options: &NetFuzzOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<NetFuzzReport, NetFuzzError> {
    let started = Instant::now();
    let mut session = new_session(endpoint, &clock, options.run_id, 0);
    let identities = vec![session.identity(), session.identity()];
    let mut fuzzer = Fuzzer {
        endpoint,
        clock: clock.clone(),
        rng: StdRng::seed_from_u64(options.seed),
        run_id: options.run_id,
        epoch: 0,
        session,
        identities,
        steps_counted: 0,
        report: NetFuzzReport {
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
        },
        seen: BTreeMap::new(),
        sequence: Sha256::new(),
    };
    loop {
        let iterations = fuzzer.report.iterations;
        if options.duration.is_some_and(|d| started.elapsed() >= d)
            || options.iterations_max.is_some_and(|m| iterations >= m)
        {
            break;
        }
        fuzzer.report.iterations += 1;
        if iterations > 0 && iterations.is_multiple_of(EPOCH_ITERATIONS) {
            fuzzer.next_epoch().await;
        }
        if fuzzer.rng.random_bool(0.4) {
            match fuzzer.valid_call().await {
                Ok(()) => {}
                Err(Stop::Finding(reason)) => {
                    fuzzer.valid_finding(reason).await;
                    fuzzer.next_epoch().await;
                }
                Err(Stop::Harness(h)) => return Err(NetFuzzError::Harness(h)),
            }
        } else {
            fuzzer.malformed_round().await?;
        }
        fuzzer.count_session_requests();
        if fuzzer.report.iterations.is_multiple_of(200) {
            progress(Progress {
                iterations: fuzzer.report.iterations,
                requests: fuzzer.report.requests,
                findings: fuzzer.report.findings.len(),
                elapsed: started.elapsed(),
            });
        }
    }
    fuzzer.count_session_requests();
    fuzzer.report.sequence_digest = fuzzer
        .sequence
        .finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    fuzzer.report.elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    fuzzer.session.clean_up().await;
    Ok(fuzzer.report)
}
