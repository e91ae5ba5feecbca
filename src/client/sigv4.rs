//! Optional SigV4 signing (service `cognito-sync`), so the suite can run against the real
//! service or any server that checks signatures. Secrets stay inside [`Signer`]; its `Debug`
//! shows only the access key's first characters.

use std::fmt;
use std::path::PathBuf;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

/// The signing name of the service.
pub const SERVICE: &str = "cognito-sync";

/// Credentials and region for signing requests.
#[derive(Clone)]
pub struct Signer {
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
    region: String,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: String = self.access_key_id.chars().take(4).collect();
        f.debug_struct("Signer")
            .field("access_key_id", &format!("{shown}…"))
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

/// Why signing could not be set up: harness trouble, reported before any request is sent.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error(
        "no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or pass --aws-profile"
    )]
    NoCredentials,
    #[error("no region: set AWS_REGION (or AWS_DEFAULT_REGION), or a region in the profile")]
    NoRegion,
    #[error("profile {profile:?} not found in {file}")]
    NoProfile { profile: String, file: String },
    #[error("cannot read {file}: {reason}")]
    Read { file: String, reason: String },
    #[error("cannot sign the request: {0}")]
    Sign(String),
}

/// `[section]` → key = value pairs of an AWS shared config or credentials file.
fn ini_section(text: &str, wanted: &[String]) -> Option<Vec<(String, String)>> {
    let mut current: Option<String> = None;
    let mut found: Option<Vec<(String, String)>> = None;
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = Some(name.trim().to_owned());
            continue;
        }
        if current.as_ref().is_some_and(|c| wanted.contains(c))
            && let Some((k, v)) = line.split_once('=')
        {
            found
                .get_or_insert_with(Vec::new)
                .push((k.trim().to_owned(), v.trim().to_owned()));
        } else if current.as_ref().is_some_and(|c| wanted.contains(c)) {
            found.get_or_insert_with(Vec::new);
        }
    }
    found
}

fn lookup<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn home_file(env_var: &str, default: &str) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(env_var) {
        return Some(PathBuf::from(path));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".aws").join(default))
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl Signer {
    pub fn new(
        access_key_id: &str,
        secret_access_key: &str,
        session_token: Option<&str>,
        region: &str,
    ) -> Signer {
        Signer {
            access_key_id: access_key_id.to_owned(),
            secret_access_key: secret_access_key.to_owned(),
            session_token: session_token.map(str::to_owned),
            region: region.to_owned(),
        }
    }

    /// Credentials from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`;
    /// region from `AWS_REGION` or `AWS_DEFAULT_REGION`.
    pub fn from_env() -> Result<Signer, SigningError> {
        let key = env("AWS_ACCESS_KEY_ID").ok_or(SigningError::NoCredentials)?;
        let secret = env("AWS_SECRET_ACCESS_KEY").ok_or(SigningError::NoCredentials)?;
        let region = env("AWS_REGION")
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .ok_or(SigningError::NoRegion)?;
        Ok(Signer::new(
            &key,
            &secret,
            env("AWS_SESSION_TOKEN").as_deref(),
            &region,
        ))
    }

    /// Static credentials of a named profile in the shared files (`~/.aws/credentials`,
    /// `~/.aws/config`, or `AWS_SHARED_CREDENTIALS_FILE` / `AWS_CONFIG_FILE`). The region comes
    /// from the environment first, then the profile. SSO and role profiles are not supported.
    pub fn from_profile(profile: &str) -> Result<Signer, SigningError> {
        let read = |path: &PathBuf| -> Result<String, SigningError> {
            std::fs::read_to_string(path).map_err(|e| SigningError::Read {
                file: path.display().to_string(),
                reason: e.to_string(),
            })
        };
        let credentials_file = home_file("AWS_SHARED_CREDENTIALS_FILE", "credentials")
            .ok_or(SigningError::NoCredentials)?;
        let config_file = home_file("AWS_CONFIG_FILE", "config");
        let names = vec![profile.to_owned(), format!("profile {profile}")];
        let creds = ini_section(&read(&credentials_file)?, &names).ok_or_else(|| {
            SigningError::NoProfile {
                profile: profile.to_owned(),
                file: credentials_file.display().to_string(),
            }
        })?;
        let config = config_file
            .filter(|p| p.exists())
            .map(|p| read(&p))
            .transpose()?
            .and_then(|text| ini_section(&text, &names))
            .unwrap_or_default();
        let key = lookup(&creds, "aws_access_key_id").ok_or(SigningError::NoCredentials)?;
        let secret = lookup(&creds, "aws_secret_access_key").ok_or(SigningError::NoCredentials)?;
        let region = env("AWS_REGION")
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .or_else(|| lookup(&config, "region").map(str::to_owned))
            .or_else(|| lookup(&creds, "region").map(str::to_owned))
            .ok_or(SigningError::NoRegion)?;
        Ok(Signer::new(
            key,
            secret,
            lookup(&creds, "aws_session_token"),
            &region,
        ))
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    /// The headers (`authorization`, `x-amz-date`, maybe `x-amz-security-token`) that sign a
    /// request for `url` with these headers and body at `time`.
    pub fn sign(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
        time: SystemTime,
    ) -> Result<Vec<(String, String)>, SigningError> {
        let identity: Identity = Credentials::new(
            &self.access_key_id,
            &self.secret_access_key,
            self.session_token.clone(),
            None,
            "cogsync",
        )
        .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(SERVICE)
            .time(time)
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| SigningError::Sign(e.to_string()))?
            .into();
        let signable = SignableRequest::new(
            method,
            url,
            headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            SignableBody::Bytes(body),
        )
        .map_err(|e| SigningError::Sign(e.to_string()))?;
        let (instructions, _signature) = sign(signable, &params)
            .map_err(|e| SigningError::Sign(e.to_string()))?
            .into_parts();
        Ok(instructions
            .headers()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn signing_adds_an_authorization_header_for_the_service_and_region() {
        let signer = Signer::new("AKIDEXAMPLE", "secret", Some("session"), "eu-west-1");
        let time = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let headers = signer
            .sign(
                "GET",
                "https://cognito-sync.eu-west-1.amazonaws.com/identitypools/a%3Ab/identities/c%3Ad",
                &[],
                b"",
                time,
            )
            .expect("signs");
        let auth = headers
            .iter()
            .find(|(k, _)| k == "authorization")
            .expect("authorization")
            .1
            .clone();
        assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20231114/eu-west-1/cognito-sync/aws4_request"), "{auth}");
        assert!(
            headers
                .iter()
                .any(|(k, v)| k == "x-amz-security-token" && v == "session")
        );
        assert!(!format!("{signer:?}").contains("secret"));
    }

    #[test]
    fn profiles_are_read_from_both_shared_file_spellings() {
        let text = "[default]\naws_access_key_id = A\n\n[profile work]\naws_access_key_id=B\nregion = us-west-2\n";
        let work =
            ini_section(text, &["work".to_owned(), "profile work".to_owned()]).expect("found");
        assert_eq!(lookup(&work, "aws_access_key_id"), Some("B"));
        assert_eq!(lookup(&work, "region"), Some("us-west-2"));
        assert!(ini_section(text, &["nope".to_owned()]).is_none());
    }
}
