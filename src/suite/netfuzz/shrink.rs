//! Shrinking: smaller variants of a request that still breaks the same oracle, so a finding
//! shows only what the failure needs (JSON members dropped, strings cut, headers and query
//! parameters dropped).

use serde_json::Value;

use crate::client::{Endpoint, RawRequest};

/// Whether `path_and_query` reaches the endpoint byte for byte (no URL normalisation).
pub(super) fn sendable(endpoint: &Endpoint, path_and_query: &str) -> bool {
    endpoint
        .url_as_sent(path_and_query)
        .is_some_and(|sent| sent == format!("{}{path_and_query}", endpoint.base_url()))
}

/// Shorter variants of a JSON value: members and elements dropped first, then strings cut.
fn json_variants(value: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    match value {
        Value::Object(map) => {
            for key in map.keys() {
                let mut smaller = map.clone();
                smaller.remove(key);
                out.push(Value::Object(smaller));
            }
            for (key, child) in map {
                for variant in json_variants(child) {
                    let mut changed = map.clone();
                    changed.insert(key.clone(), variant);
                    out.push(Value::Object(changed));
                }
            }
        }
        Value::Array(items) => {
            for i in 0..items.len() {
                let mut smaller = items.clone();
                smaller.remove(i);
                out.push(Value::Array(smaller));
            }
            for (i, child) in items.iter().enumerate() {
                for variant in json_variants(child) {
                    let mut changed = items.clone();
                    changed[i] = variant;
                    out.push(Value::Array(changed));
                }
            }
        }
        Value::String(s) => {
            let n = s.chars().count();
            if n > 1 {
                out.push(Value::String(s.chars().take(n / 2).collect()));
                out.push(Value::String(s.chars().skip(n / 2).collect()));
            }
            if n > 0 {
                out.push(Value::String(String::new()));
            }
        }
        _ => {}
    }
    out
}

/// Smaller requests to try, biggest cuts first.
pub(super) fn shrink_candidates(request: &RawRequest) -> Vec<RawRequest> {
    let mut out = Vec::new();
    let with_body = |body: Vec<u8>| RawRequest {
        body,
        ..request.clone()
    };
    match serde_json::from_slice::<Value>(&request.body) {
        Ok(value) => {
            for variant in json_variants(&value) {
                out.push(with_body(serde_json::to_vec(&variant).unwrap_or_default()));
            }
        }
        Err(_) if !request.body.is_empty() => {
            let half = request.body.len() / 2;
            out.push(with_body(Vec::new()));
            out.push(with_body(request.body[..half].to_vec()));
            out.push(with_body(request.body[half..].to_vec()));
        }
        Err(_) => {}
    }
    for i in 0..request.headers.len() {
        let mut headers = request.headers.clone();
        headers.remove(i);
        out.push(RawRequest {
            headers,
            ..request.clone()
        });
    }
    if let Some((path, query)) = request.path_and_query.split_once('?') {
        let params: Vec<&str> = query.split('&').collect();
        for i in 0..params.len() {
            let rest: Vec<&str> = params
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, p)| *p)
                .collect();
            let path_and_query = if rest.is_empty() {
                path.to_owned()
            } else {
                format!("{path}?{}", rest.join("&"))
            };
            out.push(RawRequest {
                path_and_query,
                ..request.clone()
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn json_variants_drop_members_then_cut_strings() {
        let v = json!({"a": "xyz", "b": [1]});
        let variants = json_variants(&v);
        assert_eq!(variants[0], json!({"b": [1]}));
        assert!(variants.contains(&json!({"a": "x", "b": [1]})));
        assert!(variants.contains(&json!({"a": "xyz", "b": []})));
    }

    #[test]
    fn query_parameters_are_dropped_one_at_a_time() {
        let request = RawRequest {
            method: "GET".to_owned(),
            path_and_query: "/r?maxResults=0&lastSyncCount=-1".to_owned(),
            headers: vec![],
            body: vec![],
        };
        let paths: Vec<String> = shrink_candidates(&request)
            .into_iter()
            .map(|r| r.path_and_query)
            .collect();
        assert_eq!(paths, ["/r?lastSyncCount=-1", "/r?maxResults=0"]);
    }
}
