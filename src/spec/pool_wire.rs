//! Wire shapes of the eleven pool-level and push-sync operations (spec §10, §11), as the
//! service model names their members. Every member is optional on the wire: a checker reads
//! what came and says what is missing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::wire::{DatasetPath, IdentityPath, Timestamp};

/// `PushSync` of an identity pool's configuration (CFG-1).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PushSync {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_arns: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
}

/// `CognitoStreams` of an identity pool's configuration (CFG-1).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CognitoStreams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub streaming_status: Option<String>,
}

/// The body of SetIdentityPoolConfiguration (CFG-1).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PoolConfigurationBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_sync: Option<PushSync>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cognito_streams: Option<CognitoStreams>,
}

/// The answer of Set- and GetIdentityPoolConfiguration (CFG-1, CFG-2).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PoolConfigurationResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_pool_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_sync: Option<PushSync>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cognito_streams: Option<CognitoStreams>,
}

/// The body of SetCognitoEvents and the answer of GetCognitoEvents (EVT-1).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CognitoEvents {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<BTreeMap<String, String>>,
}

/// The body of RegisterDevice (DEV-1).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RegisterDeviceBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// The answer of RegisterDevice (DEV-1).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RegisterDeviceResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
}

/// One pool's usage (POOL-1, POOL-2).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IdentityPoolUsage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_pool_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_sessions_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_storage: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified_date: Option<Timestamp>,
}

/// The answer of DescribeIdentityPoolUsage (POOL-1).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeIdentityPoolUsageResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_pool_usage: Option<IdentityPoolUsage>,
}

/// One page of ListIdentityPoolUsage (POOL-2).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListIdentityPoolUsageResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_pool_usages: Option<Vec<IdentityPoolUsage>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_results: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// The answer of BulkPublish (BULK-1).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BulkPublishResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_pool_id: Option<String>,
}

/// The answer of GetBulkPublishDetails (BULK-2).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BulkPublishDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_pool_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bulk_publish_start_time: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bulk_publish_complete_time: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bulk_publish_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_message: Option<String>,
}

/// One call of the eleven, as a client sends it; path labels are sent as given (a checker
/// may send invalid ones on purpose).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "Operation")]
pub enum PoolRequest {
    DescribeIdentityPoolUsage {
        identity_pool_id: String,
    },
    /// The first page; a walk follows `NextToken`.
    ListIdentityPoolUsage {
        max_results: Option<i32>,
        next_token: Option<String>,
    },
    SetIdentityPoolConfiguration {
        identity_pool_id: String,
        body: PoolConfigurationBody,
    },
    GetIdentityPoolConfiguration {
        identity_pool_id: String,
    },
    SetCognitoEvents {
        identity_pool_id: String,
        body: CognitoEvents,
    },
    GetCognitoEvents {
        identity_pool_id: String,
    },
    RegisterDevice {
        identity: IdentityPath,
        body: RegisterDeviceBody,
    },
    SubscribeToDataset {
        path: DatasetPath,
        device_id: String,
    },
    UnsubscribeFromDataset {
        path: DatasetPath,
        device_id: String,
    },
    BulkPublish {
        identity_pool_id: String,
    },
    GetBulkPublishDetails {
        identity_pool_id: String,
    },
}

impl PoolRequest {
    /// The service model's name of the operation.
    pub const fn operation_name(&self) -> &'static str {
        match self {
            PoolRequest::DescribeIdentityPoolUsage { .. } => "DescribeIdentityPoolUsage",
            PoolRequest::ListIdentityPoolUsage { .. } => "ListIdentityPoolUsage",
            PoolRequest::SetIdentityPoolConfiguration { .. } => "SetIdentityPoolConfiguration",
            PoolRequest::GetIdentityPoolConfiguration { .. } => "GetIdentityPoolConfiguration",
            PoolRequest::SetCognitoEvents { .. } => "SetCognitoEvents",
            PoolRequest::GetCognitoEvents { .. } => "GetCognitoEvents",
            PoolRequest::RegisterDevice { .. } => "RegisterDevice",
            PoolRequest::SubscribeToDataset { .. } => "SubscribeToDataset",
            PoolRequest::UnsubscribeFromDataset { .. } => "UnsubscribeFromDataset",
            PoolRequest::BulkPublish { .. } => "BulkPublish",
            PoolRequest::GetBulkPublishDetails { .. } => "GetBulkPublishDetails",
        }
    }
}

/// The eleven operations, in name order (as [`super::ROUTES`] lists them).
pub const POOL_OPERATIONS: [&str; 11] = [
    "BulkPublish",
    "DescribeIdentityPoolUsage",
    "GetBulkPublishDetails",
    "GetCognitoEvents",
    "GetIdentityPoolConfiguration",
    "ListIdentityPoolUsage",
    "RegisterDevice",
    "SetCognitoEvents",
    "SetIdentityPoolConfiguration",
    "SubscribeToDataset",
    "UnsubscribeFromDataset",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_uses_service_member_names() {
        let body = PoolConfigurationBody {
            push_sync: Some(PushSync {
                application_arns: Some(vec!["arn:aws:sns:us-east-1:1:app/GCM/a".into()]),
                role_arn: None,
            }),
            cognito_streams: Some(CognitoStreams {
                stream_name: Some("s".into()),
                role_arn: None,
                streaming_status: Some("ENABLED".into()),
            }),
        };
        let json = serde_json::to_value(&body).expect("serializes");
        assert_eq!(
            json,
            serde_json::json!({
                "PushSync": {"ApplicationArns": ["arn:aws:sns:us-east-1:1:app/GCM/a"]},
                "CognitoStreams": {"StreamName": "s", "StreamingStatus": "ENABLED"}
            })
        );
    }

    #[test]
    fn the_eleven_are_the_routes_the_dataset_api_does_not_have() {
        let dataset_api = [
            "DeleteDataset",
            "DescribeDataset",
            "DescribeIdentityUsage",
            "ListDatasets",
            "ListRecords",
            "UpdateRecords",
        ];
        let others: Vec<&str> = super::super::ROUTES
            .iter()
            .map(|r| r.operation)
            .filter(|op| !dataset_api.contains(op))
            .collect();
        assert_eq!(others, POOL_OPERATIONS);
    }
}
