//! The first call of each of the eleven pool-level operations (spec §11): one case per
//! operation, run before every other case, one after the other in dependency order. A 4xx in
//! the ERR-1 shape marks the operation not implemented (reported once, here: NOT-IMPLEMENTED);
//! any other answer is judged by the model, so a 5xx, a 2xx of the wrong shape or an error
//! without the ERR-1 shape is a finding. Each first call is one whose implemented answer is a
//! 200 given the state the case built first, so an implementing endpoint is never mistaken for
//! one that does not implement the operation.

use super::pool::{full_configuration, registered_device, setup, written_identity};
use crate::spec::{CognitoEvents, PoolRequest, RegisterDeviceBody, SYNC_TRIGGER_EVENT};
use crate::suite::session::{Session, dataset_of};
use crate::suite::verdict::Stop;

cases! {
    "other-operations.set-identity-pool-configuration", Must, ["AMB-OTHER-OPERATIONS", "AMB-OTHER-CREDENTIALS", "CFG-1"],
    "SetIdentityPoolConfiguration is implemented or refused cleanly",
    "The first SetIdentityPoolConfiguration with a valid body answers the stored configuration, or a 4xx with the error shape (not implemented)."
        => set_configuration;

    "other-operations.get-identity-pool-configuration", Must, ["AMB-OTHER-OPERATIONS", "AMB-OTHER-CREDENTIALS", "CFG-2"],
    "GetIdentityPoolConfiguration is implemented or refused cleanly",
    "The first GetIdentityPoolConfiguration of a configured pool answers its configuration, or a 4xx with the error shape (not implemented)."
        => get_configuration;

    "other-operations.set-cognito-events", Must, ["AMB-OTHER-OPERATIONS", "AMB-OTHER-CREDENTIALS", "EVT-1"],
    "SetCognitoEvents is implemented or refused cleanly",
    "The first SetCognitoEvents with a SyncTrigger answers 200, or a 4xx with the error shape (not implemented)."
        => set_events;

    "other-operations.get-cognito-events", Must, ["AMB-OTHER-OPERATIONS", "AMB-OTHER-CREDENTIALS", "EVT-1"],
    "GetCognitoEvents is implemented or refused cleanly",
    "The first GetCognitoEvents of a pool with a SyncTrigger answers it, or a 4xx with the error shape (not implemented)."
        => get_events;

    "other-operations.register-device", Must, ["AMB-OTHER-OPERATIONS", "AMB-OTHER-CREDENTIALS", "DEV-1"],
    "RegisterDevice is implemented or refused cleanly",
    "The first RegisterDevice for a platform the pool's push sync configures answers a DeviceId, or a 4xx with the error shape (not implemented)."
        => register_device;

    "other-operations.subscribe-to-dataset", Must, ["AMB-OTHER-OPERATIONS", "AMB-OTHER-CREDENTIALS", "DEV-2"],
    "SubscribeToDataset is implemented or refused cleanly",
    "The first SubscribeToDataset of a registered device answers 200, or a 4xx with the error shape (not implemented)."
        => subscribe;

    "other-operations.unsubscribe-from-dataset", Must, ["AMB-OTHER-OPERATIONS", "AMB-OTHER-CREDENTIALS", "DEV-2"],
    "UnsubscribeFromDataset is implemented or refused cleanly",
    "The first UnsubscribeFromDataset of a subscribed device answers 200, or a 4xx with the error shape (not implemented)."
        => unsubscribe;

    "other-operations.describe-identity-pool-usage", Must, ["AMB-OTHER-OPERATIONS", "AMB-OTHER-CREDENTIALS", "POOL-1"],
    "DescribeIdentityPoolUsage is implemented or refused cleanly",
    "The first DescribeIdentityPoolUsage of a pool holding data answers its usage, or a 4xx with the error shape (not implemented)."
        => describe_usage;

    "other-operations.list-identity-pool-usage", Must, ["AMB-OTHER-OPERATIONS", "AMB-OTHER-CREDENTIALS", "POOL-2"],
    "ListIdentityPoolUsage is implemented or refused cleanly",
    "The first ListIdentityPoolUsage answers pages listing the pool that holds data, or a 4xx with the error shape (not implemented)."
        => list_usage;

    "other-operations.get-bulk-publish-details", Must, ["AMB-OTHER-OPERATIONS", "AMB-OTHER-CREDENTIALS", "BULK-2"],
    "GetBulkPublishDetails is implemented or refused cleanly",
    "The first GetBulkPublishDetails of a configured pool answers NOT_STARTED, or a 4xx with the error shape (not implemented)."
        => bulk_details;

    "other-operations.bulk-publish", Must, ["AMB-OTHER-OPERATIONS", "AMB-OTHER-CREDENTIALS", "BULK-1"],
    "BulkPublish is implemented or refused cleanly",
    "The first BulkPublish of a pool with a stream answers 200, or a 4xx with the error shape (not implemented)."
        => bulk_publish;
}

/// The order the first calls run in: each after the operations its setup needs.
pub(super) const PROBE_ORDER: [&str; 11] = [
    "other-operations.set-identity-pool-configuration",
    "other-operations.get-identity-pool-configuration",
    "other-operations.set-cognito-events",
    "other-operations.get-cognito-events",
    "other-operations.register-device",
    "other-operations.subscribe-to-dataset",
    "other-operations.unsubscribe-from-dataset",
    "other-operations.describe-identity-pool-usage",
    "other-operations.list-identity-pool-usage",
    "other-operations.get-bulk-publish-details",
    "other-operations.bulk-publish",
];

fn set(s: &Session) -> PoolRequest {
    PoolRequest::SetIdentityPoolConfiguration {
        identity_pool_id: s.pool(),
        body: full_configuration(),
    }
}

fn set_events_request(s: &Session) -> PoolRequest {
    PoolRequest::SetCognitoEvents {
        identity_pool_id: s.pool(),
        body: CognitoEvents {
            events: Some(
                [(
                    SYNC_TRIGGER_EVENT.to_owned(),
                    "arn:aws:lambda:us-east-1:000000000000:function:cogsync".to_owned(),
                )]
                .into(),
            ),
        },
    }
}

async fn set_configuration(s: &mut Session) -> Result<(), Stop> {
    let request = set(s);
    s.probe(request).await.map(drop)
}

async fn get_configuration(s: &mut Session) -> Result<(), Stop> {
    setup(s, set(s)).await?;
    let identity_pool_id = s.pool();
    s.probe(PoolRequest::GetIdentityPoolConfiguration { identity_pool_id })
        .await
        .map(drop)
}

async fn set_events(s: &mut Session) -> Result<(), Stop> {
    let request = set_events_request(s);
    s.probe(request).await.map(drop)
}

async fn get_events(s: &mut Session) -> Result<(), Stop> {
    setup(s, set_events_request(s)).await?;
    let identity_pool_id = s.pool();
    s.probe(PoolRequest::GetCognitoEvents { identity_pool_id })
        .await
        .map(drop)
}

async fn register_device(s: &mut Session) -> Result<(), Stop> {
    setup(s, set(s)).await?;
    let identity = written_identity(s).await?;
    s.probe(PoolRequest::RegisterDevice {
        identity,
        body: RegisterDeviceBody {
            platform: Some("GCM".to_owned()),
            token: Some("cogsync-probe-token".to_owned()),
        },
    })
    .await
    .map(drop)
}

async fn subscribe(s: &mut Session) -> Result<(), Stop> {
    setup(s, set(s)).await?;
    let identity = written_identity(s).await?;
    let device_id = registered_device(s, &identity, "GCM", "cogsync-probe-token").await?;
    s.probe(PoolRequest::SubscribeToDataset {
        path: dataset_of(&identity, "prefs"),
        device_id,
    })
    .await
    .map(drop)
}

async fn unsubscribe(s: &mut Session) -> Result<(), Stop> {
    setup(s, set(s)).await?;
    let identity = written_identity(s).await?;
    let device_id = registered_device(s, &identity, "GCM", "cogsync-probe-token").await?;
    let path = dataset_of(&identity, "prefs");
    setup(
        s,
        PoolRequest::SubscribeToDataset {
            path: path.clone(),
            device_id: device_id.clone(),
        },
    )
    .await?;
    s.probe(PoolRequest::UnsubscribeFromDataset { path, device_id })
        .await
        .map(drop)
}

async fn describe_usage(s: &mut Session) -> Result<(), Stop> {
    written_identity(s).await?;
    let identity_pool_id = s.pool();
    s.probe(PoolRequest::DescribeIdentityPoolUsage { identity_pool_id })
        .await
        .map(drop)
}

async fn list_usage(s: &mut Session) -> Result<(), Stop> {
    written_identity(s).await?;
    s.probe(PoolRequest::ListIdentityPoolUsage {
        max_results: None,
        next_token: None,
    })
    .await
    .map(drop)
}

async fn bulk_details(s: &mut Session) -> Result<(), Stop> {
    setup(s, set(s)).await?;
    let identity_pool_id = s.pool();
    s.probe(PoolRequest::GetBulkPublishDetails { identity_pool_id })
        .await
        .map(drop)
}

async fn bulk_publish(s: &mut Session) -> Result<(), Stop> {
    setup(s, set(s)).await?;
    written_identity(s).await?;
    let identity_pool_id = s.pool();
    s.probe(PoolRequest::BulkPublish { identity_pool_id })
        .await
        .map(drop)
}
