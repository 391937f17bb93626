//! An axum endpoint that accepts only requests signed by QStash.
//!
//! ```sh
//! QSTASH_CURRENT_SIGNING_KEY=sig_... QSTASH_NEXT_SIGNING_KEY=sig_... \
//! PUBLIC_URL=https://example.com/webhook \
//!     cargo run -p qstash-sdk --example verify_signature
//! ```
//!
//! `PUBLIC_URL` is the URL QStash was asked to call; when set, the token's
//! subject must equal it. The server listens on `127.0.0.1:3000`, or on
//! the address in `LISTEN_ADDR`.

// An example reports to the person running it.
#![allow(clippy::print_stdout)]

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use qstash_sdk::Receiver;

struct AppState {
    receiver: Receiver,
    public_url: Option<String>,
}

/// Verifies the signature against the raw body before reading it. Any
/// non-2xx answer makes QStash retry, so a refused request is retried too.
async fn webhook(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let Some(signature) = headers
        .get("upstash-signature")
        .and_then(|v| v.to_str().ok())
    else {
        return StatusCode::BAD_REQUEST;
    };

    let verified = state
        .receiver
        .verify(signature, &body, state.public_url.as_deref());
    match verified {
        Ok(claims) => {
            println!("accepted {} bytes, token {:?}", body.len(), claims.jwt_id);
            StatusCode::OK
        }
        Err(err) => {
            println!("refused: {err}");
            StatusCode::UNAUTHORIZED
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let state = AppState {
        receiver: Receiver::from_env()?.clock_tolerance(std::time::Duration::from_secs(5)),
        public_url: std::env::var("PUBLIC_URL").ok(),
    };
    let app = Router::new()
        .route("/webhook", post(webhook))
        .with_state(Arc::new(state));

    let address = std::env::var("LISTEN_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    let listener = tokio::net::TcpListener::bind(&address).await?;
    println!("listening on http://{address}/webhook");
    axum::serve(listener, app).await?;
    Ok(())
}
