//! The token book: the SyncSessionTokens an endpoint issued, for which dataset and when, and
//! whether an UpdateRecords already carried them.
//!
//! Tokens are opaque, so the model cannot read one: the caller tells it where its token came
//! from ([`TokenClaim`], UR-8). Every driver of an endpoint — the session, the racing devices of
//! the concurrent phase — works its claims out here, so they say the same thing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::TokenClaim;
use crate::spec::{DatasetPath, Timestamp};

/// A SyncSessionToken no endpoint issued.
pub const GARBAGE_TOKEN: &str =
    "Z2FyYmFnZS1zZXNzaW9uLXRva2VuLW5vdC1pc3N1ZWQtYnktdGhpcy1lbmRwb2ludA";

/// The token an UpdateRecords (or ListRecords) carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenChoice {
    /// The token the latest ListRecords of the same dataset returned (listing first if none),
    /// even if an UpdateRecords already carried it (AMB-TOKEN-REUSE).
    Latest,
    /// A token no UpdateRecords has carried yet: the latest, or a new ListRecords first, as a
    /// sync client does. Cases write with it so that single-use tokens (AMB-TOKEN-REUSE) take
    /// no case off its path.
    Fresh,
    /// The latest token of another dataset.
    From(DatasetPath),
    Missing,
    /// A string the endpoint never issued.
    Garbage,
}

#[derive(Debug, Clone, PartialEq)]
struct Issued {
    token: String,
    issued_at: Timestamp,
    spent: bool,
}

/// The latest token issued for each dataset, with its claim.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TokenBook {
    latest: BTreeMap<DatasetPath, Issued>,
}

impl TokenBook {
    pub fn new() -> TokenBook {
        TokenBook::default()
    }

    /// Records the token a ListRecords of `path` answered at `at`, in place of the dataset's
    /// earlier one.
    pub fn issue(&mut self, path: &DatasetPath, token: String, at: Timestamp) {
        self.latest.insert(
            path.clone(),
            Issued {
                token,
                issued_at: at,
                spent: false,
            },
        );
    }

    /// As [`TokenBook::issue`], for a holder that races others on the dataset: the endpoint
    /// may hand several of them the same opaque token, and none sees what the others sent, so
    /// the token is taken as possibly spent from the start (AMB-TOKEN-REUSE).
    pub fn issue_shared(&mut self, path: &DatasetPath, token: String, at: Timestamp) {
        self.issue(path, token, at);
        self.spend_latest(path);
    }

    /// Drops the dataset's token: its holder must list before it writes again.
    pub fn forget(&mut self, path: &DatasetPath) {
        self.latest.remove(path);
    }

    /// Whether the book holds a token of the dataset.
    pub fn has(&self, path: &DatasetPath) -> bool {
        self.latest.contains_key(path)
    }

    /// The dataset's latest token, if any.
    pub fn latest(&self, path: &DatasetPath) -> Option<&str> {
        self.latest.get(path).map(|t| t.token.as_str())
    }

    /// Whether sending with `choice` first needs a ListRecords of `path`, as a sync client
    /// lists before it writes: for [`TokenChoice::Latest`] when there is no token yet, for
    /// [`TokenChoice::Fresh`] also when the latest one is spent.
    pub fn needs_list(&self, path: &DatasetPath, choice: &TokenChoice) -> bool {
        match choice {
            TokenChoice::Latest => !self.has(path),
            TokenChoice::Fresh => self.latest.get(path).is_none_or(|t| t.spent),
            TokenChoice::From(_) | TokenChoice::Missing | TokenChoice::Garbage => false,
        }
    }

    /// The token string to send for `choice` and what to tell the model about it. A choice the
    /// book holds no token for sends none.
    pub fn claim(&self, path: &DatasetPath, choice: &TokenChoice) -> (TokenClaim, Option<String>) {
        let issued = |from: &DatasetPath| match self.latest.get(from) {
            Some(t) => (
                TokenClaim::IssuedFor {
                    path: from.clone(),
                    issued_at: t.issued_at,
                    used_before: t.spent,
                },
                Some(t.token.clone()),
            ),
            None => (TokenClaim::Missing, None),
        };
        match choice {
            TokenChoice::Latest | TokenChoice::Fresh => issued(path),
            TokenChoice::From(other) => issued(other),
            TokenChoice::Missing => (TokenClaim::Missing, None),
            TokenChoice::Garbage => (TokenClaim::Garbage, Some(GARBAGE_TOKEN.to_owned())),
        }
    }

    /// The claim a send with `choice` will make at `now`, before the ListRecords it may need
    /// ([`TokenBook::needs_list`]): a token that listing issues is fresh and unspent. Lets a
    /// case check the model's reference outcome before anything is sent.
    pub fn claim_ahead(
        &self,
        path: &DatasetPath,
        choice: &TokenChoice,
        now: Timestamp,
    ) -> TokenClaim {
        if self.needs_list(path, choice) {
            TokenClaim::IssuedFor {
                path: path.clone(),
                issued_at: now,
                used_before: false,
            }
        } else {
            self.claim(path, choice).0
        }
    }

    /// Marks the token of `claim` as carried by an UpdateRecords, whatever the answer: a write
    /// that failed, or whose answer never came, may still have spent it.
    pub fn spend(&mut self, claim: &TokenClaim) {
        if let TokenClaim::IssuedFor { path, .. } = claim {
            self.spend_latest(path);
        }
    }

    fn spend_latest(&mut self, path: &DatasetPath) {
        if let Some(t) = self.latest.get_mut(path) {
            t.spent = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(name: &str) -> DatasetPath {
        DatasetPath {
            identity_pool_id: "us-east-1:p".into(),
            identity_id: "us-east-1:i".into(),
            dataset_name: name.into(),
        }
    }

    fn issued_for(name: &str, at: Timestamp, used_before: bool) -> TokenClaim {
        TokenClaim::IssuedFor {
            path: path(name),
            issued_at: at,
            used_before,
        }
    }

    #[test]
    fn an_issued_token_is_claimed_unspent_until_an_update_carries_it() {
        let mut book = TokenBook::new();
        book.issue(&path("a"), "t1".into(), 10.0);
        let (claim, token) = book.claim(&path("a"), &TokenChoice::Latest);
        assert_eq!(claim, issued_for("a", 10.0, false));
        assert_eq!(token.as_deref(), Some("t1"));
        book.spend(&claim);
        assert_eq!(
            book.claim(&path("a"), &TokenChoice::Latest).0,
            issued_for("a", 10.0, true)
        );
    }

    #[test]
    fn a_new_listing_replaces_the_spent_token() {
        let mut book = TokenBook::new();
        book.issue(&path("a"), "t1".into(), 10.0);
        book.spend(&issued_for("a", 10.0, false));
        book.issue(&path("a"), "t2".into(), 20.0);
        let (claim, token) = book.claim(&path("a"), &TokenChoice::Fresh);
        assert_eq!(claim, issued_for("a", 20.0, false));
        assert_eq!(token.as_deref(), Some("t2"));
        assert_eq!(book.latest(&path("a")), Some("t2"));
    }

    #[test]
    fn fresh_needs_a_listing_once_the_token_is_spent_latest_does_not() {
        let mut book = TokenBook::new();
        for choice in [TokenChoice::Latest, TokenChoice::Fresh] {
            assert!(
                book.needs_list(&path("a"), &choice),
                "{choice:?} with no token"
            );
        }
        book.issue(&path("a"), "t1".into(), 10.0);
        assert!(!book.needs_list(&path("a"), &TokenChoice::Fresh));
        book.spend(&issued_for("a", 10.0, false));
        assert!(book.needs_list(&path("a"), &TokenChoice::Fresh));
        assert!(!book.needs_list(&path("a"), &TokenChoice::Latest));
        for choice in [
            TokenChoice::Missing,
            TokenChoice::Garbage,
            TokenChoice::From(path("b")),
        ] {
            assert!(!book.needs_list(&path("a"), &choice), "{choice:?}");
        }
    }

    #[test]
    fn claims_ahead_of_a_listing_are_fresh_at_the_time_given() {
        let mut book = TokenBook::new();
        assert_eq!(
            book.claim_ahead(&path("a"), &TokenChoice::Latest, 5.0),
            issued_for("a", 5.0, false)
        );
        book.issue(&path("a"), "t1".into(), 1.0);
        book.spend(&issued_for("a", 1.0, false));
        assert_eq!(
            book.claim_ahead(&path("a"), &TokenChoice::Latest, 5.0),
            issued_for("a", 1.0, true),
            "a reused token is claimed as what it is"
        );
        assert_eq!(
            book.claim_ahead(&path("a"), &TokenChoice::Fresh, 5.0),
            issued_for("a", 5.0, false)
        );
    }

    #[test]
    fn tokens_of_other_datasets_missing_and_garbage_are_claimed_as_such() {
        let mut book = TokenBook::new();
        book.issue(&path("b"), "tb".into(), 3.0);
        let (claim, token) = book.claim(&path("a"), &TokenChoice::From(path("b")));
        assert_eq!(claim, issued_for("b", 3.0, false));
        assert_eq!(token.as_deref(), Some("tb"));
        assert_eq!(
            book.claim(&path("a"), &TokenChoice::From(path("c"))),
            (TokenClaim::Missing, None),
            "a dataset the book holds no token of"
        );
        assert_eq!(
            book.claim(&path("a"), &TokenChoice::Latest),
            (TokenClaim::Missing, None)
        );
        assert_eq!(
            book.claim(&path("a"), &TokenChoice::Missing),
            (TokenClaim::Missing, None)
        );
        assert_eq!(
            book.claim(&path("a"), &TokenChoice::Garbage),
            (TokenClaim::Garbage, Some(GARBAGE_TOKEN.to_owned()))
        );
    }

    #[test]
    fn a_shared_token_is_claimed_as_possibly_spent_and_forgetting_drops_it() {
        let mut book = TokenBook::new();
        book.issue_shared(&path("a"), "t".into(), 2.0);
        assert_eq!(
            book.claim(&path("a"), &TokenChoice::Latest).0,
            issued_for("a", 2.0, true)
        );
        book.forget(&path("a"));
        assert!(!book.has(&path("a")));
        assert_eq!(book.latest(&path("a")), None);
    }
}
