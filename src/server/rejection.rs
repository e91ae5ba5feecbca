//! Rejections: every way the reference server refuses a request, with its shape and message.
//!
//! A [`Rejection`] becomes an error answer through [`Rejection::wire`], so the status, the
//! `x-amzn-ErrorType` header and the JSON body are decided here and nowhere else (ERR-1, ERR-2),
//! including the decorations the error variants choose.

use super::variant::Variant;
use crate::spec::{ConstraintError, ErrorKind};

/// What AWS's own services append to `x-amzn-ErrorType` (ERR-1 allows a suffix after `:`).
const ERROR_TYPE_SUFFIX: &str = "http://internal.amazon.com/coral/com.amazon.coral.validate/";
/// The service's Smithy namespace, which other AWS services put before `#` in `__type`.
const TYPE_NAMESPACE: &str = "com.amazonaws.cognitosync";

/// An error answer as it goes on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorWire {
    pub status: u16,
    /// The `x-amzn-ErrorType` header.
    pub error_type: String,
    /// The JSON body.
    pub body: Vec<u8>,
}

impl ErrorWire {
    /// What API-Gateway-fronted services answer to a path they do not route (the
    /// unknown-route-403 variant): not a shape of this service, so not a [`Rejection`].
    pub fn missing_authentication_token() -> ErrorWire {
        ErrorWire {
            status: 403,
            error_type: "MissingAuthenticationTokenException".to_owned(),
            body: br#"{"message":"Missing Authentication Token"}"#.to_vec(),
        }
    }

    /// A refusal of the HTTP layer that no shape of this service is for (a late or oversized
    /// request head, 408/414/431): a shape named after the status, in the ERR-1 form.
    pub fn http_layer(status: u16, error_type: &str, message: impl Into<String>) -> ErrorWire {
        let body = crate::spec::ErrorBody {
            message: Some(message.into()),
            type_name: Some(error_type.to_owned()),
        };
        ErrorWire {
            status,
            error_type: error_type.to_owned(),
            body: serde_json::to_vec(&body).unwrap_or_else(|_| b"{}".to_vec()),
        }
    }
}

/// A refused request: the error shape and the message sent to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {}", .kind.type_name(), .message)]
pub struct Rejection {
    pub kind: ErrorKind,
    pub message: String,
}

impl Rejection {
    /// Any shape with any message; the helpers below fix the messages clients rely on.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Rejection {
        Rejection {
            kind,
            message: message.into(),
        }
    }

    /// Step 1 of the order of checks: no operation lives at this (method, path).
    pub fn unknown_operation(method: &str, path: &str) -> Rejection {
        Rejection::new(
            ErrorKind::UnknownOperation,
            format!("No operation matches {method} {}", shorten(path)),
        )
    }

    /// Step 2: the body is over `REQUEST_BODY_BYTES_MAX`.
    pub fn too_large(limit: usize) -> Rejection {
        Rejection::new(
            ErrorKind::RequestEntityTooLarge,
            format!("Request body is larger than {limit} bytes"),
        )
    }

    /// Step 3: the body or a numeric query parameter cannot be read as the shape.
    pub fn serialization(message: impl Into<String>) -> Rejection {
        Rejection::new(ErrorKind::Serialization, message)
    }

    /// Step 5: a parameter is well-formed but not acceptable.
    pub fn invalid_parameter(message: impl Into<String>) -> Rejection {
        Rejection::new(ErrorKind::InvalidParameter, message)
    }

    /// The message AWS sends for a session token it did not issue for these inputs (UR-8).
    pub fn invalid_session_token() -> Rejection {
        Rejection::invalid_parameter("SyncSessionToken not valid for these inputs")
    }

    pub fn invalid_next_token() -> Rejection {
        Rejection::invalid_parameter("NextToken not valid for these inputs")
    }

    pub fn not_found(message: impl Into<String>) -> Rejection {
        Rejection::new(ErrorKind::ResourceNotFound, message)
    }

    pub fn limit_exceeded(message: impl Into<String>) -> Rejection {
        Rejection::new(ErrorKind::LimitExceeded, message)
    }

    /// UR-2: the exact message form clients and bug reports show.
    pub fn conflict(key: &str, current: i64, sent: i64) -> Rejection {
        Rejection::new(
            ErrorKind::ResourceConflict,
            format!("Current SyncCount for: {key} is: {current} not: {sent}"),
        )
    }

    /// Genuine storage trouble; never the answer to bad input.
    pub fn internal(message: impl Into<String>) -> Rejection {
        Rejection::new(ErrorKind::InternalError, message)
    }

    /// The answer as sent: status of the shape, `x-amzn-ErrorType: <Shape>` and
    /// `{"message", "__type": "<Shape>"}`, as decorated by the error variants.
    pub fn wire(&self, variant: Option<Variant>) -> ErrorWire {
        let kind = match self.kind {
            ErrorKind::Validation if variant == Some(Variant::ValidationAsInvalidParameter) => {
                ErrorKind::InvalidParameter
            }
            kind => kind,
        };
        let shape = kind.type_name();
        let error_type = match variant {
            Some(Variant::ErrorTypeWithSuffix) => format!("{shape}:{ERROR_TYPE_SUFFIX}"),
            _ => shape.to_owned(),
        };
        let type_name = match variant {
            Some(Variant::ErrorBodyWithType) => format!("{TYPE_NAMESPACE}#{shape}"),
            _ => shape.to_owned(),
        };
        let body = crate::spec::ErrorBody {
            message: Some(self.message.clone()),
            type_name: Some(type_name),
        };
        ErrorWire {
            status: kind.status(),
            error_type,
            // An ErrorBody of two strings always serializes; the fallback only satisfies the
            // type.
            body: serde_json::to_vec(&body).unwrap_or_else(|_| b"{}".to_vec()),
        }
    }
}

impl From<ConstraintError> for Rejection {
    /// Step 4: constraint violations are ValidationException (AMB-VALIDATION-CODE reference).
    fn from(err: ConstraintError) -> Rejection {
        Rejection::new(ErrorKind::Validation, err.to_string())
    }
}

impl From<rusqlite::Error> for Rejection {
    fn from(err: rusqlite::Error) -> Rejection {
        Rejection::internal(format!("storage failure: {err}"))
    }
}

/// Keeps echoed client text short in messages.
fn shorten(text: &str) -> String {
    const SHOWN: usize = 200;
    // A character is at least one byte, so a text of at most SHOWN bytes is shown whole
    // without walking its characters (every unroutable request comes through here).
    if text.len() <= SHOWN {
        return text.to_owned();
    }
    match text.char_indices().nth(SHOWN) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::shorten;

    #[test]
    fn shortened_text_keeps_the_first_200_characters() {
        let old = |text: &str| {
            let mut out: String = text.chars().take(200).collect();
            if text.chars().nth(200).is_some() {
                out.push_str("...");
            }
            out
        };
        for text in [
            String::new(),
            "a".repeat(200),
            "a".repeat(201),
            "é".repeat(150),
            "é".repeat(200),
            "é".repeat(201),
            "😀".repeat(199) + "ab",
            "/x".repeat(500),
        ] {
            assert_eq!(shorten(&text), old(&text), "{} bytes", text.len());
        }
    }
}
