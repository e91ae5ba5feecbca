//! Helpers the case files share: calls that first check the model means what the case means,
//! and looks at the raw exchanges for what the model does not judge (headers, raw bodies).

use crate::client::{Exchange, RawRequest, Reply, decode, to_raw};
use crate::model::Call;
use crate::spec::{
    DatasetPath, ErrorKind, IdentityPath, ListRecordsRequest, ListRecordsResponse, RecordPatch,
    Request, UpdateRecordsBody, UpdateRecordsRequest,
};
use crate::suite::session::{Answer, Intent, Session, TokenChoice};
use crate::suite::verdict::Stop;

/// The device every case writes as, unless it says otherwise.
pub(super) const DEVICE: &str = "cogsync-device";

/// UpdateRecords as [`Session::update_with`], after checking that the model's reference
/// outcome is `intent`, so the case cannot pass vacuously if the model drifts.
pub(super) async fn update_intended(
    s: &mut Session,
    path: &DatasetPath,
    device_id: Option<&str>,
    patches: Option<Vec<RecordPatch>>,
    token: TokenChoice,
    intent: Intent,
) -> Result<Answer, Stop> {
    let call = Call::UpdateRecords {
        request: UpdateRecordsRequest {
            path: path.clone(),
            client_context: None,
            body: UpdateRecordsBody {
                device_id: device_id.map(str::to_owned),
                record_patches: patches.clone(),
                sync_session_token: None,
            },
        },
        token: s.update_claim(path, &token),
    };
    s.intend(&call, intent)?;
    s.update_with(path, device_id, patches, token).await
}

/// UpdateRecords with a fresh token and an `x-amz-Client-Context` header, with the outcome
/// the case means to provoke.
pub(super) async fn update_with_context_intended(
    s: &mut Session,
    path: &DatasetPath,
    patches: Vec<RecordPatch>,
    client_context: &str,
    intent: Intent,
) -> Result<Answer, Stop> {
    let call = Call::UpdateRecords {
        request: UpdateRecordsRequest {
            path: path.clone(),
            client_context: Some(client_context.to_owned()),
            body: UpdateRecordsBody {
                device_id: Some(DEVICE.to_owned()),
                record_patches: Some(patches.clone()),
                sync_session_token: None,
            },
        },
        token: s.update_claim(path, &TokenChoice::Fresh),
    };
    s.intend(&call, intent)?;
    s.update_with_context(
        path,
        Some(DEVICE),
        Some(patches),
        TokenChoice::Fresh,
        Some(client_context.to_owned()),
    )
    .await
}

/// UpdateRecords with the dataset's latest token, meant to succeed.
pub(super) async fn write(
    s: &mut Session,
    path: &DatasetPath,
    patches: Vec<RecordPatch>,
) -> Result<Answer, Stop> {
    update_intended(
        s,
        path,
        Some(DEVICE),
        Some(patches),
        TokenChoice::Fresh,
        Intent::Success,
    )
    .await
}

/// UpdateRecords with the dataset's latest token even if an UpdateRecords already carried it
/// (AMB-TOKEN-REUSE: the reference accepts it; a single-use endpoint may refuse it).
pub(super) async fn write_reusing_token(
    s: &mut Session,
    path: &DatasetPath,
    patches: Vec<RecordPatch>,
    intent: Intent,
) -> Result<Answer, Stop> {
    update_intended(
        s,
        path,
        Some(DEVICE),
        Some(patches),
        TokenChoice::Latest,
        intent,
    )
    .await
}

/// UpdateRecords with the dataset's latest token, meant to fail with `kind`.
pub(super) async fn write_rejected(
    s: &mut Session,
    path: &DatasetPath,
    patches: Vec<RecordPatch>,
    kind: ErrorKind,
) -> Result<Answer, Stop> {
    update_intended(
        s,
        path,
        Some(DEVICE),
        Some(patches),
        TokenChoice::Fresh,
        Intent::Error(kind),
    )
    .await
}

/// A ListRecords walk, after checking the model's reference outcome is `intent`.
pub(super) async fn list_intended(
    s: &mut Session,
    request: ListRecordsRequest,
    token: TokenChoice,
    intent: Intent,
) -> Result<Answer, Stop> {
    let call = Call::ListRecords {
        request: request.clone(),
        token: s.list_claim(&request.path, &token),
    };
    s.intend(&call, intent)?;
    s.list_with(request, token).await
}

/// A ListRecords walk from `last_sync_count` in pages of `max_results`.
pub(super) async fn list_from(
    s: &mut Session,
    path: &DatasetPath,
    last_sync_count: Option<i64>,
    max_results: Option<i32>,
) -> Result<Answer, Stop> {
    let request = ListRecordsRequest {
        path: path.clone(),
        last_sync_count,
        max_results,
        ..ListRecordsRequest::default()
    };
    s.list_with(request, TokenChoice::Missing).await
}

/// Any other call, after checking the model's reference outcome is `intent`.
pub(super) async fn call_intended(
    s: &mut Session,
    call: Call,
    intent: Intent,
) -> Result<Answer, Stop> {
    s.intend(&call, intent)?;
    s.call(call).await
}

/// The dataset's pages of the walk, or a harness stop if the answer is not a ListRecords.
pub(super) fn pages(answer: &Answer) -> Result<&[ListRecordsResponse], Stop> {
    match answer {
        Answer::ListRecords(pages) => Ok(pages),
        other => Err(Stop::Harness(format!(
            "expected a ListRecords walk, got {other:?}"
        ))),
    }
}

/// The last HTTP exchange the session recorded.
pub(super) fn last_exchange(s: &Session) -> Result<&Exchange, Stop> {
    s.steps()
        .last()
        .and_then(|step| step.exchanges.last())
        .ok_or_else(|| Stop::Harness("no exchange recorded yet".into()))
}

/// The raw UpdateRecords a client would send, carrying the dataset's latest token.
pub(super) fn raw_update(s: &Session, path: &DatasetPath, patches: Vec<RecordPatch>) -> RawRequest {
    to_raw(&Request::UpdateRecords(UpdateRecordsRequest {
        path: path.clone(),
        client_context: None,
        body: UpdateRecordsBody {
            device_id: Some(DEVICE.to_owned()),
            record_patches: Some(patches),
            sync_session_token: s.token_of(path),
        },
    }))
}

/// `raw` with `body` as its JSON body.
pub(super) fn with_body(mut raw: RawRequest, body: &serde_json::Value) -> RawRequest {
    raw.body = body.to_string().into_bytes();
    raw
}

/// A valid UpdateRecords body for `path` with the session's latest token, as JSON to corrupt.
pub(super) fn body_json(
    s: &Session,
    path: &DatasetPath,
    patches: serde_json::Value,
) -> serde_json::Value {
    serde_json::json!({
        "DeviceId": DEVICE,
        "RecordPatches": patches,
        "SyncSessionToken": s.token_of(path).unwrap_or_default(),
    })
}

/// Sends a raw ListRecords the session cannot judge (an unusual path spelling) and reads it.
/// The case compares the answer itself; a broken answer is a finding.
pub(super) async fn raw_list(s: &Session, raw: &RawRequest) -> Result<ListRecordsResponse, Stop> {
    let (result, exchange) = s.endpoint().send_raw(raw).await;
    let response =
        result.map_err(|t| Stop::Finding(format!("{} {}: {t}", exchange.method, exchange.url)))?;
    match decode::<ListRecordsResponse>(&response) {
        Reply::Success(page) => Ok(page),
        Reply::Error(e) => Err(Stop::Finding(format!(
            "{} {}: expected 200, got {} {}",
            exchange.method,
            exchange.url,
            e.status,
            e.type_header.unwrap_or_default()
        ))),
        Reply::Broken(t) => Err(Stop::Finding(format!(
            "{} {}: {t}",
            exchange.method, exchange.url
        ))),
    }
}

/// An identity of the same run in another pool: same identity ID, pool UUID ending in 1.
pub(super) fn in_other_pool(identity: &IdentityPath) -> IdentityPath {
    let mut pool = identity.identity_pool_id.clone();
    pool.pop();
    pool.push('1');
    IdentityPath {
        identity_pool_id: pool,
        identity_id: identity.identity_id.clone(),
    }
}

/// Fails with a finding unless `ok`.
pub(super) fn ensure(ok: bool, finding: impl FnOnce() -> String) -> Result<(), Stop> {
    if ok {
        Ok(())
    } else {
        Err(Stop::Finding(finding()))
    }
}
