//! Wire shapes of the six dataset operations, named as in the service model.
//!
//! Body shapes are lenient on purpose: every member is optional and strings are not yet
//! validated, so a server can tell a missing member (ValidationException) from a wrongly typed
//! one (SerializationException), and a suite can send and read whatever an endpoint does.
//! Timestamps are epoch seconds as JSON numbers (ERR-4).

use serde::{Deserialize, Serialize};

/// Epoch seconds, possibly fractional, as the service puts them on the wire.
pub type Timestamp = f64;

/// One change to one record in an UpdateRecords request.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RecordPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_last_modified_date: Option<Timestamp>,
}

/// A record as the service returns it; a tombstone has no `Value`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Record {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified_date: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_last_modified_date: Option<Timestamp>,
}

/// A dataset's metadata.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Dataset {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_date: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified_date: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_storage: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_records: Option<i64>,
}

/// Usage of one identity across its datasets.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IdentityUsage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_pool_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified_date: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_storage: Option<i64>,
}

/// Path labels shared by every dataset-level operation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DatasetPath {
    pub identity_pool_id: String,
    pub identity_id: String,
    pub dataset_name: String,
}

/// Path labels of the identity-level operations.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IdentityPath {
    pub identity_pool_id: String,
    pub identity_id: String,
}

/// The JSON body of UpdateRecords.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateRecordsBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_patches: Option<Vec<RecordPatch>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_session_token: Option<String>,
}

/// `POST /identitypools/{IdentityPoolId}/identities/{IdentityId}/datasets/{DatasetName}`
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateRecordsRequest {
    pub path: DatasetPath,
    /// Header `x-amz-Client-Context`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_context: Option<String>,
    pub body: UpdateRecordsBody,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateRecordsResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<Vec<Record>>,
}

/// `GET .../datasets/{DatasetName}/records`; the optional members are query parameters.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListRecordsRequest {
    pub path: DatasetPath,
    /// `lastSyncCount`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync_count: Option<i64>,
    /// `maxResults`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_results: Option<i32>,
    /// `nextToken`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    /// `syncSessionToken`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_session_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListRecordsResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<Vec<Record>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_sync_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_dataset_names: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_exists: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_deleted_after_requested_sync_count: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_session_token: Option<String>,
}

/// `GET .../datasets/{DatasetName}`
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeDatasetRequest {
    pub path: DatasetPath,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeDatasetResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<Dataset>,
}

/// `GET /identitypools/{IdentityPoolId}/identities/{IdentityId}/datasets`
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListDatasetsRequest {
    pub path: IdentityPath,
    /// `maxResults`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_results: Option<i32>,
    /// `nextToken`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListDatasetsResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datasets: Option<Vec<Dataset>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// `DELETE .../datasets/{DatasetName}`
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteDatasetRequest {
    pub path: DatasetPath,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteDatasetResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<Dataset>,
}

/// `GET /identitypools/{IdentityPoolId}/identities/{IdentityId}`
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeIdentityUsageRequest {
    pub path: IdentityPath,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeIdentityUsageResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_usage: Option<IdentityUsage>,
}

/// ERR-1: the body of every error answer. `__type` is optional on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ErrorBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(rename = "__type", default, skip_serializing_if = "Option::is_none")]
    pub type_name: Option<String>,
}

/// Any one of the six operations, as a client sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "Operation")]
pub enum Request {
    UpdateRecords(UpdateRecordsRequest),
    ListRecords(ListRecordsRequest),
    DescribeDataset(DescribeDatasetRequest),
    ListDatasets(ListDatasetsRequest),
    DeleteDataset(DeleteDatasetRequest),
    DescribeIdentityUsage(DescribeIdentityUsageRequest),
}

impl Request {
    /// The service model's name of the operation.
    pub const fn operation_name(&self) -> &'static str {
        match self {
            Request::UpdateRecords(_) => "UpdateRecords",
            Request::ListRecords(_) => "ListRecords",
            Request::DescribeDataset(_) => "DescribeDataset",
            Request::ListDatasets(_) => "ListDatasets",
            Request::DeleteDataset(_) => "DeleteDataset",
            Request::DescribeIdentityUsage(_) => "DescribeIdentityUsage",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_records_body_uses_service_member_names() {
        let body = UpdateRecordsBody {
            device_id: Some("dev".into()),
            record_patches: Some(vec![RecordPatch {
                op: Some("replace".into()),
                key: Some("k".into()),
                value: Some("v".into()),
                sync_count: Some(0),
                device_last_modified_date: Some(1.5),
            }]),
            sync_session_token: Some("t".into()),
        };
        let json = serde_json::to_value(&body).expect("serializes");
        assert_eq!(
            json,
            serde_json::json!({"DeviceId": "dev", "SyncSessionToken": "t", "RecordPatches": [
                {"Op": "replace", "Key": "k", "Value": "v", "SyncCount": 0, "DeviceLastModifiedDate": 1.5}
            ]})
        );
        assert_eq!(
            serde_json::from_value::<UpdateRecordsBody>(json).expect("parses"),
            body
        );
    }

    #[test]
    fn error_body_reads_type_member() {
        let body: ErrorBody =
            serde_json::from_str(r#"{"message":"m","__type":"ResourceConflictException"}"#)
                .expect("parses");
        assert_eq!(body.type_name.as_deref(), Some("ResourceConflictException"));
    }
}
