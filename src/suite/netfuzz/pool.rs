//! Calls of the eleven pool-level and push-sync operations (spec §11) for the network fuzzer:
//! valid ones drawn against what the model knows of the session's own pool (judged by the
//! model), and malformed ones every reading of §11 refuses, implemented or not.

use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;

use crate::client::{RawRequest, pool_to_raw};
use crate::model::{Model, PoolExpected};
use crate::spec::{
    CognitoEvents, CognitoStreams, DatasetPath, IdentityPath, PLATFORM_VALUES,
    PoolConfigurationBody, PoolRequest, PushSync, RegisterDeviceBody, SYNC_TRIGGER_EVENT,
};

const ROLE: &str = "arn:aws:iam::000000000000:role/cogsync-netfuzz";
const LAMBDA: &str = "arn:aws:lambda:us-east-1:000000000000:function:cogsync-netfuzz";
const TOKENS: [&str; 2] = ["netfuzz-token-1", "netfuzz-token-2"];

fn application_arn(platform: &str) -> String {
    format!("arn:aws:sns:us-east-1:000000000000:app/{platform}/cogsync-netfuzz")
}

fn configuration(rng: &mut StdRng) -> PoolConfigurationBody {
    let push = || PushSync {
        application_arns: Some(
            PLATFORM_VALUES
                .iter()
                .take(2)
                .map(|p| application_arn(p))
                .collect(),
        ),
        role_arn: Some(ROLE.to_owned()),
    };
    let streams = |status: &str| CognitoStreams {
        stream_name: Some("cogsync-netfuzz".to_owned()),
        role_arn: Some(ROLE.to_owned()),
        streaming_status: Some(status.to_owned()),
    };
    match rng.random_range(0..5) {
        0 => PoolConfigurationBody {
            push_sync: Some(push()),
            cognito_streams: Some(streams("DISABLED")),
        },
        1 => PoolConfigurationBody {
            push_sync: Some(push()),
            cognito_streams: None,
        },
        2 => PoolConfigurationBody {
            push_sync: None,
            cognito_streams: Some(streams("ENABLED")),
        },
        3 => PoolConfigurationBody {
            push_sync: Some(PushSync::default()),
            cognito_streams: Some(CognitoStreams::default()),
        },
        _ => PoolConfigurationBody::default(),
    }
}

/// A valid call of one of the eleven in `pool`, and the model state shape it meets (a
/// signature: a second bulk publish while one runs, a subscription of a known device, …).
pub(super) fn draw(
    rng: &mut StdRng,
    model: &Model,
    pool: &str,
    identity: &IdentityPath,
    path: &DatasetPath,
) -> (PoolRequest, String) {
    let identity_pool_id = pool.to_owned();
    let devices = model.devices_of(identity);
    let device = |rng: &mut StdRng| {
        let known: Vec<&String> = devices.iter().collect();
        match known.choose(rng) {
            Some(d) if rng.random_bool(0.8) => ((*d).clone(), "known-device"),
            _ => ("netfuzz-unregistered".to_owned(), "unknown-device"),
        }
    };
    match rng.random_range(0..11) {
        0 => {
            let body = configuration(rng);
            let shape = format!(
                "push:{} streams:{}",
                body.push_sync.is_some(),
                body.cognito_streams.is_some()
            );
            (
                PoolRequest::SetIdentityPoolConfiguration {
                    identity_pool_id,
                    body,
                },
                shape,
            )
        }
        1 => (
            PoolRequest::GetIdentityPoolConfiguration { identity_pool_id },
            "get".to_owned(),
        ),
        2 => {
            let (events, shape) = match rng.random_range(0..3) {
                0 => (vec![(SYNC_TRIGGER_EVENT, LAMBDA)], "set"),
                1 => (vec![(SYNC_TRIGGER_EVENT, "")], "remove"),
                _ => (Vec::new(), "empty"),
            };
            let events = events
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            (
                PoolRequest::SetCognitoEvents {
                    identity_pool_id,
                    body: CognitoEvents {
                        events: Some(events),
                    },
                },
                shape.to_owned(),
            )
        }
        3 => (
            PoolRequest::GetCognitoEvents { identity_pool_id },
            "get".to_owned(),
        ),
        4 => {
            let platform = *PLATFORM_VALUES.choose(rng).unwrap_or(&"GCM");
            let token = *TOKENS.choose(rng).unwrap_or(&TOKENS[0]);
            (
                PoolRequest::RegisterDevice {
                    identity: identity.clone(),
                    body: RegisterDeviceBody {
                        platform: Some(platform.to_owned()),
                        token: Some(token.to_owned()),
                    },
                },
                format!("known-identity-devices:{}", devices.len().min(3)),
            )
        }
        5 | 6 => {
            let (device_id, shape) = device(rng);
            let request = if rng.random_bool(0.5) {
                PoolRequest::SubscribeToDataset {
                    path: path.clone(),
                    device_id,
                }
            } else {
                PoolRequest::UnsubscribeFromDataset {
                    path: path.clone(),
                    device_id,
                }
            };
            (request, shape.to_owned())
        }
        7 => (
            PoolRequest::BulkPublish { identity_pool_id },
            format!("{:?}", model.bulk_state(pool)),
        ),
        8 => (
            PoolRequest::GetBulkPublishDetails { identity_pool_id },
            format!("{:?}", model.bulk_state(pool)),
        ),
        9 => (
            PoolRequest::DescribeIdentityPoolUsage { identity_pool_id },
            format!("holds-data:{}", model.pool_usage(pool).holds_data),
        ),
        _ => {
            let max_results = rng.random_bool(0.5).then(|| rng.random_range(1..4));
            (
                PoolRequest::ListIdentityPoolUsage {
                    max_results,
                    next_token: None,
                },
                format!("max-results:{}", max_results.is_some()),
            )
        }
    }
}

/// Whether the model's reference answer to `request` is a success (the first call of an
/// operation is made only then: a 4xx to it can only mean "not implemented").
pub(super) fn reference_is_success(model: &Model, request: &PoolRequest) -> bool {
    !matches!(
        model.expect_pool(request).reference().expected,
        PoolExpected::Error(_)
    )
}

/// A request to one of the eleven that breaks a rule of §11 whatever the endpoint implements:
/// a constraint violation, a required member missing, a device never registered, a body that
/// is not JSON, a pool ID off its pattern. Any 4xx with the ERR-1 shape; never 2xx or 5xx.
/// Returns the mutation's label and the request.
pub(super) fn malformed(rng: &mut StdRng, path: &DatasetPath) -> (String, RawRequest) {
    let identity_pool_id = path.identity_pool_id.clone();
    let identity = IdentityPath {
        identity_pool_id: identity_pool_id.clone(),
        identity_id: path.identity_id.clone(),
    };
    let bad_config = |push_sync, cognito_streams| PoolRequest::SetIdentityPoolConfiguration {
        identity_pool_id: identity_pool_id.clone(),
        body: PoolConfigurationBody {
            push_sync,
            cognito_streams,
        },
    };
    let (label, request) = match rng.random_range(0..10) {
        0 => (
            "application-arn",
            bad_config(
                Some(PushSync {
                    application_arns: Some(vec!["arn:aws:sns:us-east-1:0:app/gcm/x".to_owned()]),
                    role_arn: None,
                }),
                None,
            ),
        ),
        1 => (
            "role-arn-short",
            bad_config(
                Some(PushSync {
                    application_arns: None,
                    role_arn: Some("arn:aws:iam::0:role".to_owned()),
                }),
                None,
            ),
        ),
        2 => (
            "streaming-status",
            bad_config(
                None,
                Some(CognitoStreams {
                    stream_name: Some("s".to_owned()),
                    role_arn: None,
                    streaming_status: Some("PAUSED".to_owned()),
                }),
            ),
        ),
        3 => (
            "stream-name-long",
            bad_config(
                None,
                Some(CognitoStreams {
                    stream_name: Some("s".repeat(129)),
                    role_arn: None,
                    streaming_status: None,
                }),
            ),
        ),
        4 => (
            "platform",
            PoolRequest::RegisterDevice {
                identity: identity.clone(),
                body: RegisterDeviceBody {
                    platform: Some("gcm".to_owned()),
                    token: Some("t".to_owned()),
                },
            },
        ),
        5 => (
            "token-missing",
            PoolRequest::RegisterDevice {
                identity: identity.clone(),
                body: RegisterDeviceBody {
                    platform: Some("GCM".to_owned()),
                    token: None,
                },
            },
        ),
        6 => (
            "events-two",
            PoolRequest::SetCognitoEvents {
                identity_pool_id: identity_pool_id.clone(),
                body: CognitoEvents {
                    events: Some(
                        [
                            (SYNC_TRIGGER_EVENT.to_owned(), LAMBDA.to_owned()),
                            ("Other".to_owned(), LAMBDA.to_owned()),
                        ]
                        .into(),
                    ),
                },
            },
        ),
        7 => (
            "device-unregistered",
            PoolRequest::SubscribeToDataset {
                path: path.clone(),
                device_id: "netfuzz-never-registered".to_owned(),
            },
        ),
        8 => (
            "pool-id-upper-hex",
            PoolRequest::GetIdentityPoolConfiguration {
                identity_pool_id: identity_pool_id
                    .to_uppercase()
                    .replace("US-EAST-1", "us-east-1"),
            },
        ),
        _ => (
            "events-missing",
            PoolRequest::SetCognitoEvents {
                identity_pool_id: identity_pool_id.clone(),
                body: CognitoEvents { events: None },
            },
        ),
    };
    let mut raw = pool_to_raw(&request);
    // Half the bodies are cut short as well: not JSON at all.
    if !raw.body.is_empty() && rng.random_bool(0.25) {
        raw.body.truncate(raw.body.len() / 2);
    }
    (
        format!("other-operation:{}:{label}", request.operation_name()),
        raw,
    )
}
