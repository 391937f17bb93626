//! The accept loop: one hyper HTTP/1.1 connection task per client, stopped on shutdown.

use super::shared::Shared;
use crate::api::{self, HttpResponse};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// The error that makes hyper close a connection without answering (a sink scripted to
/// drop it).
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by the sink's script")
    }
}

impl std::error::Error for Dropped {}

/// Accepts connections until `shutdown` fires.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<()>,
) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.changed() => break,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(error) => {
                // Out of file descriptors and the like: log and keep serving.
                tracing::warn!(cause = %error, "accept failed");
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        // Reap finished connection tasks so the set does not grow without bound.
        while connections.try_join_next().is_some() {}
        let shared = Arc::clone(&shared);
        let mut stop = shutdown.clone();
        connections.spawn(async move {
            let service = service_fn(move |request| {
                let shared = Arc::clone(&shared);
                async move { respond(shared, request, peer).await }
            });
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::trace!(cause = %error, "connection ended");
                    }
                }
                _ = stop.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    // Give open connections a moment to finish the request they are answering.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    connections.abort_all();
}

async fn respond(
    shared: Arc<Shared>,
    request: hyper::Request<hyper::body::Incoming>,
    peer: SocketAddr,
) -> Result<HttpResponse, Dropped> {
    let response = api::serve(shared, request, peer).await;
    if response
        .extensions()
        .get::<Arc<api::DropConnection>>()
        .is_some()
    {
        return Err(Dropped);
    }
    Ok(response)
}
