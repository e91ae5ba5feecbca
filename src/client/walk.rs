//! Following `NextToken`: the one page walker of ListRecords and ListDatasets, whatever the
//! transport, so the suite and the fuzz target walk pages the same way and stop at the same cap.

use serde::de::DeserializeOwned;

use super::{Exchange, Reply, Transport, Trouble};
use crate::spec::{
    ListDatasetsRequest, ListDatasetsResponse, ListRecordsRequest, ListRecordsResponse, Request,
};

/// At most this many pages in one walk; an endpoint that pages forever is a finding.
pub const PAGES_PER_WALK_MAX: usize = 4096;

/// A request whose answer comes in pages chained by `NextToken`.
pub trait Paged: Clone {
    type Page: DeserializeOwned;

    fn to_request(&self) -> Request;

    /// The page's `NextToken`, if there is a next page.
    fn next_token(page: &Self::Page) -> Option<&str>;

    /// The same request for the page after the one that answered `token`.
    fn continue_from(&mut self, token: &str);
}

impl Paged for ListRecordsRequest {
    type Page = ListRecordsResponse;

    fn to_request(&self) -> Request {
        Request::ListRecords(self.clone())
    }

    fn next_token(page: &ListRecordsResponse) -> Option<&str> {
        page.next_token.as_deref()
    }

    fn continue_from(&mut self, token: &str) {
        self.next_token = Some(token.to_owned());
    }
}

impl Paged for ListDatasetsRequest {
    type Page = ListDatasetsResponse;

    fn to_request(&self) -> Request {
        Request::ListDatasets(self.clone())
    }

    fn next_token(page: &ListDatasetsResponse) -> Option<&str> {
        page.next_token.as_deref()
    }

    fn continue_from(&mut self, token: &str) {
        self.next_token = Some(token.to_owned());
    }
}

/// Sends `first`, then the same request with each page's `NextToken` until a page has none.
///
/// Every exchange is pushed to `exchanges`, also those of a walk that ends early. An error
/// answer on any page is the walk's answer (the model judges a walk whole); so is trouble, and
/// a `NextToken` still present after [`PAGES_PER_WALK_MAX`] pages.
pub async fn walk<T: Transport, P: Paged>(
    transport: &T,
    first: P,
    exchanges: &mut Vec<Exchange>,
) -> Reply<Vec<P::Page>> {
    let mut pages = Vec::new();
    let mut request = first;
    loop {
        let (reply, exchange) = transport.call::<P::Page>(&request.to_request()).await;
        exchanges.push(exchange);
        let page = match reply {
            Reply::Success(page) => page,
            Reply::Error(e) => return Reply::Error(e),
            Reply::Broken(trouble) => return Reply::Broken(trouble),
        };
        let next = P::next_token(&page).map(str::to_owned);
        pages.push(page);
        match next {
            None => return Reply::Success(pages),
            Some(_) if pages.len() >= PAGES_PER_WALK_MAX => {
                return Reply::Broken(Trouble::BadShape(format!(
                    "NextToken still present after {PAGES_PER_WALK_MAX} pages"
                )));
            }
            Some(token) => request.continue_from(&token),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::Mutex;

    use super::*;
    use crate::client::{RawRequest, RawResponse};
    use crate::spec::{DatasetPath, ERROR_TYPE_HEADER, IdentityPath};

    /// Answers from a script, in order; once the script is spent, `then` forever.
    struct Scripted {
        script: Mutex<VecDeque<Result<RawResponse, Trouble>>>,
        then: Result<RawResponse, Trouble>,
        sent: Mutex<Vec<RawRequest>>,
    }

    impl Scripted {
        fn new(script: Vec<Result<RawResponse, Trouble>>) -> Scripted {
            Scripted {
                script: Mutex::new(script.into()),
                then: Err(Trouble::Connection("the script is spent".into())),
                sent: Mutex::new(Vec::new()),
            }
        }

        fn sent(&self) -> Vec<String> {
            let sent = self.sent.lock().expect("lock");
            sent.iter().map(|r| r.path_and_query.clone()).collect()
        }
    }

    impl Transport for Scripted {
        async fn send(&self, request: &RawRequest) -> (Result<RawResponse, Trouble>, Exchange) {
            self.sent.lock().expect("lock").push(request.clone());
            let next = self.script.lock().expect("lock").pop_front();
            let result = next.unwrap_or_else(|| self.then.clone());
            let exchange = Exchange {
                method: request.method.clone(),
                url: request.path_and_query.clone(),
                request_headers: request.headers.clone(),
                request_body: String::new(),
                request_body_base64: None,
                status: result.as_ref().ok().map(|r| r.status),
                response_headers: Vec::new(),
                response_body: String::new(),
                elapsed_ms: 0.0,
            };
            (result, exchange)
        }
    }

    fn page(body: serde_json::Value) -> Result<RawResponse, Trouble> {
        Ok(RawResponse {
            status: 200,
            headers: vec![("content-type".to_owned(), "application/json".to_owned())],
            body: body.to_string().into_bytes(),
        })
    }

    fn records_page(key: &str, next: Option<&str>) -> Result<RawResponse, Trouble> {
        page(serde_json::json!({
            "Records": [{"Key": key, "Value": "v", "SyncCount": 1}],
            "NextToken": next,
            "SyncSessionToken": "session",
        }))
    }

    fn request() -> ListRecordsRequest {
        ListRecordsRequest {
            path: DatasetPath {
                identity_pool_id: "us-east-1:p".into(),
                identity_id: "us-east-1:i".into(),
                dataset_name: "d".into(),
            },
            last_sync_count: Some(2),
            max_results: Some(1),
            next_token: None,
            sync_session_token: None,
        }
    }

    fn keys(pages: &[ListRecordsResponse]) -> Vec<String> {
        pages
            .iter()
            .flat_map(|p| p.records.iter().flatten())
            .filter_map(|r| r.key.clone())
            .collect()
    }

    fn block_on<F: Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(future)
    }

    #[test]
    fn a_walk_carries_each_next_token_to_the_next_page() {
        let transport = Scripted::new(vec![
            records_page("a", Some("t1")),
            records_page("b", Some("t2")),
            records_page("c", None),
        ]);
        let mut exchanges = Vec::new();
        let reply = block_on(walk(&transport, request(), &mut exchanges));
        let Reply::Success(pages) = reply else {
            panic!("three pages, got {reply:?}");
        };
        assert_eq!(keys(&pages), ["a", "b", "c"]);
        assert_eq!(exchanges.len(), 3);
        let sent = transport.sent();
        assert!(!sent[0].contains("nextToken"), "{sent:?}");
        assert!(sent[1].ends_with("nextToken=t1"), "{sent:?}");
        assert!(sent[2].ends_with("nextToken=t2"), "{sent:?}");
        assert!(
            sent.iter()
                .all(|s| s.contains("lastSyncCount=2&maxResults=1")),
            "every page repeats the walk's parameters: {sent:?}"
        );
    }

    #[test]
    fn a_walk_of_datasets_follows_next_token_too() {
        let transport = Scripted::new(vec![
            page(serde_json::json!({"Datasets": [{"DatasetName": "a"}], "NextToken": "n"})),
            page(serde_json::json!({"Datasets": [{"DatasetName": "b"}]})),
        ]);
        let first = ListDatasetsRequest {
            path: IdentityPath {
                identity_pool_id: "us-east-1:p".into(),
                identity_id: "us-east-1:i".into(),
            },
            max_results: None,
            next_token: None,
        };
        let reply = block_on(walk(&transport, first, &mut Vec::new()));
        let Reply::Success(pages) = reply else {
            panic!("two pages, got {reply:?}");
        };
        assert_eq!(pages.len(), 2);
        assert!(transport.sent()[1].ends_with("datasets?nextToken=n"));
    }

    #[test]
    fn a_walk_that_never_ends_stops_at_the_page_cap() {
        let mut transport = Scripted::new(Vec::new());
        transport.then = records_page("a", Some("again"));
        let mut exchanges = Vec::new();
        let reply = block_on(walk(&transport, request(), &mut exchanges));
        let Reply::Broken(Trouble::BadShape(why)) = reply else {
            panic!("trouble, got {reply:?}");
        };
        assert!(why.contains(&PAGES_PER_WALK_MAX.to_string()), "{why}");
        assert_eq!(exchanges.len(), PAGES_PER_WALK_MAX);
    }

    #[test]
    fn an_error_page_mid_walk_is_the_answer_of_the_walk() {
        let refused = Ok(RawResponse {
            status: 400,
            headers: vec![(
                ERROR_TYPE_HEADER.to_owned(),
                "InvalidParameterException".to_owned(),
            )],
            body: br#"{"message":"bad token"}"#.to_vec(),
        });
        let transport = Scripted::new(vec![records_page("a", Some("t1")), refused]);
        let mut exchanges = Vec::new();
        let reply = block_on(walk(&transport, request(), &mut exchanges));
        let Reply::Error(e) = reply else {
            panic!("an error, got {reply:?}");
        };
        assert_eq!(e.status, 400);
        assert_eq!(
            exchanges.len(),
            2,
            "the exchanges before the error are kept"
        );
    }

    #[test]
    fn trouble_mid_walk_is_the_answer_of_the_walk() {
        let transport = Scripted::new(vec![
            records_page("a", Some("t1")),
            records_page("b", Some("t2")),
            Err(Trouble::Timeout { ms: 10 }),
        ]);
        let mut exchanges = Vec::new();
        let reply = block_on(walk(&transport, request(), &mut exchanges));
        assert_eq!(reply, Reply::Broken(Trouble::Timeout { ms: 10 }));
        assert_eq!(exchanges.len(), 3);
        assert!(exchanges[2].status.is_none());
    }
}
