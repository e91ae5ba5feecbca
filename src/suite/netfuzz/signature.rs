//! Behaviour signatures: what a campaign counts as "new". One signature per answer —
//! (operation or mutation, status, error type, message template, the judgement) — and one per
//! model state shape a valid call met (a write on a tombstone, a stale count after a remove, a
//! page that ends exactly at the page size, …). An input that reaches a signature no input
//! reached before joins the corpus.
//!
//! Message templates mask what changes from run to run (numbers, identity IDs, quoted names,
//! the fuzzer's dataset names and keys), so the same behaviour has the same signature in every
//! run and on every machine, and a corpus can be shared.

use super::{DATASET_NAMES, KEYS};
use crate::client::{RawResponse, Trouble};
use crate::suite::verdict::{Step, StepVerdict};

/// Longest message template kept: the start of a message says what it is about.
const TEMPLATE_MAX: usize = 80;
/// Longer words are values, not message text: masked.
const WORD_MAX: usize = 32;

/// A stable 64-bit digest of a signature (FNV-1a: no dependency on the std hasher's seed, so
/// files written by one process are read by another the same way).
pub fn digest(signature: &str) -> u64 {
    signature.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The message with numbers, quoted text, identity-like tokens and the fuzzer's names masked.
pub fn template(message: &str) -> String {
    // Names that are not one plain word (spaces, punctuation, other scripts) are masked before
    // the message is cut into words.
    let mut message = message.to_owned();
    for name in DATASET_NAMES.iter().chain(KEYS.iter()) {
        if name.len() > 1 && !name.chars().all(|c| c.is_ascii_alphanumeric()) {
            message = message.replace(name, "<name>");
        }
    }
    let mut out = String::new();
    let mut chars = message.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' | '`' => {
                // A quoted name or value: masked whole (an unmatched quote masks the rest).
                for d in chars.by_ref() {
                    if d == c {
                        break;
                    }
                }
                out.push_str("<q>");
            }
            _ if c.is_alphanumeric() || matches!(c, '-' | '_' | ':' | '.') => {
                let mut word = String::from(c);
                while let Some(&d) = chars.peek() {
                    if d.is_alphanumeric() || matches!(d, '-' | '_' | ':' | '.') {
                        word.push(d);
                        chars.next();
                    } else {
                        break;
                    }
                }
                let trimmed = word.trim_end_matches(['.', ':']);
                let tail = &word[trimmed.len()..];
                if trimmed.len() > WORD_MAX {
                    out.push_str("<long>");
                } else if trimmed.chars().any(|d| d.is_ascii_digit()) {
                    out.push('#');
                } else if DATASET_NAMES.contains(&trimmed) || KEYS.contains(&trimmed) {
                    // The keys `a` and `b` are masked in prose too ("is not <name> valid"):
                    // harmless, since it is the same in every run.
                    out.push_str("<name>");
                } else {
                    out.push_str(trimmed);
                }
                out.push_str(tail);
            }
            _ if c.is_whitespace() => {
                if !out.ends_with(' ') {
                    out.push(' ');
                }
            }
            _ => out.push(c),
        }
        if out.len() >= TEMPLATE_MAX {
            break;
        }
    }
    out.trim().to_owned()
}

/// The error type a response names (`x-amzn-ErrorType`, up to its first `:`), or `-`.
fn error_type(headers: &[(String, String)]) -> &str {
    headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("x-amzn-errortype"))
        .map_or("-", |(_, value)| value.split(':').next().unwrap_or("-"))
}

/// The template of a body's `message` (or `Message`), or `-` when there is none.
fn message_template(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.get("message")
                .or_else(|| v.get("Message"))
                .and_then(|m| m.as_str())
                .map(template)
        })
        .unwrap_or_else(|| "-".to_owned())
}

/// What the judgement of a valid step was: the reference, an allowed branch, or a departure.
fn branch(verdict: &StepVerdict) -> String {
    match verdict {
        StepVerdict::Reference => "reference".to_owned(),
        StepVerdict::NonStrict { ambiguities } => format!("allowed:{}", ambiguities.join("+")),
        StepVerdict::Mismatch { .. } => "mismatch".to_owned(),
        StepVerdict::Trouble { .. } => "trouble".to_owned(),
    }
}

/// The signature of one valid step: its operation, its last exchange's answer and the model's
/// judgement.
pub fn of_step(step: &Step) -> String {
    let (status, error, message) = match step.exchanges.last() {
        Some(exchange) => (
            exchange
                .status
                .map_or_else(|| "none".to_owned(), |s| s.to_string()),
            error_type(&exchange.response_headers).to_owned(),
            message_template(exchange.response_body.as_bytes()),
        ),
        None => ("none".to_owned(), "-".to_owned(), "-".to_owned()),
    };
    format!(
        "valid|{}|{status}|{error}|{message}|{}",
        step.operation,
        branch(&step.verdict)
    )
}

/// The signature of one malformed request's answer: the mutation, the answer, and the refusal
/// oracle's judgement (`ok` or the departed oracle's ID).
pub fn of_malformed(
    mutation: &str,
    result: &Result<RawResponse, Trouble>,
    judgement: Option<&str>,
) -> String {
    let answer = match result {
        Err(trouble) => format!("none|{}|-", trouble_kind(trouble)),
        Ok(r) => format!(
            "{}|{}|{}",
            r.status,
            error_type(&r.headers),
            message_template(&r.body)
        ),
    };
    format!("bad|{mutation}|{answer}|{}", judgement.unwrap_or("ok"))
}

/// The kind of trouble, without the details that differ per request.
fn trouble_kind(trouble: &Trouble) -> String {
    let text = trouble.to_string();
    text.split([':', '('])
        .next()
        .unwrap_or("")
        .trim()
        .to_owned()
}

/// The signature of a model state shape a valid call met.
pub fn of_shape(operation: &str, shape: &str) -> String {
    format!("shape|{operation}|{shape}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_mask_what_changes_between_runs() {
        assert_eq!(
            template("Record 'highScore' has SyncCount 12, not 7"),
            "Record <q> has SyncCount #, not #"
        );
        assert_eq!(
            template("identity us-east-1:0a1b2c3d-0001-4000-8000-000000000004 not found."),
            "identity <long> not found."
        );
        assert_eq!(template("dataset settings:  gone"), "dataset <name>: gone");
        assert_eq!(
            template("Current SyncCount for: key with spaces is: 3 not: 2"),
            "Current SyncCount for: <name> is: # not: #"
        );
        assert_eq!(template("for: 🔑 and game:state"), "for: <name> and <name>");
        assert_eq!(
            template("missing a@1(removed)"),
            "missing <name>@#(removed)"
        );
        assert_eq!(
            template(&format!("value {} too long", "x".repeat(500))),
            "value <long> too long"
        );
        assert!(template(&"word ".repeat(100)).len() <= TEMPLATE_MAX + 5);
    }

    #[test]
    fn digests_are_stable_across_processes() {
        // FNV-1a of "a", as any implementation computes it.
        assert_eq!(digest("a"), 0xaf63_dc4c_8601_ec8c);
        assert_ne!(digest("valid|x"), digest("valid|y"));
    }

    #[test]
    fn malformed_signatures_name_the_answer_and_the_judgement() {
        let answer = Ok(RawResponse {
            status: 400,
            headers: vec![(
                "x-amzn-ErrorType".to_owned(),
                "InvalidParameterException:http://internal".to_owned(),
            )],
            body: br#"{"message":"SyncCount 5 is not a number"}"#.to_vec(),
        });
        assert_eq!(
            of_malformed("wrong-type:SyncCount", &answer, None),
            "bad|wrong-type:SyncCount|400|InvalidParameterException|SyncCount # is not <name> number|ok"
        );
    }
}
