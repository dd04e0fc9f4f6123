//! Serving connections one by one with hyper, so a fault can close a connection without an answer.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::Service;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

/// Handed to every request of a connection: closing it drops the socket with no answer.
#[derive(Debug, Clone, Default)]
pub struct ConnectionControl {
    close: Arc<Notify>,
}

impl ConnectionControl {
    pub fn close(&self) {
        // notify_one keeps a permit if the connection task is not waiting yet.
        self.close.notify_one();
    }
}

/// Accepts connections until `stop` changes or its sender goes away; then every open
/// connection is closed.
pub async fn serve(listener: TcpListener, router: Router, mut stop: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    connections.spawn(connection(stream, router.clone()));
                }
                Err(err) => {
                    // Out of file descriptors and the like: wait a little instead of spinning.
                    tracing::warn!("sandbox accept failed: {err}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    connections.shutdown().await;
}

async fn connection(stream: tokio::net::TcpStream, router: Router) {
    let control = ConnectionControl::default();
    let closed = control.close.clone();
    let service = TowerToHyperService::new(router);
    let per_request = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(control.clone());
        service.call(request)
    });
    let served = http1::Builder::new().serve_connection(TokioIo::new(stream), per_request);
    tokio::select! {
        _ = served => {}
        // Dropping `served` drops the socket: the client sees the connection close unanswered.
        _ = closed.notified() => {}
    }
}
