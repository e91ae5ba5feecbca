//! Wire format of errors and successes; malformed input is rejected without 5xx (SPEC §7).

use super::support::{
    DEVICE, call_intended, ensure, last_exchange, raw_update, update_intended, write,
    write_rejected,
};
use crate::client::{RawRequest, to_raw};
use crate::model::Ambiguity;
use crate::model::Call;
use crate::spec::{
    CONTENT_TYPE_JSON, DescribeDatasetRequest, DescribeIdentityUsageRequest, ERROR_TYPE_HEADER,
    ErrorKind, ListDatasetsRequest, ListRecordsRequest, REQUEST_BODY_BYTES_MAX, ROUTES, Request,
    route_of,
};
use crate::suite::refusal::{Allow, RawRule};
use crate::suite::session::{Intent, Session, TokenChoice, replace};
use crate::suite::verdict::Stop;

/// What malformed bodies may be answered with: any 400 that names the problem.
const MALFORMED: [ErrorKind; 3] = [
    ErrorKind::Serialization,
    ErrorKind::Validation,
    ErrorKind::InvalidParameter,
];

cases! {
    "errors.other-operations.answered", Must, ["AMB-OTHER-OPERATIONS", "ERR-1", "ERR-3"],
    "The service's other eleven operations are answered",
    "Each of the 11 pool-level operations (§11), called with an empty body, is answered as implemented (2xx JSON) or with a 4xx error shape (not implemented), never 5xx or a dropped connection; the ones an implementing endpoint must refuse too (RegisterDevice and SetCognitoEvents without their required members, Subscribe/Unsubscribe of a device never registered, BulkPublish without a stream) are never answered 2xx; the dataset API's data is unchanged."
        => other_operations;

    "errors.wire.conflict-409", Must, ["ERR-1", "ERR-2", "UR-2"],
    "A conflict is 409 ResourceConflictException on the wire",
    "A conflict answers 409 with `x-amzn-ErrorType: ResourceConflictException` and a JSON body with a message."
        => conflict_409;

    "errors.wire.validation-400", Must, ["ERR-1", "ERR-2", "VAL-1"],
    "A constraint violation is 400 on the wire",
    "A constraint violation answers 400 with `x-amzn-ErrorType` naming ValidationException or InvalidParameterException and a JSON message."
        => validation_400;

    "errors.wire.invalid-parameter-400", Must, ["ERR-1", "ERR-2", "UR-8"],
    "A bad token is 400 InvalidParameterException on the wire",
    "A garbage SyncSessionToken answers 400 with `x-amzn-ErrorType: InvalidParameterException` and a JSON message."
        => invalid_parameter_400;

    "errors.wire.not-found-404", Must, ["ERR-1", "ERR-2", "DS-1"],
    "A missing dataset is 404 ResourceNotFoundException on the wire",
    "DescribeDataset of a missing dataset answers 404 with `x-amzn-ErrorType: ResourceNotFoundException` and a JSON message."
        => not_found_404;

    "errors.wire.limit-400", Must, ["ERR-1", "ERR-2", "LIM-2"],
    "A limit is 400 LimitExceededException on the wire",
    "A write over the record limit answers 400 with `x-amzn-ErrorType: LimitExceededException` and a JSON message."
        => limit_400;

    "errors.success.json-with-number-dates", Must, ["ERR-4"],
    "Success answers are JSON objects with numeric dates",
    "Every operation's 200 answer has Content-Type application/json and its dates are JSON numbers."
        => success_json;

    "errors.malformed.rejected-without-5xx", Must, ["ERR-3", "VAL-1"],
    "Malformed bodies are rejected with 4xx and change nothing",
    "Truncated JSON, invalid UTF-8, `null`, deep nesting and a null patch are each answered with 400, never 5xx or a dropped connection, and the dataset is unchanged."
        => malformed_rejected;

    "errors.unknown-route.rejected", Must, ["ERR-3", "AMB-X-UNKNOWN-ROUTE"],
    "Unknown routes are answered, not dropped",
    "Requests to paths or methods outside the service's 17 routes are answered 404 with an error shape and change nothing (any other 4xx with the error shape is NON-STRICT)."
        => unknown_route;

    "errors.huge-body.rejected", Must, ["ERR-3", "AMB-X-HUGE-BODY"],
    "A body far over any limit is rejected cleanly",
    "An UpdateRecords body of 17 MiB is answered with a 4xx error shape, not 5xx or a dropped connection, and changes nothing (a status other than 413 or 400 is NON-STRICT)."
        => huge_body;

    "errors.rejections.change-nothing", Must, ["ERR-3", "UR-3"],
    "A run of rejected requests leaves the dataset as it was",
    "After a conflict, a validation error, a bad token and a missing token, the dataset's records, counts and metadata are unchanged."
        => rejections_change_nothing;
}

/// ERR-1 beyond what the model judges: the raw error answer's header, status and body agree.
fn check_error_wire(s: &Session, kind: ErrorKind) -> Result<(), Stop> {
    let exchange = last_exchange(s)?;
    let at = format!("{} {}", exchange.method, exchange.url);
    let type_header = exchange
        .response_header(ERROR_TYPE_HEADER)
        .unwrap_or_default();
    ensure(ErrorKind::from_type_name(type_header) == Some(kind), || {
        format!(
            "{at}: {ERROR_TYPE_HEADER}: expected {}, got {type_header:?}",
            kind.type_name()
        )
    })?;
    ensure(exchange.status == Some(kind.status()), || {
        format!(
            "{at}: status: expected {}, got {:?}",
            kind.status(),
            exchange.status
        )
    })?;
    let body: serde_json::Value = serde_json::from_str(&exchange.response_body).unwrap_or_default();
    ensure(body.get("message").is_some_and(|m| m.is_string()), || {
        format!(
            "{at}: body: expected a JSON object with a string message, got {:?}",
            exchange.response_body
        )
    })?;
    if let Some(type_member) = body.get("__type") {
        let named = type_member.as_str().and_then(ErrorKind::from_type_name);
        ensure(named == Some(kind), || {
            format!(
                "{at}: body __type: expected {}, got {type_member}",
                kind.type_name()
            )
        })?;
    }
    Ok(())
}

async fn conflict_409(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    write_rejected(
        s,
        &path,
        vec![replace("a", "2", 0)],
        ErrorKind::ResourceConflict,
    )
    .await?;
    check_error_wire(s, ErrorKind::ResourceConflict)?;
    s.list(&path).await?;
    Ok(())
}

async fn validation_400(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    let answer = write_rejected(s, &path, vec![replace("", "2", 0)], ErrorKind::Validation).await?;
    let kind = match answer {
        crate::suite::session::Answer::Error {
            kind: Some(kind), ..
        } => kind,
        _ => ErrorKind::Validation,
    };
    check_error_wire(s, kind)?;
    s.list(&path).await?;
    Ok(())
}

async fn invalid_parameter_400(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    update_intended(
        s,
        &path,
        Some(DEVICE),
        Some(vec![replace("a", "2", 1)]),
        TokenChoice::Garbage,
        Intent::Error(ErrorKind::InvalidParameter),
    )
    .await?;
    check_error_wire(s, ErrorKind::InvalidParameter)?;
    s.list(&path).await?;
    Ok(())
}

async fn not_found_404(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    let describe = Call::DescribeDataset(DescribeDatasetRequest { path: path.clone() });
    call_intended(s, describe, Intent::Error(ErrorKind::ResourceNotFound)).await?;
    check_error_wire(s, ErrorKind::ResourceNotFound)?;
    s.list(&path).await?;
    Ok(())
}

async fn limit_400(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    let patches: Vec<_> = (0..1025)
        .map(|i| replace(&format!("k{i:04}"), "v", 0))
        .collect();
    write_rejected(s, &path, patches, ErrorKind::LimitExceeded).await?;
    check_error_wire(s, ErrorKind::LimitExceeded)?;
    s.list(&path).await?;
    Ok(())
}

async fn success_json(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    let identity = crate::spec::IdentityPath {
        identity_pool_id: path.identity_pool_id.clone(),
        identity_id: path.identity_id.clone(),
    };
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    check_success_wire(
        s,
        &[
            "Records.*.LastModifiedDate",
            "Records.*.DeviceLastModifiedDate",
        ],
    )?;
    s.list(&path).await?;
    check_success_wire(
        s,
        &[
            "Records.*.LastModifiedDate",
            "Records.*.DeviceLastModifiedDate",
        ],
    )?;
    let describe = Call::DescribeDataset(DescribeDatasetRequest { path: path.clone() });
    call_intended(s, describe, Intent::Success).await?;
    check_success_wire(s, &["Dataset.CreationDate", "Dataset.LastModifiedDate"])?;
    let list = Call::ListDatasets(ListDatasetsRequest {
        path: identity.clone(),
        max_results: None,
        next_token: None,
    });
    call_intended(s, list, Intent::Success).await?;
    check_success_wire(
        s,
        &["Datasets.*.CreationDate", "Datasets.*.LastModifiedDate"],
    )?;
    let usage = Call::DescribeIdentityUsage(DescribeIdentityUsageRequest { path: identity });
    call_intended(s, usage, Intent::Success).await?;
    check_success_wire(s, &["IdentityUsage.LastModifiedDate"])?;
    Ok(())
}

/// ERR-4 on the last exchange: `application/json`, and each dotted member (`*` = every array
/// element) that is present is a JSON number.
fn check_success_wire(s: &Session, dates: &[&str]) -> Result<(), Stop> {
    let exchange = last_exchange(s)?;
    let at = format!("{} {}", exchange.method, exchange.url);
    let content_type = exchange.response_header("content-type").unwrap_or_default();
    let media = content_type.split(';').next().unwrap_or("").trim();
    ensure(media.eq_ignore_ascii_case(CONTENT_TYPE_JSON), || {
        format!("{at}: Content-Type: expected {CONTENT_TYPE_JSON}, got {content_type:?}")
    })?;
    let body: serde_json::Value = serde_json::from_str(&exchange.response_body).unwrap_or_default();
    ensure(body.is_object(), || {
        format!("{at}: body is not a JSON object")
    })?;
    for date in dates {
        let mut values = vec![&body];
        for part in date.split('.') {
            values = values
                .into_iter()
                .flat_map(|v| match (part, v) {
                    ("*", serde_json::Value::Array(items)) => items.iter().collect(),
                    (name, v) => v.get(name).into_iter().collect::<Vec<_>>(),
                })
                .collect();
        }
        if let Some(bad) = values.iter().find(|v| !v.is_number()) {
            return Err(Stop::Finding(format!(
                "{at}: {date}: expected a JSON number, got {bad}"
            )));
        }
    }
    Ok(())
}

async fn malformed_rejected(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    s.list(&path).await?;
    let bodies: [(&str, Vec<u8>); 6] = [
        (
            "truncated JSON",
            br#"{"RecordPatches": [{"Op": "replace", "Key": "a", "Val"#.to_vec(),
        ),
        (
            "invalid UTF-8 in a string",
            b"{\"DeviceId\": \"\xff\xfe\", \"RecordPatches\": []}".to_vec(),
        ),
        ("the JSON literal null", b"null".to_vec()),
        (
            "arrays nested 100000 deep",
            "[".repeat(100_000).into_bytes(),
        ),
        (
            "a null patch",
            br#"{"RecordPatches": [null], "SyncSessionToken": "x"}"#.to_vec(),
        ),
        ("binary bytes", vec![0, 159, 146, 150, 255, 0, 1]),
    ];
    for (what, body) in bodies {
        let mut raw = raw_update(s, &path, Vec::new());
        raw.body = body;
        s.raw_rejected(&format!("UpdateRecords with {what}"), raw, &MALFORMED)
            .await?;
    }
    s.list(&path).await?;
    Ok(())
}

async fn unknown_route(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    let records = to_raw(&Request::ListRecords(ListRecordsRequest {
        path: path.clone(),
        ..ListRecordsRequest::default()
    }));
    let dataset = raw_update(s, &path, vec![replace("a", "2", 1)]);
    let routes = [
        (
            "GET an unknown path",
            "GET",
            "/no/such/route".to_owned(),
            Vec::new(),
        ),
        (
            "PUT on a dataset",
            "PUT",
            dataset.path_and_query.clone(),
            dataset.body.clone(),
        ),
        (
            "POST on a dataset's records",
            "POST",
            records.path_and_query.clone(),
            dataset.body.clone(),
        ),
        (
            "GET below a dataset's records",
            "GET",
            format!("{}/extra", records.path_and_query),
            Vec::new(),
        ),
    ];
    for (what, method, path_and_query, body) in routes {
        let raw = RawRequest {
            method: method.to_owned(),
            path_and_query,
            headers: dataset.headers.clone(),
            body,
        };
        debug_assert!(route_of(method, &raw.path_and_query).is_none(), "{what}");
        let rule = RawRule {
            kinds: &[ErrorKind::UnknownOperation, ErrorKind::ResourceNotFound],
            other_refusal: Allow::NonStrict(Ambiguity::UnknownRoute),
            accepted: Allow::No,
        };
        s.raw_judged(what, raw, rule).await?;
    }
    s.list(&path).await?;
    Ok(())
}

async fn huge_body(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    s.list(&path).await?;
    let mut raw = raw_update(s, &path, Vec::new());
    // Built as bytes: serialising a 17 MiB string through serde is slow in debug builds.
    let mut body =
        br#"{"RecordPatches": [{"Op": "replace", "Key": "a", "SyncCount": 1, "Value": ""#.to_vec();
    body.resize(body.len() + REQUEST_BODY_BYTES_MAX + 1024 * 1024, b'x');
    body.extend_from_slice(br#""}]}"#);
    raw.body = body;
    let rule = RawRule {
        kinds: &[
            ErrorKind::RequestEntityTooLarge,
            ErrorKind::Serialization,
            ErrorKind::Validation,
            ErrorKind::InvalidParameter,
            ErrorKind::LimitExceeded,
        ],
        other_refusal: Allow::NonStrict(Ambiguity::HugeBody),
        accepted: Allow::No,
    };
    s.raw_judged("UpdateRecords with a 17 MiB body", raw, rule)
        .await?;
    s.list(&path).await?;
    Ok(())
}

async fn rejections_change_nothing(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0), replace("b", "1", 0)]).await?;
    let describe = Call::DescribeDataset(DescribeDatasetRequest { path: path.clone() });
    call_intended(s, describe.clone(), Intent::Success).await?;
    write_rejected(
        s,
        &path,
        vec![replace("c", "new", 0), replace("a", "2", 0)],
        ErrorKind::ResourceConflict,
    )
    .await?;
    write_rejected(
        s,
        &path,
        vec![replace("c", "new", 0), replace(&"k".repeat(1025), "v", 0)],
        ErrorKind::Validation,
    )
    .await?;
    for (token, kind) in [
        (TokenChoice::Garbage, ErrorKind::InvalidParameter),
        (TokenChoice::Missing, ErrorKind::Validation),
    ] {
        update_intended(
            s,
            &path,
            Some(DEVICE),
            Some(vec![replace("c", "new", 0)]),
            token,
            Intent::Error(kind),
        )
        .await?;
    }
    call_intended(s, describe, Intent::Success).await?;
    s.list(&path).await?;
    Ok(())
}

async fn other_operations(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    let label = |name: &str| -> String {
        match name {
            "IdentityPoolId" => path.identity_pool_id.replace(':', "%3A"),
            "IdentityId" => path.identity_id.replace(':', "%3A"),
            "DatasetName" => path.dataset_name.clone(),
            _ => "cogsync-device".to_owned(),
        }
    };
    for route in ROUTES.iter().filter(|r| !r.modelled) {
        let path_and_query = route
            .template
            .split('/')
            .map(|segment| match segment.strip_prefix('{') {
                Some(name) => label(name.trim_end_matches('}')),
                None => segment.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("/");
        let (headers, body) = if route.method == "POST" {
            (
                vec![("content-type".to_owned(), CONTENT_TYPE_JSON.to_owned())],
                b"{}".to_vec(),
            )
        } else {
            (Vec::new(), Vec::new())
        };
        let raw = RawRequest {
            method: route.method.to_owned(),
            path_and_query,
            headers,
            body,
        };
        // With `{}` and a device never registered, these break a rule of §11 whether the
        // endpoint implements them or not.
        let rule = match route.operation {
            "RegisterDevice"
            | "SetCognitoEvents"
            | "SubscribeToDataset"
            | "UnsubscribeFromDataset"
            | "BulkPublish" => RawRule::OTHER_OPERATION_REFUSED,
            _ => RawRule::OTHER_OPERATION,
        };
        s.raw_judged(route.operation, raw, rule).await?;
    }
    s.list(&path).await?;
    Ok(())
}
