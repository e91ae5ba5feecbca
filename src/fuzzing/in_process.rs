//! The reference server in process as a [`Transport`]: the bytes a client would send go
//! through the server's [`handle`] without a socket, so the suite's session can drive it at
//! fuzzing speed.

use std::sync::Arc;

use axum::body::Body;

use crate::client::{Exchange, RawRequest, RawResponse, Transport, Trouble};
use crate::server::{Service, handle};

/// Answers longer than this are trouble, as over HTTP (the client's default cap).
const RESPONSE_BYTES_MAX: usize = 32 * 1024 * 1024;

/// One reference server, no socket.
pub struct InProcess {
    service: Arc<Service>,
}

impl InProcess {
    pub fn new(service: Service) -> InProcess {
        InProcess::shared(Arc::new(service))
    }

    /// A transport to a service that outlives it: the fuzz target keeps one service for many
    /// inputs, because opening a SQLite store costs more than a whole short sequence.
    pub fn shared(service: Arc<Service>) -> InProcess {
        InProcess { service }
    }

    async fn answer(&self, request: &RawRequest) -> Result<RawResponse, Trouble> {
        let mut builder = axum::http::Request::builder()
            .method(request.method.as_str())
            .uri(request.path_and_query.as_str());
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let request = builder
            .body(Body::from(request.body.clone()))
            .map_err(|e| Trouble::Connection(format!("request not sent: {e}")))?;
        let response = handle(&self.service, request).await;
        let status = response.status().as_u16();
        let headers = crate::client::header_pairs(response.headers());
        let body = axum::body::to_bytes(response.into_body(), RESPONSE_BYTES_MAX)
            .await
            .map_err(|e| Trouble::Connection(format!("cannot read the answer: {e}")))?
            .to_vec();
        Ok(RawResponse {
            status,
            headers,
            body,
        })
    }
}

impl Transport for InProcess {
    async fn send(&self, request: &RawRequest) -> (Result<RawResponse, Trouble>, Exchange) {
        let result = self.answer(request).await;
        let mut exchange = Exchange::of(request, request.path_and_query.clone(), &request.headers);
        exchange.answered(&result);
        (result, exchange)
    }
}
