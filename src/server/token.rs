//! Session tokens and paging tokens: opaque to clients, HMAC-SHA256 signed by the server.
//!
//! Neither kind of token is stored. A token carries what the server needs to know later (when
//! it was issued, or where a page ended) and a MAC over that payload *and* the request it is
//! bound to, so a token used with another pool, identity, dataset, operation or
//! `lastSyncCount` fails its check without any lookup.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::spec::SESSION_TOKEN_LIFETIME_SECS;

type HmacSha256 = Hmac<Sha256>;

/// Bytes of MAC kept in a token: 128 bits are plenty against forgery and keep tokens short.
const MAC_LEN: usize = 16;
const VERSION: u8 = 1;
const KIND_SESSION: u8 = b'S';
const KIND_RECORDS_PAGE: u8 = b'R';
const KIND_DATASETS_PAGE: u8 = b'D';
const KIND_POOLS_PAGE: u8 = b'P';
/// Secret length in bytes.
pub const SECRET_LEN: usize = 32;
/// How far in the future an issue time may lie (clock steps between servers sharing a DB).
const FUTURE_SKEW_SECS: u64 = 300;

/// Where a ListRecords page ended: the last (SyncCount, Key) returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordsPosition {
    pub last_sync_count: i64,
    pub sync_count: i64,
    pub key: String,
}

/// Signs and checks tokens with one server secret.
#[derive(Clone)]
pub struct TokenKeys {
    mac: HmacSha256,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(..)")
    }
}

impl TokenKeys {
    /// Keys from a secret: the same secret accepts the same tokens, across restarts too.
    pub fn new(secret: &[u8; SECRET_LEN]) -> TokenKeys {
        let mac = match HmacSha256::new_from_slice(secret) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC accepts keys of any length"),
        };
        TokenKeys { mac }
    }

    /// A fresh random secret, for servers whose tokens need not outlive them.
    pub fn random_secret() -> [u8; SECRET_LEN] {
        rand::random()
    }

    /// The MAC of `kind | payload | binding`, each binding part length-prefixed so that
    /// ("ab", "c") and ("a", "bc") differ.
    fn tag(&self, kind: u8, payload: &[u8], binding: &[&str]) -> HmacSha256 {
        let mut mac = self.mac.clone();
        mac.update(&[VERSION, kind]);
        mac.update(&(payload.len() as u64).to_be_bytes());
        mac.update(payload);
        for part in binding {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        mac
    }

    fn seal(&self, kind: u8, payload: &[u8], binding: &[&str]) -> String {
        let tag = self.tag(kind, payload, binding).finalize().into_bytes();
        let mut raw = Vec::with_capacity(2 + payload.len() + MAC_LEN);
        raw.push(VERSION);
        raw.push(kind);
        raw.extend_from_slice(payload);
        raw.extend_from_slice(tag.get(..MAC_LEN).unwrap_or(&tag));
        URL_SAFE_NO_PAD.encode(raw)
    }

    /// Returns the payload of a token of `kind` bound to `binding`, or `None` for anything
    /// else: garbage, another kind, another binding, a forged MAC.
    fn open(&self, token: &str, kind: u8, binding: &[&str]) -> Option<Vec<u8>> {
        let raw = URL_SAFE_NO_PAD.decode(token.as_bytes()).ok()?;
        let (header, rest) = raw.split_first_chunk::<2>()?;
        if *header != [VERSION, kind] {
            return None;
        }
        let split = rest.len().checked_sub(MAC_LEN)?;
        let (payload, tag) = rest.split_at(split);
        self.tag(kind, payload, binding)
            .verify_truncated_left(tag)
            .ok()?;
        Some(payload.to_vec())
    }

    /// A SyncSessionToken for (pool, identity, dataset), issued at `now_secs`. A random nonce
    /// makes every token fresh.
    pub fn issue_session(&self, binding: [&str; 3], now_secs: u64) -> String {
        let nonce: u64 = rand::random();
        let mut payload = [0u8; 16];
        payload[..8].copy_from_slice(&now_secs.to_be_bytes());
        payload[8..].copy_from_slice(&nonce.to_be_bytes());
        self.seal(KIND_SESSION, &payload, &binding)
    }

    /// Whether `token` was issued by this secret for this binding less than
    /// `SESSION_TOKEN_LIFETIME_SECS` before `now_secs` (AMB-TOKEN-EXPIRY, AMB-TOKEN-REUSE).
    pub fn check_session(&self, token: &str, binding: [&str; 3], now_secs: u64) -> bool {
        let Some(payload) = self.open(token, KIND_SESSION, &binding) else {
            return false;
        };
        let Some(issued) = payload.first_chunk::<8>().map(|b| u64::from_be_bytes(*b)) else {
            return false;
        };
        if payload.len() != 16 {
            return false;
        }
        issued <= now_secs.saturating_add(FUTURE_SKEW_SECS)
            && now_secs.saturating_sub(issued) < SESSION_TOKEN_LIFETIME_SECS
    }

    /// A ListRecords NextToken bound to (pool, identity, dataset) and carrying the request's
    /// `lastSyncCount` and the last (SyncCount, Key) returned.
    pub fn issue_records_page(&self, binding: [&str; 3], position: &RecordsPosition) -> String {
        let mut payload = Vec::with_capacity(16 + position.key.len());
        payload.extend_from_slice(&position.last_sync_count.to_be_bytes());
        payload.extend_from_slice(&position.sync_count.to_be_bytes());
        payload.extend_from_slice(position.key.as_bytes());
        self.seal(KIND_RECORDS_PAGE, &payload, &binding)
    }

    /// The position in a ListRecords NextToken, if it is genuine, bound to this dataset and
    /// was issued for the same `lastSyncCount`.
    pub fn check_records_page(
        &self,
        token: &str,
        binding: [&str; 3],
        last_sync_count: i64,
    ) -> Option<RecordsPosition> {
        let payload = self.open(token, KIND_RECORDS_PAGE, &binding)?;
        let (lsc, rest) = payload.split_first_chunk::<8>()?;
        let (sc, key) = rest.split_first_chunk::<8>()?;
        let position = RecordsPosition {
            last_sync_count: i64::from_be_bytes(*lsc),
            sync_count: i64::from_be_bytes(*sc),
            key: String::from_utf8(key.to_vec()).ok()?,
        };
        (position.last_sync_count == last_sync_count).then_some(position)
    }

    /// A ListDatasets NextToken bound to (pool, identity), carrying the last name returned.
    pub fn issue_datasets_page(&self, binding: [&str; 2], last_name: &str) -> String {
        self.seal(KIND_DATASETS_PAGE, last_name.as_bytes(), &binding)
    }

    /// A ListIdentityPoolUsage NextToken, carrying the last pool listed.
    pub fn issue_pools_page(&self, last_pool: &str) -> String {
        self.seal(KIND_POOLS_PAGE, last_pool.as_bytes(), &[])
    }

    /// The last pool in a genuine ListIdentityPoolUsage NextToken.
    pub fn check_pools_page(&self, token: &str) -> Option<String> {
        let payload = self.open(token, KIND_POOLS_PAGE, &[])?;
        String::from_utf8(payload).ok()
    }

    /// The last dataset name in a genuine ListDatasets NextToken for this identity.
    pub fn check_datasets_page(&self, token: &str, binding: [&str; 2]) -> Option<String> {
        let payload = self.open(token, KIND_DATASETS_PAGE, &binding)?;
        String::from_utf8(payload).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000;
    const DS: [&str; 3] = ["us-east-1:0a", "us-east-1:0b", "settings"];

    fn keys() -> TokenKeys {
        TokenKeys::new(&[7; SECRET_LEN])
    }

    #[test]
    fn session_token_round_trips_and_is_reusable() {
        let keys = keys();
        let token = keys.issue_session(DS, NOW);
        assert!(keys.check_session(&token, DS, NOW));
        assert!(keys.check_session(&token, DS, NOW + 10));
        assert_ne!(token, keys.issue_session(DS, NOW), "every token is fresh");
    }

    #[test]
    fn session_token_is_bound_to_pool_identity_and_dataset() {
        let keys = keys();
        let token = keys.issue_session(DS, NOW);
        assert!(!keys.check_session(&token, ["us-east-1:0c", DS[1], DS[2]], NOW));
        assert!(!keys.check_session(&token, [DS[0], "us-east-1:0c", DS[2]], NOW));
        assert!(!keys.check_session(&token, [DS[0], DS[1], "other"], NOW));
        // Length prefixes keep shifted boundaries apart.
        assert!(!keys.check_session(&token, [DS[0], "us-east-1:0bs", "ettings"], NOW));
    }

    #[test]
    fn session_token_expires_after_its_lifetime() {
        let keys = keys();
        let token = keys.issue_session(DS, NOW);
        assert!(keys.check_session(&token, DS, NOW + SESSION_TOKEN_LIFETIME_SECS - 1));
        assert!(!keys.check_session(&token, DS, NOW + SESSION_TOKEN_LIFETIME_SECS));
        assert!(!keys.check_session(&token, DS, NOW - FUTURE_SKEW_SECS - 1));
    }

    #[test]
    fn tampered_or_foreign_tokens_are_refused() {
        let keys = keys();
        let token = keys.issue_session(DS, NOW);
        let mut raw = URL_SAFE_NO_PAD.decode(&token).expect("base64");
        for i in 0..raw.len() {
            raw[i] ^= 1;
            assert!(
                !keys.check_session(&URL_SAFE_NO_PAD.encode(&raw), DS, NOW),
                "byte {i}"
            );
            raw[i] ^= 1;
        }
        let other = TokenKeys::new(&[8; SECRET_LEN]);
        assert!(!other.check_session(&token, DS, NOW));
        for garbage in ["", "x", "!!!!", "AAAA", &"A".repeat(100)] {
            assert!(!keys.check_session(garbage, DS, NOW), "{garbage}");
        }
    }

    #[test]
    fn page_tokens_are_bound_to_operation_dataset_and_last_sync_count() {
        let keys = keys();
        let position = RecordsPosition {
            last_sync_count: 3,
            sync_count: 9,
            key: "k é".into(),
        };
        let token = keys.issue_records_page(DS, &position);
        assert_eq!(keys.check_records_page(&token, DS, 3), Some(position));
        assert_eq!(keys.check_records_page(&token, DS, 4), None);
        assert_eq!(
            keys.check_records_page(&token, [DS[0], DS[1], "x"], 3),
            None
        );
        assert!(!keys.check_session(&token, DS, NOW));
        assert_eq!(keys.check_datasets_page(&token, [DS[0], DS[1]]), None);

        let token = keys.issue_datasets_page([DS[0], DS[1]], "settings");
        assert_eq!(
            keys.check_datasets_page(&token, [DS[0], DS[1]]).as_deref(),
            Some("settings")
        );
        assert_eq!(
            keys.check_datasets_page(&token, [DS[0], "us-east-1:0c"]),
            None
        );
        assert_eq!(keys.check_records_page(&token, DS, 0), None);
    }
}
