//! Connections: accepting them (plain HTTP or HTTPS), HTTP/1.1 on each, the limits that keep a
//! slow or idle client from holding a connection forever, and the graceful stop.
//!
//! - The request head (request line and headers) must arrive within the header read timeout of
//!   the connection opening or of the previous response (an idle keep-alive connection is closed
//!   then too). A TLS handshake has the same limit.
//! - While a handler reads the body, the client must send some of it at least every body read
//!   timeout; otherwise the request ends with 408 and the connection is closed.

use crate::error::ApiError;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::header::CONNECTION;
use axum::http::{HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use http_body::Frame;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// How connections are served.
#[derive(Clone)]
pub struct Transport {
    /// HTTPS when set.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// The most time the request head (and a TLS handshake) may take.
    pub header_read_timeout: Duration,
    /// The most time between two pieces of a request body while a handler reads it.
    pub body_read_timeout: Duration,
}

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting connections, lets
/// the requests in flight finish, and closes idle connections.
///
/// # Errors
/// None today: a failed `accept` (e.g. too many open files) is logged and retried after a pause.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    transport: Transport,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // dropping `stop_rx` tells the connections (and the accept loop) to stop
    let (stop_tx, stop_rx) = watch::channel(());
    tokio::spawn(async move {
        shutdown.await;
        drop(stop_rx);
    });
    // every connection holds a receiver: when none is left, all have finished
    let (done_tx, done_rx) = watch::channel(());
    let acceptor = transport.tls.clone().map(tokio_rustls::TlsAcceptor::from);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stop_tx.closed() => break,
        };
        let (stream, remote) = match accepted {
            Ok(accepted) => accepted,
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                tracing::error!(error = %e, "accepting a connection failed; retrying in a second");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let connection = Connection { app: app.clone(), remote, body_read_timeout: transport.body_read_timeout };
        let stop = stop_tx.clone();
        let done = done_rx.clone();
        let acceptor = acceptor.clone();
        let header_read_timeout = transport.header_read_timeout;
        tokio::spawn(async move {
            match acceptor {
                None => serve_connection(stream, connection, header_read_timeout, stop).await,
                Some(acceptor) => match tokio::time::timeout(header_read_timeout, acceptor.accept(stream)).await {
                    Ok(Ok(tls)) => serve_connection(tls, connection, header_read_timeout, stop).await,
                    Ok(Err(e)) => tracing::debug!(%remote, error = %e, "TLS handshake failed"),
                    Err(_) => tracing::debug!(%remote, "TLS handshake timed out"),
                },
            }
            drop(done);
        });
    }
    drop(done_rx);
    drop(listener);
    done_tx.closed().await;
    Ok(())
}

fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(e.kind(), ConnectionRefused | ConnectionAborted | ConnectionReset)
}

async fn serve_connection<IO>(io: IO, connection: Connection, header_read_timeout: Duration, stop: watch::Sender<()>)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let remote = connection.remote;
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(header_read_timeout).keep_alive(true);
    let conn = builder.serve_connection(TokioIo::new(io), connection).with_upgrades();
    tokio::pin!(conn);
    let mut stopping = false;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(%remote, error = %e, "connection closed");
                }
                break;
            }
            () = stop.closed(), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// One connection's service: the router, with the peer address and the body read timeout.
#[derive(Clone)]
struct Connection {
    app: Router,
    remote: SocketAddr,
    body_read_timeout: Duration,
}

impl hyper::service::Service<Request<Incoming>> for Connection {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let mut app = self.app.clone();
        let timeout = self.body_read_timeout;
        let timed_out = Arc::new(AtomicBool::new(false));
        let mut request = request.map(|body| {
            Body::new(ReadTimeoutBody { inner: Body::new(body), timeout, sleep: None, timed_out: timed_out.clone() })
        });
        request.extensions_mut().insert(ConnectInfo(self.remote));
        Box::pin(async move {
            std::future::poll_fn(|cx| tower_service::Service::<Request<Body>>::poll_ready(&mut app, cx)).await?;
            let response = tower_service::Service::call(&mut app, request).await?;
            if timed_out.load(Ordering::Relaxed) {
                return Ok(body_timeout_response(timeout));
            }
            Ok(response)
        })
    }
}

/// 408 for a body that stopped arriving; the connection is closed after it.
fn body_timeout_response(timeout: Duration) -> Response {
    let mut response = ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        "timeout_exception",
        format!("no part of the request body arrived for [{}s]; closing the connection", timeout.as_secs_f64()),
    )
    .into_response();
    response.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
    response.headers_mut().insert(crate::response::PRODUCT_HEADER, HeaderValue::from_static("Elasticsearch"));
    response
}

/// A request body that fails when no data arrives for `timeout` while it is being read.
struct ReadTimeoutBody {
    inner: Body,
    timeout: Duration,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    timed_out: Arc<AtomicBool>,
}

/// The error a [`ReadTimeoutBody`] ends with.
#[derive(Debug)]
struct BodyReadTimeout(Duration);

impl std::fmt::Display for BodyReadTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no part of the request body arrived for {:?}", self.0)
    }
}

impl std::error::Error for BodyReadTimeout {}

impl http_body::Body for ReadTimeoutBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.sleep = None;
                Poll::Ready(frame)
            }
            Poll::Pending => {
                let timeout = this.timeout;
                let sleep = this.sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                if sleep.as_mut().poll(cx).is_ready() {
                    this.timed_out.store(true, Ordering::Relaxed);
                    return Poll::Ready(Some(Err(axum::Error::new(BodyReadTimeout(timeout)))));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
