//! A bare hyper server that answers every request with one fixed response: the baseline
//! the mock is measured against, and the destination its deliveries go to.

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

/// The JSON a publish answer has, of the mock's answer size, for the publish baseline.
pub(crate) const PUBLISH_LIKE_BODY: &str =
    r#"{"messageId":"msg_26hZCxZCuWyyTWPmSVBrNCtiJGNsULmsRMdW3V","url":"http://127.0.0.1:9/hook"}"#;

/// A running bare server; dropping it stops the server and its connections.
#[derive(Debug)]
pub(crate) struct BareServer {
    address: SocketAddr,
    task: JoinHandle<()>,
}

impl BareServer {
    /// Binds `address` and answers `status` with `body` until dropped.
    pub(crate) async fn start(
        address: SocketAddr,
        status: StatusCode,
        body: &'static str,
    ) -> anyhow::Result<BareServer> {
        let listener = TcpListener::bind(address).await?;
        let address = listener.local_addr()?;
        let task = tokio::spawn(serve(listener, status, Bytes::from_static(body.as_bytes())));
        Ok(BareServer { address, task })
    }

    /// Binds a random loopback port.
    pub(crate) async fn start_local(
        status: StatusCode,
        body: &'static str,
    ) -> anyhow::Result<BareServer> {
        BareServer::start(SocketAddr::from(([127, 0, 0, 1], 0)), status, body).await
    }

    /// The address it listens on.
    pub(crate) fn address(&self) -> SocketAddr {
        self.address
    }

    /// Serves until the task is cancelled; for the start-up child process.
    pub(crate) async fn wait(mut self) {
        let _ = (&mut self.task).await;
    }
}

impl Drop for BareServer {
    fn drop(&mut self) {
        // Aborting the accept task drops its JoinSet, which aborts every connection.
        self.task.abort();
    }
}

async fn serve(listener: TcpListener, status: StatusCode, body: Bytes) {
    let mut connections = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        while connections.try_join_next().is_some() {}
        let body = body.clone();
        connections.spawn(async move {
            let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                let body = body.clone();
                async move {
                    // Read the request body so keep-alive connections stay usable.
                    let _ = request.into_body().collect().await;
                    let mut response = Response::new(Full::new(body));
                    *response.status_mut() = status;
                    response.headers_mut().insert(
                        http::header::CONTENT_TYPE,
                        http::HeaderValue::from_static("application/json"),
                    );
                    Ok::<_, Infallible>(response)
                }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
