//! Cross-checks the vocabulary's constants against the service model, so a typo in a bound,
//! pattern or route cannot hide.
//!
//! The service model is not copied into the project (it carries AWS's prose). It is looked for,
//! in this order, at `$COGSYNC_SERVICE_MODEL`, at `../shared/spec/` beside the checkout, and in
//! an installed botocore (`botocore/data/cognito-sync/2014-06-30/service-2.json`, found through
//! `python3`). Each test prints which file it used. When none is found the tests say so and do
//! nothing, except under `CI`, where a missing model fails them: CI must really run the check.

use std::path::{Path, PathBuf};
use std::process::Command;

use cogsync::spec::{self, ErrorKind};
use serde_json::Value;

/// Prints the cognito-sync service model of an installed botocore, which ships it as
/// `service-2.json` or, in newer releases, `service-2.json.gz`.
const BOTOCORE_MODEL: &str = r#"
import botocore, gzip, os, sys
d = os.path.join(os.path.dirname(botocore.__file__), "data", "cognito-sync", "2014-06-30")
p = os.path.join(d, "service-2.json")
if os.path.exists(p):
    print(p); sys.stdout.write(open(p, encoding="utf-8").read())
else:
    print(p + ".gz"); sys.stdout.write(gzip.open(p + ".gz", "rt", encoding="utf-8").read())
"#;

/// (where it came from, the JSON text) of an installed botocore's model, if there is one.
fn botocore_model() -> Option<(String, String)> {
    let out = Command::new("python3")
        .args(["-c", BOTOCORE_MODEL])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let (path, json) = text.split_once('\n')?;
    Some((format!("{path} (botocore)"), json.to_owned()))
}

fn read_model(path: &Path) -> (String, String) {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("reading the service model {}: {e}", path.display()));
    (path.display().to_string(), text)
}

/// (where it came from, the JSON text) of the service model, looked for in the documented order.
fn model_text() -> Option<(String, String)> {
    if let Some(path) = std::env::var_os("COGSYNC_SERVICE_MODEL") {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "COGSYNC_SERVICE_MODEL names {}, which is not a file",
            path.display()
        );
        return Some(read_model(&path));
    }
    let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/spec/cognito-sync-2014-06-30.service-2.json");
    if shared.is_file() {
        return Some(read_model(&shared));
    }
    botocore_model()
}

/// The service model, or `None` (after saying so) when this machine has none.
fn service_model() -> Option<Value> {
    let Some((source, text)) = model_text() else {
        let hint = "set COGSYNC_SERVICE_MODEL to a service-2.json of cognito-sync, or \
                    `pip install botocore`";
        assert!(
            std::env::var_os("CI").is_none(),
            "the service model was not found and CI is set: {hint}"
        );
        eprintln!("NOT CHECKED: the service model was not found ({hint})");
        return None;
    };
    eprintln!("service model: {source}");
    Some(serde_json::from_str(&text).expect("the service model is JSON"))
}

fn shape<'a>(model: &'a Value, name: &str) -> &'a Value {
    let shape = &model["shapes"][name];
    assert!(shape.is_object(), "shape {name} is in the service model");
    shape
}

fn bound(model: &Value, name: &str, which: &str) -> usize {
    let value = shape(model, name)[which]
        .as_u64()
        .unwrap_or_else(|| panic!("{name}.{which} is a number"));
    usize::try_from(value).expect("fits usize")
}

#[test]
fn length_bounds_match_the_service_model() {
    let Some(m) = service_model() else { return };
    let cases = [
        (
            "IdentityPoolId",
            spec::IDENTITY_POOL_ID_LEN_MIN,
            spec::IDENTITY_POOL_ID_LEN_MAX,
        ),
        (
            "IdentityId",
            spec::IDENTITY_ID_LEN_MIN,
            spec::IDENTITY_ID_LEN_MAX,
        ),
        (
            "DatasetName",
            spec::DATASET_NAME_LEN_MIN,
            spec::DATASET_NAME_LEN_MAX,
        ),
        (
            "RecordKey",
            spec::RECORD_KEY_LEN_MIN,
            spec::RECORD_KEY_LEN_MAX,
        ),
        ("DeviceId", spec::DEVICE_ID_LEN_MIN, spec::DEVICE_ID_LEN_MAX),
    ];
    for (name, min, max) in cases {
        assert_eq!(bound(&m, name, "min"), min, "{name} min");
        assert_eq!(bound(&m, name, "max"), max, "{name} max");
    }
    assert_eq!(bound(&m, "RecordValue", "max"), spec::RECORD_VALUE_LEN_MAX);
    assert!(
        shape(&m, "RecordValue").get("min").is_none(),
        "RecordValue has no minimum"
    );
}

#[test]
fn patterns_match_the_service_model() {
    let Some(m) = service_model() else { return };
    for name in ["IdentityPoolId", "IdentityId"] {
        assert_eq!(shape(&m, name)["pattern"], spec::IDENTITY_PATTERN, "{name}");
    }
    assert_eq!(
        shape(&m, "DatasetName")["pattern"],
        spec::DATASET_NAME_PATTERN
    );
}

#[test]
fn operation_enum_matches_the_service_model() {
    let Some(m) = service_model() else { return };
    let values: Vec<&str> = shape(&m, "Operation")["enum"]
        .as_array()
        .expect("Operation is an enum")
        .iter()
        .map(|v| v.as_str().expect("enum values are strings"))
        .collect();
    assert_eq!(values, spec::OPERATION_VALUES);
}

#[test]
fn error_statuses_and_names_match_the_service_model() {
    let Some(m) = service_model() else { return };
    let mut checked = 0;
    for kind in ErrorKind::ALL.into_iter().filter(|k| k.is_service_shape()) {
        let name = kind.type_name();
        // Serialization and Validation are protocol-level shapes the model does not declare.
        if matches!(kind, ErrorKind::Serialization | ErrorKind::Validation) {
            assert!(m["shapes"][name].is_null(), "{name} is not a model shape");
            assert_eq!(kind.status(), 400);
            continue;
        }
        let s = shape(&m, name);
        assert_eq!(s["exception"], true, "{name} is an exception");
        assert_eq!(s["error"]["httpStatusCode"], kind.status(), "{name} status");
        checked += 1;
    }
    assert_eq!(checked, 13);
}

#[test]
fn every_error_the_six_operations_declare_has_a_kind() {
    let Some(m) = service_model() else { return };
    let known: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.type_name()).collect();
    for op in [
        "UpdateRecords",
        "ListRecords",
        "DescribeDataset",
        "ListDatasets",
        "DeleteDataset",
        "DescribeIdentityUsage",
    ] {
        for error in m["operations"][op]["errors"]
            .as_array()
            .expect("errors list")
        {
            let name = error["shape"].as_str().expect("shape name");
            // Lambda-hook errors only arise with Cognito Events, which this project does not model.
            if name.starts_with("InvalidLambda") || name.starts_with("LambdaThrottled") {
                continue;
            }
            assert!(
                known.contains(&name),
                "{op} declares {name}, which ErrorKind lacks"
            );
        }
    }
}

#[test]
fn routes_match_the_service_model() {
    let Some(m) = service_model() else { return };
    let operations = m["operations"].as_object().expect("operations");
    assert_eq!(
        operations.len(),
        spec::ROUTES.len(),
        "the route table has every operation of the service (SPEC §10)"
    );
    for route in &spec::ROUTES {
        let http = &m["operations"][route.operation]["http"];
        assert_eq!(http["method"], route.method, "{} method", route.operation);
        assert_eq!(
            http["requestUri"], route.template,
            "{} uri",
            route.operation
        );
    }
}

#[test]
fn member_names_of_the_wire_shapes_match_the_service_model() {
    let Some(m) = service_model() else { return };
    let members = |name: &str| -> Vec<String> {
        let mut v: Vec<String> = shape(&m, name)["members"]
            .as_object()
            .expect("members")
            .keys()
            .cloned()
            .collect();
        v.sort();
        v
    };
    let keys = |value: Value| -> Vec<String> {
        let mut v: Vec<String> = value.as_object().expect("object").keys().cloned().collect();
        v.sort();
        v
    };
    let full_record = spec::Record {
        key: Some(String::new()),
        value: Some(String::new()),
        sync_count: Some(0),
        last_modified_date: Some(0.0),
        last_modified_by: Some(String::new()),
        device_last_modified_date: Some(0.0),
    };
    assert_eq!(
        keys(serde_json::to_value(full_record).expect("json")),
        members("Record")
    );
    let full_patch = spec::RecordPatch {
        op: Some(String::new()),
        key: Some(String::new()),
        value: Some(String::new()),
        sync_count: Some(0),
        device_last_modified_date: Some(0.0),
    };
    assert_eq!(
        keys(serde_json::to_value(full_patch).expect("json")),
        members("RecordPatch")
    );
    let full_dataset = spec::Dataset {
        identity_id: Some(String::new()),
        dataset_name: Some(String::new()),
        creation_date: Some(0.0),
        last_modified_date: Some(0.0),
        last_modified_by: Some(String::new()),
        data_storage: Some(0),
        num_records: Some(0),
    };
    assert_eq!(
        keys(serde_json::to_value(full_dataset).expect("json")),
        members("Dataset")
    );
    let full_list = spec::ListRecordsResponse {
        records: Some(vec![]),
        next_token: Some(String::new()),
        count: Some(0),
        dataset_sync_count: Some(0),
        last_modified_by: Some(String::new()),
        merged_dataset_names: Some(vec![]),
        dataset_exists: Some(false),
        dataset_deleted_after_requested_sync_count: Some(false),
        sync_session_token: Some(String::new()),
    };
    assert_eq!(
        keys(serde_json::to_value(full_list).expect("json")),
        members("ListRecordsResponse")
    );
    let full_usage = spec::IdentityUsage {
        identity_id: Some(String::new()),
        identity_pool_id: Some(String::new()),
        last_modified_date: Some(0.0),
        dataset_count: Some(0),
        data_storage: Some(0),
    };
    assert_eq!(
        keys(serde_json::to_value(full_usage).expect("json")),
        members("IdentityUsage")
    );
}
