//! A session drives one endpoint alongside the model: every call is sent, judged against the
//! model's allowed outcomes, and recorded as a transcript step.
//!
//! Cases and random sequences talk to the endpoint only through a session, so every answer is
//! checked and every exchange can be shown in a report. The session is generic over its
//! [`Transport`]: HTTP for the suite, the reference server in process for the
//! `model_vs_server` fuzz target, which so drives the server exactly as the suite does.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::operations::{OperationBook, Support, not_implemented};
use super::refusal::{Allow, RawRule, judge};
use super::token_book::TokenBook;
pub use super::token_book::TokenChoice;
use super::verdict::{Step, StepVerdict, Stop};
use crate::client::{
    Endpoint, Exchange, PAGES_PER_WALK_MAX, RawRequest, RawResponse, Reply, Transport, Trouble,
    decode, pool_to_raw, to_raw, walk,
};
use crate::model::{
    Ambiguity, Call, Expected, Judgement, Model, Observed, PoolObserved, TokenClaim,
};
use crate::spec::{
    BulkPublishDetails, BulkPublishResponse, CognitoEvents, DatasetPath, DeleteDatasetRequest,
    DescribeIdentityPoolUsageResponse, ErrorKind, IdentityPath, ListIdentityPoolUsageResponse,
    ListRecordsRequest, PoolConfigurationResponse, PoolRequest, RecordPatch,
    RegisterDeviceResponse, Request, Timestamp, USAGE_LAG_SECS_MAX, UpdateRecordsBody,
    UpdateRecordsRequest,
};

/// Where the suite reads the time (seconds since the Unix epoch), passed in so the suite itself
/// never reads a clock: the wall clock in a run, a manual one in tests. Not `server::Clock`.
pub type Now = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// Names of identities that belong to one run, so a run never touches data it did not create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Namer {
    pub run: u32,
    pub lane: u32,
    next: u64,
}

impl Namer {
    pub fn new(run: u32, lane: u32) -> Namer {
        Namer { run, lane, next: 0 }
    }

    /// The run's identity pool: `us-east-1:<run>-c065-4000-8000-000000000000`.
    pub fn pool(&self) -> String {
        format!("us-east-1:{:08x}-c065-4000-8000-000000000000", self.run)
    }

    /// The lane's own identity pools, for the eleven pool-level operations (spec §11): a pool
    /// holds configuration, events, devices and a bulk publish, so each case gets pools no
    /// other case touches. `us-east-1:<run>-c065-4000-9000-<lane><n>`: a lane's pools sort
    /// next to each other.
    pub fn own_pool(&self, n: u16) -> String {
        format!(
            "us-east-1:{:08x}-c065-4000-9000-{:08x}{n:04x}",
            self.run, self.lane
        )
    }

    /// A pool no other lane and no earlier call names: `us-east-1:<run>-c065-4000-a<lane>-<n>`,
    /// for a run that needs a private pool per session (the network fuzzer).
    pub fn fresh_pool(&mut self) -> String {
        self.next += 1;
        format!(
            "us-east-1:{:08x}-c065-4000-a{:03x}-{:012x}",
            self.run,
            self.lane & 0xfff,
            self.next
        )
    }

    /// A fresh identity in the run's pool, unique within the run.
    pub fn identity(&mut self) -> IdentityPath {
        self.next += 1;
        IdentityPath {
            identity_pool_id: self.pool(),
            identity_id: format!(
                "us-east-1:{:08x}-{:04x}-4000-8000-{:012x}",
                self.run,
                self.lane & 0xffff,
                self.next
            ),
        }
    }
}

/// One endpoint, one model, one transcript.
pub struct Session<T: Transport = Endpoint> {
    endpoint: T,
    model: Model,
    clock: Now,
    namer: Namer,
    tokens: TokenBook,
    written: BTreeSet<DatasetPath>,
    steps: Vec<Step>,
    content_type: Option<String>,
    operations: Arc<OperationBook>,
}

/// The observed answer of one step, for cases that look further than the model does.
pub type Answer = Observed;

/// An endpoint's reply as the model judges it: a success wrapped by `wrap`, any error answer as
/// [`Observed::Error`]; trouble stays trouble, for the caller to report.
pub fn observed<T>(reply: Reply<T>, wrap: impl FnOnce(T) -> Observed) -> Result<Observed, Trouble> {
    match reply {
        Reply::Success(v) => Ok(wrap(v)),
        Reply::Error(e) => Ok(Observed::Error {
            status: e.status,
            kind: e.kind,
            message: e.body.and_then(|b| b.message),
        }),
        Reply::Broken(t) => Err(t),
    }
}

impl<T: Transport> Session<T> {
    pub fn new(endpoint: T, clock: Now, namer: Namer) -> Session<T> {
        Session {
            endpoint,
            model: Model::new(),
            clock,
            namer,
            tokens: TokenBook::new(),
            written: BTreeSet::new(),
            steps: Vec::new(),
            content_type: None,
            operations: Arc::new(OperationBook::default()),
        }
    }

    /// What the run learned about the eleven pool-level operations (spec §11).
    pub fn operations(&self) -> &Arc<OperationBook> {
        &self.operations
    }

    /// Shares what the run learned about the eleven pool-level operations (spec §11).
    pub fn with_operations(mut self, operations: Arc<OperationBook>) -> Session<T> {
        self.operations = operations;
        self
    }

    /// This session's own identity pool (see [`Namer::own_pool`]): the one pool its calls of
    /// the eleven pool-level operations configure.
    pub fn pool(&self) -> String {
        self.namer.own_pool(0)
    }

    /// Another pool of this session's own (`n` > 0), next to [`Session::pool`] in name order.
    pub fn pool_n(&self, n: u16) -> String {
        self.namer.own_pool(n)
    }

    /// A fresh identity of this run in `pool`.
    pub fn identity_in(&mut self, pool: &str) -> IdentityPath {
        IdentityPath {
            identity_pool_id: pool.to_owned(),
            ..self.namer.identity()
        }
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    pub fn into_steps(self) -> Vec<Step> {
        self.steps
    }

    pub fn endpoint(&self) -> &T {
        &self.endpoint
    }

    /// A fresh identity of this run.
    pub fn identity(&mut self) -> IdentityPath {
        self.namer.identity()
    }

    /// The namer, to carry on in the next session of the same lane: identities stay unique
    /// however many sessions a long run goes through.
    pub fn namer(&self) -> &Namer {
        &self.namer
    }

    /// A dataset of a fresh identity.
    pub fn dataset(&mut self, name: &str) -> DatasetPath {
        let identity = self.identity();
        dataset_of(&identity, name)
    }

    /// The model's current count of `key` (UR-4), for building fresh or stale patches.
    pub fn count_of(&self, path: &DatasetPath, key: &str) -> i64 {
        self.model.record_sync_count(path, key)
    }

    /// Sends later UpdateRecords bodies with this `Content-Type` (VAL-3); `None` restores
    /// `application/json`.
    pub fn set_content_type(&mut self, content_type: Option<&str>) {
        self.content_type = content_type.map(str::to_owned);
    }

    /// The latest session token the endpoint issued for the dataset, if any.
    pub fn token_of(&self, path: &DatasetPath) -> Option<String> {
        self.tokens.latest(path).map(str::to_owned)
    }

    /// What [`Session::update_with`] will claim about a token chosen so, worked out before
    /// anything is sent (also the ListRecords it may need first), for [`Session::intend`].
    pub fn update_claim(&self, path: &DatasetPath, choice: &TokenChoice) -> TokenClaim {
        self.tokens.claim_ahead(path, choice, self.now())
    }

    /// What [`Session::list_with`] will claim about a token chosen so (it never lists first).
    pub fn list_claim(&self, path: &DatasetPath, choice: &TokenChoice) -> TokenClaim {
        self.tokens.claim(path, choice).0
    }

    /// Sends a request the typed API cannot express (malformed JSON, raw paths, unknown
    /// routes) that must be rejected: the answer must be an error of one of `allowed` kinds,
    /// with its status, `x-amzn-ErrorType` header and a JSON `message` (ERR-1, ERR-2, ERR-3).
    /// The model is not advanced: a rejected request changes nothing, which the case checks by
    /// listing afterwards.
    pub async fn raw_rejected(
        &mut self,
        what: &str,
        request: RawRequest,
        allowed: &[ErrorKind],
    ) -> Result<ErrorKind, Stop> {
        let rule = RawRule {
            kinds: allowed,
            other_refusal: Allow::No,
            accepted: Allow::No,
        };
        match self.raw_judged(what, request, rule).await? {
            RawAnswer::Refused(kind) => Ok(kind.unwrap_or(ErrorKind::InternalError)),
            RawAnswer::Accepted => Err(Stop::Harness("unreachable: accepted a non-error".into())),
        }
    }

    /// Sends a raw request and judges the answer by `rule`: one of `rule.kinds` (reference), or
    /// where the rule allows it, another clean refusal or an acceptance, each NON-STRICT on the
    /// AMB- row that allows it. The model is not advanced; the case checks afterwards that
    /// nothing changed.
    pub async fn raw_judged(
        &mut self,
        what: &str,
        request: RawRequest,
        rule: RawRule<'_>,
    ) -> Result<RawAnswer, Stop> {
        let (result, exchange) = self.endpoint.send(&request).await;
        let expected = rule.to_string();
        let departure = judge(&rule, &result);
        let response = match result {
            Ok(r) => r,
            Err(trouble) => {
                self.steps.push(Step {
                    operation: format!("raw: {what}"),
                    exchanges: vec![exchange],
                    expected,
                    actual: trouble.to_string(),
                    verdict: StepVerdict::Trouble {
                        trouble: trouble.to_string(),
                    },
                });
                return Err(Stop::Finding(trouble.to_string()));
            }
        };
        let reply: Reply<serde_json::Value> = decode(&response);
        // A MUST departure is a finding; any other is an allowed branch, NON-STRICT on its row.
        let (problem, row) = match departure {
            Some(d) if d.oracle.level().binds() => (Some(d.detail), None),
            d => (None, d.map(|d| d.oracle.spec())),
        };
        let actual = match &reply {
            Reply::Error(e) => format!(
                "{} {}",
                e.status,
                e.type_header.as_deref().unwrap_or("(no x-amzn-ErrorType)")
            ),
            _ => format!(
                "{} {}",
                response.status,
                exchange.response_body.chars().take(80).collect::<String>()
            ),
        };
        let verdict = match (&problem, row) {
            (Some(p), _) => StepVerdict::Mismatch {
                first_difference: p.clone(),
            },
            (None, Some(row)) => StepVerdict::NonStrict {
                ambiguities: vec![row.to_owned()],
            },
            (None, None) => StepVerdict::Reference,
        };
        self.steps.push(Step {
            operation: format!("raw: {what}"),
            exchanges: vec![exchange],
            expected,
            actual,
            verdict,
        });
        match (problem, reply) {
            (Some(p), _) => Err(Stop::Finding(p)),
            (None, Reply::Error(e)) => Ok(RawAnswer::Refused(e.kind)),
            (None, _) => Ok(RawAnswer::Accepted),
        }
    }

    /// Whether the session holds a token for the dataset.
    pub fn has_token(&self, path: &DatasetPath) -> bool {
        self.tokens.has(path)
    }

    fn now(&self) -> Timestamp {
        (self.clock)()
    }

    /// UpdateRecords with a token chosen as given; with [`TokenChoice::Latest`] and no token
    /// yet, lists the dataset first, as a sync client does.
    pub async fn update_with(
        &mut self,
        path: &DatasetPath,
        device_id: Option<&str>,
        patches: Option<Vec<RecordPatch>>,
        token: TokenChoice,
    ) -> Result<Answer, Stop> {
        self.update_with_context(path, device_id, patches, token, None)
            .await
    }

    /// [`Session::update_with`] with an `x-amz-Client-Context` header sent as given.
    pub async fn update_with_context(
        &mut self,
        path: &DatasetPath,
        device_id: Option<&str>,
        patches: Option<Vec<RecordPatch>>,
        token: TokenChoice,
        client_context: Option<String>,
    ) -> Result<Answer, Stop> {
        if self.tokens.needs_list(path, &token) {
            self.list(path).await?;
        }
        let (claim, token_string) = self.tokens.claim(path, &token);
        let request = UpdateRecordsRequest {
            path: path.clone(),
            client_context,
            body: UpdateRecordsBody {
                device_id: device_id.map(str::to_owned),
                record_patches: patches,
                sync_session_token: token_string,
            },
        };
        let call = Call::UpdateRecords {
            request: request.clone(),
            token: claim.clone(),
        };
        let answer = self
            .run(call, vec![Request::UpdateRecords(request)])
            .await?;
        self.tokens.spend(&claim);
        if matches!(answer, Observed::UpdateRecords(_)) {
            self.written.insert(path.clone());
        }
        Ok(answer)
    }

    /// UpdateRecords with a fresh token of the dataset.
    pub async fn update(
        &mut self,
        path: &DatasetPath,
        patches: Vec<RecordPatch>,
    ) -> Result<Answer, Stop> {
        self.update_with(
            path,
            Some("cogsync-device"),
            Some(patches),
            TokenChoice::Fresh,
        )
        .await
    }

    /// Whether any step so far took an allowed non-reference outcome (a branch of an AMB- row).
    pub fn departed(&self) -> bool {
        self.steps
            .iter()
            .any(|s| matches!(s.verdict, StepVerdict::NonStrict { .. }))
    }

    /// A whole ListRecords page walk from `lastSyncCount` 0 with the default page size.
    pub async fn list(&mut self, path: &DatasetPath) -> Result<Answer, Stop> {
        let request = ListRecordsRequest {
            path: path.clone(),
            ..ListRecordsRequest::default()
        };
        self.list_with(request, TokenChoice::Missing).await
    }

    /// A whole ListRecords page walk; `request.next_token`, if set, is sent on the first page.
    pub async fn list_with(
        &mut self,
        request: ListRecordsRequest,
        token: TokenChoice,
    ) -> Result<Answer, Stop> {
        let (claim, token_string) = self.tokens.claim(&request.path, &token);
        let mut first = request.clone();
        first.sync_session_token = token_string;
        let call = Call::ListRecords {
            request,
            token: claim,
        };
        self.run(call, vec![Request::ListRecords(first)]).await
    }

    /// Any other call: DescribeDataset, ListDatasets, DeleteDataset, DescribeIdentityUsage.
    pub async fn call(&mut self, call: Call) -> Result<Answer, Stop> {
        let request = match &call {
            Call::DescribeDataset(r) => Request::DescribeDataset(r.clone()),
            Call::ListDatasets(r) => Request::ListDatasets(r.clone()),
            Call::DeleteDataset(r) => Request::DeleteDataset(r.clone()),
            Call::DescribeIdentityUsage(r) => Request::DescribeIdentityUsage(r.clone()),
            Call::UpdateRecords { .. } | Call::ListRecords { .. } => {
                return Err(Stop::Harness(
                    "use update_with / list_with for these calls".into(),
                ));
            }
        };
        self.run(call, vec![request]).await
    }

    /// Checks that the model's *reference* outcome of `call` is what a case means to test
    /// before sending it, so a case can never pass because the model drifted from its intent.
    pub fn intend(&self, call: &Call, intent: Intent) -> Result<(), Stop> {
        let expectation = self.model.expect(call, self.now());
        let reference = &expectation.reference().expected;
        let ok = match (&intent, reference) {
            (Intent::Error(kind), Expected::Error { kinds, .. }) => kinds.first() == Some(kind),
            (Intent::Success, Expected::Error { .. }) => false,
            (Intent::Success, _) => true,
            (Intent::Error(_), _) => false,
        };
        if ok {
            Ok(())
        } else {
            Err(Stop::Harness(format!(
                "the case intends {intent:?} but the model's reference is {reference}"
            )))
        }
    }

    /// Sends `first` (then follows NextToken for walks), judges, advances, records.
    async fn run(&mut self, call: Call, first: Vec<Request>) -> Result<Answer, Stop> {
        let now = self.now();
        let expectation = self.model.expect(&call, now);
        let expected_text = expectation.to_string();
        let mut exchanges = Vec::new();
        let result = self.send_walk(&first, &mut exchanges).await;
        let observed = match result {
            Ok(o) => o,
            Err(trouble) => {
                self.steps.push(Step {
                    operation: operation_name(&call).to_owned(),
                    exchanges,
                    expected: expected_text,
                    actual: trouble.to_string(),
                    verdict: StepVerdict::Trouble {
                        trouble: trouble.to_string(),
                    },
                });
                return Err(Stop::Finding(trouble.to_string()));
            }
        };
        let (judgement, matched) = expectation.judge(&observed);
        self.model.advance(&expectation, matched.unwrap_or(0));
        if let Observed::ListRecords(pages) = &observed
            && let Call::ListRecords { request, .. } = &call
            && let Some(token) = pages.last().and_then(|p| p.sync_session_token.clone())
        {
            self.tokens.issue(&request.path, token, now);
        }
        let verdict = StepVerdict::of(&judgement);
        self.steps.push(Step {
            operation: operation_name(&call).to_owned(),
            exchanges,
            expected: expected_text,
            actual: observed.to_string(),
            verdict: verdict.clone(),
        });
        match judgement {
            Judgement::Mismatch(m) => Err(Stop::Finding(m.first_difference)),
            _ => Ok(observed),
        }
    }

    async fn send_walk(
        &self,
        first: &[Request],
        exchanges: &mut Vec<Exchange>,
    ) -> Result<Observed, Trouble> {
        let Some(request) = first.first() else {
            return Err(Trouble::Connection("nothing to send".into()));
        };
        match request {
            Request::ListRecords(r) => observed(
                walk(&self.endpoint, r.clone(), exchanges).await,
                Observed::ListRecords,
            ),
            Request::ListDatasets(r) => observed(
                walk(&self.endpoint, r.clone(), exchanges).await,
                Observed::ListDatasets,
            ),
            Request::UpdateRecords(_) => {
                let mut raw = to_raw(request);
                if let Some(content_type) = &self.content_type {
                    raw.headers
                        .retain(|(name, _)| !name.eq_ignore_ascii_case("content-type"));
                    raw.headers
                        .push(("content-type".to_owned(), content_type.clone()));
                }
                let (result, exchange) = self.endpoint.send(&raw).await;
                exchanges.push(exchange);
                observed(result.map(|r| decode(&r))?, Observed::UpdateRecords)
            }
            Request::DescribeDataset(_) => {
                let (reply, exchange) = self.endpoint.call(request).await;
                exchanges.push(exchange);
                observed(reply, Observed::DescribeDataset)
            }
            Request::DeleteDataset(_) => {
                let (reply, exchange) = self.endpoint.call(request).await;
                exchanges.push(exchange);
                observed(reply, Observed::DeleteDataset)
            }
            Request::DescribeIdentityUsage(_) => {
                let (reply, exchange) = self.endpoint.call(request).await;
                exchanges.push(exchange);
                observed(reply, Observed::DescribeIdentityUsage)
            }
        }
    }

    /// Deletes every dataset this session wrote to (endpoint safety), without judging.
    pub async fn clean_up(&mut self) {
        for path in std::mem::take(&mut self.written) {
            let request = Request::DeleteDataset(DeleteDatasetRequest { path });
            let _ = self.endpoint.call::<serde_json::Value>(&request).await;
        }
    }
}

impl<T: Transport> Session<T> {
    /// The first call of one of the eleven operations (spec §11): a 4xx in the ERR-1 shape
    /// marks the operation not implemented for the whole run and ends the case with that one
    /// line ([`Stop::NotImplemented`]); any other answer is judged as [`Session::pool_call`]
    /// judges it, and marks the operation implemented.
    pub async fn probe(&mut self, request: PoolRequest) -> Result<PoolObserved, Stop> {
        let operation = request.operation_name();
        let raw = pool_to_raw(&request);
        let (result, exchange) = self.endpoint.send(&raw).await;
        if let Ok(response) = &result
            && let Some(line) = not_implemented(operation, response)
        {
            self.operations
                .learn(operation, Support::NotImplemented(line.clone()));
            self.steps.push(Step {
                operation: operation.to_owned(),
                exchanges: vec![exchange],
                expected: format!(
                    "{}; or any 4xx with the error shape: not implemented [AMB-OTHER-OPERATIONS]",
                    self.model.expect_pool(&request)
                ),
                actual: line.clone(),
                verdict: StepVerdict::Reference,
            });
            return Err(Stop::NotImplemented(line));
        }
        self.operations.learn(operation, Support::Implemented);
        self.pool_judged(request, Some((result, exchange))).await
    }

    /// A call of the eleven pool-level operations (spec §11), judged against the model's
    /// outcomes; a ListIdentityPoolUsage follows `NextToken` to the end. An operation the run
    /// found not implemented ends the case as skipped. Pool usage that does not match yet is
    /// asked again for up to `USAGE_LAG_SECS_MAX` (AMB-USAGE-LAG); a matching first answer
    /// costs no wait.
    pub async fn pool_call(&mut self, request: PoolRequest) -> Result<PoolObserved, Stop> {
        let operation = request.operation_name();
        if let Some(Support::NotImplemented(line)) = self.operations.get(operation) {
            return Err(Stop::Skipped(format!("skipped: {line}")));
        }
        self.pool_judged(request, None).await
    }

    async fn pool_judged(
        &mut self,
        request: PoolRequest,
        first: Option<(Result<RawResponse, Trouble>, Exchange)>,
    ) -> Result<PoolObserved, Stop> {
        let operation = request.operation_name();
        let expectation = self.model.expect_pool(&request);
        let usage = matches!(
            request,
            PoolRequest::DescribeIdentityPoolUsage { .. }
                | PoolRequest::ListIdentityPoolUsage { .. }
        );
        let polls_max = if usage { USAGE_LAG_SECS_MAX * 2 } else { 0 };
        let mut first = first;
        let mut poll = 0;
        loop {
            let mut exchanges = Vec::new();
            let observed = match first.take() {
                Some((result, exchange)) => {
                    exchanges.push(exchange);
                    match result.and_then(|response| pool_observed(&request, &response)) {
                        Ok(PoolObserved::UsagePages(pages)) => {
                            self.walk_pool_usage(&request, pages, &mut exchanges).await
                        }
                        other => other,
                    }
                }
                None => self.send_pool(&request, &mut exchanges).await,
            };
            let observed = match observed {
                Ok(o) => o,
                Err(trouble) => {
                    self.steps.push(Step {
                        operation: operation.to_owned(),
                        exchanges,
                        expected: expectation.to_string(),
                        actual: trouble.to_string(),
                        verdict: StepVerdict::Trouble {
                            trouble: trouble.to_string(),
                        },
                    });
                    return Err(Stop::Finding(trouble.to_string()));
                }
            };
            let (judgement, matched) = expectation.judge(&observed);
            if matches!(judgement, Judgement::Mismatch(_)) && poll < polls_max {
                poll += 1;
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                continue;
            }
            let judgement = match judgement {
                Judgement::Reference if poll > 0 => Judgement::NonStrict(vec![Ambiguity::UsageLag]),
                Judgement::NonStrict(mut a) if poll > 0 => {
                    a.push(Ambiguity::UsageLag);
                    a.sort();
                    Judgement::NonStrict(a)
                }
                other => other,
            };
            if let Some(index) = matched {
                self.model
                    .advance_pool(&request, &expectation, index, &observed);
            }
            let verdict = StepVerdict::of(&judgement);
            self.steps.push(Step {
                operation: operation.to_owned(),
                exchanges,
                expected: expectation.to_string(),
                actual: observed.to_string(),
                verdict,
            });
            return match judgement {
                Judgement::Mismatch(m) => Err(Stop::Finding(m.first_difference)),
                _ => Ok(observed),
            };
        }
    }

    /// Sends a call of the eleven (a ListIdentityPoolUsage page walk) and reads the answer.
    async fn send_pool(
        &self,
        request: &PoolRequest,
        exchanges: &mut Vec<Exchange>,
    ) -> Result<PoolObserved, Trouble> {
        let (result, exchange) = self.endpoint.send(&pool_to_raw(request)).await;
        exchanges.push(exchange);
        match pool_observed(request, &result?)? {
            PoolObserved::UsagePages(pages) => {
                self.walk_pool_usage(request, pages, exchanges).await
            }
            other => Ok(other),
        }
    }

    /// Follows `NextToken` from the pages read so far to the end of a ListIdentityPoolUsage.
    async fn walk_pool_usage(
        &self,
        request: &PoolRequest,
        mut pages: Vec<ListIdentityPoolUsageResponse>,
        exchanges: &mut Vec<Exchange>,
    ) -> Result<PoolObserved, Trouble> {
        let PoolRequest::ListIdentityPoolUsage { max_results, .. } = request else {
            return Ok(PoolObserved::UsagePages(pages));
        };
        loop {
            let next = pages
                .last()
                .and_then(|p| p.next_token.clone())
                .filter(|t| !t.is_empty());
            let Some(token) = next else {
                return Ok(PoolObserved::UsagePages(pages));
            };
            if pages.len() >= PAGES_PER_WALK_MAX {
                return Err(Trouble::BadShape(format!(
                    "NextToken still present after {PAGES_PER_WALK_MAX} pages"
                )));
            }
            let page_request = PoolRequest::ListIdentityPoolUsage {
                max_results: *max_results,
                next_token: Some(token),
            };
            let (result, exchange) = self.endpoint.send(&pool_to_raw(&page_request)).await;
            exchanges.push(exchange);
            match pool_observed(&page_request, &result?)? {
                PoolObserved::UsagePages(mut page) => pages.append(&mut page),
                other => return Ok(other),
            }
        }
    }
}

/// Reads an answer to a call of the eleven: an error, or the operation's success shape (a 2xx
/// whose body is not that shape is trouble, a finding).
pub fn pool_observed(
    request: &PoolRequest,
    response: &RawResponse,
) -> Result<PoolObserved, Trouble> {
    fn read<T: serde::de::DeserializeOwned>(response: &RawResponse) -> Result<T, Trouble> {
        match decode::<T>(response) {
            Reply::Success(v) => Ok(v),
            Reply::Broken(t) => Err(t),
            Reply::Error(e) => Err(Trouble::BadShape(format!("status {}", e.status))),
        }
    }
    if !(200..300).contains(&response.status) {
        return Ok(match decode::<serde_json::Value>(response) {
            Reply::Error(e) => PoolObserved::Error {
                status: e.status,
                kind: e.kind,
                message: e.body.and_then(|b| b.message),
            },
            _ => PoolObserved::Error {
                status: response.status,
                kind: None,
                message: None,
            },
        });
    }
    Ok(match request {
        PoolRequest::DescribeIdentityPoolUsage { .. } => PoolObserved::Usage(
            read::<DescribeIdentityPoolUsageResponse>(response)?.identity_pool_usage,
        ),
        PoolRequest::ListIdentityPoolUsage { .. } => {
            PoolObserved::UsagePages(vec![read::<ListIdentityPoolUsageResponse>(response)?])
        }
        PoolRequest::SetIdentityPoolConfiguration { .. }
        | PoolRequest::GetIdentityPoolConfiguration { .. } => {
            PoolObserved::Configuration(read::<PoolConfigurationResponse>(response)?)
        }
        PoolRequest::GetCognitoEvents { .. } => {
            PoolObserved::Events(read::<CognitoEvents>(response)?.events)
        }
        // No output members: `{}` or no body at all.
        PoolRequest::SetCognitoEvents { .. }
        | PoolRequest::SubscribeToDataset { .. }
        | PoolRequest::UnsubscribeFromDataset { .. } => {
            if !response.body.is_empty() {
                read::<serde_json::Map<String, serde_json::Value>>(response)?;
            }
            PoolObserved::Done
        }
        PoolRequest::RegisterDevice { .. } => {
            PoolObserved::Device(read::<RegisterDeviceResponse>(response)?.device_id)
        }
        PoolRequest::BulkPublish { .. } => {
            PoolObserved::BulkStarted(read::<BulkPublishResponse>(response)?.identity_pool_id)
        }
        PoolRequest::GetBulkPublishDetails { .. } => {
            PoolObserved::BulkDetails(read::<BulkPublishDetails>(response)?)
        }
    })
}

/// How an allowed raw answer went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawAnswer {
    /// Refused; the kind the header names, if it names a known one.
    Refused(Option<ErrorKind>),
    Accepted,
}

/// What a case means a call to do, checked against the model's reference outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    Success,
    Error(ErrorKind),
}

pub fn dataset_of(identity: &IdentityPath, name: &str) -> DatasetPath {
    DatasetPath {
        identity_pool_id: identity.identity_pool_id.clone(),
        identity_id: identity.identity_id.clone(),
        dataset_name: name.to_owned(),
    }
}

fn operation_name(call: &Call) -> &'static str {
    match call {
        Call::UpdateRecords { .. } => "UpdateRecords",
        Call::ListRecords { .. } => "ListRecords",
        Call::DescribeDataset(_) => "DescribeDataset",
        Call::ListDatasets(_) => "ListDatasets",
        Call::DeleteDataset(_) => "DeleteDataset",
        Call::DescribeIdentityUsage(_) => "DescribeIdentityUsage",
    }
}

/// Shorthand for patches in cases and sequences.
pub fn replace(key: &str, value: &str, sync_count: i64) -> RecordPatch {
    RecordPatch {
        op: Some("replace".to_owned()),
        key: Some(key.to_owned()),
        value: Some(value.to_owned()),
        sync_count: Some(sync_count),
        device_last_modified_date: None,
    }
}

pub fn remove(key: &str, sync_count: i64) -> RecordPatch {
    RecordPatch {
        op: Some("remove".to_owned()),
        key: Some(key.to_owned()),
        value: None,
        sync_count: Some(sync_count),
        device_last_modified_date: None,
    }
}
