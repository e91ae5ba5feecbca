//! VAL-1..3: model constraints at their boundaries, malformed JSON, percent-encoded labels and
//! both JSON content types.

use cogsync::spec::{self, ConstraintError, ErrorKind, Rule};
use serde_json::{Value, json};

use crate::harness::{Ds, Endpoint, POOL, fresh_identity, replace, row, summary};

/// `us-east-1:` then lower-case hex up to `len` characters in all.
fn identity_of_len(len: usize) -> String {
    let prefix = "us-east-1:";
    format!("{prefix}{}", "a".repeat(len - prefix.len()))
}

/// Every operation on `ds` is answered 400 ValidationException.
async fn assert_rejected_by_every_operation(ep: &Endpoint, ds: &Ds, member: &str) {
    let replies = [
        ep.update(
            ds,
            &json!({"RecordPatches": [replace("k", "v", 0)], "SyncSessionToken": "t"}),
        )
        .await,
        ep.list_records(ds, &[]).await,
        ep.describe_dataset(ds).await,
        ep.delete_dataset(ds).await,
    ];
    for reply in replies {
        reply.assert_validation_error();
        assert!(
            reply.message().contains(&format!("at '{member}'")),
            "the message names {member}: {}",
            reply.message()
        );
    }
}

/// A body rejected as malformed JSON, with nothing changed.
async fn assert_serialization_error(ep: &Endpoint, ds: &Ds, body: Vec<u8>) {
    let before = ep.state(ds).await;
    let reply = ep
        .send(
            "POST",
            &ds.path(),
            &[],
            &[("content-type", spec::CONTENT_TYPE_JSON)],
            body.clone(),
        )
        .await;
    reply.assert_error(ErrorKind::Serialization);
    ep.assert_unchanged(ds, &before).await;
}

async fn token_body(ep: &Endpoint, ds: &Ds, patches: Value) -> Value {
    json!({"RecordPatches": patches, "SyncSessionToken": ep.token(ds).await})
}

// ---- VAL-1: path labels ----------------------------------------------------------------------

#[tokio::test]
async fn val_1_an_identity_id_of_55_characters_is_accepted() {
    let ep = Endpoint::start().await;
    let ds = Ds::new(POOL, &identity_of_len(55), "long-id");
    let written = ep.write(&ds, json!([replace("k", "v", 0)])).await;
    assert_eq!(summary(&written), vec![row("k", 1, Some("v"))]);
    let dataset = ep.describe_dataset(&ds).await.ok();
    assert_eq!(dataset["Dataset"]["IdentityId"], identity_of_len(55));
}

#[tokio::test]
async fn val_1_an_identity_id_of_56_characters_is_rejected_as_validation() {
    let ep = Endpoint::start().await;
    let ds = Ds::new(POOL, &identity_of_len(56), "long-id");
    assert_rejected_by_every_operation(&ep, &ds, "IdentityId").await;
    ep.list_datasets(&ds.pool, &ds.identity, &[])
        .await
        .assert_validation_error();
    ep.describe_identity_usage(&ds.pool, &ds.identity)
        .await
        .assert_validation_error();
    let message = ep.describe_dataset(&ds).await.message().to_owned();
    assert_eq!(
        message,
        ConstraintError::new("IdentityId", Rule::LenMax(55), &identity_of_len(56)).to_string()
    );
}

#[tokio::test]
async fn val_1_an_identity_pool_id_of_55_characters_is_accepted_and_56_rejected() {
    let ep = Endpoint::start().await;
    let ok = Ds::new(&identity_of_len(55), &fresh_identity(), "pool");
    ep.write(&ok, json!([replace("k", "v", 0)])).await;
    let bad = Ds::new(&identity_of_len(56), &fresh_identity(), "pool");
    assert_rejected_by_every_operation(&ep, &bad, "IdentityPoolId").await;
}

#[tokio::test]
async fn val_1_upper_case_hex_in_an_identity_id_is_rejected() {
    let ep = Endpoint::start().await;
    let lower = fresh_identity();
    let upper = lower.replace('a', "A").replace("4000", "4ABC");
    assert_ne!(lower, upper);
    let ds = Ds::new(POOL, &upper, "case");
    assert_rejected_by_every_operation(&ep, &ds, "IdentityId").await;
    let message = ep.describe_dataset(&ds).await.message().to_owned();
    assert_eq!(
        message,
        ConstraintError::new("IdentityId", Rule::Pattern(spec::IDENTITY_PATTERN), &upper)
            .to_string()
    );
}

#[tokio::test]
async fn val_1_identity_ids_off_the_pattern_are_rejected() {
    let ep = Endpoint::start().await;
    for bad in [
        "no-colon-0123",
        "us-east-1:",
        ":0123",
        "us east-1:0123",
        "us-east-1:0123:4567",
        "us-east-1:xyz",
        "us-east-1:0123 ",
    ] {
        let ds = Ds::new(POOL, bad, "pattern");
        assert_rejected_by_every_operation(&ep, &ds, "IdentityId").await;
    }
    let pool_ds = Ds::new("us-east-1:GHIJ", &fresh_identity(), "pattern");
    assert_rejected_by_every_operation(&ep, &pool_ds, "IdentityPoolId").await;
}

#[tokio::test]
async fn val_1_a_dataset_name_of_128_characters_is_accepted_and_129_rejected() {
    let ep = Endpoint::start().await;
    let ok = Ds::fresh(&"n".repeat(128));
    ep.write(&ok, json!([replace("k", "v", 0)])).await;
    assert_eq!(
        ep.describe_dataset(&ok).await.ok()["Dataset"]["DatasetName"],
        "n".repeat(128)
    );
    let bad = ok.sibling(&"n".repeat(129));
    assert_rejected_by_every_operation(&ep, &bad, "DatasetName").await;
    assert_eq!(
        ep.describe_dataset(&bad).await.message(),
        ConstraintError::new("DatasetName", Rule::LenMax(128), &"n".repeat(129)).to_string()
    );
}

#[tokio::test]
async fn val_1_dataset_names_off_the_pattern_are_rejected() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("x");
    ep.write(&ds, json!([replace("k", "v", 0)])).await;
    let before = ep.state(&ds).await;
    for bad in ["a b", "a/b", "é", "a+b", "a%b", "a*b"] {
        assert_rejected_by_every_operation(&ep, &ds.sibling(bad), "DatasetName").await;
    }
    ep.assert_unchanged(&ds, &before).await;
}

#[tokio::test]
async fn val_1_every_allowed_dataset_name_character_is_accepted() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("AZaz09_.-");
    ep.write(&ds, json!([replace("k", "v", 0)])).await;
    assert_eq!(
        ep.describe_dataset(&ds).await.ok()["Dataset"]["DatasetName"],
        "AZaz09_.-"
    );
}

// ---- VAL-1: body members ---------------------------------------------------------------------

#[tokio::test]
async fn val_1_a_key_of_1024_characters_is_accepted_even_when_multi_byte() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("keys");
    let ascii = "k".repeat(1024);
    let two_byte = "é".repeat(1024);
    let four_byte = "😀".repeat(1024);
    let written = ep
        .write(
            &ds,
            json!([
                replace(&ascii, "a", 0),
                replace(&two_byte, "b", 0),
                replace(&four_byte, "c", 0)
            ]),
        )
        .await;
    assert_eq!(written.len(), 3);
    let mut keys: Vec<String> = summary(&ep.all_records(&ds, 0).await)
        .into_iter()
        .map(|(k, _, _)| k)
        .collect();
    keys.sort();
    let mut want = vec![ascii, two_byte, four_byte];
    want.sort();
    assert_eq!(keys, want);
}

#[tokio::test]
async fn val_1_a_key_of_1025_characters_is_rejected_and_changes_nothing() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("long-keys");
    ep.write(&ds, json!([replace("a", "1", 0)])).await;
    let before = ep.state(&ds).await;
    for key in ["k".repeat(1025), "é".repeat(1025), "😀".repeat(1025)] {
        let body = token_body(
            &ep,
            &ds,
            json!([replace("b", "1", 0), replace(&key, "v", 0)]),
        )
        .await;
        let reply = ep.update(&ds, &body).await;
        reply.assert_validation_error();
        assert_eq!(
            reply.message(),
            ConstraintError::new("Key", Rule::LenMax(1024), &key).to_string()
        );
    }
    ep.assert_unchanged(&ds, &before).await;
}

#[tokio::test]
async fn val_1_an_empty_or_missing_key_is_rejected() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("no-key");
    ep.write(&ds, json!([replace("a", "1", 0)])).await;
    let before = ep.state(&ds).await;
    for patch in [
        replace("", "v", 0),
        json!({"Op": "replace", "Value": "v", "SyncCount": 0}),
    ] {
        let body = token_body(&ep, &ds, json!([patch])).await;
        let reply = ep.update(&ds, &body).await;
        reply.assert_validation_error();
        assert!(reply.message().contains("at 'Key'"), "{}", reply.message());
    }
    ep.assert_unchanged(&ds, &before).await;
}

#[tokio::test]
async fn val_1_a_value_of_1048575_characters_is_accepted_and_one_more_is_rejected() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("long-value");
    let max = "v".repeat(spec::RECORD_VALUE_LEN_MAX);
    let written = ep.write(&ds, json!([replace("k", &max, 0)])).await;
    assert_eq!(written[0]["SyncCount"], 1);
    let before = ep.state(&ds).await;
    let over = "v".repeat(spec::RECORD_VALUE_LEN_MAX + 1);
    let body = token_body(&ep, &ds, json!([replace("other", &over, 0)])).await;
    let reply = ep.update(&ds, &body).await;
    reply.assert_validation_error();
    assert_eq!(
        reply.message(),
        ConstraintError::new("Value", Rule::LenMax(spec::RECORD_VALUE_LEN_MAX), &over).to_string()
    );
    ep.assert_unchanged(&ds, &before).await;
}

#[tokio::test]
async fn val_1_a_device_id_of_256_characters_is_accepted_and_257_or_empty_rejected() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("devices");
    let mut body = token_body(&ep, &ds, json!([replace("k", "v", 0)])).await;
    body["DeviceId"] = json!("d".repeat(256));
    let reply = ep.update(&ds, &body).await.ok();
    assert_eq!(reply["Records"][0]["LastModifiedBy"], "d".repeat(256));

    let before = ep.state(&ds).await;
    for device in ["d".repeat(257), "é".repeat(257), String::new()] {
        let mut body = token_body(&ep, &ds, json!([replace("k", "w", 1)])).await;
        body["DeviceId"] = json!(device);
        let reply = ep.update(&ds, &body).await;
        reply.assert_validation_error();
        assert!(
            reply.message().contains("at 'DeviceId'"),
            "{}",
            reply.message()
        );
    }
    ep.assert_unchanged(&ds, &before).await;
}

#[tokio::test]
async fn val_1_an_unknown_or_missing_op_is_rejected() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("ops");
    ep.write(&ds, json!([replace("k", "v", 0)])).await;
    let before = ep.state(&ds).await;
    for patch in [
        json!({"Op": "delete", "Key": "k", "SyncCount": 1}),
        json!({"Op": "Replace", "Key": "k", "Value": "x", "SyncCount": 1}),
        json!({"Op": "", "Key": "k", "Value": "x", "SyncCount": 1}),
        json!({"Key": "k", "Value": "x", "SyncCount": 1}),
    ] {
        let body = token_body(&ep, &ds, json!([patch])).await;
        let reply = ep.update(&ds, &body).await;
        reply.assert_validation_error();
        assert!(reply.message().contains("at 'Op'"), "{}", reply.message());
    }
    ep.assert_unchanged(&ds, &before).await;
}

#[tokio::test]
async fn val_1_a_patch_without_sync_count_is_rejected() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("no-count");
    ep.write(&ds, json!([replace("k", "v", 0)])).await;
    let before = ep.state(&ds).await;
    let body = token_body(
        &ep,
        &ds,
        json!([{"Op": "replace", "Key": "new", "Value": "x"}]),
    )
    .await;
    let reply = ep.update(&ds, &body).await;
    reply.assert_validation_error();
    assert!(reply.message().contains("SyncCount"), "{}", reply.message());
    ep.assert_unchanged(&ds, &before).await;
}

#[tokio::test]
async fn amb_validation_code_constraint_violations_answer_validation_exception() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("codes");
    ep.write(&ds, json!([replace("k", "v", 0)])).await;
    let before = ep.state(&ds).await;
    let body = token_body(&ep, &ds, json!([replace("", "v", 0)])).await;
    ep.update(&ds, &body)
        .await
        .assert_error(ErrorKind::Validation);
    ep.delete_dataset(&ds.sibling("bad name"))
        .await
        .assert_error(ErrorKind::Validation);
    ep.assert_unchanged(&ds, &before).await;
}

#[tokio::test]
async fn val_1_path_labels_are_checked_before_the_body() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("bad name");
    let good = ds.sibling("good");
    let before = ep.state(&good).await;
    let reply = ep
        .update(&ds, &json!({"RecordPatches": [replace("", "v", 0)]}))
        .await;
    reply.assert_validation_error();
    assert!(
        reply.message().contains("at 'DatasetName'"),
        "{}",
        reply.message()
    );
    ep.assert_unchanged(&good, &before).await;
}

// ---- VAL-1: malformed JSON -------------------------------------------------------------------

#[tokio::test]
async fn val_1_a_body_that_is_not_json_is_rejected_as_serialization() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("not-json");
    ep.write(&ds, json!([replace("k", "v", 0)])).await;
    for body in [
        &b"not json"[..],
        b"{",
        b"{\"RecordPatches\": [",
        b"<xml/>",
        b"{'single': 'quotes'}",
        b"{\"a\":1}{\"b\":2}",
    ] {
        assert_serialization_error(&ep, &ds, body.to_vec()).await;
    }
}

#[tokio::test]
async fn val_1_a_json_body_that_is_not_an_object_is_rejected_as_serialization() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("not-object");
    ep.write(&ds, json!([replace("k", "v", 0)])).await;
    for body in ["[]", "\"text\"", "42", "null", "true"] {
        assert_serialization_error(&ep, &ds, body.as_bytes().to_vec()).await;
    }
}

#[tokio::test]
async fn val_1_a_sync_count_that_is_a_string_or_a_fraction_is_rejected_as_serialization() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("typed-count");
    ep.write(&ds, json!([replace("k", "v", 0)])).await;
    let token = ep.token(&ds).await;
    for count in [json!("1"), json!(1.5), json!(true), json!([1]), json!(1e30)] {
        let body = json!({"SyncSessionToken": token, "RecordPatches": [
            {"Op": "replace", "Key": "k", "Value": "w", "SyncCount": count}
        ]});
        assert_serialization_error(&ep, &ds, serde_json::to_vec(&body).expect("json")).await;
    }
}

#[tokio::test]
async fn val_1_members_of_the_wrong_json_type_are_rejected_as_serialization() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("typed-members");
    ep.write(&ds, json!([replace("k", "v", 0)])).await;
    let token = ep.token(&ds).await;
    let patch = |member: &str, value: Value| {
        let mut p = replace("k", "w", 1);
        p[member] = value;
        json!({"SyncSessionToken": token, "RecordPatches": [p]})
    };
    let bodies = [
        patch("DeviceLastModifiedDate", json!("2024-01-01T00:00:00Z")),
        patch("Key", json!(7)),
        patch("Value", json!(7)),
        patch("Op", json!(["replace"])),
        json!({"SyncSessionToken": token, "RecordPatches": {"Op": "replace"}}),
        json!({"SyncSessionToken": token, "RecordPatches": ["replace"]}),
        json!({"SyncSessionToken": token, "DeviceId": 5, "RecordPatches": []}),
    ];
    for body in bodies {
        assert_serialization_error(&ep, &ds, serde_json::to_vec(&body).expect("json")).await;
    }
}

#[tokio::test]
async fn val_1_a_duplicate_json_member_is_rejected_as_serialization() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("duplicate-member");
    ep.write(&ds, json!([replace("k", "v", 0)])).await;
    let token = ep.token(&ds).await;
    let body = format!(
        r#"{{"SyncSessionToken": "{token}", "RecordPatches": [{{"Op": "replace", "Key": "k", "Key": "j", "Value": "w", "SyncCount": 1}}]}}"#
    );
    assert_serialization_error(&ep, &ds, body.into_bytes()).await;
}

#[tokio::test]
async fn val_1_unknown_members_are_ignored() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("unknown-members");
    let token = ep.token(&ds).await;
    let body = json!({"SyncSessionToken": token, "Extra": {"deep": [1, 2]},
        "RecordPatches": [{"Op": "replace", "Key": "k", "Value": "v", "SyncCount": 0, "Note": "x"}]});
    ep.update(&ds, &body).await.ok();
}

#[tokio::test]
async fn val_1_a_query_parameter_that_is_not_a_number_is_rejected_as_serialization() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("query-types");
    ep.write(&ds, json!([replace("k", "v", 0)])).await;
    let before = ep.state(&ds).await;
    for query in [
        [("lastSyncCount", "abc")],
        [("lastSyncCount", "1.5")],
        [("maxResults", "ten")],
        [("maxResults", "99999999999999999999")],
    ] {
        ep.list_records(&ds, &query)
            .await
            .assert_error(ErrorKind::Serialization);
    }
    ep.list_datasets(&ds.pool, &ds.identity, &[("maxResults", "x")])
        .await
        .assert_error(ErrorKind::Serialization);
    ep.assert_unchanged(&ds, &before).await;
}

#[tokio::test]
async fn val_1_an_empty_body_reads_as_an_empty_object_and_misses_the_token() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("empty-body");
    let before = ep.state(&ds).await;
    let reply = ep.send("POST", &ds.path(), &[], &[], Vec::new()).await;
    reply.assert_validation_error();
    assert!(
        reply.message().contains("SyncSessionToken"),
        "{}",
        reply.message()
    );
    ep.assert_unchanged(&ds, &before).await;
}

// ---- VAL-2 -----------------------------------------------------------------------------------

#[tokio::test]
async fn val_2_percent_encoded_colons_in_path_labels_are_decoded() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("colons");
    assert!(ds.path().contains("%3A"), "{}", ds.path());
    ep.write(&ds, json!([replace("k", "v", 0)])).await;
    let dataset = ep.describe_dataset(&ds).await.ok()["Dataset"].clone();
    assert_eq!(dataset["IdentityId"], ds.identity.as_str());
    // The same dataset through lower-case escapes and through literal colons.
    for path in [
        ds.path().replace("%3A", "%3a"),
        ds.path().replace("%3A", ":"),
    ] {
        let reply = ep.send("GET", &path, &[], &[], Vec::new()).await.ok();
        assert_eq!(reply["Dataset"], dataset, "{path}");
    }
    let usage = ep
        .describe_identity_usage(&ds.pool, &ds.identity)
        .await
        .ok();
    assert_eq!(usage["IdentityUsage"]["IdentityPoolId"], POOL);
}

#[tokio::test]
async fn val_2_any_percent_encoded_character_of_a_dataset_name_is_decoded() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("a-b.c_d");
    let encoded = format!("{}/datasets/%61%2D%62%2E%63%5F%64", ds.identity_path());
    let token = ep.token(&ds).await;
    let reply = ep
        .send(
            "POST",
            &encoded,
            &[],
            &[("content-type", spec::CONTENT_TYPE_JSON)],
            serde_json::to_vec(&json!({"RecordPatches": [replace("k", "v", 0)],
                "SyncSessionToken": token}))
            .expect("json"),
        )
        .await;
    reply.ok();
    let dataset = ep.describe_dataset(&ds).await.ok();
    assert_eq!(dataset["Dataset"]["DatasetName"], "a-b.c_d");
}

#[tokio::test]
async fn amb_colon_a_dataset_name_with_a_colon_is_accepted() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("app:settings");
    ep.write(&ds, json!([replace("k", "v", 0)])).await;
    let dataset = ep.describe_dataset(&ds).await.ok();
    assert_eq!(dataset["Dataset"]["DatasetName"], "app:settings");
    let list = ep.list_datasets(&ds.pool, &ds.identity, &[]).await.ok();
    assert_eq!(list["Datasets"][0]["DatasetName"], "app:settings");
}

// ---- VAL-3 -----------------------------------------------------------------------------------

async fn update_with_content_type(ep: &Endpoint, ds: &Ds, content_type: Option<&str>, key: &str) {
    let token = ep.token(ds).await;
    let body = json!({"RecordPatches": [replace(key, "v", 0)], "SyncSessionToken": token});
    let headers: Vec<(&str, &str)> = content_type
        .map(|c| ("content-type", c))
        .into_iter()
        .collect();
    let reply = ep
        .send(
            "POST",
            &ds.path(),
            &[],
            &headers,
            serde_json::to_vec(&body).expect("json"),
        )
        .await;
    assert_eq!(reply.status, 200, "{content_type:?}: {}", reply.body_text);
}

#[tokio::test]
async fn val_3_an_application_json_body_is_accepted() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("json");
    update_with_content_type(&ep, &ds, Some(spec::CONTENT_TYPE_JSON), "a").await;
    update_with_content_type(&ep, &ds, Some("application/json; charset=utf-8"), "b").await;
    assert_eq!(ep.all_records(&ds, 0).await.len(), 2);
}

#[tokio::test]
async fn val_3_an_application_x_amz_json_1_1_body_is_accepted() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("amz-json");
    update_with_content_type(&ep, &ds, Some(spec::CONTENT_TYPE_AMZ_JSON), "a").await;
    assert_eq!(
        summary(&ep.all_records(&ds, 0).await),
        vec![row("a", 1, Some("v"))]
    );
}

#[tokio::test]
async fn val_3_a_body_without_or_with_another_content_type_is_read_as_json() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("any-type");
    update_with_content_type(&ep, &ds, None, "a").await;
    update_with_content_type(&ep, &ds, Some("text/plain"), "b").await;
    assert_eq!(ep.all_records(&ds, 0).await.len(), 2);
}
