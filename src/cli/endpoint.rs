//! The endpoint a command talks to: the shared `--endpoint` options, the embedded reference
//! server when none is given, and the preflight probe that tells "not there" and "not this
//! API" (harness trouble) from an endpoint that misbehaves (a finding).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use clap::Args;

use super::error::CliError;
use crate::client::sigv4::Signer;
use crate::client::{Endpoint, EndpointOptions, Exchange, Reply, Trouble};
use crate::report::artifacts::PREFLIGHT_ID;
use crate::server::{self, RunningServer, ServerConfig};
use crate::spec::{DatasetPath, ListRecordsRequest, Request};
use crate::suite::session::Now;
use crate::suite::verdict::{CaseReport, Step, StepVerdict, Verdict};

#[derive(Debug, Clone, Args)]
pub struct EndpointArgs {
    /// Endpoint to test, e.g. http://127.0.0.1:8080. Default: an embedded reference server on
    /// 127.0.0.1 with a free port.
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Allow an endpoint that is not on loopback. The run writes data (under identities it
    /// generates) and deletes what it created at the end.
    #[arg(long)]
    pub allow_remote: bool,
    /// Per-request timeout in seconds; an endpoint slower than this is a finding.
    #[arg(long, default_value_t = 10.0, value_name = "SECS")]
    pub timeout: f64,
    /// Sign requests with SigV4 using AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
    /// AWS_SESSION_TOKEN and AWS_REGION from the environment.
    #[arg(long)]
    pub sign: bool,
    /// Sign requests with the static credentials of this profile in ~/.aws/credentials.
    #[arg(long, value_name = "NAME")]
    pub aws_profile: Option<String>,
}

/// `30s`, `5m`, `500ms`, `1h`, or plain seconds.
pub(super) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 30s, 5m or 500ms"))?;
    let secs = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(format!("unknown unit {unit:?}: use ms, s, m or h")),
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("{text:?} is not a positive duration"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// The wall clock: the CLI is the one place that reads it and hands it to the suite.
pub(super) fn wall_clock() -> Now {
    Arc::new(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
    })
}

/// Whether `url`'s host is on loopback.
pub fn is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or("");
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The endpoint accepted a connection and then hung, dripped or reset on its first request:
/// a finding about the endpoint, not harness trouble.
pub struct FirstRequestFinding {
    pub trouble: Trouble,
    pub exchange: Exchange,
}

/// The endpoint to test, and the embedded server when none was given.
pub struct Target {
    pub endpoint: Endpoint,
    pub label: String,
    pub embedded: Option<RunningServer>,
}

/// Resolves `--endpoint` (or starts the embedded server) and checks that it answers at all.
pub async fn target(args: &EndpointArgs) -> Result<Result<Target, FirstRequestFinding>, CliError> {
    let signer = match (&args.aws_profile, args.sign) {
        (Some(profile), _) => Some(Signer::from_profile(profile).map_err(anyhow::Error::from)?),
        (None, true) => Some(Signer::from_env().map_err(anyhow::Error::from)?),
        (None, false) => None,
    };
    let options = EndpointOptions {
        timeout: Duration::from_secs_f64(args.timeout.max(0.001)),
        signer,
        ..EndpointOptions::default()
    };
    let (url, label, embedded) = match &args.endpoint {
        Some(url) => {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(CliError::Usage(format!(
                    "--endpoint {url}: expected a URL that starts with http:// or https:// \
                     (try http://{url})"
                )));
            }
            if !is_loopback(url) && !args.allow_remote {
                return Err(CliError::Usage(format!(
                    "{url} is not a loopback address; a run writes data there. Pass \
                     --allow-remote if that is intended."
                )));
            }
            (url.clone(), url.clone(), None)
        }
        None => {
            let running = server::spawn(([127, 0, 0, 1], 0).into(), ServerConfig::default())
                .await
                .context("cannot start the embedded reference server")?;
            let url = running.url();
            (
                url.clone(),
                format!("embedded reference server at {url}"),
                Some(running),
            )
        }
    };
    let endpoint = Endpoint::new(&url, options).map_err(anyhow::Error::from)?;
    // Preflight: a read that changes nothing (ListRecords of a dataset nobody writes), to tell
    // "unreachable" and "not this API" from findings.
    let probe = Request::ListRecords(ListRecordsRequest {
        path: DatasetPath {
            identity_pool_id: "us-east-1:00000000-0000-4000-8000-000000000000".to_owned(),
            identity_id: "us-east-1:00000000-0000-4000-8000-000000000000".to_owned(),
            dataset_name: "cogsync-preflight".to_owned(),
        },
        ..ListRecordsRequest::default()
    });
    let (reply, exchange) = endpoint.call::<serde_json::Value>(&probe).await;
    match preflight(&reply) {
        Preflight::SpeaksTheApi => {}
        Preflight::Unreachable(trouble) if accepts_connections(&url, args.timeout).await => {
            // Connected, then no complete answer: the endpoint misbehaves.
            return Ok(Err(FirstRequestFinding { trouble, exchange }));
        }
        Preflight::Unreachable(trouble) => {
            // The innermost cause ("Connection refused (os error 111)"), not the whole chain.
            let cause = match &trouble {
                Trouble::Connection(why) => why.rsplit(": ").next().unwrap_or(why).to_owned(),
                other => other.to_string(),
            };
            return Err(CliError::Harness(format!(
                "cannot reach {url}: {cause}. Is the server running? To try the suite on the \
                 reference server, run `cogsync check` without --endpoint, or start one with \
                 `cogsync serve`."
            )));
        }
        Preflight::NotThisApi(what) => {
            let body: String = exchange.response_body.chars().take(200).collect();
            return Err(CliError::Harness(format!(
                "{url} does not answer like a Cognito Sync endpoint, so no check ran.\n\
                 Sent: {} {} (ListRecords of a dataset nobody writes).\n\
                 Got: {} {what}; body: {body:?}\n\
                 A Cognito Sync endpoint answers it with a JSON object that has Records, Count, \
                 DatasetExists and SyncSessionToken, or with an error that has an \
                 x-amzn-ErrorType header and a JSON message. Check the base path (the URL must \
                 be the one the API's /identitypools/... paths hang off), the port, and http:// \
                 versus https://.",
                exchange.method,
                exchange.url,
                exchange
                    .status
                    .map_or_else(|| "no status".to_owned(), |s| s.to_string()),
            )));
        }
    }
    Ok(Ok(Target {
        endpoint,
        label,
        embedded,
    }))
}

/// Whether a TCP connection to `url`'s host and port opens within `timeout` seconds: tells an
/// endpoint that is not there (harness trouble) from one that accepts and then misbehaves (a
/// finding).
async fn accepts_connections(url: &str, timeout: f64) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return false;
    };
    let (Some(host), Some(port)) = (parsed.host_str(), parsed.port_or_known_default()) else {
        return false;
    };
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let limit = Duration::from_secs_f64(timeout.clamp(0.001, 10.0));
    matches!(
        tokio::time::timeout(limit, tokio::net::TcpStream::connect((host.as_str(), port))).await,
        Ok(Ok(_))
    )
}

/// The report of a run that stopped at the preflight because the endpoint accepted the
/// connection and then gave no complete answer.
pub(super) fn preflight_finding(trouble: &Trouble, exchange: Exchange) -> CaseReport {
    CaseReport {
        id: PREFLIGHT_ID.to_owned(),
        title: "the endpoint answers its first request".to_owned(),
        requirement: "Every request gets a complete answer within --timeout (ERR-3: a server \
                      never closes the connection without a response)"
            .to_owned(),
        level: "MUST".to_owned(),
        covers: vec!["ERR-3".to_owned()],
        verdict: Verdict::Fail,
        detail: Some(format!(
            "the endpoint accepted the connection, then: {trouble}; no other check ran"
        )),
        ambiguities: Vec::new(),
        duration_ms: exchange.elapsed_ms,
        steps: vec![Step {
            operation: "ListRecords (preflight: a dataset nobody writes)".to_owned(),
            exchanges: vec![exchange],
            expected: "a complete answer: 200 with the ListRecords members, or an error".to_owned(),
            actual: trouble.to_string(),
            verdict: StepVerdict::Trouble {
                trouble: trouble.to_string(),
            },
        }],
    }
}

/// What the preflight probe learned about the endpoint.
#[derive(Debug, PartialEq)]
enum Preflight {
    SpeaksTheApi,
    Unreachable(Trouble),
    /// What came back instead of an answer of this API.
    NotThisApi(String),
}

/// A ListRecords answer of this API (some of its members), or an error with the ERR-1 shape.
/// Only an answer that is plainly another kind of server (HTML, a JSON document of another
/// API, an error without the error shape) stops the run here; an answer of this API with
/// faults in it is left to the suite, which reports them as findings.
fn preflight(reply: &Reply<serde_json::Value>) -> Preflight {
    match reply {
        Reply::Broken(trouble @ (Trouble::Connection(_) | Trouble::Timeout { .. })) => {
            Preflight::Unreachable(trouble.clone())
        }
        Reply::Broken(Trouble::BodyTooLarge { .. }) => Preflight::SpeaksTheApi,
        Reply::Broken(trouble) => Preflight::NotThisApi(trouble.to_string()),
        Reply::Success(value) => {
            let members = ["Records", "Count", "DatasetExists", "SyncSessionToken"];
            let found = members.iter().filter(|m| value.get(**m).is_some()).count();
            if found >= 2 {
                Preflight::SpeaksTheApi
            } else {
                Preflight::NotThisApi("a JSON answer without the ListRecords members".to_owned())
            }
        }
        Reply::Error(e) => {
            // Lenient on purpose: either half of the error shape says "this API, with faults",
            // which the suite then reports.
            let shaped = e.shape_name().is_some() || e.message().is_some();
            if shaped {
                Preflight::SpeaksTheApi
            } else {
                Preflight::NotThisApi(
                    "an error without an x-amzn-ErrorType header or a JSON message".to_owned(),
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_common_units() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("3d").is_err());
    }

    #[test]
    fn only_loopback_endpoints_are_local() {
        for url in [
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:9/",
            "http://127.3.2.1",
        ] {
            assert!(is_loopback(url), "{url}");
        }
        for url in [
            "https://cognito-sync.us-east-1.amazonaws.com",
            "http://10.0.0.1:80",
            "http://example.com",
        ] {
            assert!(!is_loopback(url), "{url}");
        }
    }
}
