//! Curl scripts that send requests byte for byte: the one renderer for the exchanges of a
//! failing case or sequence (`check`) and for the shrunk request of a fuzz finding.
//!
//! The path goes as it is (`-g --path-as-is`: no globbing of `[]{}`, no squashing of `/../`),
//! every header the client set goes with `-H` (an empty `Content-Type:` stops curl adding its
//! form type), and the body goes with `--data-binary` from its exact bytes: quoted in the
//! command when it is text a command line can carry, otherwise written by the shell's
//! `printf` with octal escapes and piped to `--data-binary @-`.

use std::fmt::Write as _;

use super::one_line;
use crate::client::RawRequest;
use crate::suite::verdict::Step;

/// Bodies longer than this go through `printf`: one command-line argument is capped at
/// 128 KiB on Linux, while `printf` is a shell builtin without that cap.
const ARGUMENT_BYTES_MAX: usize = 64 * 1024;

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// `body` as a `printf` format that writes exactly these bytes, in single quotes.
fn printf_format(body: &[u8]) -> String {
    let mut format = String::with_capacity(body.len() + 2);
    format.push('\'');
    for &b in body {
        match b {
            b'%' => format.push_str("%%"),
            b'\\' => format.push_str("\\\\"),
            b'\'' => format.push_str("\\047"),
            0x20..=0x7e => format.push(char::from(b)),
            _ => {
                let _ = write!(format, "\\{b:03o}");
            }
        }
    }
    format.push('\'');
    format
}

/// The body as one quoted argument, when a command line can carry it as it is: UTF-8, no NUL,
/// not starting with `@` (curl would read a file), and not too long.
fn as_argument(body: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(body).ok()?;
    (!text.contains('\0') && !text.starts_with('@') && text.len() <= ARGUMENT_BYTES_MAX)
        .then_some(text)
}

/// One curl command (a `printf … |` pipeline when the body needs it) sending these bytes.
fn command(method: &str, url: &str, headers: &[(String, String)], body: &[u8]) -> String {
    let mut cmd = format!(
        "curl -sS -i -g --path-as-is -X {} {}",
        shell_quote(method),
        shell_quote(url)
    );
    for (name, value) in headers {
        let _ = write!(
            cmd,
            " \\\n  -H {}",
            shell_quote(&format!("{name}: {value}"))
        );
    }
    if body.is_empty() {
        return cmd;
    }
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("content-type"))
    {
        cmd.push_str(" \\\n  -H 'Content-Type:'");
    }
    match as_argument(body) {
        Some(text) => {
            let _ = write!(cmd, " \\\n  --data-binary {}", shell_quote(text));
            cmd
        }
        None => format!(
            "printf {} | {cmd} \\\n  --data-binary @-",
            printf_format(body)
        ),
    }
}

/// A shell script sending `request` to the endpoint at `base_url`, byte for byte.
pub fn request_script(base_url: &str, request: &RawRequest) -> String {
    let url = format!(
        "{}{}",
        base_url.trim_end_matches('/'),
        request.path_and_query
    );
    format!(
        "#!/bin/sh\n{}\n",
        command(&request.method, &url, &request.headers, &request.body)
    )
}

/// A shell script of curl commands that sends the requests of `steps` again, in order. Session
/// tokens in it are the ones the endpoint issued during the run: they work only against that
/// same server process, within their lifetime. `cogsync replay` reproduces a failure exactly.
pub fn curl_script(steps: &[Step]) -> String {
    let mut out = String::from(
        "#!/bin/sh\n# Requests of a cogsync failure, in order. Tokens below were issued by the endpoint\n\
         # during the run and are valid only against that same server, for a limited time;\n\
         # `cogsync replay FILE.json` reproduces the failure from scratch.\nset -x\n",
    );
    for (i, step) in steps.iter().enumerate() {
        let _ = writeln!(
            out,
            "\n# {}. {} — expected: {}",
            i + 1,
            step.operation,
            one_line(&step.expected, 200)
        );
        for ex in &step.exchanges {
            let _ = writeln!(
                out,
                "{}",
                command(
                    &ex.method,
                    &ex.url,
                    &ex.request_headers,
                    &ex.request_bytes()
                )
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::process::Command;

    use super::*;
    use crate::client::{Exchange, base64_unless_utf8};
    use crate::suite::verdict::StepVerdict;

    const BASE: &str = "http://127.0.0.1:1";

    fn exchange(body: &[u8]) -> Exchange {
        Exchange {
            method: "POST".to_owned(),
            url: format!("{BASE}/identitypools/a%3Ab/identities/c%3Ad/datasets/x"),
            request_headers: vec![("content-type".to_owned(), "application/json".to_owned())],
            request_body: String::from_utf8_lossy(body).into_owned(),
            request_body_base64: base64_unless_utf8(body),
            status: Some(200),
            response_headers: vec![],
            response_body: "{}".to_owned(),
            elapsed_ms: 1.0,
        }
    }

    fn step(body: &[u8]) -> Step {
        Step {
            operation: "UpdateRecords".to_owned(),
            exchanges: vec![exchange(body)],
            expected: "409 ResourceConflictException".to_owned(),
            actual: "200 Records=[]".to_owned(),
            verdict: StepVerdict::Reference,
        }
    }

    /// What a script made curl do: the arguments it got and what it read on stdin.
    struct Sent {
        args: Vec<String>,
        stdin: Vec<u8>,
    }

    impl Sent {
        /// The bytes curl sends as the body: the `--data-binary` argument, or stdin for `@-`.
        fn body(&self) -> Vec<u8> {
            let at = self.args.iter().position(|a| a == "--data-binary");
            match at.and_then(|i| self.args.get(i + 1)) {
                Some(data) if data == "@-" => self.stdin.clone(),
                Some(data) => data.clone().into_bytes(),
                None => Vec::new(),
            }
        }
    }

    /// Runs `script` with `sh`, a stand-in `curl` first on the PATH that records its
    /// arguments (NUL-separated) and its stdin: the script parsed back by a real shell.
    fn run_with_recording_curl(script: &str, name: &str) -> Vec<Sent> {
        let dir: PathBuf =
            std::env::temp_dir().join(format!("cogsync-curl-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let fake = dir.join("curl");
        std::fs::write(
            &fake,
            "#!/bin/sh\nn=$(ls \"$OUT\" | wc -l)\nfor a in \"$@\"; do printf '%s\\0' \"$a\"; done \
             > \"$OUT/$n.args\"\ncat > \"$OUT/$n.stdin\"\n",
        )
        .expect("write the stand-in curl");
        let out = dir.join("out");
        std::fs::create_dir_all(&out).expect("out dir");
        let status = Command::new("chmod")
            .arg("+x")
            .arg(&fake)
            .status()
            .expect("chmod runs");
        assert!(status.success());
        let path = format!(
            "{}:{}",
            dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let script_path = dir.join("script.sh");
        std::fs::write(&script_path, script).expect("write the script");
        let run = Command::new("sh")
            .arg(&script_path)
            .env("PATH", path)
            .env("OUT", &out)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("sh runs");
        assert!(run.status.success(), "{run:?}\n{script}");
        let sent = recorded(&out);
        let _ = std::fs::remove_dir_all(&dir);
        sent
    }

    fn recorded(out: &Path) -> Vec<Sent> {
        let mut sent = Vec::new();
        for n in (0..).step_by(2) {
            let Ok(args) = std::fs::read(out.join(format!("{n}.args"))) else {
                break;
            };
            let args = args
                .split(|&b| b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8(a.to_vec()).expect("UTF-8 arguments"))
                .collect();
            let stdin = std::fs::read(out.join(format!("{n}.stdin"))).unwrap_or_default();
            sent.push(Sent { args, stdin });
        }
        sent
    }

    #[test]
    fn raw_paths_and_non_utf8_bodies_reach_curl_byte_for_byte() {
        let path_and_query = "/identitypools/us-east-1%3Aa/identities/us-east-1%3Ab/datasets/\
                              a%2Fb/../x/./y%zz?q=[1]&r={2}&s=%25'";
        let body = b"{\"a\":\"\xff'%\\n\0\x01\x37\"}\n".to_vec();
        let request = RawRequest {
            method: "POST".to_owned(),
            path_and_query: path_and_query.to_owned(),
            headers: vec![("x-amz-client-context".to_owned(), "it's".to_owned())],
            body: body.clone(),
        };
        let script = request_script(BASE, &request);
        assert!(script.contains("--data-binary @-"), "{script}");
        let sent = run_with_recording_curl(&script, "raw");
        assert_eq!(sent.len(), 1, "{script}");
        let args = &sent[0].args;
        for flag in ["-g", "--path-as-is"] {
            assert!(args.iter().any(|a| a == flag), "{flag}: {args:?}");
        }
        assert!(
            args.contains(&format!("{BASE}{path_and_query}")),
            "{args:?}"
        );
        assert!(args.iter().any(|a| a == "x-amz-client-context: it's"));
        assert!(args.iter().any(|a| a == "Content-Type:"), "{args:?}");
        assert_eq!(sent[0].body(), body);
    }

    #[test]
    fn text_bodies_go_as_arguments_unless_curl_would_read_them_as_a_file() {
        let text = RawRequest {
            method: "POST".to_owned(),
            path_and_query: "/p".to_owned(),
            headers: vec![("content-type".to_owned(), "application/json".to_owned())],
            body: r#"{"Key":"it's ünï 100%"}"#.as_bytes().to_vec(),
        };
        let at_file = RawRequest {
            body: b"@/etc/passwd".to_vec(),
            ..text.clone()
        };
        let script = request_script(BASE, &text);
        assert!(
            script.contains(r#"--data-binary '{"Key":"it'\''s ünï 100%"}'"#),
            "{script}"
        );
        assert!(!script.contains("Content-Type:'"), "{script}");
        for (request, name) in [(text, "text"), (at_file, "at")] {
            let sent = run_with_recording_curl(&request_script(BASE, &request), name);
            assert_eq!(sent[0].body(), request.body, "{name}");
        }
    }

    #[test]
    fn transcript_scripts_send_each_exchange_from_its_exact_bytes() {
        let binary = b"\xc3\x28 {\"RecordPatches\":[]}".to_vec();
        let steps = [step(br#"{"Key":"it's"}"#), step(&binary), step(b"")];
        let script = curl_script(&steps);
        assert!(
            script.contains(r#"--data-binary '{"Key":"it'\''s"}'"#),
            "{script}"
        );
        assert!(script.contains("-g --path-as-is"), "{script}");
        let sent = run_with_recording_curl(&script, "steps");
        assert_eq!(sent.len(), 3, "{script}");
        assert_eq!(sent[0].body(), br#"{"Key":"it's"}"#);
        assert_eq!(sent[1].body(), binary);
        assert_eq!(sent[2].body(), b"");
        assert!(sent[1].args.contains(&format!(
            "{BASE}/identitypools/a%3Ab/identities/c%3Ad/datasets/x"
        )));
    }
}
