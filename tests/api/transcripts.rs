//! Golden transcripts: short fixed request sequences against a fresh reference server, kept as
//! insta snapshots in `snapshots/`. Dates and server-issued tokens are redacted; identities are
//! fixed per scenario, so they need no redaction. Big strings and long lists are summarised.

use cogsync::spec;
use insta::internals::Content;
use serde_json::{Value, json};

use crate::harness::{DEVICE_DATE, Ds, Endpoint, POOL, Reply, remove, replace};

/// Literal fake tokens the scenarios send; every other token is server-issued and redacted.
const FAKE_TOKENS: [&str; 2] = ["garbage", "garbage-next-token"];

fn identity(n: u8) -> String {
    format!("us-east-1:00000000-0000-0000-0000-0000000000{n:02x}")
}

/// Strings over 256 characters and arrays over 16 items become a short description.
fn summarise(value: &Value) -> Value {
    match value {
        Value::String(s) if s.chars().count() > 256 => {
            let head: String = s.chars().take(8).collect();
            json!(format!(
                "<{} chars, {} UTF-8 bytes, starting {head:?}>",
                s.chars().count(),
                s.len()
            ))
        }
        Value::Array(items) if items.len() > 16 => json!(format!("<{} items>", items.len())),
        Value::Array(items) => Value::Array(items.iter().map(summarise).collect()),
        Value::Object(members) => Value::Object(
            members
                .iter()
                .map(|(k, v)| (k.clone(), summarise(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Records each exchange as `{request: {method, path, query?, body?}, response: {status,
/// x-amzn-ErrorType, body}}`; a `note` step explains what happened off the record.
struct Transcript<'a> {
    ep: &'a Endpoint,
    steps: Vec<Value>,
}

impl<'a> Transcript<'a> {
    fn new(ep: &'a Endpoint) -> Transcript<'a> {
        Transcript {
            ep,
            steps: Vec::new(),
        }
    }

    fn note(&mut self, text: &str) {
        self.steps.push(json!({"note": text}));
    }

    async fn call(
        &mut self,
        method: &str,
        path: String,
        query: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Reply {
        let mut request = json!({"method": method, "path": path});
        if !query.is_empty() {
            let query: serde_json::Map<String, Value> = query
                .iter()
                .map(|(k, v)| ((*k).to_owned(), json!(v)))
                .collect();
            request["query"] = Value::Object(query);
        }
        if let Some(bytes) = &body {
            request["body"] = match serde_json::from_slice::<Value>(bytes) {
                Ok(json) => summarise(&json),
                Err(_) => json!(String::from_utf8_lossy(bytes)),
            };
        }
        let headers: &[(&str, &str)] = if body.is_some() {
            &[("content-type", spec::CONTENT_TYPE_JSON)]
        } else {
            &[]
        };
        let reply = self
            .ep
            .send(method, &path, query, headers, body.unwrap_or_default())
            .await;
        let response = json!({
            "status": reply.status,
            "x-amzn-ErrorType": reply.error_type(),
            "body": reply.json.as_ref().map_or_else(|| json!(reply.body_text), summarise),
        });
        self.steps
            .push(json!({"request": request, "response": response}));
        reply
    }

    async fn update(&mut self, ds: &Ds, body: Value) -> Reply {
        let bytes = serde_json::to_vec(&body).expect("json");
        self.call("POST", ds.path(), &[], Some(bytes)).await
    }

    async fn list(&mut self, ds: &Ds, query: &[(&str, &str)]) -> Reply {
        self.call("GET", ds.records_path(), query, None).await
    }

    /// ListRecords, then UpdateRecords with the token it gave: both recorded.
    async fn sync(&mut self, ds: &Ds, patches: Value) -> Reply {
        let token = token_of(&self.list(ds, &[]).await);
        self.update(
            ds,
            json!({"RecordPatches": patches, "SyncSessionToken": token}),
        )
        .await
    }

    async fn describe(&mut self, ds: &Ds) -> Reply {
        self.call("GET", ds.path(), &[], None).await
    }

    async fn delete(&mut self, ds: &Ds) -> Reply {
        self.call("DELETE", ds.path(), &[], None).await
    }

    async fn list_datasets(&mut self, ds: &Ds) -> Reply {
        self.call("GET", format!("{}/datasets", ds.identity_path()), &[], None)
            .await
    }

    fn into_steps(self) -> Vec<Value> {
        self.steps
    }
}

fn token_of(reply: &Reply) -> String {
    reply.json.as_ref().expect("json")["SyncSessionToken"]
        .as_str()
        .expect("a SyncSessionToken")
        .to_owned()
}

fn next_token_of(reply: &Reply) -> String {
    reply.json.as_ref().expect("json")["NextToken"]
        .as_str()
        .expect("a NextToken")
        .to_owned()
}

fn redact_token(value: Content, _: insta::internals::ContentPath<'_>) -> Content {
    match value.as_str() {
        Some(s) if FAKE_TOKENS.contains(&s) => value,
        Some(_) => Content::from("[token]"),
        None => value,
    }
}

fn redact_device_date(value: Content, _: insta::internals::ContentPath<'_>) -> Content {
    if value.as_f64() == Some(DEVICE_DATE) {
        value
    } else {
        Content::from("[date]")
    }
}

fn assert_transcript(name: &str, steps: &[Value]) {
    insta::with_settings!({
        snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"),
        prepend_module_to_snapshot => false,
    }, {
        insta::assert_json_snapshot!(name, steps, {
            ".**.SyncSessionToken" => insta::dynamic_redaction(redact_token),
            ".**.syncSessionToken" => insta::dynamic_redaction(redact_token),
            ".**.NextToken" => insta::dynamic_redaction(redact_token),
            ".**.nextToken" => insta::dynamic_redaction(redact_token),
            ".**.LastModifiedDate" => "[date]",
            ".**.CreationDate" => "[date]",
            ".**.DeviceLastModifiedDate" => insta::dynamic_redaction(redact_device_date),
        });
    });
}

// ---- scenarios -------------------------------------------------------------------------------

#[tokio::test]
async fn transcript_of_a_first_write() {
    let ep = Endpoint::start().await;
    let ds = Ds::new(POOL, &identity(0xa1), "settings");
    let mut t = Transcript::new(&ep);
    let token = token_of(&t.list(&ds, &[]).await);
    t.update(
        &ds,
        json!({"DeviceId": "device-a", "SyncSessionToken": token, "RecordPatches": [
            {"Op": "replace", "Key": "colour", "Value": "blue", "SyncCount": 0,
             "DeviceLastModifiedDate": DEVICE_DATE},
            replace("size", "L", 0),
        ]}),
    )
    .await;
    t.list(&ds, &[]).await;
    t.describe(&ds).await;
    t.list_datasets(&ds).await;
    assert_transcript("transcript_first_write", &t.into_steps());
}

#[tokio::test]
async fn transcript_of_a_stale_write() {
    let ep = Endpoint::start().await;
    let ds = Ds::new(POOL, &identity(0xa2), "settings");
    let mut t = Transcript::new(&ep);
    t.sync(&ds, json!([replace("k", "v1", 0)])).await;
    t.sync(&ds, json!([replace("k", "v2", 1)])).await;
    t.note("a second device still holds k at SyncCount 1");
    t.sync(
        &ds,
        json!([replace("k", "v2", 1), replace("other", "x", 0)]),
    )
    .await;
    t.list(&ds, &[]).await;
    assert_transcript("transcript_stale_write", &t.into_steps());
}

#[tokio::test]
async fn transcript_of_a_future_count() {
    let ep = Endpoint::start().await;
    let ds = Ds::new(POOL, &identity(0xa3), "settings");
    let mut t = Transcript::new(&ep);
    t.sync(&ds, json!([replace("k", "v1", 0)])).await;
    t.sync(&ds, json!([replace("k", "v2", 5)])).await;
    t.sync(&ds, json!([replace("new", "x", 3)])).await;
    t.list(&ds, &[]).await;
    assert_transcript("transcript_future_count", &t.into_steps());
}

#[tokio::test]
async fn transcript_of_a_remove_and_its_tombstone() {
    let ep = Endpoint::start().await;
    let ds = Ds::new(POOL, &identity(0xa4), "settings");
    let mut t = Transcript::new(&ep);
    t.sync(&ds, json!([replace("a", "1", 0), replace("b", "2", 0)]))
        .await;
    t.sync(&ds, json!([remove("a", 1), remove("ghost", 0)]))
        .await;
    t.list(&ds, &[]).await;
    t.list(&ds, &[("lastSyncCount", "1")]).await;
    t.describe(&ds).await;
    assert_transcript("transcript_remove_and_tombstone", &t.into_steps());
}

#[tokio::test]
async fn transcript_of_a_recreate_after_remove() {
    let ep = Endpoint::start().await;
    let ds = Ds::new(POOL, &identity(0xa5), "settings");
    let mut t = Transcript::new(&ep);
    t.sync(&ds, json!([replace("k", "v", 0)])).await;
    t.sync(&ds, json!([remove("k", 1)])).await;
    t.sync(&ds, json!([replace("k", "back", 0)])).await;
    t.sync(&ds, json!([replace("k", "back", 2)])).await;
    t.list(&ds, &[]).await;
    assert_transcript("transcript_recreate_after_remove", &t.into_steps());
}

#[tokio::test]
async fn transcript_of_paging() {
    let ep = Endpoint::start().await;
    let ds = Ds::new(POOL, &identity(0xa6), "settings");
    let mut t = Transcript::new(&ep);
    t.sync(
        &ds,
        json!([
            replace("c", "3", 0),
            replace("a", "1", 0),
            replace("b", "2", 0)
        ]),
    )
    .await;
    t.sync(&ds, json!([replace("e", "5", 0), replace("d", "4", 0)]))
        .await;
    let first = t.list(&ds, &[("maxResults", "2")]).await;
    let second = t
        .list(
            &ds,
            &[("maxResults", "2"), ("nextToken", &next_token_of(&first))],
        )
        .await;
    t.list(
        &ds,
        &[("maxResults", "2"), ("nextToken", &next_token_of(&second))],
    )
    .await;
    t.list(
        &ds,
        &[("maxResults", "2"), ("nextToken", "garbage-next-token")],
    )
    .await;
    assert_transcript("transcript_paging", &t.into_steps());
}

#[tokio::test]
async fn transcript_of_a_delete_and_recreate() {
    let ep = Endpoint::start().await;
    let ds = Ds::new(POOL, &identity(0xa7), "settings");
    let mut t = Transcript::new(&ep);
    t.sync(&ds, json!([replace("a", "1", 0), replace("b", "2", 0)]))
        .await;
    t.sync(&ds, json!([replace("a", "11", 1)])).await;
    t.delete(&ds).await;
    t.describe(&ds).await;
    t.list(&ds, &[("lastSyncCount", "2")]).await;
    t.delete(&ds).await;
    t.sync(&ds, json!([replace("a", "new", 2)])).await;
    t.sync(&ds, json!([replace("a", "new", 0)])).await;
    t.list(&ds, &[]).await;
    t.list(&ds, &[("lastSyncCount", "1")]).await;
    assert_transcript("transcript_delete_and_recreate", &t.into_steps());
}

#[tokio::test]
async fn transcript_of_the_dataset_limit() {
    let ep = Endpoint::start().await;
    let ds = Ds::new(POOL, &identity(0xa8), "d00");
    for i in 0..spec::DATASETS_PER_IDENTITY_MAX {
        ep.write(
            &ds.sibling(&format!("d{i:02}")),
            json!([replace("k", "v", 0)]),
        )
        .await;
    }
    let mut t = Transcript::new(&ep);
    t.note("20 datasets d00..d19 were written, one record k=v each");
    t.list_datasets(&ds).await;
    let extra = ds.sibling("d20");
    t.sync(&extra, json!([replace("k", "v", 0)])).await;
    t.describe(&extra).await;
    t.delete(&ds.sibling("d05")).await;
    t.sync(&extra, json!([replace("k", "v", 0)])).await;
    assert_transcript("transcript_limit_datasets", &t.into_steps());
}

#[tokio::test]
async fn transcript_of_the_record_limit() {
    let ep = Endpoint::start().await;
    let ds = Ds::new(POOL, &identity(0xa9), "many");
    let mut t = Transcript::new(&ep);
    let patches: Vec<Value> = (0..1024)
        .map(|i| replace(&format!("r{i:04}"), "v", 0))
        .collect();
    t.sync(&ds, Value::Array(patches)).await;
    t.describe(&ds).await;
    t.sync(&ds, json!([replace("one-more", "v", 0)])).await;
    t.sync(
        &ds,
        json!([remove("r0000", 1), replace("one-more", "v", 0)]),
    )
    .await;
    t.sync(&ds, json!([replace("r0000", "back", 2)])).await;
    t.describe(&ds).await;
    assert_transcript("transcript_limit_records", &t.into_steps());
}

#[tokio::test]
async fn transcript_of_the_byte_limit() {
    let ep = Endpoint::start().await;
    let ds = Ds::new(POOL, &identity(0xaa), "big");
    let mut t = Transcript::new(&ep);
    t.sync(
        &ds,
        json!([replace("k", &"v".repeat(spec::RECORD_VALUE_LEN_MAX), 0)]),
    )
    .await;
    t.describe(&ds).await;
    t.sync(&ds, json!([replace("x", "", 0)])).await;
    t.sync(&ds, json!([replace("k", &"é".repeat(524_288), 1)]))
        .await;
    t.sync(&ds, json!([remove("k", 1)])).await;
    t.sync(&ds, json!([replace("j", &"é".repeat(300_000), 0)]))
        .await;
    t.describe(&ds).await;
    assert_transcript("transcript_limit_bytes", &t.into_steps());
}

#[tokio::test]
async fn transcript_of_token_errors() {
    let ep = Endpoint::start().await;
    let ds = Ds::new(POOL, &identity(0xab), "settings");
    let mut t = Transcript::new(&ep);
    t.sync(&ds, json!([replace("k", "v", 0)])).await;
    t.update(&ds, json!({"RecordPatches": [replace("k", "w", 1)]}))
        .await;
    t.update(
        &ds,
        json!({"RecordPatches": [replace("k", "w", 1)], "SyncSessionToken": "garbage"}),
    )
    .await;
    let other = ds.sibling("other");
    t.note("the next token was issued for dataset other, not settings");
    let foreign = token_of(&t.list(&other, &[]).await);
    t.update(
        &ds,
        json!({"RecordPatches": [replace("k", "w", 1)], "SyncSessionToken": foreign}),
    )
    .await;
    t.list(&ds, &[("syncSessionToken", "garbage")]).await;
    t.list(&ds, &[("lastSyncCount", "2")]).await;
    t.list(&ds, &[]).await;
    assert_transcript("transcript_token_errors", &t.into_steps());
}

#[tokio::test]
async fn transcript_of_validation_errors() {
    let ep = Endpoint::start().await;
    let ds = Ds::new(POOL, &identity(0xac), "settings");
    let mut t = Transcript::new(&ep);
    let token = token_of(&t.list(&ds, &[]).await);
    let with_token = |patches: Value| json!({"RecordPatches": patches, "SyncSessionToken": token});
    let long_identity = format!("us-east-1:{}", "a".repeat(46));
    t.describe(&Ds::new(POOL, &long_identity, "settings")).await;
    t.describe(&Ds::new(POOL, "us-east-1:ABCDEF", "settings"))
        .await;
    t.describe(&ds.sibling(&"n".repeat(129))).await;
    t.describe(&ds.sibling("bad name")).await;
    t.update(&ds, with_token(json!([replace(&"k".repeat(1025), "v", 0)])))
        .await;
    let mut device = with_token(json!([replace("k", "v", 0)]));
    device["DeviceId"] = json!("d".repeat(257));
    t.update(&ds, device).await;
    t.update(
        &ds,
        with_token(json!([{"Op": "delete", "Key": "k", "SyncCount": 0}])),
    )
    .await;
    t.update(
        &ds,
        with_token(json!([{"Op": "replace", "Key": "k", "SyncCount": 0}])),
    )
    .await;
    t.update(
        &ds,
        with_token(json!([{"Op": "replace", "Key": "k", "Value": "v", "SyncCount": "0"}])),
    )
    .await;
    t.update(
        &ds,
        with_token(json!([{"Op": "replace", "Key": "k", "Value": "v", "SyncCount": 1.5}])),
    )
    .await;
    t.update(
        &ds,
        with_token(json!([replace("k", "a", 0), replace("k", "b", 0)])),
    )
    .await;
    t.call("POST", ds.path(), &[], Some(b"not json".to_vec()))
        .await;
    t.call("GET", "/no/such/route".to_owned(), &[], None).await;
    let last = t.list(&ds, &[]).await;
    assert_eq!(last.json.as_ref().expect("json")["DatasetExists"], false);
    assert_transcript("transcript_validation_errors", &t.into_steps());
}
