//! What a run learned about the eleven pool-level operations (spec §11): an endpoint may leave
//! any of them unimplemented. The first call of an operation (its `other-operations.*` case)
//! decides: a 4xx in the ERR-1 shape marks it not implemented, reported once; every later case
//! that needs it is skipped, neither passed nor failed.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::client::{RawResponse, Reply, decode};

/// Whether the endpoint implements one of the eleven.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Support {
    Implemented,
    /// The one line a report prints: `not implemented: BulkPublish (404 UnknownOperationException)`.
    NotImplemented(String),
}

/// Shared by every case of a run.
#[derive(Debug, Default)]
pub struct OperationBook {
    known: Mutex<BTreeMap<&'static str, Support>>,
}

impl OperationBook {
    /// What the run learned of `operation`, if its first call was made.
    pub fn get(&self, operation: &str) -> Option<Support> {
        self.known
            .lock()
            .ok()
            .and_then(|known| known.get(operation).cloned())
    }

    /// Records what the first call of `operation` showed; a later call does not overwrite it.
    pub fn learn(&self, operation: &'static str, support: Support) {
        if let Ok(mut known) = self.known.lock() {
            known.entry(operation).or_insert(support);
        }
    }
}

/// Whether `response` says "not implemented" (spec §11): a 4xx with `x-amzn-ErrorType` naming a
/// shape and a JSON body with a message. Returns the report line.
pub fn not_implemented(operation: &str, response: &RawResponse) -> Option<String> {
    if !(400..500).contains(&response.status) {
        return None;
    }
    let Reply::Error(error) = decode::<serde_json::Value>(response) else {
        return None;
    };
    let shape = error.shape_name()?.to_owned();
    error.message()?;
    Some(format!(
        "not implemented: {operation} ({} {shape})",
        response.status
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, header: Option<&str>, body: &str) -> RawResponse {
        let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        if let Some(h) = header {
            headers.push(("x-amzn-ErrorType".to_owned(), h.to_owned()));
        }
        RawResponse {
            status,
            headers,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn a_4xx_in_the_error_shape_is_not_implemented() {
        let line = not_implemented(
            "BulkPublish",
            &response(
                404,
                Some("UnknownOperationException"),
                r#"{"message":"no"}"#,
            ),
        );
        assert_eq!(
            line.as_deref(),
            Some("not implemented: BulkPublish (404 UnknownOperationException)")
        );
        assert!(
            not_implemented(
                "BulkPublish",
                &response(403, Some("NotAuthorizedException:x"), r#"{"message":"no"}"#)
            )
            .is_some()
        );
    }

    #[test]
    fn other_answers_are_not_read_as_not_implemented() {
        for r in [
            response(500, Some("InternalErrorException"), r#"{"message":"x"}"#),
            response(404, None, r#"{"message":"x"}"#),
            response(404, Some("UnknownOperationException"), "not json"),
            response(200, None, "{}"),
        ] {
            assert_eq!(not_implemented("BulkPublish", &r), None, "{}", r.status);
        }
    }

    #[test]
    fn the_first_call_decides() {
        let book = OperationBook::default();
        assert_eq!(book.get("BulkPublish"), None);
        book.learn("BulkPublish", Support::NotImplemented("x".into()));
        book.learn("BulkPublish", Support::Implemented);
        assert_eq!(
            book.get("BulkPublish"),
            Some(Support::NotImplemented("x".into()))
        );
    }
}
