//! Error kinds: each knows its HTTP status and its `x-amzn-ErrorType` name, in one place.

use std::fmt;

/// The error shapes a server of this API answers with (ERR-2), plus the two transport-level
/// rejections every HTTP service needs (unknown route, oversized body).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorKind {
    InvalidParameter,
    Validation,
    Serialization,
    LimitExceeded,
    NotAuthorized,
    ResourceNotFound,
    ResourceConflict,
    TooManyRequests,
    InternalError,
    /// The pool's push-sync configuration does not allow the call (RegisterDevice, §11).
    InvalidConfiguration,
    /// A bulk publish is already in progress for the pool (BULK-1).
    DuplicateRequest,
    /// A bulk publish succeeded less than 24 hours ago (BULK-1).
    AlreadyStreamed,
    /// Parallel requests modified one resource (SetIdentityPoolConfiguration).
    ConcurrentModification,
    /// The sync-trigger function failed or returned a malformed document (EVT-2).
    InvalidLambdaFunctionOutput,
    /// The sync-trigger function was throttled (EVT-2).
    LambdaThrottled,
    /// Not a service shape: the reference server's answer to a route it does not serve.
    UnknownOperation,
    /// Not a service shape: the reference server's answer to a body over its size cap.
    RequestEntityTooLarge,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 17] = [
        ErrorKind::InvalidParameter,
        ErrorKind::Validation,
        ErrorKind::Serialization,
        ErrorKind::LimitExceeded,
        ErrorKind::NotAuthorized,
        ErrorKind::ResourceNotFound,
        ErrorKind::ResourceConflict,
        ErrorKind::TooManyRequests,
        ErrorKind::InternalError,
        ErrorKind::InvalidConfiguration,
        ErrorKind::DuplicateRequest,
        ErrorKind::AlreadyStreamed,
        ErrorKind::ConcurrentModification,
        ErrorKind::InvalidLambdaFunctionOutput,
        ErrorKind::LambdaThrottled,
        ErrorKind::UnknownOperation,
        ErrorKind::RequestEntityTooLarge,
    ];

    /// ERR-2: the HTTP status of the shape.
    pub const fn status(self) -> u16 {
        match self {
            ErrorKind::InvalidParameter
            | ErrorKind::Validation
            | ErrorKind::Serialization
            | ErrorKind::LimitExceeded
            | ErrorKind::InvalidConfiguration
            | ErrorKind::DuplicateRequest
            | ErrorKind::AlreadyStreamed
            | ErrorKind::ConcurrentModification
            | ErrorKind::InvalidLambdaFunctionOutput => 400,
            ErrorKind::NotAuthorized => 403,
            ErrorKind::ResourceNotFound | ErrorKind::UnknownOperation => 404,
            ErrorKind::ResourceConflict => 409,
            ErrorKind::RequestEntityTooLarge => 413,
            ErrorKind::TooManyRequests | ErrorKind::LambdaThrottled => 429,
            ErrorKind::InternalError => 500,
        }
    }

    /// The shape name sent in `x-amzn-ErrorType` and `__type`.
    pub const fn type_name(self) -> &'static str {
        match self {
            ErrorKind::InvalidParameter => "InvalidParameterException",
            ErrorKind::Validation => "ValidationException",
            ErrorKind::Serialization => "SerializationException",
            ErrorKind::LimitExceeded => "LimitExceededException",
            ErrorKind::NotAuthorized => "NotAuthorizedException",
            ErrorKind::ResourceNotFound => "ResourceNotFoundException",
            ErrorKind::ResourceConflict => "ResourceConflictException",
            ErrorKind::TooManyRequests => "TooManyRequestsException",
            ErrorKind::InternalError => "InternalErrorException",
            ErrorKind::InvalidConfiguration => "InvalidConfigurationException",
            ErrorKind::DuplicateRequest => "DuplicateRequestException",
            ErrorKind::AlreadyStreamed => "AlreadyStreamedException",
            ErrorKind::ConcurrentModification => "ConcurrentModificationException",
            ErrorKind::InvalidLambdaFunctionOutput => "InvalidLambdaFunctionOutputException",
            ErrorKind::LambdaThrottled => "LambdaThrottledException",
            ErrorKind::UnknownOperation => "UnknownOperationException",
            ErrorKind::RequestEntityTooLarge => "RequestEntityTooLargeException",
        }
    }

    /// Reads an `x-amzn-ErrorType` header or `__type` member. AWS may append `:<url>` to the
    /// header and prefix `<namespace>#` to `__type`; both decorations are ignored.
    pub fn from_type_name(raw: &str) -> Option<ErrorKind> {
        let name = ErrorKind::shape_name(raw);
        ErrorKind::ALL.into_iter().find(|k| k.type_name() == name)
    }

    /// The shape name an `x-amzn-ErrorType` header or `__type` member carries, without AWS's
    /// decorations (ERR-1): cut at the first `:`, after the last `#`, trimmed. Empty when the
    /// header names no shape at all, whether or not the shape is one of ours.
    pub fn shape_name(raw: &str) -> &str {
        let name = raw.split(':').next().unwrap_or(raw);
        name.rsplit('#').next().unwrap_or(name).trim()
    }

    /// Whether the service model declares this shape (the two transport kinds are ours).
    pub const fn is_service_shape(self) -> bool {
        !matches!(
            self,
            ErrorKind::UnknownOperation | ErrorKind::RequestEntityTooLarge
        )
    }
}

impl serde::Serialize for ErrorKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.type_name())
    }
}

impl<'de> serde::Deserialize<'de> for ErrorKind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        ErrorKind::from_type_name(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown error shape {name:?}")))
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.type_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_type_name() {
        for kind in ErrorKind::ALL {
            assert_eq!(ErrorKind::from_type_name(kind.type_name()), Some(kind));
        }
    }

    #[test]
    fn aws_decorations_on_the_type_name_are_ignored() {
        assert_eq!(
            ErrorKind::from_type_name("ResourceConflictException:http://internal.amazon.com/"),
            Some(ErrorKind::ResourceConflict)
        );
        assert_eq!(
            ErrorKind::from_type_name("com.amazonaws.cognitosync#InvalidParameterException"),
            Some(ErrorKind::InvalidParameter)
        );
        assert_eq!(ErrorKind::from_type_name("NoSuchThing"), None);
    }

    #[test]
    fn shape_names_are_read_without_decorations_even_when_unknown() {
        assert_eq!(
            ErrorKind::shape_name("ValidationException:http://internal.amazon.com/coral/x/"),
            "ValidationException"
        );
        assert_eq!(
            ErrorKind::shape_name("com.amazonaws.cognitosync#SomeFutureException"),
            "SomeFutureException"
        );
        assert_eq!(ErrorKind::shape_name(" :http://x/"), "");
    }
}
