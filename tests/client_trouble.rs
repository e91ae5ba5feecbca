//! A misbehaving endpoint is a finding, never a panic or a hang: each of these fake endpoints
//! (raw TCP on loopback) misbehaves one way, and the client reports it as a `Trouble`.

use std::time::{Duration, Instant};

use cogsync::client::{Endpoint, EndpointOptions, Reply, Trouble};
use cogsync::spec::{DescribeIdentityUsageRequest, IdentityPath, Request};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serves every connection with `answer`: it gets the request's first bytes and the socket.
async fn fake_endpoint<F, Fut>(answer: F) -> String
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf).await;
            tokio::spawn(answer(socket));
        }
    });
    format!("http://{addr}")
}

fn request() -> Request {
    Request::DescribeIdentityUsage(DescribeIdentityUsageRequest {
        path: IdentityPath {
            identity_pool_id: "us-east-1:00000000-0000-4000-8000-000000000001".into(),
            identity_id: "us-east-1:00000000-0000-4000-8000-000000000002".into(),
        },
    })
}

fn client(url: &str) -> Endpoint {
    let options = EndpointOptions {
        timeout: Duration::from_millis(500),
        response_bytes_max: 64 * 1024,
        ..EndpointOptions::default()
    };
    Endpoint::new(url, options).expect("client")
}

#[tokio::test]
async fn a_hanging_endpoint_times_out() {
    let url = fake_endpoint(|socket| async move {
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(socket);
    })
    .await;
    let started = Instant::now();
    let (reply, exchange) = client(&url).call::<serde_json::Value>(&request()).await;
    assert!(
        matches!(reply, Reply::Broken(Trouble::Timeout { .. })),
        "{reply:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the timeout bounds the wait"
    );
    assert_eq!(exchange.status, None);
}

#[tokio::test]
async fn a_reset_connection_is_trouble() {
    let url = fake_endpoint(|socket| async move { drop(socket) }).await;
    let (reply, _) = client(&url).call::<serde_json::Value>(&request()).await;
    assert!(
        matches!(reply, Reply::Broken(Trouble::Connection(_))),
        "{reply:?}"
    );
}

#[tokio::test]
async fn a_huge_body_is_cut_off_at_the_cap() {
    let url = fake_endpoint(|mut socket| async move {
        let head =
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 10000000\r\n\r\n";
        let _ = socket.write_all(head.as_bytes()).await;
        let chunk = vec![b' '; 64 * 1024];
        for _ in 0..200 {
            if socket.write_all(&chunk).await.is_err() {
                break;
            }
        }
    })
    .await;
    let (reply, _) = client(&url).call::<serde_json::Value>(&request()).await;
    assert!(
        matches!(reply, Reply::Broken(Trouble::BodyTooLarge { .. })),
        "{reply:?}"
    );
}

#[tokio::test]
async fn garbage_and_the_wrong_content_type_are_trouble() {
    let garbage = fake_endpoint(|mut socket| async move {
        let _ = socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 5\r\n\r\n{{{{{").await;
    })
    .await;
    let (reply, _) = client(&garbage).call::<serde_json::Value>(&request()).await;
    assert!(
        matches!(reply, Reply::Broken(Trouble::NotJson(_))),
        "{reply:?}"
    );

    let html = fake_endpoint(|mut socket| async move {
        let _ = socket
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 2\r\n\r\n{}")
            .await;
    })
    .await;
    let (reply, _) = client(&html).call::<serde_json::Value>(&request()).await;
    assert!(
        matches!(reply, Reply::Broken(Trouble::WrongContentType(_))),
        "{reply:?}"
    );

    let not_http = fake_endpoint(|mut socket| async move {
        let _ = socket.write_all(b"SSH-2.0-OpenSSH\r\n").await;
    })
    .await;
    let (reply, _) = client(&not_http)
        .call::<serde_json::Value>(&request())
        .await;
    assert!(matches!(reply, Reply::Broken(_)), "{reply:?}");
}

#[tokio::test]
async fn check_reports_a_hanging_endpoint_as_a_finding_and_ends() {
    let url = fake_endpoint(|mut socket| async move {
        // Answers the preflight and the first few requests with an error, then hangs.
        let _ = socket
            .write_all(b"HTTP/1.1 404 Not Found\r\nx-amzn-ErrorType: ResourceNotFoundException\r\ncontent-type: application/json\r\ncontent-length: 15\r\n\r\n{\"message\":\"x\"}")
            .await;
        tokio::time::sleep(Duration::from_secs(30)).await;
    })
    .await;
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_cogsync"))
            .args([
                "check",
                "--endpoint",
                &url,
                "--timeout",
                "0.3",
                "--only",
                "update-records.first-write",
                "--sequences",
                "0",
                "--devices",
                "0",
            ])
            .output()
            .expect("cogsync runs")
    })
    .await
    .expect("ran");
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(1),
        "a finding, not a crash:\n{text}"
    );
    assert!(text.contains("FAIL"), "{text}");
}

#[tokio::test]
async fn an_endpoint_that_hangs_or_resets_on_its_first_request_is_a_finding() {
    let hangs = fake_endpoint(|socket| async move {
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(socket);
    })
    .await;
    let resets = fake_endpoint(|socket| async move { drop(socket) }).await;
    for (what, url) in [("hang", hangs), ("reset", resets)] {
        let dir = std::env::temp_dir().join(format!(
            "cogsync-first-request-{what}-{}",
            std::process::id()
        ));
        let junit = dir.join("report.xml");
        std::fs::create_dir_all(&dir).expect("temp dir");
        let junit_arg = junit.to_string_lossy().into_owned();
        let output = tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_cogsync"))
                .args(["check", "--endpoint", &url, "--timeout", "0.3"])
                .args(["--junit", &junit_arg])
                .output()
                .expect("cogsync runs")
        })
        .await
        .expect("ran");
        let text = String::from_utf8_lossy(&output.stdout);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{what} on the first request is a finding (exit 1), not harness trouble:\n{text}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(text.contains("FAIL preflight"), "{text}");
        assert!(
            text.contains("the endpoint accepted the connection, then"),
            "{text}"
        );
        let xml = std::fs::read_to_string(&junit).expect("the JUnit report is written");
        assert!(xml.contains(r#"name="preflight""#), "{xml}");
        assert!(xml.contains("<failure"), "{xml}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
