//! The reference server: a real, persistent HTTP server of the six dataset operations.
//!
//! A request goes parse → validate ([`parse`]) → check tokens, store, respond ([`Service`]).
//! State lives in SQLite, in memory by default or in a file (`ServerConfig::db`) that survives
//! restarts, token secret included. The behaviour is SPEC.md as fixed by
//! `docs/reference-choices.md`; this module knows nothing of the model. A server may be asked
//! to deviate: by one [`Fault`] (a bug the suite must catch) and by one [`Variant`] (another
//! choice the spec allows, which the suite must accept).

mod events;
pub mod fault;
mod http;
mod notify;
mod ops;
pub mod parse;
pub mod pool;
mod pool_store;
mod rejection;
mod store;
mod token;
pub mod variant;

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use self::events::{EventSink, SYNC_TRIGGER_TIMEOUT, SyncTrigger};
pub use self::fault::{Fault, UnknownFault};
pub use self::http::{handle, router};
pub use self::ops::{Clock, Service};
pub use self::parse::{ParsedRequest, parse_request};
pub use self::rejection::Rejection;
pub use self::store::Store;
pub use self::token::TokenKeys;
pub use self::variant::{UnknownVariant, Variant};

/// How to run a reference server. Build it with [`ServerConfig::in_memory`],
/// [`ServerConfig::with_db`] or `ServerConfig { db, ..Default::default() }`: fields may be
/// added.
#[derive(Debug, Clone, Default)]
pub struct ServerConfig {
    /// SQLite file to keep state in; `None` keeps it in memory for the server's lifetime.
    pub db: Option<PathBuf>,
    /// Where the time comes from; tests move a manual clock to expire tokens.
    pub clock: Clock,
    /// A deliberate deviation from SPEC.md, to show the suite catches it; `None` in service.
    pub fault: Option<Fault>,
    /// A deviation from the reference choices that SPEC.md allows, to show the suite accepts
    /// it; `None` serves the reference choices.
    pub variant: Option<Variant>,
    /// How late every answer is sent (`serve --latency`), to stand in for a remote endpoint;
    /// each answer waits on its own, so concurrent requests overlap their waits.
    pub latency: Duration,
    /// JSON-lines file that push messages and stream records are appended to
    /// (`serve --events`, `docs/events.md`); `None` writes none.
    pub events: Option<PathBuf>,
    /// URL of the webhook standing in for a pool's SyncTrigger function
    /// (`serve --sync-trigger`); `None` stores a SyncTrigger without calling anything.
    pub sync_trigger: Option<String>,
}

impl ServerConfig {
    /// State lives as long as the server: every test starts from nothing.
    pub fn in_memory() -> ServerConfig {
        ServerConfig::default()
    }

    /// State (and the token secret) survive restarts in this SQLite file.
    pub fn with_db(path: impl Into<PathBuf>) -> ServerConfig {
        ServerConfig {
            db: Some(path.into()),
            ..ServerConfig::default()
        }
    }
}

/// Why a reference server could not start or keep running.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot open database {path}")]
    Database {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error("cannot open the events file {path}")]
    Events {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot set up the sync-trigger client for {url}")]
    SyncTrigger {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("server failed")]
    Serve(#[source] io::Error),
    #[error("server task ended abnormally: {0}")]
    Task(String),
}

impl Service {
    /// Opens the storage named by `config` and loads (or makes) the token secret.
    pub fn open(config: &ServerConfig) -> Result<Service, ServerError> {
        let database_error = |source| ServerError::Database {
            path: config
                .db
                .as_ref()
                .map_or_else(|| ":memory:".to_owned(), |p| p.display().to_string()),
            source,
        };
        let store = Store::open(config.db.as_deref())
            .map_err(database_error)?
            .with_fault(config.fault)
            .with_variant(config.variant);
        let secret = store.token_secret().map_err(database_error)?;
        let events = config
            .events
            .as_deref()
            .map(EventSink::open)
            .transpose()
            .map_err(|source| ServerError::Events {
                path: config
                    .events
                    .as_ref()
                    .map_or_else(String::new, |p| p.display().to_string()),
                source,
            })?;
        let sync_trigger = config
            .sync_trigger
            .as_ref()
            .map(|url| {
                SyncTrigger::new(url.clone()).map_err(|source| ServerError::SyncTrigger {
                    url: url.clone(),
                    source,
                })
            })
            .transpose()?;
        Ok(
            Service::new(store, TokenKeys::new(&secret), config.clock.clone())
                .with_fault(config.fault)
                .with_variant(config.variant)
                .with_latency(config.latency)
                .with_events(events)
                .with_sync_trigger(sync_trigger),
        )
    }
}

/// A router over a fresh service, for in-process use (e.g. `tower::ServiceExt::oneshot`).
pub fn app(config: &ServerConfig) -> Result<axum::Router, ServerError> {
    Ok(router(Arc::new(Service::open(config)?)))
}

/// A server running on its own task. Dropping it stops the server too, without waiting.
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<io::Result<()>>>,
}

impl RunningServer {
    /// The bound address (the real port when asked for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The endpoint URL, e.g. `http://127.0.0.1:8080`; an unspecified bind address is given
    /// as loopback so the URL can be used by a client as is.
    pub fn url(&self) -> String {
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, self.addr.port()))
    }

    /// Stops accepting connections, lets in-flight requests finish, and waits for the end.
    pub async fn shutdown(mut self) -> Result<(), ServerError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => match task.await {
                Ok(result) => result.map_err(ServerError::Serve),
                Err(err) => Err(ServerError::Task(err.to_string())),
            },
            None => Ok(()),
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), ServerError> {
    let bind_error = |source| ServerError::Bind { addr, source };
    let listener = TcpListener::bind(addr).await.map_err(bind_error)?;
    let local = listener.local_addr().map_err(bind_error)?;
    Ok((listener, local))
}

/// Binds `addr` (port 0 picks a free port), starts serving on a new task and returns at once.
pub async fn spawn(addr: SocketAddr, config: ServerConfig) -> Result<RunningServer, ServerError> {
    let app = app(&config)?;
    let (listener, local) = bind(addr).await?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
    });
    Ok(RunningServer {
        addr: local,
        stop: Some(stop),
        task: Some(task),
    })
}

/// Serves on `addr` until `shutdown` completes, then finishes in-flight requests and returns.
/// Prints nothing; for the CLI.
pub async fn serve_until(
    addr: SocketAddr,
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let app = app(&config)?;
    let (listener, _) = bind(addr).await?;
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(ServerError::Serve)
}

#[cfg(test)]
mod events_tests;
#[cfg(test)]
mod fault_tests;
#[cfg(test)]
mod in_process;
#[cfg(test)]
mod pool_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod variant_tests;
