//! An in-process client of one service for the fault and variant tests: requests go through
//! [`handle`] without a socket, so hundreds of scenarios run in a second.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, Request};
use serde_json::{Value, json};

use super::{ServerConfig, Service, handle};

pub const IDENTITY: &str = "/identitypools/us-east-1%3A0a/identities/us-east-1%3A0b";

/// What a client sees of one answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub error_type: Option<String>,
    pub headers: HeaderMap,
    pub body: Value,
}

/// One service, as a client sees it.
pub struct Endpoint {
    pub service: Arc<Service>,
}

pub fn endpoint(config: &ServerConfig) -> Endpoint {
    Endpoint {
        service: Arc::new(Service::open(config).expect("service")),
    }
}

/// Sends one request with any body; `uri` is the path and query as on the request line.
pub async fn send_raw(service: &Service, method: &str, uri: &str, body: Body) -> Answer {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .body(body)
        .expect("request");
    let response = handle(service, request).await;
    let error_type = response
        .headers()
        .get("x-amzn-ErrorType")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    Answer {
        status,
        error_type,
        headers,
        // An operation without an output shape (SetCognitoEvents) answers an empty body.
        body: if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).expect("json body")
        },
    }
}

pub async fn send(service: &Service, method: &str, uri: &str, body: Option<Value>) -> Answer {
    let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
    send_raw(service, method, uri, body).await
}

/// Permanent names of faults and variants: lower-case words joined by single hyphens.
pub fn is_kebab_case(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
}

pub fn dataset_path(dataset: &str) -> String {
    format!("{IDENTITY}/datasets/{dataset}")
}

impl Endpoint {
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        send(&self.service, method, path, body).await
    }

    pub async fn list(&self, dataset: &str, query: &str) -> Answer {
        let path = format!("{}/records?{query}", dataset_path(dataset));
        self.call("GET", &path, None).await
    }

    pub async fn list_datasets(&self, query: &str) -> Answer {
        self.call("GET", &format!("{IDENTITY}/datasets?{query}"), None)
            .await
    }

    pub async fn token(&self, dataset: &str) -> String {
        let answer = self.list(dataset, "").await;
        answer.body["SyncSessionToken"]
            .as_str()
            .expect("token")
            .to_owned()
    }

    pub async fn update_body(&self, dataset: &str, body: Value) -> Answer {
        self.call("POST", &dataset_path(dataset), Some(body)).await
    }

    pub async fn update_with(&self, dataset: &str, token: &str, patches: Value) -> Answer {
        self.update_body(
            dataset,
            json!({"SyncSessionToken": token, "RecordPatches": patches}),
        )
        .await
    }

    pub async fn update(&self, dataset: &str, patches: Value) -> Answer {
        let token = self.token(dataset).await;
        self.update_with(dataset, &token, patches).await
    }

    pub async fn put(&self, dataset: &str, key: &str, value: &str, sync_count: i64) -> Answer {
        self.update(dataset, json!([put(key, value, sync_count)]))
            .await
    }

    pub async fn delete(&self, dataset: &str) -> Answer {
        self.call("DELETE", &dataset_path(dataset), None).await
    }

    /// Every record of a dataset, following NextToken; `query` is repeated on every page.
    pub async fn list_all(&self, dataset: &str, query: &str) -> Vec<(String, i64)> {
        let mut found = Vec::new();
        let mut page_query = query.to_owned();
        for _ in 0..100 {
            let answer = self.list(dataset, &page_query).await;
            assert_eq!(answer.status, 200, "{}", answer.body);
            for record in answer.body["Records"].as_array().expect("records") {
                found.push((
                    record["Key"].as_str().expect("key").to_owned(),
                    record["SyncCount"].as_i64().expect("count"),
                ));
            }
            match answer.body["NextToken"].as_str() {
                Some(token) => page_query = format!("{query}&nextToken={token}"),
                None => return found,
            }
        }
        panic!("paging did not end");
    }

    /// The keys of every record, sorted.
    pub async fn keys(&self, dataset: &str) -> Vec<String> {
        let mut keys: Vec<String> = self
            .list_all(dataset, "")
            .await
            .into_iter()
            .map(|(key, _)| key)
            .collect();
        keys.sort();
        keys
    }
}

pub fn put(key: &str, value: &str, sync_count: i64) -> Value {
    json!({"Op": "replace", "Key": key, "Value": value, "SyncCount": sync_count})
}

pub fn remove(key: &str, sync_count: i64) -> Value {
    json!({"Op": "remove", "Key": key, "SyncCount": sync_count})
}

#[track_caller]
pub fn ok(answer: &Answer) {
    assert_eq!(answer.status, 200, "{}", answer.body);
}

/// The keys of an answer's `Records`, in the order sent.
pub fn record_keys(answer: &Answer) -> Vec<String> {
    answer.body["Records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| r["Key"].as_str().expect("key").to_owned())
        .collect()
}

/// The pool of [`IDENTITY`].
pub const POOL: &str = "/identitypools/us-east-1%3A0a";

/// A platform application ARN for `platform`, as SetIdentityPoolConfiguration takes it.
pub fn application_arn(platform: &str) -> String {
    format!("arn:aws:sns:us-east-1:123456789012:app/{platform}/cogsync")
}

pub const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/cogsync";

impl Endpoint {
    pub async fn set_config(&self, body: Value) -> Answer {
        self.call("POST", &format!("{POOL}/configuration"), Some(body))
            .await
    }

    pub async fn get_config(&self) -> Answer {
        self.call("GET", &format!("{POOL}/configuration"), None)
            .await
    }

    pub async fn set_events(&self, events: Value) -> Answer {
        self.call(
            "POST",
            &format!("{POOL}/events"),
            Some(json!({"Events": events})),
        )
        .await
    }

    pub async fn get_events(&self) -> Answer {
        self.call("GET", &format!("{POOL}/events"), None).await
    }

    pub async fn pool_usage(&self) -> Answer {
        self.call("GET", POOL, None).await
    }

    /// Configures push sync for `platform` and registers a device of `identity` (a path
    /// under `/identitypools/…`); returns the DeviceId.
    pub async fn register(&self, identity: &str, platform: &str, token: &str) -> Answer {
        self.call(
            "POST",
            &format!("{identity}/device"),
            Some(json!({"Platform": platform, "Token": token})),
        )
        .await
    }

    pub async fn push_config(&self, platforms: &[&str]) {
        let arns: Vec<String> = platforms.iter().map(|p| application_arn(p)).collect();
        ok(&self
            .set_config(json!({"PushSync": {"ApplicationArns": arns, "RoleArn": ROLE_ARN}}))
            .await);
    }

    /// RegisterDevice for [`IDENTITY`] with push sync configured for `platform`.
    pub async fn device(&self, platform: &str, token: &str) -> String {
        self.push_config(&[platform]).await;
        let answer = self
            .register(&format!("{POOL}/identity/us-east-1%3A0b"), platform, token)
            .await;
        ok(&answer);
        answer.body["DeviceId"]
            .as_str()
            .expect("DeviceId")
            .to_owned()
    }

    pub async fn subscription(&self, method: &str, dataset: &str, device: &str) -> Answer {
        let path = format!("{}/subscriptions/{device}", dataset_path(dataset));
        self.call(method, &path, None).await
    }

    pub async fn stream_config(&self, status: &str) {
        ok(&self
            .set_config(json!({"CognitoStreams": {
                "StreamName": "cogsync-stream", "RoleArn": ROLE_ARN, "StreamingStatus": status
            }}))
            .await);
    }

    pub async fn bulk_publish(&self) -> Answer {
        self.call("POST", &format!("{POOL}/bulkpublish"), None)
            .await
    }

    pub async fn bulk_details(&self) -> Answer {
        self.call("POST", &format!("{POOL}/getBulkPublishDetails"), None)
            .await
    }
}
