//! Cross-checks the vocabulary's constants against the service model shipped beside the project
//! (`../shared/spec/cognito-sync-2014-06-30.service-2.json`), so a typo in a bound or pattern
//! cannot hide.

use std::path::PathBuf;

use cogsync::spec::{self, ErrorKind};
use serde_json::Value;

fn service_model() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/spec/cognito-sync-2014-06-30.service-2.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("the service model must be at {}: {e}", path.display()));
    serde_json::from_str(&text).expect("the service model is JSON")
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
    let m = service_model();
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
    let m = service_model();
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
    let m = service_model();
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
    let m = service_model();
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
    assert_eq!(checked, 7);
}

#[test]
fn every_error_the_six_operations_declare_has_a_kind() {
    let m = service_model();
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
    let m = service_model();
    let dataset = "/identitypools/{IdentityPoolId}/identities/{IdentityId}/datasets/{DatasetName}";
    let expected = [
        ("UpdateRecords", "POST", dataset.to_owned()),
        ("ListRecords", "GET", format!("{dataset}/records")),
        ("DescribeDataset", "GET", dataset.to_owned()),
        ("DeleteDataset", "DELETE", dataset.to_owned()),
        (
            "ListDatasets",
            "GET",
            "/identitypools/{IdentityPoolId}/identities/{IdentityId}/datasets".to_owned(),
        ),
        (
            "DescribeIdentityUsage",
            "GET",
            "/identitypools/{IdentityPoolId}/identities/{IdentityId}".to_owned(),
        ),
    ];
    for (op, method, uri) in expected {
        let http = &m["operations"][op]["http"];
        assert_eq!(http["method"], method, "{op} method");
        assert_eq!(http["requestUri"], uri.as_str(), "{op} uri");
    }
}

#[test]
fn member_names_of_the_wire_shapes_match_the_service_model() {
    let m = service_model();
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
