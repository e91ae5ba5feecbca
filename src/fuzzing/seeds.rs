//! Seed inputs for every target, built from realistic requests: what the official sync
//! clients send (SPEC §9), plus the classic near misses of each rule.
//!
//! `tests/fuzz_corpus.rs` writes them to `fuzz/corpus/<target>/` when run with
//! `COGSYNC_WRITE_SEEDS=1`; the committed files are that output.

use super::model_server::{CountPick, Op, Scenario, ScenarioPatch, TokenPick};
use super::validate::{PatchInput, Text, UpdateInput};

const POOL: &str = "us-east-1%3A0a0b0c0d-0000-4000-8000-000000000000";
const IDENTITY: &str = "us-east-1%3A0a0b0c0d-0000-4000-8000-000000000001";

fn identity_path() -> String {
    format!("/identitypools/{POOL}/identities/{IDENTITY}")
}

fn http(method: &str, tail: &str, headers: &[&str], body: &str) -> Vec<u8> {
    let mut text = format!("{method} {}{tail}\n", identity_path());
    for h in headers {
        text.push_str(h);
        text.push('\n');
    }
    text.push('\n');
    text.push_str(body);
    text.into_bytes()
}

const SYNC_BODY: &str = r#"{"DeviceId":"LGE-Nexus5-7f2c","SyncSessionToken":"AQoDYXdzEJr...","RecordPatches":[{"Op":"replace","Key":"highScore","Value":"1200","SyncCount":3,"DeviceLastModifiedDate":1.700000123456E9},{"Op":"remove","Key":"tmp","SyncCount":1}]}"#;

/// Seeds of `parse_request`: one named input per line of the table.
pub fn parse_request() -> Vec<(&'static str, Vec<u8>)> {
    let json = "Content-Type: application/x-amz-json-1.1";
    vec![
        ("update-ios", http("POST", "/datasets/settings", &[json, "X-Amz-Client-Context: eyJjbGllbnQiOnt9fQ=="], SYNC_BODY)),
        ("update-json", http("POST", "/datasets/game%3Astate", &["Content-Type: application/json"], r#"{"SyncSessionToken":"t","RecordPatches":[{"Op":"replace","Key":"k\u00e9","Value":"","SyncCount":0}]}"#)),
        ("update-empty-patches", http("POST", "/datasets/settings", &[], r#"{"SyncSessionToken":"t","RecordPatches":[]}"#)),
        ("update-no-body", http("POST", "/datasets/settings", &[], "")),
        ("update-dup-member", http("POST", "/datasets/settings", &[], r#"{"SyncSessionToken":"a","SyncSessionToken":"b"}"#)),
        ("update-wrong-type", http("POST", "/datasets/settings", &[], r#"{"SyncSessionToken":"t","RecordPatches":[{"Op":"remove","Key":"k","SyncCount":"1"}]}"#)),
        ("update-float-count", http("POST", "/datasets/settings", &[], r#"{"SyncSessionToken":"t","RecordPatches":[{"Op":"remove","Key":"k","SyncCount":1.5}]}"#)),
        ("update-huge-count", http("POST", "/datasets/settings", &[], r#"{"SyncSessionToken":"t","RecordPatches":[{"Op":"remove","Key":"k","SyncCount":9223372036854775808}]}"#)),
        ("update-bad-op", http("POST", "/datasets/settings", &[], r#"{"SyncSessionToken":"t","RecordPatches":[{"Op":"Replace","Key":"k","Value":"v","SyncCount":0}]}"#)),
        ("update-replace-no-value", http("POST", "/datasets/settings", &[], r#"{"SyncSessionToken":"t","RecordPatches":[{"Op":"replace","Key":"k","SyncCount":0}]}"#)),
        ("update-nested-unknown", http("POST", "/datasets/settings", &[], r#"{"SyncSessionToken":"t","X":{"a":[1,{"b":null}]},"RecordPatches":null}"#)),
        ("update-not-json", http("POST", "/datasets/settings", &["Content-Type: text/plain"], "SyncSessionToken=t")),
        ("list-client", http("GET", "/datasets/settings/records", &[], "")),
        ("list-params", format!("GET {}/datasets/settings/records?lastSyncCount=4&maxResults=1024&syncSessionToken=AQo%3D\n\n", identity_path()).into_bytes()),
        ("list-next-token", format!("GET {}/datasets/settings/records?nextToken=eyJwIjoxfQ%3D%3D&maxResults=2\n\n", identity_path()).into_bytes()),
        ("list-bad-number", format!("GET {}/datasets/settings/records?lastSyncCount=1.5&maxResults=-1\n\n", identity_path()).into_bytes()),
        ("list-plus-sign", format!("GET {}/datasets/settings/records?lastSyncCount=+3&nextToken=a+b\n\n", identity_path()).into_bytes()),
        ("describe", http("GET", "/datasets/settings", &[], "")),
        ("describe-colon", http("GET", "/datasets/a%3Ab.c-d_e", &[], "")),
        ("describe-bad-utf8-label", http("GET", "/datasets/a%FFb", &[], "")),
        ("describe-slash-label", http("GET", "/datasets/a%2Fb", &[], "")),
        ("delete", http("DELETE", "/datasets/settings", &[], "")),
        ("list-datasets", http("GET", "/datasets", &[], "")),
        ("list-datasets-page", format!("GET {}/datasets?maxResults=64&nextToken=x\n\n", identity_path()).into_bytes()),
        ("usage", http("GET", "", &[], "")),
        ("usage-body-array", http("GET", "", &[], "[1,2]")),
        ("unknown-method", http("PUT", "/datasets/settings", &[], "{}")),
        ("unknown-route", http("GET", "/datasets/settings/records/extra", &[], "")),
        ("trailing-slash", http("GET", "/datasets/", &[], "")),
        ("upper-hex-identity", b"GET /identitypools/us-east-1%3A0A/identities/us-east-1%3A0b/datasets\n\n".to_vec()),
        ("root", b"GET /\n\n".to_vec()),
    ]
}

/// Seeds of `json_body`.
pub fn json_body() -> Vec<(&'static str, Vec<u8>)> {
    let bodies: Vec<(&'static str, String)> = vec![
        ("sync", SYNC_BODY.to_owned()),
        ("minimal", r#"{"SyncSessionToken":"t"}"#.to_owned()),
        ("empty-object", "{}".to_owned()),
        ("empty", String::new()),
        ("empty-patches", r#"{"SyncSessionToken":"t","RecordPatches":[]}"#.to_owned()),
        ("null-members", r#"{"DeviceId":null,"RecordPatches":null,"SyncSessionToken":"t"}"#.to_owned()),
        ("unicode-escapes", r#"{"SyncSessionToken":"t","RecordPatches":[{"Op":"replace","Key":"\u65e5\u672c","Value":"\ud83d\udd11","SyncCount":0}]}"#.to_owned()),
        ("lone-surrogate", r#"{"SyncSessionToken":"\ud800"}"#.to_owned()),
        ("dup-key", r#"{"SyncSessionToken":"t","RecordPatches":[{"Op":"remove","Key":"a","Key":"b","SyncCount":0}]}"#.to_owned()),
        ("dup-patch-keys", r#"{"SyncSessionToken":"t","RecordPatches":[{"Op":"remove","Key":"a","SyncCount":0},{"Op":"replace","Key":"a","Value":"v","SyncCount":0}]}"#.to_owned()),
        ("count-string", r#"{"SyncSessionToken":"t","RecordPatches":[{"Op":"remove","Key":"k","SyncCount":"0"}]}"#.to_owned()),
        ("count-exp", r#"{"SyncSessionToken":"t","RecordPatches":[{"Op":"remove","Key":"k","SyncCount":1e2}]}"#.to_owned()),
        ("count-negative", r#"{"SyncSessionToken":"t","RecordPatches":[{"Op":"remove","Key":"k","SyncCount":-9223372036854775808}]}"#.to_owned()),
        ("date-fraction", r#"{"SyncSessionToken":"t","RecordPatches":[{"Op":"remove","Key":"k","SyncCount":0,"DeviceLastModifiedDate":1700000000.123}]}"#.to_owned()),
        ("date-huge", r#"{"SyncSessionToken":"t","RecordPatches":[{"Op":"remove","Key":"k","SyncCount":0,"DeviceLastModifiedDate":1e400}]}"#.to_owned()),
        ("date-string", r#"{"SyncSessionToken":"t","RecordPatches":[{"Op":"remove","Key":"k","SyncCount":0,"DeviceLastModifiedDate":"2020-01-01"}]}"#.to_owned()),
        ("patches-object", r#"{"SyncSessionToken":"t","RecordPatches":{"Op":"remove"}}"#.to_owned()),
        ("patch-array", r#"{"SyncSessionToken":"t","RecordPatches":[["remove","k",0]]}"#.to_owned()),
        ("deep-unknown", format!(r#"{{"SyncSessionToken":"t","X":{}1{}}}"#, "[".repeat(200), "]".repeat(200))),
        ("deep-patches", format!(r#"{{"RecordPatches":{}"#, "[".repeat(300))),
        ("trailing-garbage", r#"{"SyncSessionToken":"t"} x"#.to_owned()),
        ("long-key", format!(r#"{{"SyncSessionToken":"t","RecordPatches":[{{"Op":"remove","Key":"{}","SyncCount":0}}]}}"#, "k".repeat(1025))),
        ("long-device", format!(r#"{{"SyncSessionToken":"t","DeviceId":"{}"}}"#, "\\u00e9".repeat(257))),
        ("array", "[]".to_owned()),
        ("bom", "\u{feff}{}".to_owned()),
    ];
    let mut seeds: Vec<(&'static str, Vec<u8>)> = bodies
        .into_iter()
        .map(|(n, b)| (n, b.into_bytes()))
        .collect();
    seeds.push((
        "invalid-utf8",
        b"{\"SyncSessionToken\":\"\xff\xfe\"}".to_vec(),
    ));
    seeds
}

fn patch(op: &str, key: Text, value: Option<Text>, count: i64) -> PatchInput {
    PatchInput {
        op: Some(Text::of(op)),
        key: Some(key),
        value,
        sync_count: Some(count),
    }
}

fn update(dataset: Text, patches: Vec<PatchInput>) -> UpdateInput {
    UpdateInput {
        pool: Text::of("us-east-1:0a0b0c0d-0000-4000-8000-000000000000"),
        identity: Text::Identity {
            region: 0,
            hex: vec![1, 2, 3, 16, 10, 11],
        },
        dataset,
        device_id: Some(Text::of("LGE-Nexus5-7f2c")),
        patches: Some(patches),
        token: Some(Text::of("AQoDYXdzEJr")),
    }
}

fn sized(bound: u8, delta: u8, fill: u8) -> Text {
    Text::Sized {
        bound,
        delta,
        fill,
        tweak: None,
    }
}

/// Seeds of `validate`: a client's request, then one member at or past each bound.
pub fn validate() -> Vec<(&'static str, Vec<u8>)> {
    let ok = || patch("replace", Text::of("highScore"), Some(Text::of("1200")), 3);
    let settings = || Text::of("settings");
    let mut seeds = vec![
        (
            "client",
            update(
                settings(),
                vec![ok(), patch("remove", Text::of("tmp"), None, 1)],
            ),
        ),
        ("colon-name", update(Text::of("game:state"), vec![ok()])),
        ("name-at-max", update(sized(2, 2, 0), vec![ok()])),
        ("name-past-max", update(sized(2, 3, 0), vec![ok()])),
        ("name-non-ascii", update(sized(2, 0, 1), vec![ok()])),
        (
            "name-with-space",
            update(
                Text::Sized {
                    bound: 2,
                    delta: 0,
                    fill: 3,
                    tweak: Some((10, 1)),
                },
                vec![ok()],
            ),
        ),
        (
            "key-at-max-multibyte",
            update(settings(), vec![patch("remove", sized(4, 2, 2), None, 0)]),
        ),
        (
            "key-past-max-multibyte",
            update(settings(), vec![patch("remove", sized(4, 3, 1), None, 0)]),
        ),
        (
            "key-empty",
            update(settings(), vec![patch("remove", Text::of(""), None, 0)]),
        ),
        (
            "value-empty",
            update(
                settings(),
                vec![patch("replace", Text::of("k"), Some(Text::of("")), 0)],
            ),
        ),
        (
            "replace-no-value",
            update(settings(), vec![patch("replace", Text::of("k"), None, 0)]),
        ),
        (
            "op-upper",
            update(
                settings(),
                vec![patch("Replace", Text::of("k"), Some(Text::of("v")), 0)],
            ),
        ),
        (
            "device-past-max",
            UpdateInput {
                device_id: Some(sized(3, 3, 0)),
                ..update(settings(), vec![ok()])
            },
        ),
        (
            "device-empty",
            UpdateInput {
                device_id: Some(Text::of("")),
                ..update(settings(), vec![ok()])
            },
        ),
        (
            "no-token",
            UpdateInput {
                token: None,
                ..update(settings(), vec![ok()])
            },
        ),
        (
            "no-patches",
            UpdateInput {
                patches: None,
                ..update(settings(), vec![])
            },
        ),
        (
            "identity-upper-hex",
            UpdateInput {
                identity: Text::of("us-east-1:0A"),
                ..update(settings(), vec![ok()])
            },
        ),
        (
            "identity-two-colons",
            UpdateInput {
                identity: Text::of("a:b:c"),
                ..update(settings(), vec![ok()])
            },
        ),
        (
            "identity-unicode-word",
            UpdateInput {
                identity: Text::Identity {
                    region: 5,
                    hex: vec![1],
                },
                ..update(settings(), vec![ok()])
            },
        ),
        (
            "pool-past-max",
            UpdateInput {
                pool: Text::Identity {
                    region: 0,
                    hex: vec![1; 46],
                },
                ..update(settings(), vec![ok()])
            },
        ),
        (
            "pool-at-max",
            UpdateInput {
                pool: Text::Identity {
                    region: 0,
                    hex: vec![1; 45],
                },
                ..update(settings(), vec![ok()])
            },
        ),
        (
            "empty-label",
            UpdateInput {
                pool: Text::of(""),
                ..update(settings(), vec![ok()])
            },
        ),
        (
            "missing-count",
            update(
                settings(),
                vec![PatchInput {
                    sync_count: None,
                    ..ok()
                }],
            ),
        ),
        (
            "missing-op",
            update(settings(), vec![PatchInput { op: None, ..ok() }]),
        ),
    ];
    let big_value = update(
        settings(),
        vec![patch(
            "replace",
            Text::of("k"),
            Some(sized(u8::MAX, 3, 0)),
            0,
        )],
    );
    seeds.push(("value-past-max", big_value));
    seeds.into_iter().map(|(n, i)| (n, i.encode())).collect()
}

fn write(ds: u8, key: u8, count: CountPick) -> Op {
    Op::Update {
        ds,
        device: Some(0),
        patches: Some(vec![ScenarioPatch {
            remove: false,
            key,
            value: Some(1),
            count,
            date: Some(7),
        }]),
        token: TokenPick::Latest,
    }
}

fn remove(ds: u8, key: u8) -> Op {
    Op::Update {
        ds,
        device: None,
        patches: Some(vec![ScenarioPatch {
            remove: true,
            key,
            value: None,
            count: CountPick::Current,
            date: None,
        }]),
        token: TokenPick::Latest,
    }
}

fn list(ds: u8) -> Op {
    Op::List {
        ds,
        last_sync_count: None,
        max_results: None,
        token: TokenPick::Missing,
        garbage_next_token: false,
    }
}

fn list_from(ds: u8, count: CountPick, max_results: u8) -> Op {
    Op::List {
        ds,
        last_sync_count: Some(count),
        max_results: Some(max_results),
        token: TokenPick::Missing,
        garbage_next_token: false,
    }
}

/// Seeds of `model_vs_server`: sync-client sessions and the classic races with oneself.
pub fn model_vs_server() -> Vec<(&'static str, Vec<u8>)> {
    let scenarios: Vec<(&'static str, Vec<Op>)> = vec![
        (
            "first-sync",
            vec![list(0), write(0, 0, CountPick::Current), list(0)],
        ),
        (
            "stale-write",
            vec![
                list(0),
                write(0, 0, CountPick::Current),
                write(0, 0, CountPick::Offset(-1)),
            ],
        ),
        (
            "higher-write",
            vec![list(0), write(0, 0, CountPick::Offset(1))],
        ),
        (
            "tombstone",
            vec![
                list(1),
                write(1, 3, CountPick::Current),
                remove(1, 3),
                list(1),
                write(1, 3, CountPick::Current),
            ],
        ),
        (
            "remove-never-written",
            vec![list(2), remove(2, 5), list_from(2, CountPick::Raw(0), 1)],
        ),
        (
            "paging",
            vec![
                list(0),
                write(0, 0, CountPick::Current),
                write(0, 1, CountPick::Current),
                write(0, 2, CountPick::Current),
                list_from(0, CountPick::Raw(0), 3),
                list_from(0, CountPick::Raw(1), 3),
            ],
        ),
        (
            "list-ahead",
            vec![
                list(0),
                write(0, 0, CountPick::Current),
                list_from(0, CountPick::Offset(1), 255),
            ],
        ),
        (
            "delete-recreate",
            vec![
                list(0),
                write(0, 4, CountPick::Current),
                Op::Delete { ds: 0 },
                Op::Describe { ds: 0 },
                list_from(0, CountPick::Raw(1), 2),
                write(0, 4, CountPick::Current),
                Op::Describe { ds: 0 },
            ],
        ),
        (
            "token-other-dataset",
            vec![
                list(0),
                list(3),
                Op::Update {
                    ds: 0,
                    device: None,
                    patches: Some(vec![]),
                    token: TokenPick::Of(3),
                },
            ],
        ),
        (
            "token-garbage",
            vec![
                list(0),
                Op::Update {
                    ds: 0,
                    device: None,
                    patches: Some(vec![]),
                    token: TokenPick::Garbage,
                },
            ],
        ),
        (
            "token-missing",
            vec![Op::Update {
                ds: 0,
                device: None,
                patches: None,
                token: TokenPick::Missing,
            }],
        ),
        (
            "token-expiry",
            vec![
                list(0),
                Op::Wait { secs: 180 },
                write(0, 0, CountPick::Current),
                Op::Wait { secs: 1 },
                write(0, 1, CountPick::Current),
            ],
        ),
        (
            "long-and-bad-keys",
            vec![
                list(0),
                write(0, 6, CountPick::Current),
                write(0, 7, CountPick::Current),
                write(0, 8, CountPick::Current),
            ],
        ),
        (
            "dup-keys",
            vec![
                list(0),
                Op::Update {
                    ds: 0,
                    device: Some(2),
                    patches: Some(vec![
                        ScenarioPatch {
                            remove: false,
                            key: 0,
                            value: Some(0),
                            count: CountPick::Current,
                            date: None,
                        },
                        ScenarioPatch {
                            remove: true,
                            key: 0,
                            value: None,
                            count: CountPick::Current,
                            date: None,
                        },
                    ]),
                    token: TokenPick::Latest,
                },
            ],
        ),
        (
            "usage-and-datasets",
            vec![
                Op::Usage { identity: 0 },
                list(0),
                write(0, 0, CountPick::Current),
                list(1),
                write(1, 1, CountPick::Current),
                Op::ListDatasets {
                    identity: 0,
                    max_results: Some(3),
                },
                Op::Usage { identity: 0 },
            ],
        ),
        (
            "garbage-next-token",
            vec![Op::List {
                ds: 0,
                last_sync_count: None,
                max_results: Some(5),
                token: TokenPick::Missing,
                garbage_next_token: true,
            }],
        ),
        (
            "max-results-zero",
            vec![
                list_from(0, CountPick::Raw(0), 2),
                Op::ListDatasets {
                    identity: 1,
                    max_results: Some(1),
                },
            ],
        ),
        (
            "replace-no-value",
            vec![
                list(0),
                Op::Update {
                    ds: 0,
                    device: None,
                    patches: Some(vec![ScenarioPatch {
                        remove: false,
                        key: 1,
                        value: None,
                        count: CountPick::Current,
                        date: None,
                    }]),
                    token: TokenPick::Latest,
                },
            ],
        ),
    ];
    scenarios
        .into_iter()
        .map(|(n, ops)| (n, Scenario { ops }.encode()))
        .collect()
}

/// Seeds of the target named `target`, or `None` for an unknown name.
pub fn for_target(target: &str) -> Option<Vec<(&'static str, Vec<u8>)>> {
    match target {
        "parse_request" => Some(parse_request()),
        "validate" => Some(validate()),
        "json_body" => Some(json_body()),
        "model_vs_server" => Some(model_vs_server()),
        _ => None,
    }
}
