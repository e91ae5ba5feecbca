//! SyncSessionToken of UpdateRecords: required, and only good for its own dataset (UR-8).

use super::support::{
    DEVICE, body_json, in_other_pool, raw_update, update_intended, with_body, write,
};
use crate::spec::ErrorKind;
use crate::suite::session::{Intent, Session, TokenChoice, dataset_of, replace};
use crate::suite::verdict::Stop;

cases! {
    "tokens.missing-rejected", Must, ["UR-8", "UR-3"],
    "UpdateRecords without a SyncSessionToken is rejected",
    "An UpdateRecords without SyncSessionToken fails with 400 and changes nothing."
        => missing_rejected;

    "tokens.garbage-rejected", Must, ["UR-8", "UR-3"],
    "A SyncSessionToken the endpoint never issued is rejected",
    "A garbage SyncSessionToken fails with 400 InvalidParameterException and changes nothing."
        => garbage_rejected;

    "tokens.tampered-rejected", Must, ["UR-8", "ERR-3"],
    "A real token with one character changed is rejected",
    "A SyncSessionToken altered in one character fails with 400 InvalidParameterException and changes nothing."
        => tampered_rejected;

    "tokens.other-dataset-rejected", Must, ["UR-8"],
    "A token of another dataset of the same identity is rejected",
    "A SyncSessionToken issued by ListRecords of dataset A fails with 400 InvalidParameterException on dataset B."
        => other_dataset_rejected;

    "tokens.other-identity-rejected", Must, ["UR-8"],
    "A token of the same dataset name of another identity is rejected",
    "A SyncSessionToken issued for another identity's dataset of the same name fails with 400 InvalidParameterException."
        => other_identity_rejected;

    "tokens.other-pool-rejected", Must, ["UR-8", "DATA-1"],
    "A token of the same identity ID in another pool is rejected",
    "A SyncSessionToken issued for the same identity ID and dataset name in another identity pool fails with 400 InvalidParameterException."
        => other_pool_rejected;

    "tokens.reused-after-success", Must, ["UR-8", "AMB-TOKEN-REUSE"],
    "A valid token may carry several UpdateRecords",
    "A SyncSessionToken that already carried a successful UpdateRecords is accepted again (reference choice)."
        => reused_after_success;

    "tokens.fresh-after-every-list", Must, ["UR-8", "LR-2"],
    "The token of a missing dataset's listing is good for its first write",
    "ListRecords of a dataset that does not exist yet returns a token that UpdateRecords accepts to create it."
        => fresh_for_missing_dataset;
}

async fn missing_rejected(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    update_intended(
        s,
        &path,
        Some(DEVICE),
        Some(vec![replace("a", "2", 1)]),
        TokenChoice::Missing,
        Intent::Error(ErrorKind::Validation),
    )
    .await?;
    s.list(&path).await?;
    Ok(())
}

async fn garbage_rejected(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    update_intended(
        s,
        &path,
        Some(DEVICE),
        Some(vec![replace("a", "2", 1)]),
        TokenChoice::Garbage,
        Intent::Error(ErrorKind::InvalidParameter),
    )
    .await?;
    s.list(&path).await?;
    Ok(())
}

async fn tampered_rejected(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    s.list(&path).await?;
    let token = s.token_of(&path).unwrap_or_default();
    // Change a character in the middle, where any token format keeps its signed payload.
    let middle = token.len() / 2;
    let mut chars: Vec<char> = token.chars().collect();
    if let Some(c) = chars.get_mut(middle) {
        *c = if *c == 'A' { 'B' } else { 'A' };
    }
    let tampered: String = chars.into_iter().collect();
    let mut body = body_json(
        s,
        &path,
        serde_json::json!([
            {"Op": "replace", "Key": "a", "Value": "2", "SyncCount": 1}
        ]),
    );
    body["SyncSessionToken"] = serde_json::Value::String(tampered);
    let raw = with_body(raw_update(s, &path, Vec::new()), &body);
    s.raw_rejected(
        "UpdateRecords with a tampered token",
        raw,
        &[ErrorKind::InvalidParameter],
    )
    .await?;
    s.list(&path).await?;
    Ok(())
}

async fn other_dataset_rejected(s: &mut Session) -> Result<(), Stop> {
    let identity = s.identity();
    let settings = dataset_of(&identity, "settings");
    let scores = dataset_of(&identity, "scores");
    write(s, &settings, vec![replace("theme", "dark", 0)]).await?;
    s.list(&scores).await?;
    s.list(&settings).await?;
    update_intended(
        s,
        &scores,
        Some(DEVICE),
        Some(vec![replace("best", "100", 0)]),
        TokenChoice::From(settings.clone()),
        Intent::Error(ErrorKind::InvalidParameter),
    )
    .await?;
    s.list(&scores).await?;
    Ok(())
}

async fn other_identity_rejected(s: &mut Session) -> Result<(), Stop> {
    let alice = s.dataset("settings");
    let bob = s.dataset("settings");
    s.list(&alice).await?;
    write(s, &bob, vec![replace("theme", "dark", 0)]).await?;
    update_intended(
        s,
        &bob,
        Some(DEVICE),
        Some(vec![replace("theme", "light", 1)]),
        TokenChoice::From(alice.clone()),
        Intent::Error(ErrorKind::InvalidParameter),
    )
    .await?;
    s.list(&bob).await?;
    Ok(())
}

async fn other_pool_rejected(s: &mut Session) -> Result<(), Stop> {
    let identity = s.identity();
    let home = dataset_of(&identity, "settings");
    let away = dataset_of(&in_other_pool(&identity), "settings");
    s.list(&away).await?;
    write(s, &home, vec![replace("theme", "dark", 0)]).await?;
    update_intended(
        s,
        &home,
        Some(DEVICE),
        Some(vec![replace("theme", "light", 1)]),
        TokenChoice::From(away.clone()),
        Intent::Error(ErrorKind::InvalidParameter),
    )
    .await?;
    s.list(&home).await?;
    s.list(&away).await?;
    Ok(())
}

async fn reused_after_success(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    s.list(&path).await?;
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    write(s, &path, vec![replace("b", "1", 0)]).await?;
    write(s, &path, vec![replace("a", "2", 1)]).await?;
    s.list(&path).await?;
    Ok(())
}

async fn fresh_for_missing_dataset(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    s.list(&path).await?;
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    s.list(&path).await?;
    write(s, &path, vec![replace("a", "2", 1)]).await?;
    s.list(&path).await?;
    Ok(())
}
