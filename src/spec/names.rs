//! Newtypes for the constrained strings of the service model.
//!
//! A value of one of these types satisfies its member's length and pattern rules; building one
//! from untrusted text goes through `TryFrom`, whose error names the member, the broken rule and
//! a truncated copy of the value.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::limits::*;

/// The rule a value broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// A required member is absent.
    Required,
    LenMin(usize),
    LenMax(usize),
    /// The whole value must match this pattern.
    Pattern(&'static str),
    /// The value must be one of these.
    OneOf(&'static [&'static str]),
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::Required => f.write_str("Member must not be null"),
            Rule::LenMin(n) => write!(f, "Member must have length greater than or equal to {n}"),
            Rule::LenMax(n) => write!(f, "Member must have length less than or equal to {n}"),
            Rule::Pattern(p) => write!(f, "Member must satisfy regular expression pattern: {p}"),
            Rule::OneOf(values) => {
                write!(
                    f,
                    "Member must satisfy enum value set: [{}]",
                    values.join(", ")
                )
            }
        }
    }
}

/// A constraint violation: which member, which rule, and (a prefix of) the offending value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {rule}"
)]
pub struct ConstraintError {
    pub member: &'static str,
    pub rule: Rule,
    /// At most [`ConstraintError::VALUE_CHARS_SHOWN`] characters, then `...`.
    pub value: String,
}

impl ConstraintError {
    pub const VALUE_CHARS_SHOWN: usize = 64;

    pub fn new(member: &'static str, rule: Rule, value: &str) -> ConstraintError {
        let mut shown: String = value.chars().take(Self::VALUE_CHARS_SHOWN).collect();
        if value.chars().nth(Self::VALUE_CHARS_SHOWN).is_some() {
            shown.push_str("...");
        }
        ConstraintError {
            member,
            rule,
            value: shown,
        }
    }

    pub fn required(member: &'static str) -> ConstraintError {
        ConstraintError {
            member,
            rule: Rule::Required,
            value: "null".to_owned(),
        }
    }
}

fn check_len(
    member: &'static str,
    value: &str,
    min: usize,
    max: usize,
) -> Result<(), ConstraintError> {
    // A character is 1–4 bytes of UTF-8, so the byte length often settles it without a count.
    let bytes = value.len();
    if bytes <= max && bytes.div_ceil(4) >= min {
        return Ok(());
    }
    // `chars().count()` counts whole words at a time; the bounded walk is only for values too
    // long to be worth counting in full (a value may be megabytes long).
    let chars = if bytes <= 4 * (max + 1) {
        value.chars().count()
    } else {
        value.chars().take(max + 1).count()
    };
    if chars < min {
        return Err(ConstraintError::new(member, Rule::LenMin(min), value));
    }
    if chars > max {
        return Err(ConstraintError::new(member, Rule::LenMax(max), value));
    }
    Ok(())
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// `[\w-]+:[0-9a-f-]+` over the whole value; `\w` is ASCII as in Java's regex dialect.
fn matches_identity_pattern(value: &str) -> bool {
    let Some((region, id)) = value.split_once(':') else {
        return false;
    };
    !region.is_empty()
        && region.chars().all(|c| is_word(c) || c == '-')
        && !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c) || c == '-')
}

/// `[a-zA-Z0-9_.:-]+` over the whole value.
fn matches_dataset_name_pattern(value: &str) -> bool {
    !value.is_empty()
        && value
            .chars()
            .all(|c| is_word(c) || matches!(c, '.' | ':' | '-'))
}

macro_rules! constrained_string {
    ($(#[$doc:meta])* $name:ident, $member:literal, $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The member name used in constraint errors.
            pub const MEMBER: &'static str = $member;

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }

            /// Checks `value` against this member's rules without building a value.
            pub fn check(value: &str) -> Result<(), ConstraintError> {
                let check: fn(&str) -> Result<(), ConstraintError> = $check;
                check(value)
            }
        }

        impl TryFrom<String> for $name {
            type Error = ConstraintError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::check(&value)?;
                Ok($name(value))
            }
        }

        impl TryFrom<&str> for $name {
            type Error = ConstraintError;
            fn try_from(value: &str) -> Result<Self, Self::Error> {
                Self::check(value)?;
                Ok($name(value.to_owned()))
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

constrained_string!(
    /// `region:uuid` of an identity pool, lower-case hex.
    IdentityPoolId,
    "IdentityPoolId",
    |v| {
        check_len("IdentityPoolId", v, IDENTITY_POOL_ID_LEN_MIN, IDENTITY_POOL_ID_LEN_MAX)?;
        if !matches_identity_pattern(v) {
            return Err(ConstraintError::new("IdentityPoolId", Rule::Pattern(IDENTITY_PATTERN), v));
        }
        Ok(())
    }
);

constrained_string!(
    /// `region:uuid` of an identity, lower-case hex.
    IdentityId,
    "IdentityId",
    |v| {
        check_len("IdentityId", v, IDENTITY_ID_LEN_MIN, IDENTITY_ID_LEN_MAX)?;
        if !matches_identity_pattern(v) {
            return Err(ConstraintError::new("IdentityId", Rule::Pattern(IDENTITY_PATTERN), v));
        }
        Ok(())
    }
);

constrained_string!(
    /// A dataset's name; `:` is allowed by the model's pattern (AMB-COLON reference).
    DatasetName,
    "DatasetName",
    |v| {
        check_len("DatasetName", v, DATASET_NAME_LEN_MIN, DATASET_NAME_LEN_MAX)?;
        if !matches_dataset_name_pattern(v) {
            return Err(ConstraintError::new("DatasetName", Rule::Pattern(DATASET_NAME_PATTERN), v));
        }
        Ok(())
    }
);

constrained_string!(
    /// A record's key: any 1–1024 characters.
    RecordKey,
    "Key",
    |v| check_len("Key", v, RECORD_KEY_LEN_MIN, RECORD_KEY_LEN_MAX)
);

constrained_string!(
    /// The device that sends an UpdateRecords.
    DeviceId,
    "DeviceId",
    |v| check_len("DeviceId", v, DEVICE_ID_LEN_MIN, DEVICE_ID_LEN_MAX)
);

/// A record value may be empty (AMB-EMPTY-VALUE) and up to 1,048,575 characters.
pub fn validate_record_value(value: &str) -> Result<(), ConstraintError> {
    check_len("Value", value, 0, RECORD_VALUE_LEN_MAX)
}

/// The service model's `Operation` enum: what a RecordPatch does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    Replace,
    Remove,
}

impl Operation {
    pub const MEMBER: &'static str = "Op";

    pub const fn as_str(self) -> &'static str {
        match self {
            Operation::Replace => "replace",
            Operation::Remove => "remove",
        }
    }
}

impl TryFrom<&str> for Operation {
    type Error = ConstraintError;
    fn try_from(value: &str) -> Result<Self, Self::Error> {
        match value {
            "replace" => Ok(Operation::Replace),
            "remove" => Ok(Operation::Remove),
            other => Err(ConstraintError::new(
                "Op",
                Rule::OneOf(&OPERATION_VALUES),
                other,
            )),
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_ids_need_lower_case_hex_after_one_colon() {
        assert!(IdentityId::try_from("us-east-1:0a1b2c3d-0000-4000-8000-00000000abcd").is_ok());
        assert!(IdentityId::try_from("us_east-1:0-0").is_ok());
        for bad in [
            "us-east-1:0A1B",
            "us-east-1",
            ":abc",
            "us-east-1:",
            "a:b:c",
            "a b:0",
            "é:0",
        ] {
            let err = IdentityId::try_from(bad).expect_err(bad);
            assert_eq!(err.member, "IdentityId");
            assert_eq!(err.rule, Rule::Pattern(IDENTITY_PATTERN));
        }
    }

    #[test]
    fn identity_length_is_checked_before_the_pattern() {
        let long = format!("us-east-1:{}", "a".repeat(46));
        assert_eq!(long.len(), 56);
        assert_eq!(
            IdentityPoolId::try_from(long.as_str())
                .expect_err("too long")
                .rule,
            Rule::LenMax(55)
        );
        assert_eq!(
            IdentityPoolId::try_from("").expect_err("empty").rule,
            Rule::LenMin(1)
        );
        assert!(IdentityPoolId::try_from(&long[1..]).is_ok());
    }

    #[test]
    fn dataset_names_allow_colon_dot_dash_underscore() {
        assert!(DatasetName::try_from("a.b-c_d:e").is_ok());
        assert!(DatasetName::try_from("x".repeat(128)).is_ok());
        assert_eq!(
            DatasetName::try_from("x".repeat(129))
                .expect_err("long")
                .rule,
            Rule::LenMax(128)
        );
        for bad in ["a b", "a/b", "é", "a%3Ab"] {
            assert_eq!(
                DatasetName::try_from(bad).expect_err(bad).rule,
                Rule::Pattern(DATASET_NAME_PATTERN)
            );
        }
    }

    #[test]
    fn record_key_length_counts_characters_not_bytes() {
        assert!(RecordKey::try_from("é".repeat(1024)).is_ok());
        assert_eq!(
            RecordKey::try_from("é".repeat(1025))
                .expect_err("long")
                .rule,
            Rule::LenMax(1024)
        );
        assert_eq!(
            RecordKey::try_from("").expect_err("empty").rule,
            Rule::LenMin(1)
        );
    }

    #[test]
    fn length_checks_agree_with_a_plain_character_count_for_every_width() {
        for unit in ["a", "é", "€", "𝄞"] {
            for (min, max) in [(0, 3), (1, 4), (2, 5), (1, 1024)] {
                for n in [0, 1, 2, 3, 4, 5, 6, 1023, 1024, 1025, 4100] {
                    let value = unit.repeat(n);
                    let expected = if n < min {
                        Err(Rule::LenMin(min))
                    } else if n > max {
                        Err(Rule::LenMax(max))
                    } else {
                        Ok(())
                    };
                    let got = check_len("M", &value, min, max).map_err(|e| e.rule);
                    assert_eq!(got, expected, "{n} × {unit:?} in {min}..={max}");
                }
            }
        }
    }

    #[test]
    fn record_values_may_be_empty_but_not_over_the_cap() {
        assert!(validate_record_value("").is_ok());
        assert!(validate_record_value(&"v".repeat(RECORD_VALUE_LEN_MAX)).is_ok());
        let err = validate_record_value(&"v".repeat(RECORD_VALUE_LEN_MAX + 1)).expect_err("long");
        assert_eq!(err.member, "Value");
        assert!(err.value.ends_with("..."));
        assert_eq!(
            err.value.chars().count(),
            ConstraintError::VALUE_CHARS_SHOWN + 3
        );
    }

    #[test]
    fn constraint_error_message_names_member_rule_and_value() {
        let err = DatasetName::try_from("a b").expect_err("space");
        assert_eq!(
            err.to_string(),
            "1 validation error detected: Value 'a b' at 'DatasetName' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.:-]+"
        );
    }

    #[test]
    fn operation_accepts_only_the_two_model_values() {
        assert_eq!(Operation::try_from("replace"), Ok(Operation::Replace));
        assert_eq!(Operation::try_from("remove"), Ok(Operation::Remove));
        assert_eq!(
            Operation::try_from("Replace").expect_err("case").member,
            "Op"
        );
    }

    #[test]
    fn newtypes_deserialize_through_their_rules() {
        let ok: DatasetName = serde_json::from_str("\"settings\"").expect("valid");
        assert_eq!(ok.as_str(), "settings");
        assert!(serde_json::from_str::<DatasetName>("\"bad name\"").is_err());
    }
}
