//! The eleven pool-level and push-sync operations (spec §11): configuration, events, devices
//! and subscriptions, bulk publish, pool usage. Each case works in its session's own pool
//! (`Session::pool`), follows whichever allowed branch the endpoint takes (the model advances
//! along it), and is skipped when an operation it needs is not implemented.

use super::support::{ensure, write};
use crate::model::Call;
use crate::model::{BulkState, PoolExpected, PoolObserved};
use crate::spec::{
    CognitoEvents, CognitoStreams, DeleteDatasetRequest, DescribeIdentityUsageRequest, ErrorKind,
    IdentityPath, PLATFORM_VALUES, PoolConfigurationBody, PoolRequest, PushSync,
    RegisterDeviceBody, SYNC_TRIGGER_EVENT,
};
use crate::suite::session::{Answer, Intent, Session, dataset_of, replace};
use crate::suite::verdict::Stop;

cases! {
    "configuration.round-trip", Must, ["CFG-1", "CFG-2", "AMB-POOL-EMPTY", "AMB-CONFIG-EMPTY"],
    "A pool's configuration reads back as stored",
    "GetIdentityPoolConfiguration of a pool never configured answers no sections (or 404); after SetIdentityPoolConfiguration it answers exactly what Set stored and answered."
        => configuration_round_trip;

    "configuration.validation.rejected", Must, ["CFG-1", "VAL-1", "AMB-VALIDATION-CODE"],
    "Each configuration constraint is enforced and changes nothing",
    "An ApplicationArn off its pattern, a RoleArn too short, too long or off its pattern (either section), a StreamName empty or over 128 chars, and a StreamingStatus outside ENABLED/DISABLED are each answered 400, and the stored configuration is unchanged."
        => configuration_validation;

    "configuration.merge.absent-section", Must, ["CFG-1", "AMB-CONFIG-MERGE"],
    "A Set without a section keeps or clears it, consistently",
    "SetIdentityPoolConfiguration with only PushSync replaces PushSync and keeps CognitoStreams (or clears it, NON-STRICT); the answer and later reads agree with the branch taken."
        => configuration_merge;

    "configuration.empty-section", Must, ["CFG-1", "AMB-CONFIG-EMPTY"],
    "A section sent as {} is stored empty or cleared, consistently",
    "SetIdentityPoolConfiguration with `PushSync: {}` stores an empty section (or clears it, NON-STRICT); later reads agree."
        => configuration_empty_section;

    "events.set-merge-remove", Must, ["EVT-1", "AMB-POOL-EMPTY"],
    "Cognito events are set, replaced and removed by an empty value",
    "GetCognitoEvents of a new pool is `{}` (or 404); SetCognitoEvents sets SyncTrigger, `{\"Events\": {}}` changes nothing, a second Set replaces it, an empty value removes it, and every Get answers exactly what is set."
        => events_set_merge_remove;

    "events.validation.rejected", Must, ["EVT-1", "VAL-1", "AMB-EVENT-TYPE"],
    "Bad SetCognitoEvents bodies are rejected and change nothing",
    "SetCognitoEvents without Events or with two entries answers 400; an event type other than SyncTrigger answers 400 (or is stored, NON-STRICT); GetCognitoEvents agrees."
        => events_validation;

    "devices.register.platforms", Must, ["DEV-1", "AMB-DEVICE-ID", "VAL-1"],
    "RegisterDevice answers a DeviceId per platform, the same one again",
    "With push sync configured for all four platforms, RegisterDevice answers a 1–256 char DeviceId for each; the same (identity, platform, token) again answers the same DeviceId (or a new one, NON-STRICT) and every DeviceId returned subscribes; an unknown Platform or a missing Token answers 400."
        => register_platforms;

    "devices.register.without-push-config", Must, ["DEV-1", "AMB-PUSH-CONFIG"],
    "RegisterDevice without push sync for the platform",
    "RegisterDevice in a pool with no push sync, or none for the platform, answers 400 InvalidConfigurationException (or a DeviceId, NON-STRICT)."
        => register_without_push_config;

    "devices.subscribe.idempotent", Must, ["DEV-2", "AMB-SUBSCRIBE-IDEMPOTENT"],
    "Subscriptions are idempotent",
    "A registered device subscribes to a dataset that does not exist yet, subscribes again (200), unsubscribes (200) and unsubscribes again (200, or 404 NON-STRICT)."
        => subscribe_idempotent;

    "devices.subscribe.unknown-device", Must, ["DEV-2", "AMB-DEVICE-UNKNOWN"],
    "Subscriptions of unknown devices are refused",
    "SubscribeToDataset and UnsubscribeFromDataset with a DeviceId never registered, or registered for another identity, answer 404 ResourceNotFoundException (or 400, NON-STRICT)."
        => subscribe_unknown_device;

    "bulk-publish.no-stream.rejected", Must, ["BULK-1", "AMB-BULK-NO-STREAM"],
    "BulkPublish without a stream is refused",
    "BulkPublish in a pool without CognitoStreams.StreamName answers 400 InvalidParameterException (or InvalidConfiguration / 404, NON-STRICT), and GetBulkPublishDetails still answers NOT_STARTED."
        => bulk_no_stream;

    "bulk-publish.never-published.not-started", Must, ["BULK-2", "AMB-POOL-EMPTY"],
    "A pool never published is NOT_STARTED",
    "GetBulkPublishDetails of a pool that never bulk-published answers NOT_STARTED without times (a pool with nothing stored may answer 404)."
        => bulk_never_published;

    "bulk-publish.lifecycle", Must, ["BULK-1", "BULK-2", "AMB-BULK-TIME"],
    "A bulk publish starts, runs and refuses a second one",
    "After a stream is configured BulkPublish answers 200; GetBulkPublishDetails answers IN_PROGRESS or SUCCEEDED with a start time (and a complete time once done); an immediate second BulkPublish answers DuplicateRequest or AlreadyStreamed, consistent with the status shown."
        => bulk_lifecycle;

    "bulk-publish.completes", Should, ["BULK-2", "AMB-BULK-TIME"],
    "A bulk publish completes",
    "After BulkPublish, GetBulkPublishDetails answers SUCCEEDED or FAILED with a complete time within 10 s (the reference takes 2 s; AMB-BULK-TIME allows any time, so a slower one is NON-STRICT, not FAIL)."
        => bulk_completes;

    "pool-usage.describe.sum-of-identities", Must, ["POOL-1", "DS-5", "AMB-USAGE-LAG", "AMB-POOL-EMPTY"],
    "Pool usage is the sum of its identities' usage",
    "DescribeIdentityPoolUsage of a pool answers DataStorage equal to the sum of DescribeIdentityUsage over its identities, after each write and after a delete (within 10 s, AMB-USAGE-LAG); a pool with no data answers zero figures (or 404)."
        => usage_describe;

    "pool-usage.list.contains-pool-once", Must, ["POOL-2", "AMB-USAGE-LAG"],
    "ListIdentityPoolUsage lists the pool once with its figures",
    "ListIdentityPoolUsage, in one default page walk and in pages of one, lists each of the case's two pools exactly once with the figures DescribeIdentityPoolUsage gives; Count is each page's size; other pools may be listed."
        => usage_list;
}

/// Dependent cases' families: a selection holding one runs the `other-operations.*` probes.
pub(super) const FAMILIES: [&str; 5] = [
    "configuration.",
    "events.",
    "devices.",
    "bulk-publish.",
    "pool-usage.",
];

const ROLE: &str = "arn:aws:iam::000000000000:role/cogsync";
const LAMBDA: &str = "arn:aws:lambda:us-east-1:000000000000:function:cogsync";

fn application_arn(platform: &str) -> String {
    format!("arn:aws:sns:us-east-1:000000000000:app/{platform}/cogsync")
}

/// Push sync for every platform and a stream (not enabled): everything the other operations
/// need to answer 200.
pub(super) fn full_configuration() -> PoolConfigurationBody {
    PoolConfigurationBody {
        push_sync: Some(PushSync {
            application_arns: Some(PLATFORM_VALUES.iter().map(|p| application_arn(p)).collect()),
            role_arn: Some(ROLE.to_owned()),
        }),
        cognito_streams: Some(streams("cogsync-stream", "DISABLED")),
    }
}

fn streams(name: &str, status: &str) -> CognitoStreams {
    CognitoStreams {
        stream_name: Some(name.to_owned()),
        role_arn: Some(ROLE.to_owned()),
        streaming_status: Some(status.to_owned()),
    }
}

/// A call whose answer the case needs only as setup: judged like any other, but an operation
/// the endpoint does not implement does not end the case (the call after it decides).
pub(super) async fn setup(s: &mut Session, request: PoolRequest) -> Result<(), Stop> {
    match s.pool_call(request).await {
        Ok(_) | Err(Stop::Skipped(_)) => Ok(()),
        Err(other) => Err(other),
    }
}

/// A fresh identity of the session's pool with one dataset written (so the pool holds data).
pub(super) async fn written_identity(s: &mut Session) -> Result<IdentityPath, Stop> {
    let pool = s.pool();
    let identity = s.identity_in(&pool);
    write(
        s,
        &dataset_of(&identity, "prefs"),
        vec![replace("a", "1", 0)],
    )
    .await?;
    Ok(identity)
}

/// Registers a device as setup; the DeviceId, or a placeholder the endpoint never issued when
/// it did not answer one.
pub(super) async fn registered_device(
    s: &mut Session,
    identity: &IdentityPath,
    platform: &str,
    token: &str,
) -> Result<String, Stop> {
    let request = register(identity, platform, token);
    match s.pool_call(request).await {
        Ok(PoolObserved::Device(Some(device))) => Ok(device),
        Ok(_) | Err(Stop::Skipped(_)) => Ok("cogsync-unregistered".to_owned()),
        Err(other) => Err(other),
    }
}

fn register(identity: &IdentityPath, platform: &str, token: &str) -> PoolRequest {
    PoolRequest::RegisterDevice {
        identity: identity.clone(),
        body: RegisterDeviceBody {
            platform: Some(platform.to_owned()),
            token: Some(token.to_owned()),
        },
    }
}

/// A call after checking that the model's reference outcome is what the case means.
async fn call(
    s: &mut Session,
    request: impl FnOnce(&Session) -> PoolRequest,
    intent: Intent,
) -> Result<PoolObserved, Stop> {
    let request = request(s);
    let expectation = s.model().expect_pool(&request);
    let ok = match (&intent, &expectation.reference().expected) {
        (Intent::Error(kind), PoolExpected::Error(kinds)) => kinds.first() == Some(kind),
        (Intent::Success, PoolExpected::Error(_)) | (Intent::Error(_), _) => false,
        (Intent::Success, _) => true,
    };
    if !ok {
        return Err(Stop::Harness(format!(
            "the case intends {intent:?} but the model's reference is {}",
            expectation.reference().expected
        )));
    }
    s.pool_call(request).await
}

fn set_request(s: &Session, body: PoolConfigurationBody) -> PoolRequest {
    PoolRequest::SetIdentityPoolConfiguration {
        identity_pool_id: s.pool(),
        body,
    }
}

fn get_request(s: &Session) -> PoolRequest {
    PoolRequest::GetIdentityPoolConfiguration {
        identity_pool_id: s.pool(),
    }
}

async fn configuration_round_trip(s: &mut Session) -> Result<(), Stop> {
    call(s, |s: &Session| get_request(s), Intent::Success).await?;
    let set = call(
        s,
        |s: &Session| set_request(s, full_configuration()),
        Intent::Success,
    )
    .await?;
    let got = call(s, |s: &Session| get_request(s), Intent::Success).await?;
    // CFG-2 beyond the model: Get answers what Set answered.
    if let (PoolObserved::Configuration(set), PoolObserved::Configuration(got)) = (&set, &got) {
        ensure(
            set.push_sync == got.push_sync && set.cognito_streams == got.cognito_streams,
            || format!("GetIdentityPoolConfiguration answers {got:?}, Set answered {set:?}"),
        )?;
    }
    let mut changed = full_configuration();
    changed.cognito_streams = Some(streams("cogsync-other", "ENABLED"));
    call(s, |s: &Session| set_request(s, changed), Intent::Success).await?;
    call(s, |s: &Session| get_request(s), Intent::Success).await?;
    Ok(())
}

async fn configuration_validation(s: &mut Session) -> Result<(), Stop> {
    call(
        s,
        |s: &Session| set_request(s, full_configuration()),
        Intent::Success,
    )
    .await?;
    let push = |arns: Vec<String>, role: &str| PoolConfigurationBody {
        push_sync: Some(PushSync {
            application_arns: Some(arns),
            role_arn: Some(role.to_owned()),
        }),
        cognito_streams: None,
    };
    let stream = |name: &str, role: &str, status: &str| PoolConfigurationBody {
        push_sync: None,
        cognito_streams: Some(CognitoStreams {
            stream_name: Some(name.to_owned()),
            role_arn: Some(role.to_owned()),
            streaming_status: Some(status.to_owned()),
        }),
    };
    let long_role = format!("{ROLE}{}", "x".repeat(2049 - ROLE.len()));
    let bad: [(&str, PoolConfigurationBody); 9] = [
        (
            "an ApplicationArn off its pattern",
            push(
                vec!["arn:aws:sns:us-east-1:0:app/gcm/lower".to_owned()],
                ROLE,
            ),
        ),
        (
            "an ApplicationArn that is not an ARN",
            push(vec!["cogsync".to_owned()], ROLE),
        ),
        (
            "a PushSync RoleArn under 20 chars",
            push(Vec::new(), "arn:aws:iam::0:role"),
        ),
        (
            "a PushSync RoleArn off its pattern",
            push(Vec::new(), "arn:aws:iam::000000000000:user/cogsync"),
        ),
        (
            "a PushSync RoleArn over 2048 chars",
            push(Vec::new(), &long_role),
        ),
        ("an empty StreamName", stream("", ROLE, "ENABLED")),
        (
            "a StreamName over 128 chars",
            stream(&"s".repeat(129), ROLE, "ENABLED"),
        ),
        (
            "a CognitoStreams RoleArn off its pattern",
            stream("cogsync", "arn:aws:iam::x:role/cogsync", "ENABLED"),
        ),
        (
            "a StreamingStatus outside ENABLED/DISABLED",
            stream("cogsync", ROLE, "enabled"),
        ),
    ];
    for (what, body) in bad {
        let request = set_request(s, body);
        call(
            s,
            |_: &Session| request,
            Intent::Error(ErrorKind::Validation),
        )
        .await
        .map_err(|stop| match stop {
            Stop::Finding(f) => Stop::Finding(format!("{what}: {f}")),
            other => other,
        })?;
    }
    call(s, |s: &Session| get_request(s), Intent::Success).await?;
    Ok(())
}

async fn configuration_merge(s: &mut Session) -> Result<(), Stop> {
    call(
        s,
        |s: &Session| set_request(s, full_configuration()),
        Intent::Success,
    )
    .await?;
    let only_push = PoolConfigurationBody {
        push_sync: Some(PushSync {
            application_arns: Some(vec![application_arn("GCM")]),
            role_arn: None,
        }),
        cognito_streams: None,
    };
    call(s, |s: &Session| set_request(s, only_push), Intent::Success).await?;
    call(s, |s: &Session| get_request(s), Intent::Success).await?;
    let only_streams = PoolConfigurationBody {
        push_sync: None,
        cognito_streams: Some(streams("cogsync-merged", "ENABLED")),
    };
    call(
        s,
        |s: &Session| set_request(s, only_streams),
        Intent::Success,
    )
    .await?;
    call(s, |s: &Session| get_request(s), Intent::Success).await?;
    Ok(())
}

async fn configuration_empty_section(s: &mut Session) -> Result<(), Stop> {
    call(
        s,
        |s: &Session| set_request(s, full_configuration()),
        Intent::Success,
    )
    .await?;
    let empty_push = PoolConfigurationBody {
        push_sync: Some(PushSync::default()),
        cognito_streams: Some(streams("cogsync-stream", "DISABLED")),
    };
    call(s, |s: &Session| set_request(s, empty_push), Intent::Success).await?;
    call(s, |s: &Session| get_request(s), Intent::Success).await?;
    Ok(())
}

fn events_request(s: &Session, events: &[(&str, &str)]) -> PoolRequest {
    PoolRequest::SetCognitoEvents {
        identity_pool_id: s.pool(),
        body: CognitoEvents {
            events: Some(
                events
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            ),
        },
    }
}

fn get_events(s: &Session) -> PoolRequest {
    PoolRequest::GetCognitoEvents {
        identity_pool_id: s.pool(),
    }
}

async fn events_set_merge_remove(s: &mut Session) -> Result<(), Stop> {
    call(s, |s: &Session| get_events(s), Intent::Success).await?;
    call(
        s,
        |s: &Session| events_request(s, &[(SYNC_TRIGGER_EVENT, LAMBDA)]),
        Intent::Success,
    )
    .await?;
    call(s, |s: &Session| get_events(s), Intent::Success).await?;
    // Only the keys sent change: an empty map changes nothing.
    call(s, |s: &Session| events_request(s, &[]), Intent::Success).await?;
    call(s, |s: &Session| get_events(s), Intent::Success).await?;
    let other = format!("{LAMBDA}-2");
    call(
        s,
        |s: &Session| events_request(s, &[(SYNC_TRIGGER_EVENT, &other)]),
        Intent::Success,
    )
    .await?;
    call(s, |s: &Session| get_events(s), Intent::Success).await?;
    call(
        s,
        |s: &Session| events_request(s, &[(SYNC_TRIGGER_EVENT, "")]),
        Intent::Success,
    )
    .await?;
    call(s, |s: &Session| get_events(s), Intent::Success).await?;
    Ok(())
}

async fn events_validation(s: &mut Session) -> Result<(), Stop> {
    call(
        s,
        |s: &Session| events_request(s, &[(SYNC_TRIGGER_EVENT, LAMBDA)]),
        Intent::Success,
    )
    .await?;
    let missing = PoolRequest::SetCognitoEvents {
        identity_pool_id: s.pool(),
        body: CognitoEvents { events: None },
    };
    call(
        s,
        |_: &Session| missing,
        Intent::Error(ErrorKind::Validation),
    )
    .await?;
    let two = events_request(s, &[(SYNC_TRIGGER_EVENT, LAMBDA), ("OtherTrigger", LAMBDA)]);
    call(s, |_: &Session| two, Intent::Error(ErrorKind::Validation)).await?;
    call(s, |s: &Session| get_events(s), Intent::Success).await?;
    let other_type = events_request(s, &[("DatasetDeleted", LAMBDA)]);
    call(
        s,
        |_: &Session| other_type,
        Intent::Error(ErrorKind::InvalidParameter),
    )
    .await?;
    call(s, |s: &Session| get_events(s), Intent::Success).await?;
    Ok(())
}

fn subscribe_request(identity: &IdentityPath, dataset: &str, device: &str) -> PoolRequest {
    PoolRequest::SubscribeToDataset {
        path: dataset_of(identity, dataset),
        device_id: device.to_owned(),
    }
}

fn unsubscribe_request(identity: &IdentityPath, dataset: &str, device: &str) -> PoolRequest {
    PoolRequest::UnsubscribeFromDataset {
        path: dataset_of(identity, dataset),
        device_id: device.to_owned(),
    }
}

fn device_of(answer: &PoolObserved) -> Result<String, Stop> {
    match answer {
        PoolObserved::Device(Some(device)) => Ok(device.clone()),
        other => Err(Stop::Harness(format!("expected a DeviceId, got {other}"))),
    }
}

async fn register_platforms(s: &mut Session) -> Result<(), Stop> {
    call(
        s,
        |s: &Session| set_request(s, full_configuration()),
        Intent::Success,
    )
    .await?;
    let identity = written_identity(s).await?;
    let mut devices = Vec::new();
    for platform in PLATFORM_VALUES {
        let answer = call(
            s,
            |_: &Session| register(&identity, platform, "token-1"),
            Intent::Success,
        )
        .await?;
        devices.push(device_of(&answer)?);
    }
    let again = call(
        s,
        |_: &Session| register(&identity, "GCM", "token-1"),
        Intent::Success,
    )
    .await?;
    devices.push(device_of(&again)?);
    for device in devices {
        call(
            s,
            |_: &Session| subscribe_request(&identity, "prefs", &device),
            Intent::Success,
        )
        .await?;
    }
    let bad_platform = register(&identity, "WNS", "token-1");
    call(
        s,
        |_: &Session| bad_platform,
        Intent::Error(ErrorKind::Validation),
    )
    .await?;
    let no_token = PoolRequest::RegisterDevice {
        identity: identity.clone(),
        body: RegisterDeviceBody {
            platform: Some("GCM".to_owned()),
            token: None,
        },
    };
    call(
        s,
        |_: &Session| no_token,
        Intent::Error(ErrorKind::Validation),
    )
    .await?;
    Ok(())
}

async fn register_without_push_config(s: &mut Session) -> Result<(), Stop> {
    let identity = written_identity(s).await?;
    let request = register(&identity, "GCM", "token-1");
    call(
        s,
        |_: &Session| request,
        Intent::Error(ErrorKind::InvalidConfiguration),
    )
    .await?;
    let only_gcm = PoolConfigurationBody {
        push_sync: Some(PushSync {
            application_arns: Some(vec![application_arn("GCM")]),
            role_arn: Some(ROLE.to_owned()),
        }),
        cognito_streams: None,
    };
    call(s, |s: &Session| set_request(s, only_gcm), Intent::Success).await?;
    let apns = register(&identity, "APNS", "token-2");
    call(
        s,
        |_: &Session| apns,
        Intent::Error(ErrorKind::InvalidConfiguration),
    )
    .await?;
    call(
        s,
        |_: &Session| register(&identity, "GCM", "token-3"),
        Intent::Success,
    )
    .await?;
    Ok(())
}

async fn subscribe_idempotent(s: &mut Session) -> Result<(), Stop> {
    call(
        s,
        |s: &Session| set_request(s, full_configuration()),
        Intent::Success,
    )
    .await?;
    let identity = written_identity(s).await?;
    let answer = call(
        s,
        |_: &Session| register(&identity, "APNS", "token-1"),
        Intent::Success,
    )
    .await?;
    let device = device_of(&answer)?;
    for _ in 0..2 {
        call(
            s,
            |_: &Session| subscribe_request(&identity, "not-yet", &device),
            Intent::Success,
        )
        .await?;
    }
    for _ in 0..2 {
        call(
            s,
            |_: &Session| unsubscribe_request(&identity, "not-yet", &device),
            Intent::Success,
        )
        .await?;
    }
    call(
        s,
        |_: &Session| subscribe_request(&identity, "prefs", &device),
        Intent::Success,
    )
    .await?;
    Ok(())
}

async fn subscribe_unknown_device(s: &mut Session) -> Result<(), Stop> {
    call(
        s,
        |s: &Session| set_request(s, full_configuration()),
        Intent::Success,
    )
    .await?;
    let identity = written_identity(s).await?;
    let other = written_identity(s).await?;
    let answer = call(
        s,
        |_: &Session| register(&other, "GCM", "token-1"),
        Intent::Success,
    )
    .await?;
    let others_device = device_of(&answer)?;
    for device in ["cogsync-never-registered", others_device.as_str()] {
        let sub = subscribe_request(&identity, "prefs", device);
        call(
            s,
            |_: &Session| sub,
            Intent::Error(ErrorKind::ResourceNotFound),
        )
        .await?;
        let unsub = unsubscribe_request(&identity, "prefs", device);
        call(
            s,
            |_: &Session| unsub,
            Intent::Error(ErrorKind::ResourceNotFound),
        )
        .await?;
    }
    call(
        s,
        |_: &Session| subscribe_request(&other, "prefs", &others_device),
        Intent::Success,
    )
    .await?;
    Ok(())
}

fn bulk(s: &Session) -> PoolRequest {
    PoolRequest::BulkPublish {
        identity_pool_id: s.pool(),
    }
}

fn details(s: &Session) -> PoolRequest {
    PoolRequest::GetBulkPublishDetails {
        identity_pool_id: s.pool(),
    }
}

async fn bulk_no_stream(s: &mut Session) -> Result<(), Stop> {
    let push_only = PoolConfigurationBody {
        push_sync: full_configuration().push_sync,
        cognito_streams: None,
    };
    call(s, |s: &Session| set_request(s, push_only), Intent::Success).await?;
    written_identity(s).await?;
    call(
        s,
        |s: &Session| bulk(s),
        Intent::Error(ErrorKind::InvalidParameter),
    )
    .await?;
    call(s, |s: &Session| details(s), Intent::Success).await?;
    Ok(())
}

async fn bulk_never_published(s: &mut Session) -> Result<(), Stop> {
    call(s, |s: &Session| details(s), Intent::Success).await?;
    call(
        s,
        |s: &Session| set_request(s, full_configuration()),
        Intent::Success,
    )
    .await?;
    written_identity(s).await?;
    let answer = call(s, |s: &Session| details(s), Intent::Success).await?;
    if let PoolObserved::BulkDetails(d) = &answer {
        ensure(
            d.bulk_publish_start_time.is_none() && d.bulk_publish_complete_time.is_none(),
            || format!("NOT_STARTED with times: {d:?}"),
        )?;
    }
    Ok(())
}

async fn bulk_lifecycle(s: &mut Session) -> Result<(), Stop> {
    written_identity(s).await?;
    written_identity(s).await?;
    call(
        s,
        |s: &Session| set_request(s, full_configuration()),
        Intent::Success,
    )
    .await?;
    call(s, |s: &Session| details(s), Intent::Success).await?;
    call(s, |s: &Session| bulk(s), Intent::Success).await?;
    call(s, |s: &Session| details(s), Intent::Success).await?;
    // Right after: DuplicateRequest while running, AlreadyStreamed once done (AMB-BULK-TIME).
    let pool = s.pool();
    let second = if s.model().bulk_state(&pool) == BulkState::Succeeded {
        ErrorKind::AlreadyStreamed
    } else {
        ErrorKind::DuplicateRequest
    };
    call(s, |s: &Session| bulk(s), Intent::Error(second)).await?;
    call(s, |s: &Session| details(s), Intent::Success).await?;
    if s.model().bulk_state(&pool) == BulkState::Succeeded {
        call(
            s,
            |s: &Session| bulk(s),
            Intent::Error(ErrorKind::AlreadyStreamed),
        )
        .await?;
    }
    Ok(())
}

/// How long `bulk-publish.completes` waits for SUCCEEDED or FAILED.
const BULK_WAIT_SECS_MAX: u64 = 5 * crate::spec::BULK_PUBLISH_SECS_REFERENCE;

async fn bulk_completes(s: &mut Session) -> Result<(), Stop> {
    written_identity(s).await?;
    call(
        s,
        |s: &Session| set_request(s, full_configuration()),
        Intent::Success,
    )
    .await?;
    call(s, |s: &Session| bulk(s), Intent::Success).await?;
    let pool = s.pool();
    for _ in 0..BULK_WAIT_SECS_MAX * 4 {
        call(s, |s: &Session| details(s), Intent::Success).await?;
        if s.model().bulk_state(&pool) != BulkState::Started {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    Err(Stop::Finding(format!(
        "GetBulkPublishDetails still answers IN_PROGRESS {BULK_WAIT_SECS_MAX} s after BulkPublish"
    )))
}

fn describe_usage(s: &Session) -> PoolRequest {
    PoolRequest::DescribeIdentityPoolUsage {
        identity_pool_id: s.pool(),
    }
}

async fn usage_describe(s: &mut Session) -> Result<(), Stop> {
    call(s, |s: &Session| describe_usage(s), Intent::Success).await?;
    let first = written_identity(s).await?;
    call(s, |s: &Session| describe_usage(s), Intent::Success).await?;
    let second = written_identity(s).await?;
    write(
        s,
        &dataset_of(&second, "more"),
        vec![replace("key", &"v".repeat(300), 0), replace("k2", "x", 0)],
    )
    .await?;
    let answer = call(s, |s: &Session| describe_usage(s), Intent::Success).await?;
    // POOL-1 through the dataset API too: the identities' own usage adds up to the pool's.
    let mut sum = 0;
    for identity in [first, second.clone()] {
        let usage = s
            .call(Call::DescribeIdentityUsage(DescribeIdentityUsageRequest {
                path: identity,
            }))
            .await?;
        if let Answer::DescribeIdentityUsage(u) = usage {
            sum += u.identity_usage.and_then(|u| u.data_storage).unwrap_or(0);
        }
    }
    if let PoolObserved::Usage(Some(usage)) = &answer {
        ensure(usage.data_storage == Some(sum), || {
            format!(
                "IdentityPoolUsage.DataStorage {:?} is not the sum {sum} of DescribeIdentityUsage",
                usage.data_storage
            )
        })?;
    }
    // A deleted dataset no longer counts.
    let delete = Call::DeleteDataset(DeleteDatasetRequest {
        path: dataset_of(&second, "more"),
    });
    s.call(delete).await?;
    call(s, |s: &Session| describe_usage(s), Intent::Success).await?;
    Ok(())
}

async fn usage_list(s: &mut Session) -> Result<(), Stop> {
    written_identity(s).await?;
    // A second pool of the case's own, next to the first in name order: in pages of one, a
    // walk that skips or repeats a pool shows it on one of the two.
    let next = s.pool_n(1);
    let identity = s.identity_in(&next);
    write(
        s,
        &dataset_of(&identity, "prefs"),
        vec![replace("b", "22", 0)],
    )
    .await?;
    call(s, |s: &Session| describe_usage(s), Intent::Success).await?;
    for max_results in [None, Some(1)] {
        let list = PoolRequest::ListIdentityPoolUsage {
            max_results,
            next_token: None,
        };
        call(s, |_: &Session| list, Intent::Success).await?;
    }
    Ok(())
}
