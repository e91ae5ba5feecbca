//! The `validate` target: structure-aware UpdateRecords requests through the validators,
//! differentially against an independent reading of the constraint table (SPEC §5).
//!
//! The independent side uses the `regex` engine on the service model's patterns, anchored
//! `^(?:…)$` with ASCII `\w` (Java's default), and lengths as `chars().count()`. The spec side
//! is the hand-written checks of `spec::names` and the server's parser. Any disagreement —
//! accept vs reject, which rule, which member first — panics.

use std::sync::LazyLock;

use arbitrary::{Arbitrary, Unstructured};
use regex::{Regex, RegexBuilder};

use super::codec::{self, Encoder};
use crate::client::to_raw;
use crate::server::parse_request;
use crate::spec::{
    self, ConstraintError, DATASET_NAME_LEN_MAX, DATASET_NAME_LEN_MIN, DATASET_NAME_PATTERN,
    DEVICE_ID_LEN_MAX, DEVICE_ID_LEN_MIN, DatasetName, DeviceId, ErrorKind, IDENTITY_ID_LEN_MAX,
    IDENTITY_ID_LEN_MIN, IDENTITY_PATTERN, IDENTITY_POOL_ID_LEN_MAX, IDENTITY_POOL_ID_LEN_MIN,
    IdentityId, IdentityPoolId, OPERATION_VALUES, Operation, RECORD_KEY_LEN_MAX,
    RECORD_KEY_LEN_MIN, RECORD_VALUE_LEN_MAX, RecordKey, Rule,
};

/// Lengths the [`Text::Sized`] strings are built around: every bound of the table. The
/// megabyte-long value bound is chosen only by `bound == 255`: at every seventh input it
/// would slow the target a hundredfold.
const BOUNDS: [usize; 6] = [
    1,
    IDENTITY_ID_LEN_MAX,
    DATASET_NAME_LEN_MAX,
    DEVICE_ID_LEN_MAX,
    RECORD_KEY_LEN_MAX,
    0,
];
const BOUND_VALUE_MAX: u8 = u8::MAX;
/// Fill characters of 1, 2 and 4 UTF-8 bytes, inside and outside the patterns.
const FILLS: [char; 8] = ['a', 'é', '😀', '0', ':', '-', '_', 'A'];
/// Characters that break (or keep) a pattern when put in the middle of a value.
const TWEAKS: [char; 10] = [':', ' ', 'é', 'F', 'f', '/', '%', '\0', '-', '.'];
const REGIONS: [&str; 6] = ["us-east-1", "eu-west-2", "a", "A_b-c", "", "ü"];
/// Mostly lower-case hex, sometimes a character the identity pattern refuses.
const HEX: &[u8] = b"0123456789abcdef-0123456789abcdef-ABCDEFxz:_";

/// A string as the fuzzer builds it: short literals, long repeats, values at a length bound,
/// or identity-shaped values, so that both sides of every rule are easy to reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Text {
    Literal(String),
    Repeat {
        unit: String,
        count: u16,
    },
    /// `BOUNDS[bound] + delta - 2` copies of `FILLS[fill]`, with `TWEAKS[tweak]` at a
    /// position scaled from `at` (0–255) when `tweak` is set.
    Sized {
        bound: u8,
        delta: u8,
        fill: u8,
        tweak: Option<(u8, u8)>,
    },
    Identity {
        region: u8,
        hex: Vec<u8>,
    },
}

impl Text {
    /// The string this describes.
    pub fn render(&self) -> String {
        match self {
            Text::Literal(s) => s.clone(),
            Text::Repeat { unit, count } => unit.repeat(usize::from(*count) % 1100),
            Text::Sized {
                bound,
                delta,
                fill,
                tweak,
            } => {
                let base = if *bound == BOUND_VALUE_MAX {
                    RECORD_VALUE_LEN_MAX
                } else {
                    BOUNDS[usize::from(*bound) % BOUNDS.len()]
                };
                let n = (base + usize::from(*delta % 5)).saturating_sub(2);
                let fill = FILLS[usize::from(*fill) % FILLS.len()];
                let tweak = tweak.filter(|_| n > 0).map(|(at, t)| {
                    (
                        usize::from(at) * n / 256,
                        TWEAKS[usize::from(t) % TWEAKS.len()],
                    )
                });
                // Whole runs copied at once: a per-character loop is instrumented in a fuzz
                // build, and these strings run to a megabyte.
                let mut unit = [0; 4];
                let unit: &str = fill.encode_utf8(&mut unit);
                match tweak {
                    // `at < n`: `at` is scaled from 0–255 by n / 256.
                    Some((at, c)) => {
                        let mut out = String::with_capacity(n * fill.len_utf8() + c.len_utf8());
                        out.push_str(&unit.repeat(at));
                        out.push(c);
                        out.push_str(&unit.repeat(n - at - 1));
                        out
                    }
                    None => unit.repeat(n),
                }
            }
            Text::Identity { region, hex } => {
                let region = REGIONS[usize::from(*region) % REGIONS.len()];
                let id: String = hex
                    .iter()
                    .map(|b| char::from(HEX[usize::from(*b) % HEX.len()]))
                    .collect();
                format!("{region}:{id}")
            }
        }
    }

    fn read(u: &mut Unstructured<'_>) -> Text {
        match codec::pick(u, 4) {
            0 => Text::Literal(codec::text(u, 64)),
            1 => Text::Repeat {
                unit: codec::text(u, 4),
                count: codec::u16_le(u),
            },
            2 => Text::Sized {
                bound: codec::byte(u),
                delta: codec::byte(u),
                fill: codec::byte(u),
                tweak: codec::flag(u).then(|| (codec::byte(u), codec::byte(u))),
            },
            _ => Text::Identity {
                region: codec::byte(u),
                hex: (0..codec::len(u, 60)).map(|_| codec::byte(u)).collect(),
            },
        }
    }

    fn write(&self, e: &mut Encoder) {
        match self {
            Text::Literal(s) => {
                e.pick(0);
                e.text(s);
            }
            Text::Repeat { unit, count } => {
                e.pick(1);
                e.text(unit);
                e.u16_le(*count);
            }
            Text::Sized {
                bound,
                delta,
                fill,
                tweak,
            } => {
                e.pick(2);
                e.byte(*bound);
                e.byte(*delta);
                e.byte(*fill);
                e.flag(tweak.is_some());
                if let Some((at, t)) = tweak {
                    e.byte(*at);
                    e.byte(*t);
                }
            }
            Text::Identity { region, hex } => {
                e.pick(3);
                e.byte(*region);
                e.len(hex.len());
                hex.iter().for_each(|b| e.byte(*b));
            }
        }
    }

    /// A literal (for seeds).
    pub fn of(s: &str) -> Text {
        Text::Literal(s.to_owned())
    }
}

fn read_opt<T>(
    u: &mut Unstructured<'_>,
    read: impl FnOnce(&mut Unstructured<'_>) -> T,
) -> Option<T> {
    codec::flag(u).then(|| read(u))
}

fn write_opt<T>(e: &mut Encoder, v: &Option<T>, write: impl FnOnce(&T, &mut Encoder)) {
    e.flag(v.is_some());
    if let Some(v) = v {
        write(v, e);
    }
}

/// One RecordPatch; every member may be missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchInput {
    pub op: Option<Text>,
    pub key: Option<Text>,
    pub value: Option<Text>,
    pub sync_count: Option<i64>,
}

/// An UpdateRecords request with arbitrary members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateInput {
    pub pool: Text,
    pub identity: Text,
    pub dataset: Text,
    pub device_id: Option<Text>,
    pub patches: Option<Vec<PatchInput>>,
    pub token: Option<Text>,
}

impl<'a> Arbitrary<'a> for UpdateInput {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(UpdateInput {
            pool: Text::read(u),
            identity: Text::read(u),
            dataset: Text::read(u),
            device_id: read_opt(u, Text::read),
            patches: read_opt(u, |u| {
                (0..codec::len(u, 4))
                    .map(|_| PatchInput {
                        op: read_opt(u, |u| match codec::pick(u, 3) {
                            0 => Text::of("replace"),
                            1 => Text::of("remove"),
                            _ => Text::read(u),
                        }),
                        key: read_opt(u, Text::read),
                        value: read_opt(u, Text::read),
                        sync_count: read_opt(u, codec::i64_le),
                    })
                    .collect()
            }),
            token: read_opt(u, Text::read),
        })
    }
}

impl UpdateInput {
    /// The bytes that decode to this input (seed generation).
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Encoder::default();
        self.pool.write(&mut e);
        self.identity.write(&mut e);
        self.dataset.write(&mut e);
        write_opt(&mut e, &self.device_id, Text::write);
        write_opt(&mut e, &self.patches, |patches, e| {
            e.len(patches.len());
            for p in patches {
                write_opt(e, &p.op, |op, e| match op {
                    Text::Literal(s) if s == "replace" => e.pick(0),
                    Text::Literal(s) if s == "remove" => e.pick(1),
                    other => {
                        e.pick(2);
                        other.write(e);
                    }
                });
                write_opt(e, &p.key, Text::write);
                write_opt(e, &p.value, Text::write);
                write_opt(e, &p.sync_count, |n, e| e.i64_le(*n));
            }
        });
        write_opt(&mut e, &self.token, Text::write);
        e.bytes
    }

    fn to_request(&self) -> spec::Request {
        let render = |t: &Option<Text>| t.as_ref().map(Text::render);
        spec::Request::UpdateRecords(spec::UpdateRecordsRequest {
            path: spec::DatasetPath {
                identity_pool_id: self.pool.render(),
                identity_id: self.identity.render(),
                dataset_name: self.dataset.render(),
            },
            client_context: None,
            body: spec::UpdateRecordsBody {
                device_id: render(&self.device_id),
                record_patches: self.patches.as_ref().map(|patches| {
                    patches
                        .iter()
                        .map(|p| spec::RecordPatch {
                            op: render(&p.op),
                            key: render(&p.key),
                            value: render(&p.value),
                            sync_count: p.sync_count,
                            device_last_modified_date: None,
                        })
                        .collect()
                }),
                sync_session_token: render(&self.token),
            },
        })
    }
}

/// The rule a value breaks, as the independent reading names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Broken {
    Required,
    LenMin(usize),
    LenMax(usize),
    Pattern,
    OneOf,
}

impl Broken {
    fn of(rule: &Rule) -> Broken {
        match rule {
            Rule::Required => Broken::Required,
            Rule::LenMin(n) => Broken::LenMin(*n),
            Rule::LenMax(n) => Broken::LenMax(*n),
            Rule::Pattern(_) => Broken::Pattern,
            Rule::OneOf(_) => Broken::OneOf,
        }
    }

    /// The part of an AWS validation message that names this rule.
    fn message_part(self) -> String {
        match self {
            Broken::Required => "Member must not be null".to_owned(),
            Broken::LenMin(n) => format!("length greater than or equal to {n}"),
            Broken::LenMax(n) => format!("length less than or equal to {n}"),
            Broken::Pattern => "regular expression pattern".to_owned(),
            Broken::OneOf => "enum value set".to_owned(),
        }
    }
}

fn anchored(pattern: &str) -> Regex {
    // ASCII classes: `\w` means [0-9A-Za-z_] in the service's (Java) dialect.
    match RegexBuilder::new(&format!("^(?:{pattern})$"))
        .unicode(false)
        .build()
    {
        Ok(re) => re,
        Err(e) => panic!("the service model's pattern {pattern:?} does not compile: {e}"),
    }
}

static IDENTITY_RE: LazyLock<Regex> = LazyLock::new(|| anchored(IDENTITY_PATTERN));
static DATASET_NAME_RE: LazyLock<Regex> = LazyLock::new(|| anchored(DATASET_NAME_PATTERN));

/// Length first, then the pattern, as the service reports them.
fn independent(value: &str, min: usize, max: usize, pattern: Option<&Regex>) -> Option<Broken> {
    let n = value.chars().count();
    if n < min {
        Some(Broken::LenMin(min))
    } else if n > max {
        Some(Broken::LenMax(max))
    } else if pattern.is_some_and(|re| !re.is_match(value)) {
        Some(Broken::Pattern)
    } else {
        None
    }
}

/// Independent verdicts for each member kind.
pub fn independent_pool(v: &str) -> Option<Broken> {
    independent(
        v,
        IDENTITY_POOL_ID_LEN_MIN,
        IDENTITY_POOL_ID_LEN_MAX,
        Some(&IDENTITY_RE),
    )
}

pub fn independent_identity(v: &str) -> Option<Broken> {
    independent(
        v,
        IDENTITY_ID_LEN_MIN,
        IDENTITY_ID_LEN_MAX,
        Some(&IDENTITY_RE),
    )
}

pub fn independent_dataset(v: &str) -> Option<Broken> {
    independent(
        v,
        DATASET_NAME_LEN_MIN,
        DATASET_NAME_LEN_MAX,
        Some(&DATASET_NAME_RE),
    )
}

pub fn independent_key(v: &str) -> Option<Broken> {
    independent(v, RECORD_KEY_LEN_MIN, RECORD_KEY_LEN_MAX, None)
}

pub fn independent_device(v: &str) -> Option<Broken> {
    independent(v, DEVICE_ID_LEN_MIN, DEVICE_ID_LEN_MAX, None)
}

pub fn independent_value(v: &str) -> Option<Broken> {
    independent(v, 0, RECORD_VALUE_LEN_MAX, None)
}

pub fn independent_op(v: &str) -> Option<Broken> {
    (!OPERATION_VALUES.contains(&v)).then_some(Broken::OneOf)
}

fn compare(member: &str, value: &str, spec: Result<(), ConstraintError>, ours: Option<Broken>) {
    let spec = spec.err().map(|e| Broken::of(&e.rule));
    assert_eq!(
        spec,
        ours,
        "{member} {:?} ({} chars): validators {spec:?}, independent {ours:?}",
        shorten(value),
        value.chars().count()
    );
}

fn shorten(s: &str) -> String {
    let mut out: String = s.chars().take(80).collect();
    if s.chars().nth(80).is_some() {
        out.push('…');
    }
    out
}

/// What the independent reading says the parser must do with the whole request.
#[derive(Debug, PartialEq, Eq)]
enum Whole {
    Accept,
    /// An empty path label matches no route.
    NoRoute,
    Reject(&'static str, Broken),
}

fn whole_verdict(request: &spec::UpdateRecordsRequest) -> Whole {
    let path = &request.path;
    let (pool, identity, dataset) = (
        &path.identity_pool_id,
        &path.identity_id,
        &path.dataset_name,
    );
    if pool.is_empty() || identity.is_empty() || dataset.is_empty() {
        return Whole::NoRoute;
    }
    let checks: [(&'static str, Option<Broken>); 3] = [
        ("IdentityPoolId", independent_pool(pool)),
        ("IdentityId", independent_identity(identity)),
        ("DatasetName", independent_dataset(dataset)),
    ];
    for (member, broken) in checks {
        if let Some(b) = broken {
            return Whole::Reject(member, b);
        }
    }
    let body = &request.body;
    if let Some(b) = body.device_id.as_deref().and_then(independent_device) {
        return Whole::Reject("DeviceId", b);
    }
    for patch in body.record_patches.iter().flatten() {
        let Some(op) = patch.op.as_deref() else {
            return Whole::Reject("Op", Broken::Required);
        };
        if let Some(b) = independent_op(op) {
            return Whole::Reject("Op", b);
        }
        let Some(key) = patch.key.as_deref() else {
            return Whole::Reject("Key", Broken::Required);
        };
        if let Some(b) = independent_key(key) {
            return Whole::Reject("Key", b);
        }
        if patch.sync_count.is_none() {
            return Whole::Reject("SyncCount", Broken::Required);
        }
        if op == "replace" {
            let Some(value) = patch.value.as_deref() else {
                return Whole::Reject("Value", Broken::Required);
            };
            if let Some(b) = independent_value(value) {
                return Whole::Reject("Value", b);
            }
        }
    }
    if body.sync_session_token.is_none() {
        return Whole::Reject("SyncSessionToken", Broken::Required);
    }
    Whole::Accept
}

/// The `validate` target body: decodes an [`UpdateInput`] from `data` and panics on any
/// disagreement between the validators and the independent reading.
pub fn validate(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(input) = UpdateInput::arbitrary(&mut u) else {
        return;
    };
    check_input(&input);
}

/// The differential check of one input (also used by unit tests with hand-made inputs).
pub fn check_input(input: &UpdateInput) {
    // Every text is rendered once: long ones are costly to build.
    let request = input.to_request();
    let spec::Request::UpdateRecords(update) = &request else {
        unreachable!("to_request builds an UpdateRecords");
    };
    // Member by member: the newtypes' checks against the regex/length reading.
    let path = &update.path;
    let pool = &path.identity_pool_id;
    compare(
        "IdentityPoolId",
        pool,
        IdentityPoolId::check(pool),
        independent_pool(pool),
    );
    let identity = &path.identity_id;
    compare(
        "IdentityId",
        identity,
        IdentityId::check(identity),
        independent_identity(identity),
    );
    let dataset = &path.dataset_name;
    compare(
        "DatasetName",
        dataset,
        DatasetName::check(dataset),
        independent_dataset(dataset),
    );
    let body = &update.body;
    if let Some(d) = &body.device_id {
        compare("DeviceId", d, DeviceId::check(d), independent_device(d));
    }
    for patch in body.record_patches.iter().flatten() {
        if let Some(op) = &patch.op {
            compare(
                "Op",
                op,
                Operation::try_from(op.as_str()).map(|_| ()),
                independent_op(op),
            );
        }
        if let Some(key) = &patch.key {
            compare("Key", key, RecordKey::check(key), independent_key(key));
        }
        if let Some(value) = &patch.value {
            compare(
                "Value",
                value,
                spec::validate_record_value(value),
                independent_value(value),
            );
        }
    }

    // The whole request through the server's parser, as a client would send it.
    let raw = to_raw(&request);
    let (path, query) = match raw.path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (raw.path_and_query.as_str(), None),
    };
    let parsed = parse_request(&raw.method, path, query, &raw.headers, &raw.body);
    let expected = whole_verdict(update);
    match (&expected, &parsed) {
        (Whole::Accept, Ok(_)) => {}
        (Whole::NoRoute, Err(r)) if r.kind == ErrorKind::UnknownOperation => {}
        (Whole::Reject(member, broken), Err(r))
            if r.kind == ErrorKind::Validation
                && r.message.contains(&format!("at '{member}'"))
                && r.message.contains(&broken.message_part()) => {}
        _ => panic!(
            "parser and independent reading disagree\nindependent: {expected:?}\nparser: {}\nrequest: {} {}",
            match &parsed {
                Ok(p) => format!("accepted {:?}", p.operation()),
                Err(r) => shorten(&r.to_string()),
            },
            raw.method,
            shorten(&raw.path_and_query),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_inputs_decode_to_themselves() {
        let input = UpdateInput {
            pool: Text::Identity {
                region: 0,
                hex: vec![1, 2, 3],
            },
            identity: Text::of("us-east-1:0a"),
            dataset: Text::Sized {
                bound: 2,
                delta: 3,
                fill: 0,
                tweak: Some((128, 1)),
            },
            device_id: None,
            patches: Some(vec![PatchInput {
                op: Some(Text::of("replace")),
                key: Some(Text::Repeat {
                    unit: "é".into(),
                    count: 1025,
                }),
                value: Some(Text::of("")),
                sync_count: Some(-1),
            }]),
            token: Some(Text::of("t")),
        };
        let bytes = input.encode();
        let decoded = UpdateInput::arbitrary(&mut Unstructured::new(&bytes)).expect("decodes");
        assert_eq!(decoded, input);
        check_input(&input);
    }

    #[test]
    fn the_independent_patterns_use_ascii_word_characters() {
        assert_eq!(independent_identity("us-east-1:0a"), None);
        assert_eq!(independent_identity("üs:0a"), Some(Broken::Pattern));
        assert_eq!(independent_identity("us:0A"), Some(Broken::Pattern));
        assert_eq!(independent_dataset("a:b.c-d_e"), None);
        assert_eq!(independent_dataset("a\nb"), Some(Broken::Pattern));
        assert_eq!(independent_dataset("ab\n"), Some(Broken::Pattern));
    }

    #[test]
    fn sized_texts_put_the_tweak_where_a_character_loop_would() {
        for bound in 0..6 {
            for delta in 0..5 {
                for (at, t) in [(0, 0), (1, 2), (128, 4), (255, 9)] {
                    let sized = Text::Sized {
                        bound,
                        delta,
                        fill: 2,
                        tweak: Some((at, t)),
                    };
                    let n = (BOUNDS[usize::from(bound)] + usize::from(delta)).saturating_sub(2);
                    let at = usize::from(at) * n / 256;
                    let expected: String = (0..n)
                        .map(|i| {
                            if i == at {
                                TWEAKS[usize::from(t)]
                            } else {
                                '😀'
                            }
                        })
                        .collect();
                    assert_eq!(sized.render(), expected, "{sized:?}");
                }
            }
        }
    }

    #[test]
    fn any_bytes_are_some_input() {
        for data in [&b""[..], b"\xff\xff\xff\xff", b"\x02\x05\x02\x00\x00"] {
            validate(data);
        }
    }
}
