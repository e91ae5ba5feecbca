//! The HTTP form of the eleven pool-level and push-sync operations (spec §10), as an AWS SDK
//! sends them.

use super::{RawRequest, encode_label, with_query};
use crate::spec::PoolRequest;

/// The raw request of a typed call of the eleven. POST operations without input members
/// (BulkPublish, GetBulkPublishDetails) send `{}` as the SDKs do.
pub fn pool_to_raw(request: &PoolRequest) -> RawRequest {
    let pool = |id: &str| format!("/identitypools/{}", encode_label(id));
    let json = |value: serde_json::Result<Vec<u8>>| value.unwrap_or_else(|_| b"{}".to_vec());
    let (method, path_and_query, body) = match request {
        PoolRequest::DescribeIdentityPoolUsage { identity_pool_id } => {
            ("GET", pool(identity_pool_id), Vec::new())
        }
        PoolRequest::ListIdentityPoolUsage {
            max_results,
            next_token,
        } => (
            "GET",
            with_query(
                "/identitypools".to_owned(),
                &[
                    ("maxResults", max_results.map(|v| v.to_string())),
                    ("nextToken", next_token.clone()),
                ],
            ),
            Vec::new(),
        ),
        PoolRequest::SetIdentityPoolConfiguration {
            identity_pool_id,
            body,
        } => (
            "POST",
            format!("{}/configuration", pool(identity_pool_id)),
            json(serde_json::to_vec(body)),
        ),
        PoolRequest::GetIdentityPoolConfiguration { identity_pool_id } => (
            "GET",
            format!("{}/configuration", pool(identity_pool_id)),
            Vec::new(),
        ),
        PoolRequest::SetCognitoEvents {
            identity_pool_id,
            body,
        } => (
            "POST",
            format!("{}/events", pool(identity_pool_id)),
            json(serde_json::to_vec(body)),
        ),
        PoolRequest::GetCognitoEvents { identity_pool_id } => (
            "GET",
            format!("{}/events", pool(identity_pool_id)),
            Vec::new(),
        ),
        PoolRequest::RegisterDevice { identity, body } => (
            "POST",
            format!(
                "{}/identity/{}/device",
                pool(&identity.identity_pool_id),
                encode_label(&identity.identity_id)
            ),
            json(serde_json::to_vec(body)),
        ),
        PoolRequest::SubscribeToDataset { path, device_id }
        | PoolRequest::UnsubscribeFromDataset { path, device_id } => (
            if matches!(request, PoolRequest::SubscribeToDataset { .. }) {
                "POST"
            } else {
                "DELETE"
            },
            format!(
                "{}/identities/{}/datasets/{}/subscriptions/{}",
                pool(&path.identity_pool_id),
                encode_label(&path.identity_id),
                encode_label(&path.dataset_name),
                encode_label(device_id)
            ),
            Vec::new(),
        ),
        PoolRequest::BulkPublish { identity_pool_id } => (
            "POST",
            format!("{}/bulkpublish", pool(identity_pool_id)),
            b"{}".to_vec(),
        ),
        PoolRequest::GetBulkPublishDetails { identity_pool_id } => (
            "POST",
            format!("{}/getBulkPublishDetails", pool(identity_pool_id)),
            b"{}".to_vec(),
        ),
    };
    RawRequest::json(method, path_and_query, Vec::new(), body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{DatasetPath, route_of};

    #[test]
    fn every_call_goes_to_its_own_route() {
        let pool = "us-east-1:0000".to_owned();
        let path = DatasetPath {
            identity_pool_id: pool.clone(),
            identity_id: "us-east-1:0001".to_owned(),
            dataset_name: "d".to_owned(),
        };
        let calls = [
            PoolRequest::DescribeIdentityPoolUsage {
                identity_pool_id: pool.clone(),
            },
            PoolRequest::ListIdentityPoolUsage {
                max_results: Some(2),
                next_token: None,
            },
            PoolRequest::SetIdentityPoolConfiguration {
                identity_pool_id: pool.clone(),
                body: Default::default(),
            },
            PoolRequest::GetIdentityPoolConfiguration {
                identity_pool_id: pool.clone(),
            },
            PoolRequest::SetCognitoEvents {
                identity_pool_id: pool.clone(),
                body: Default::default(),
            },
            PoolRequest::GetCognitoEvents {
                identity_pool_id: pool.clone(),
            },
            PoolRequest::RegisterDevice {
                identity: crate::spec::IdentityPath {
                    identity_pool_id: pool.clone(),
                    identity_id: path.identity_id.clone(),
                },
                body: Default::default(),
            },
            PoolRequest::SubscribeToDataset {
                path: path.clone(),
                device_id: "dev".to_owned(),
            },
            PoolRequest::UnsubscribeFromDataset {
                path,
                device_id: "dev".to_owned(),
            },
            PoolRequest::BulkPublish {
                identity_pool_id: pool.clone(),
            },
            PoolRequest::GetBulkPublishDetails {
                identity_pool_id: pool,
            },
        ];
        for call in calls {
            let raw = pool_to_raw(&call);
            let route = route_of(&raw.method, &raw.path_and_query);
            assert_eq!(
                route.map(|r| r.operation),
                Some(call.operation_name()),
                "{} {}",
                raw.method,
                raw.path_and_query
            );
        }
    }
}
