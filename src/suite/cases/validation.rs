//! Validation of path labels, body members and JSON types; percent-encoded paths; content
//! types (SPEC §5, UR-10).

use super::support::{
    DEVICE, body_json, ensure, list_intended, pages, raw_list, raw_update, update_intended,
    with_body, write, write_rejected,
};
use crate::client::{RawRequest, to_raw};
use crate::model::{Ambiguity, Call};
use crate::spec::{
    CONTENT_TYPE_AMZ_JSON, DatasetPath, DescribeIdentityUsageRequest, ErrorKind, IdentityPath,
    ListRecordsRequest, RECORD_VALUE_LEN_MAX, RecordPatch, Request,
};
use crate::suite::refusal::{Allow, RawRule};
use crate::suite::session::{Intent, Session, TokenChoice, dataset_of, remove, replace};
use crate::suite::verdict::Stop;

/// What a wrong JSON type may be answered with: SPEC only says 400; AWS sends Serialization.
const BAD_JSON: [ErrorKind; 3] = [
    ErrorKind::Serialization,
    ErrorKind::Validation,
    ErrorKind::InvalidParameter,
];

/// What a malformed optional query parameter may be refused with (AMB-BAD-QUERY: 400).
const BAD_QUERY: [ErrorKind; 3] = BAD_JSON;

cases! {
    "validation.identity-id.55-accepted", Must, ["VAL-1", "DATA-1"],
    "An IdentityId of 55 characters is accepted",
    "An IdentityId of exactly 55 characters matching the pattern can write and read datasets."
        => identity_id_55;

    "validation.identity-id.56-rejected", Must, ["VAL-1", "ERR-2"],
    "An IdentityId of 56 characters is rejected",
    "An IdentityId longer than 55 characters fails with 400 ValidationException or InvalidParameterException."
        => identity_id_56;

    "validation.identity-id.upper-case-hex-rejected", Must, ["VAL-1"],
    "An IdentityId with upper-case hex is rejected",
    "The IdentityId pattern allows only lower-case hex after the colon: upper-case fails with 400 and the lower-case identity is untouched."
        => identity_id_upper_case;

    "validation.identity-pool-id.pattern-rejected", Must, ["VAL-1"],
    "An IdentityPoolId without region prefix is rejected",
    "An IdentityPoolId that does not match `[\\w-]+:[0-9a-f-]+` fails with 400."
        => identity_pool_id_pattern;

    "validation.dataset-name.128-accepted", Must, ["VAL-1"],
    "A DatasetName of 128 characters is accepted",
    "A DatasetName of exactly 128 allowed characters can be written, listed, described and deleted."
        => dataset_name_128;

    "validation.dataset-name.129-rejected", Must, ["VAL-1", "UR-3"],
    "A DatasetName of 129 characters is rejected",
    "A DatasetName longer than 128 characters fails with 400 on ListRecords and UpdateRecords."
        => dataset_name_129;

    "validation.dataset-name.bad-characters-rejected", Must, ["VAL-1"],
    "A DatasetName outside `[a-zA-Z0-9_.:-]` is rejected",
    "DatasetNames with a space, an exclamation mark or a non-ASCII letter fail with 400."
        => dataset_name_bad_characters;

    "validation.key.1024-accepted", Must, ["VAL-1"],
    "A key of 1024 characters is accepted",
    "A record key of exactly 1024 characters is stored and listed."
        => key_1024;

    "validation.key.1025-rejected", Must, ["VAL-1", "UR-3"],
    "A key of 1025 characters is rejected",
    "A record key longer than 1024 characters fails with 400 and nothing changes."
        => key_1025;

    "validation.key.multi-byte-1024-accepted", Must, ["VAL-1"],
    "Key length counts characters, not bytes",
    "A key of 1024 two-byte characters (2048 UTF-8 bytes) is accepted."
        => key_multi_byte_1024;

    "validation.key.multi-byte-1025-rejected", Must, ["VAL-1"],
    "A key of 1025 multi-byte characters is rejected",
    "A key of 1025 two-byte characters fails with 400."
        => key_multi_byte_1025;

    "validation.key.empty-rejected", Must, ["VAL-1"],
    "An empty key is rejected",
    "A patch with Key \"\" fails with 400."
        => key_empty;

    "validation.key.missing-rejected", Must, ["VAL-1"],
    "A patch without Key is rejected",
    "Key is required in every patch: a patch without it fails with 400."
        => key_missing;

    "validation.device-id.256-accepted", Must, ["VAL-1"],
    "A DeviceId of 256 characters is accepted",
    "An UpdateRecords whose DeviceId has exactly 256 characters succeeds."
        => device_id_256;

    "validation.device-id.257-rejected", Must, ["VAL-1"],
    "A DeviceId of 257 characters is rejected",
    "An UpdateRecords whose DeviceId has 257 characters fails with 400 and changes nothing."
        => device_id_257;

    "validation.device-id.empty-rejected", Must, ["VAL-1"],
    "An empty DeviceId is rejected",
    "DeviceId has a minimum length of 1: \"\" fails with 400."
        => device_id_empty;

    "validation.op.unknown-rejected", Must, ["VAL-1"],
    "Op must be replace or remove",
    "Patches with Op \"update\" or \"Replace\" fail with 400 and change nothing."
        => op_unknown;

    "validation.op.missing-rejected", Must, ["VAL-1"],
    "A patch without Op is rejected",
    "Op is required in every patch: a patch without it fails with 400."
        => op_missing;

    "validation.sync-count.missing-rejected", Must, ["VAL-1", "UR-1"],
    "A patch without SyncCount is rejected",
    "SyncCount is required in every patch: a patch without it fails with 400."
        => sync_count_missing;

    "validation.value.replace-without-value-rejected", Must, ["UR-10", "VAL-1"],
    "A replace without Value is rejected",
    "Op=replace without Value fails with 400 ValidationException or InvalidParameterException, and nothing changes."
        => replace_without_value;

    "validation.value.1048575-accepted", Must, ["VAL-1", "LIM-3"],
    "A value of 1,048,575 characters is accepted",
    "A record value of exactly 1,048,575 characters under a one-character key (1 MiB in all) is stored."
        => value_longest;

    "validation.value.too-long-rejected", Must, ["VAL-1"],
    "A value over 1,048,575 characters is rejected",
    "A record value of 1,048,576 characters fails with 400."
        => value_too_long;

    "validation.batch.one-invalid-patch-rejects-whole", Must, ["VAL-1", "UR-3"],
    "One invalid patch rejects the whole batch",
    "A request whose last patch has an empty key fails with 400 and applies none of its valid patches."
        => one_invalid_patch;

    "validation.json.not-json-rejected", Must, ["VAL-1", "ERR-3"],
    "A body that is not JSON is rejected",
    "An UpdateRecords body that is not JSON fails with 400 and changes nothing."
        => not_json;

    "validation.json.top-level-array-rejected", Must, ["VAL-1"],
    "A body that is not a JSON object is rejected",
    "An UpdateRecords body that is a JSON array fails with 400."
        => top_level_array;

    "validation.json.sync-count-string-rejected", Must, ["VAL-1"],
    "A SyncCount sent as a string is rejected",
    "`\"SyncCount\": \"1\"` fails with 400 (AWS: SerializationException) and changes nothing."
        => sync_count_string;

    "validation.json.sync-count-fraction-rejected", Must, ["VAL-1"],
    "A fractional SyncCount is rejected",
    "`\"SyncCount\": 1.5` is not an integer and fails with 400."
        => sync_count_fraction;

    "validation.json.record-patches-object-rejected", Must, ["VAL-1"],
    "RecordPatches must be an array",
    "`\"RecordPatches\": {}` fails with 400."
        => record_patches_object;

    "validation.json.key-number-rejected", Must, ["VAL-1"],
    "A key sent as a number is rejected",
    "`\"Key\": 5` fails with 400."
        => key_number;

    "validation.json.date-string-rejected", Must, ["VAL-1"],
    "DeviceLastModifiedDate must be a JSON number",
    "A DeviceLastModifiedDate sent as an ISO string fails with 400."
        => date_string;

    "validation.query.not-a-number-rejected", Must, ["VAL-1", "ERR-3", "AMB-BAD-QUERY"],
    "Numeric query parameters must be numbers",
    "ListRecords with `maxResults=ten`, `lastSyncCount=x` or a malformed percent-encoding in `syncSessionToken` fails with 400 and changes nothing (ignoring the optional parameter is NON-STRICT)."
        => query_not_a_number;

    "validation.path.lower-case-percent-encoding", Must, ["VAL-2"],
    "`%3a` decodes like `%3A`",
    "Path labels with `:` sent as lower-case `%3a` reach the same identity and dataset as `%3A`."
        => path_lower_case_encoding;

    "validation.path.literal-colon", Should, ["VAL-2"],
    "A literal `:` in a path label reaches the same dataset",
    "Path labels sent with an unencoded `:` reach the same identity and dataset as `%3A`."
        => path_literal_colon;

    "validation.content-type.amz-json", Must, ["VAL-3"],
    "`application/x-amz-json-1.1` bodies are accepted",
    "UpdateRecords with `Content-Type: application/x-amz-json-1.1` (the iOS SDK) is read like application/json."
        => content_type_amz_json;

    "validation.content-type.application-json", Must, ["VAL-3", "ERR-4"],
    "`application/json` bodies are accepted",
    "UpdateRecords with `Content-Type: application/json` succeeds and the answer is application/json."
        => content_type_json;
}

/// A 46-character identity ID of this run, made `len` long by a lower-case hex tail.
fn padded(identity: &IdentityPath, len: usize) -> IdentityPath {
    let mut id = identity.identity_id.clone();
    id.push('-');
    while id.chars().count() < len {
        id.push('0');
    }
    IdentityPath {
        identity_pool_id: identity.identity_pool_id.clone(),
        identity_id: id,
    }
}

fn list_request(path: &DatasetPath) -> ListRecordsRequest {
    ListRecordsRequest {
        path: path.clone(),
        ..ListRecordsRequest::default()
    }
}

/// A path the endpoint must reject: ListRecords and UpdateRecords both fail with 400.
async fn path_rejected(s: &mut Session, path: &DatasetPath) -> Result<(), Stop> {
    list_intended(
        s,
        list_request(path),
        TokenChoice::Missing,
        Intent::Error(ErrorKind::Validation),
    )
    .await?;
    update_intended(
        s,
        path,
        Some(DEVICE),
        Some(vec![replace("k", "v", 0)]),
        TokenChoice::Garbage,
        Intent::Error(ErrorKind::Validation),
    )
    .await?;
    s.list(path).await?;
    Ok(())
}

async fn identity_id_55(s: &mut Session) -> Result<(), Stop> {
    let identity = padded(&s.identity(), 55);
    let path = dataset_of(&identity, "prefs");
    write(s, &path, vec![replace("k", "v", 0)]).await?;
    s.list(&path).await?;
    let usage = Call::DescribeIdentityUsage(DescribeIdentityUsageRequest { path: identity });
    s.intend(&usage, Intent::Success)?;
    s.call(usage).await?;
    Ok(())
}

async fn identity_id_56(s: &mut Session) -> Result<(), Stop> {
    let identity = padded(&s.identity(), 56);
    path_rejected(s, &dataset_of(&identity, "prefs")).await
}

async fn identity_id_upper_case(s: &mut Session) -> Result<(), Stop> {
    let base = s.identity();
    let lower = IdentityPath {
        identity_id: format!("{}-abcdef", base.identity_id),
        ..base.clone()
    };
    let upper = IdentityPath {
        identity_id: format!("{}-ABCDEF", base.identity_id),
        ..base
    };
    let lower_path = dataset_of(&lower, "prefs");
    write(s, &lower_path, vec![replace("k", "v", 0)]).await?;
    path_rejected(s, &dataset_of(&upper, "prefs")).await?;
    s.list(&lower_path).await?;
    Ok(())
}

async fn identity_pool_id_pattern(s: &mut Session) -> Result<(), Stop> {
    let identity = s.identity();
    let bad = IdentityPath {
        identity_pool_id: "us-east-1".to_owned(),
        ..identity
    };
    path_rejected(s, &dataset_of(&bad, "prefs")).await
}

async fn dataset_name_128(s: &mut Session) -> Result<(), Stop> {
    let name = format!("Long_name.{}", "x-".repeat(59));
    let path = s.dataset(&name);
    write(s, &path, vec![replace("k", "v", 0)]).await?;
    s.list(&path).await?;
    let describe =
        Call::DescribeDataset(crate::spec::DescribeDatasetRequest { path: path.clone() });
    s.call(describe).await?;
    let delete = Call::DeleteDataset(crate::spec::DeleteDatasetRequest { path: path.clone() });
    s.call(delete).await?;
    s.list(&path).await?;
    Ok(())
}

async fn dataset_name_129(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset(&"n".repeat(129));
    path_rejected(s, &path).await
}

async fn dataset_name_bad_characters(s: &mut Session) -> Result<(), Stop> {
    let identity = s.identity();
    for name in ["my settings", "prefs!", "données"] {
        path_rejected(s, &dataset_of(&identity, name)).await?;
    }
    Ok(())
}

async fn key_1024(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace(&"k".repeat(1024), "v", 0)]).await?;
    s.list(&path).await?;
    Ok(())
}

async fn key_1025(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    write_rejected(
        s,
        &path,
        vec![replace(&"k".repeat(1025), "v", 0)],
        ErrorKind::Validation,
    )
    .await?;
    s.list(&path).await?;
    Ok(())
}

async fn key_multi_byte_1024(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace(&"é".repeat(1024), "v", 0)]).await?;
    s.list(&path).await?;
    Ok(())
}

async fn key_multi_byte_1025(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    write_rejected(
        s,
        &path,
        vec![replace(&"é".repeat(1025), "v", 0)],
        ErrorKind::Validation,
    )
    .await?;
    s.list(&path).await?;
    Ok(())
}

async fn key_empty(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    write_rejected(s, &path, vec![replace("", "v", 0)], ErrorKind::Validation).await?;
    s.list(&path).await?;
    Ok(())
}

async fn key_missing(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    let mut patch = replace("b", "v", 0);
    patch.key = None;
    write_rejected(s, &path, vec![patch], ErrorKind::Validation).await?;
    s.list(&path).await?;
    Ok(())
}

async fn device_id_256(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    let device = "d".repeat(256);
    update_intended(
        s,
        &path,
        Some(&device),
        Some(vec![replace("a", "1", 0)]),
        TokenChoice::Latest,
        Intent::Success,
    )
    .await?;
    s.list(&path).await?;
    Ok(())
}

async fn device_id_rejected(s: &mut Session, device: &str) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    update_intended(
        s,
        &path,
        Some(device),
        Some(vec![replace("a", "2", 1)]),
        TokenChoice::Latest,
        Intent::Error(ErrorKind::Validation),
    )
    .await?;
    s.list(&path).await?;
    Ok(())
}

async fn device_id_257(s: &mut Session) -> Result<(), Stop> {
    device_id_rejected(s, &"d".repeat(257)).await
}

async fn device_id_empty(s: &mut Session) -> Result<(), Stop> {
    device_id_rejected(s, "").await
}

fn with_op(op: Option<&str>) -> RecordPatch {
    RecordPatch {
        op: op.map(str::to_owned),
        ..replace("b", "v", 0)
    }
}

async fn op_unknown(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    for op in ["update", "Replace", "delete"] {
        write_rejected(s, &path, vec![with_op(Some(op))], ErrorKind::Validation).await?;
    }
    s.list(&path).await?;
    Ok(())
}

async fn op_missing(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    write_rejected(s, &path, vec![with_op(None)], ErrorKind::Validation).await?;
    s.list(&path).await?;
    Ok(())
}

async fn sync_count_missing(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    let mut patch = replace("b", "v", 0);
    patch.sync_count = None;
    write_rejected(s, &path, vec![patch], ErrorKind::Validation).await?;
    s.list(&path).await?;
    Ok(())
}

async fn replace_without_value(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    let mut patch = replace("a", "", 1);
    patch.value = None;
    write_rejected(s, &path, vec![patch], ErrorKind::Validation).await?;
    s.list(&path).await?;
    Ok(())
}

async fn value_longest(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    let value = "v".repeat(RECORD_VALUE_LEN_MAX);
    write(s, &path, vec![replace("k", &value, 0)]).await?;
    let describe = Call::DescribeDataset(crate::spec::DescribeDatasetRequest { path });
    s.intend(&describe, Intent::Success)?;
    s.call(describe).await?;
    Ok(())
}

async fn value_too_long(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    let value = "v".repeat(RECORD_VALUE_LEN_MAX + 1);
    write_rejected(
        s,
        &path,
        vec![replace("b", &value, 0)],
        ErrorKind::Validation,
    )
    .await?;
    s.list(&path).await?;
    Ok(())
}

async fn one_invalid_patch(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    write_rejected(
        s,
        &path,
        vec![replace("a", "2", 1), remove("b", 0), replace("", "v", 0)],
        ErrorKind::Validation,
    )
    .await?;
    s.list(&path).await?;
    Ok(())
}

/// Writes one record, sends `body` raw (it must be rejected with 400), and lists.
async fn bad_body(s: &mut Session, what: &str, body: Vec<u8>) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    s.list(&path).await?;
    let mut raw = raw_update(s, &path, Vec::new());
    raw.body = body;
    s.raw_rejected(what, raw, &BAD_JSON).await?;
    s.list(&path).await?;
    Ok(())
}

/// As [`bad_body`], for a JSON body built from one patch with a wrongly typed member.
async fn bad_patch(s: &mut Session, what: &str, patch: serde_json::Value) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    s.list(&path).await?;
    let body = body_json(s, &path, serde_json::json!([patch]));
    let raw = with_body(raw_update(s, &path, Vec::new()), &body);
    s.raw_rejected(what, raw, &BAD_JSON).await?;
    s.list(&path).await?;
    Ok(())
}

async fn not_json(s: &mut Session) -> Result<(), Stop> {
    bad_body(
        s,
        "UpdateRecords with a form-encoded body",
        b"RecordPatches=replace&Key=a&Value=2&SyncCount=1".to_vec(),
    )
    .await
}

async fn top_level_array(s: &mut Session) -> Result<(), Stop> {
    bad_body(
        s,
        "UpdateRecords with a JSON array body",
        br#"[{"Op": "replace", "Key": "a", "Value": "2", "SyncCount": 1}]"#.to_vec(),
    )
    .await
}

async fn sync_count_string(s: &mut Session) -> Result<(), Stop> {
    bad_patch(
        s,
        "SyncCount as a string",
        serde_json::json!({"Op": "replace", "Key": "a", "Value": "2", "SyncCount": "1"}),
    )
    .await
}

async fn sync_count_fraction(s: &mut Session) -> Result<(), Stop> {
    bad_patch(
        s,
        "SyncCount as a fraction",
        serde_json::json!({"Op": "replace", "Key": "a", "Value": "2", "SyncCount": 1.5}),
    )
    .await
}

async fn record_patches_object(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    s.list(&path).await?;
    let body = body_json(
        s,
        &path,
        serde_json::json!({"Op": "replace", "Key": "a", "Value": "2", "SyncCount": 1}),
    );
    let raw = with_body(raw_update(s, &path, Vec::new()), &body);
    s.raw_rejected("RecordPatches as an object", raw, &BAD_JSON)
        .await?;
    s.list(&path).await?;
    Ok(())
}

async fn key_number(s: &mut Session) -> Result<(), Stop> {
    bad_patch(
        s,
        "Key as a number",
        serde_json::json!({"Op": "replace", "Key": 5, "Value": "2", "SyncCount": 0}),
    )
    .await
}

async fn date_string(s: &mut Session) -> Result<(), Stop> {
    bad_patch(
        s,
        "DeviceLastModifiedDate as a string",
        serde_json::json!({
            "Op": "replace", "Key": "a", "Value": "2", "SyncCount": 1,
            "DeviceLastModifiedDate": "2024-01-01T00:00:00Z"
        }),
    )
    .await
}

async fn query_not_a_number(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    let records = to_raw(&Request::ListRecords(list_request(&path)));
    for query in ["maxResults=ten", "lastSyncCount=x", "syncSessionToken=a%G1"] {
        let raw = RawRequest {
            path_and_query: format!("{}?{query}", records.path_and_query),
            ..records.clone()
        };
        let rule = RawRule {
            kinds: &BAD_QUERY,
            other_refusal: Allow::No,
            accepted: Allow::NonStrict(Ambiguity::BadQuery),
        };
        s.raw_judged(&format!("ListRecords with {query}"), raw, rule)
            .await?;
    }
    s.list(&path).await?;
    Ok(())
}

/// VAL-2: a raw ListRecords with the labels' `%3A` spelled as `colon` must list what the
/// typed walk listed, and a raw conflicting write the same way must meet the same record.
async fn same_dataset_when_colon_is(s: &mut Session, colon: &str) -> Result<(), Stop> {
    let path = s.dataset("app-settings");
    write(s, &path, vec![replace("theme", "dark", 0)]).await?;
    let typed = s.list(&path).await?;
    let want: Vec<_> = pages(&typed)?
        .iter()
        .flat_map(|p| p.records.clone().unwrap_or_default())
        .map(|r| (r.key, r.value, r.sync_count))
        .collect();
    let mut raw = to_raw(&Request::ListRecords(list_request(&path)));
    raw.path_and_query = raw.path_and_query.replace("%3A", colon);
    let page = raw_list(s, &raw).await?;
    let got: Vec<_> = page
        .records
        .unwrap_or_default()
        .into_iter()
        .map(|r| (r.key, r.value, r.sync_count))
        .collect();
    ensure(got == want && page.dataset_exists == Some(true), || {
        format!(
            "GET {}: expected the records {want:?} of the %3A spelling, got {got:?} (DatasetExists {:?})",
            raw.path_and_query, page.dataset_exists
        )
    })?;
    // A stale write through the same spelling meets the stored record: 409, not a new dataset.
    let mut update = raw_update(s, &path, vec![replace("theme", "light", 0)]);
    update.path_and_query = update.path_and_query.replace("%3A", colon);
    s.raw_rejected(
        &format!("UpdateRecords with ':' sent as {colon:?}"),
        update,
        &[ErrorKind::ResourceConflict],
    )
    .await?;
    s.list(&path).await?;
    Ok(())
}

async fn path_lower_case_encoding(s: &mut Session) -> Result<(), Stop> {
    same_dataset_when_colon_is(s, "%3a").await
}

async fn path_literal_colon(s: &mut Session) -> Result<(), Stop> {
    same_dataset_when_colon_is(s, ":").await
}

async fn content_type_amz_json(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    s.set_content_type(Some(CONTENT_TYPE_AMZ_JSON));
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    write(s, &path, vec![replace("a", "2", 1), replace("b", "1", 0)]).await?;
    s.set_content_type(None);
    s.list(&path).await?;
    Ok(())
}

async fn content_type_json(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    s.set_content_type(Some("application/json"));
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    s.set_content_type(None);
    s.list(&path).await?;
    Ok(())
}
