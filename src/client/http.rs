//! The HTTP client: sends a built [`Request`] exactly as built, adding the credential's
//! `Authorization` header only when the request says so, and reports what came back.
//!
//! Requests go through hyper-util's pooled client (HTTP/1.1, or HTTP/2 where TLS negotiates it)
//! with rustls, not through reqwest: reqwest's layers over that same client (URL conversions,
//! redirect and retry policies, boxed futures) cost about 7 µs of CPU per request, a third of
//! the HTTP cost at ten thousand requests a second (docs/benchmarks.md). What reqwest did for us
//! is done here: the request timeout, the connect timeout, no redirect followed, the trusted
//! roots (`super::tls`) and an HTTPS destination reached through the proxy the environment
//! names (`HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Uri;
use hyper::header::{AUTHORIZATION, HeaderName, HeaderValue, USER_AGENT as USER_AGENT_HEADER};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tower_service::Service;

use super::retry::TransportError;
use crate::destination::{Delivery, Method};
use crate::request::{Request, USER_AGENT};
use crate::secret::{Redactor, Secret};

/// A response, fully read.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub latency: Duration,
}

/// A call that got no answer.
#[derive(Debug, Clone)]
pub struct SendError {
    pub kind: TransportError,
    /// What happened, without any secret.
    pub message: String,
    pub latency: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot start the HTTP client: {0}")]
    Build(String),
    #[error("the credential's Authorization value is not a valid header value")]
    BadAuthorization,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How a connection is opened: straight to the host, or, for an HTTPS destination the
/// environment's proxy settings cover, through an HTTP proxy's `CONNECT` tunnel (TLS then runs
/// end to end inside it). Plain-HTTP destinations (the sandbox, a local mock) are always reached
/// directly.
#[derive(Clone)]
struct Route {
    direct: HttpConnector,
    proxies: Arc<Matcher>,
}

impl Service<Uri> for Route {
    type Response = TokioIo<tokio::net::TcpStream>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.direct.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, destination: Uri) -> Self::Future {
        let mut direct = self.direct.clone();
        let proxy = (destination.scheme() == Some(&hyper::http::uri::Scheme::HTTPS))
            .then(|| self.proxies.intercept(&destination))
            .flatten();
        match proxy {
            Some(proxy) => {
                let mut tunnel = Tunnel::new(proxy.uri().clone(), direct);
                if let Some(auth) = proxy.basic_auth() {
                    tunnel = tunnel.with_auth(auth.clone());
                }
                Box::pin(async move { tunnel.call(destination).await.map_err(Into::into) })
            }
            None => Box::pin(async move { direct.call(destination).await.map_err(Into::into) }),
        }
    }
}

type Connector = hyper_rustls::HttpsConnector<Route>;

/// A reusable client (connections are pooled and kept alive between requests).
#[derive(Clone)]
pub struct HttpClient {
    inner: Client<Connector, Full<Bytes>>,
    /// The whole exchange, from the first byte out to the last byte of the answer.
    timeout: Duration,
    authorization: Option<HeaderValue>,
    /// The forms of the credential a server might echo back (a debugging endpoint, a proxy's
    /// error page); answers are redacted of them before anyone shows or stores them.
    echoes: Redactor,
    /// The last URL sent, as written and as sent: most runs send every request to one URL, and
    /// parsing it again for each (host, IDNA, percent-encoding) was about 6 % of the delivery
    /// thread's samples.
    last_url: Arc<Mutex<Option<(String, Uri)>>>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field(
                "authorization",
                &self.authorization.as_ref().map(|_| crate::secret::MASK),
            )
            .finish()
    }
}

impl HttpClient {
    /// A client with the destination's timeouts. `authorization` is the credential's full
    /// header value, attached to requests whose `auth` is set.
    pub fn new(delivery: &Delivery, authorization: Option<&Secret>) -> Result<Self, ClientError> {
        Self::with_timeouts(
            Duration::from_secs(delivery.request_timeout_secs.max(1)),
            Duration::from_secs(delivery.connect_timeout_secs.max(1)),
            authorization,
        )
    }

    pub fn with_timeouts(
        request: Duration,
        connect: Duration,
        authorization: Option<&Secret>,
    ) -> Result<Self, ClientError> {
        let tls = super::tls::client_config().map_err(|e| ClientError::Build(e.to_string()))?;
        Self::build(
            request,
            connect,
            authorization,
            (*tls).clone(),
            Matcher::from_system(),
        )
    }

    /// A client trusting `tls`'s roots and going through `proxies`.
    fn build(
        request: Duration,
        connect: Duration,
        authorization: Option<&Secret>,
        tls: rustls::ClientConfig,
        proxies: Matcher,
    ) -> Result<Self, ClientError> {
        let mut direct = HttpConnector::new();
        direct.enforce_http(false);
        direct.set_nodelay(true);
        direct.set_connect_timeout(Some(connect));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(Route {
                direct,
                proxies: Arc::new(proxies),
            });
        // No redirect is ever followed (this client has no such layer): following one would
        // send the body, and maybe the credential, somewhere the destination never named; a 3xx
        // is reported instead.
        let inner = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_timer(TokioTimer::new())
            .build(connector);
        let echoes = Redactor::new(
            &authorization
                .map(crate::credentials::secret_forms)
                .unwrap_or_default(),
        );
        let authorization = match authorization {
            Some(secret) => {
                let mut value = HeaderValue::from_str(secret.expose())
                    .map_err(|_| ClientError::BadAuthorization)?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        Ok(Self {
            inner,
            timeout: request,
            authorization,
            echoes,
            last_url: Arc::default(),
        })
    }

    /// Sends `request` once: its method, URL, headers in order and body bytes, unchanged. The
    /// answer comes back with any echo of the credential replaced by `•••`.
    pub async fn send(&self, request: &Request) -> Result<Response, SendError> {
        let started = Instant::now();
        let fail = |kind, message: String| SendError {
            kind,
            message,
            latency: started.elapsed(),
        };
        let method = match request.method {
            Method::Get => hyper::Method::GET,
            Method::Post => hyper::Method::POST,
            Method::Put => hyper::Method::PUT,
            Method::Patch => hyper::Method::PATCH,
            Method::Delete => hyper::Method::DELETE,
        };
        let uri = self
            .uri(&request.url)
            .map_err(|err| fail(TransportError::Connect, format!("invalid URL: {err}")))?;
        let mut outgoing = hyper::Request::new(Full::new(match &request.body {
            Some(body) => Bytes::copy_from_slice(body.as_bytes()),
            None => Bytes::new(),
        }));
        *outgoing.method_mut() = method;
        *outgoing.uri_mut() = uri;
        let headers = outgoing.headers_mut();
        if request.auth
            && let Some(value) = &self.authorization
        {
            headers.insert(AUTHORIZATION, value.clone());
        }
        for (name, value) in &request.headers {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                fail(
                    TransportError::Connect,
                    format!("invalid header name {name:?}"),
                )
            })?;
            let value = HeaderValue::from_str(value).map_err(|_| {
                fail(
                    TransportError::Connect,
                    format!("invalid value for header {name}"),
                )
            })?;
            headers.append(name, value);
        }
        if !headers.contains_key(USER_AGENT_HEADER) {
            headers.insert(USER_AGENT_HEADER, HeaderValue::from_static(USER_AGENT));
        }
        let deadline = tokio::time::Instant::now() + self.timeout;
        let response = match tokio::time::timeout_at(deadline, self.inner.request(outgoing)).await {
            Ok(Ok(response)) => response,
            Ok(Err(err)) => {
                let kind = if err.is_connect() {
                    TransportError::Connect
                } else {
                    TransportError::Dropped
                };
                return Err(fail(kind, describe(&err)));
            }
            Err(_) => {
                return Err(fail(
                    TransportError::Timeout,
                    format!("no answer within {}s", self.timeout.as_secs_f64()),
                ));
            }
        };
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_string(),
                    String::from_utf8_lossy(&self.echoes.redact(value.as_bytes())).into_owned(),
                )
            })
            .collect();
        // The status is known once headers arrive: a body cut short does not change the outcome.
        let body = match tokio::time::timeout_at(deadline, response.into_body().collect()).await {
            Ok(Ok(collected)) => self.echoes.redact(&collected.to_bytes()).into_owned(),
            Ok(Err(err)) => {
                format!("[response body could not be read: {}]", describe(&err)).into_bytes()
            }
            Err(_) => format!(
                "[response body could not be read: not finished within {}s]",
                self.timeout.as_secs_f64()
            )
            .into_bytes(),
        };
        Ok(Response {
            status,
            headers,
            body,
            latency: started.elapsed(),
        })
    }

    /// `url` as sent: parsed as a browser would (dot segments, IDNA, percent-encoding), from the
    /// last one when it is the same text.
    fn uri(&self, url: &str) -> Result<Uri, String> {
        let mut last = self
            .last_url
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((_, uri)) = last.as_ref().filter(|(text, _)| text == url) {
            return Ok(uri.clone());
        }
        let parsed = url::Url::parse(url).map_err(|err| err.to_string())?;
        let uri = Uri::try_from(parsed.as_str()).map_err(|err| err.to_string())?;
        *last = Some((url.to_string(), uri.clone()));
        Ok(uri)
    }
}

/// What a webhook (the response capture's, an alert's) made of one JSON post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookError {
    /// It answered, but not with a 2xx: the status as people read it.
    Answered(String),
    /// No answer within the time allowed, or none at all: why.
    Unreachable(String),
}

impl HttpClient {
    /// POSTs `body` as JSON to a webhook, never with the credential (a webhook is not the API),
    /// waiting at most `limit` for its answer.
    pub async fn post_webhook(
        &self,
        url: &str,
        body: String,
        limit: Duration,
    ) -> Result<(), WebhookError> {
        let post = Request {
            method: Method::Post,
            url: url.to_string(),
            headers: vec![("Content-Type".into(), "application/json".into())],
            auth: false,
            body: Some(body),
            records: Vec::new(),
            warnings: Vec::new(),
        };
        match tokio::time::timeout(limit, self.send(&post)).await {
            Ok(Ok(response)) if (200..300).contains(&response.status) => Ok(()),
            Ok(Ok(response)) => Err(WebhookError::Answered(status_text(response.status))),
            Ok(Err(err)) => Err(WebhookError::Unreachable(err.message)),
            Err(_) => Err(WebhookError::Unreachable(format!(
                "no answer within {}s",
                limit.as_secs_f64()
            ))),
        }
    }
}

/// A status with its reason phrase, as people read it: `404 Not Found`, `599` when it has none.
pub fn status_text(status: u16) -> String {
    match hyper::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
    {
        Some(reason) => format!("{status} {reason}"),
        None => status.to_string(),
    }
}

/// An error's message with its causes, which say what actually happened (refused, reset, DNS).
fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Bytes;
    use axum::http::HeaderMap;
    use axum::routing::any;
    use std::sync::{Arc, Mutex};

    type Seen = Arc<Mutex<Vec<(String, HeaderMap, Bytes, String)>>>;

    async fn server() -> (String, Seen) {
        let seen: Seen = Arc::default();
        let sink = seen.clone();
        let app = axum::Router::new().route(
            "/{*path}",
            any(
                move |method: axum::http::Method,
                      uri: axum::http::Uri,
                      headers: HeaderMap,
                      body: Bytes| {
                    let sink = sink.clone();
                    async move {
                        sink.lock().unwrap().push((
                            method.to_string(),
                            headers,
                            body,
                            uri.to_string(),
                        ));
                        (
                            axum::http::StatusCode::CREATED,
                            [("x-aircallapi-remaining", "59")],
                            "{\"ok\":true}",
                        )
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (format!("http://{addr}"), seen)
    }

    fn request(base: &str, auth: bool) -> Request {
        Request {
            method: Method::Post,
            url: format!("{base}/v1/contacts"),
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("X-Trace".into(), "abc".into()),
            ],
            auth,
            body: Some("{\"first_name\":\"Ada\",\"n\":1.50}".into()),
            records: vec![crate::records::RecordNo(1)],
            warnings: Vec::new(),
        }
    }

    #[tokio::test]
    async fn sends_the_built_bytes_and_the_credential_only_when_asked() {
        let (base, seen) = server().await;
        let secret = Secret::new("Basic c2FuZGJveC1pZDpzYW5kYm94LXRva2Vu");
        let client = HttpClient::new(&Delivery::default(), Some(&secret)).unwrap();
        let response = client.send(&request(&base, true)).await.unwrap();
        assert_eq!(response.status, 201);
        assert_eq!(response.body, b"{\"ok\":true}");
        assert!(
            response
                .headers
                .iter()
                .any(|(n, v)| n == "x-aircallapi-remaining" && v == "59")
        );
        client.send(&request(&base, false)).await.unwrap();
        let seen = seen.lock().unwrap();
        assert_eq!(seen[0].0, "POST");
        assert_eq!(seen[0].2.as_ref(), b"{\"first_name\":\"Ada\",\"n\":1.50}");
        assert_eq!(
            seen[0].1["authorization"],
            "Basic c2FuZGJveC1pZDpzYW5kYm94LXRva2Vu"
        );
        assert_eq!(seen[0].1["x-trace"], "abc");
        assert!(
            seen[1].1.get("authorization").is_none(),
            "no credential when the request says auth = false"
        );
        assert!(
            !format!("{client:?}").contains("c2Fu"),
            "Debug never shows the credential"
        );
    }

    #[tokio::test]
    async fn each_request_goes_to_its_own_url_whatever_was_sent_before() {
        let (base, seen) = server().await;
        let client = HttpClient::new(&Delivery::default(), None).unwrap();
        let to = |url: String| Request {
            url,
            ..request(&base, false)
        };
        for url in [
            format!("{base}/v1/contacts"),
            format!("{base}/v1/contacts/7?page=2"),
            format!("{base}/v1/contacts"),
            format!("{base}/v1/contacts"),
            // The parser rewrites this one's text, so it is never taken for the one before.
            format!("{base}/v1/users/../contacts/8"),
            format!("{base}/v1/users/../contacts/8"),
            format!("{base}/v1/contacts/7?page=3"),
        ] {
            assert_eq!(client.send(&to(url)).await.unwrap().status, 201);
        }
        let paths: Vec<String> = seen.lock().unwrap().iter().map(|s| s.3.clone()).collect();
        assert_eq!(
            paths,
            [
                "/v1/contacts",
                "/v1/contacts/7?page=2",
                "/v1/contacts",
                "/v1/contacts",
                "/v1/contacts/8",
                "/v1/contacts/8",
                "/v1/contacts/7?page=3",
            ]
        );
        let err = client
            .send(&to("no scheme/v1/contacts".into()))
            .await
            .unwrap_err();
        assert_eq!(err.kind, TransportError::Connect);
        assert!(err.message.contains("invalid URL"), "{}", err.message);
    }

    #[tokio::test]
    async fn an_unreachable_host_is_a_connect_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let client = HttpClient::new(&Delivery::default(), None).unwrap();
        let err = client
            .send(&request(&format!("http://{addr}"), false))
            .await
            .unwrap_err();
        assert_eq!(err.kind, TransportError::Connect);
        assert!(!err.message.is_empty());
    }

    #[tokio::test]
    async fn a_slow_answer_is_a_timeout() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // Accepts and reads but never answers.
        tokio::spawn(async move {
            let mut held = Vec::new();
            loop {
                let (socket, _) = listener.accept().await.unwrap();
                held.push(socket);
            }
        });
        let client =
            HttpClient::with_timeouts(Duration::from_millis(300), Duration::from_secs(1), None)
                .unwrap();
        let err = client
            .send(&request(&format!("http://{addr}"), false))
            .await
            .unwrap_err();
        assert_eq!(err.kind, TransportError::Timeout);
        assert!(err.kind.maybe_applied());
    }

    #[tokio::test]
    async fn a_connection_closed_without_an_answer_is_dropped() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            use tokio::io::AsyncReadExt;
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut buf = vec![0u8; 4096];
                let _ = socket.read(&mut buf).await;
                drop(socket);
            }
        });
        let client = HttpClient::new(&Delivery::default(), None).unwrap();
        let err = client
            .send(&request(&format!("http://{addr}"), false))
            .await
            .unwrap_err();
        assert_eq!(err.kind, TransportError::Dropped, "{}", err.message);
    }

    // HTTPS and the proxy, against loopback servers only. The certificates (src/client/testdata,
    // see its README) are a test CA and a certificate it signed for `localhost`.

    const LOCALHOST_CERT: &[u8] = include_bytes!("testdata/localhost.pem");
    const LOCALHOST_KEY: &[u8] = include_bytes!("testdata/localhost.key");

    /// What the TLS server saw of one request.
    #[derive(Debug)]
    struct Received {
        method: String,
        path: String,
        authorization: Option<String>,
        body: Vec<u8>,
    }

    type Log<T> = Arc<Mutex<Vec<T>>>;

    /// An HTTPS server on 127.0.0.1 presenting the `localhost` certificate (no ALPN, so HTTP/1.1):
    /// it answers every request `201 {"id":7}`. Returns its port and the requests it received.
    async fn tls_server() -> (u16, Log<Received>) {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};

        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from_pem_slice(LOCALHOST_CERT).unwrap()],
            PrivateKeyDer::from_pem_slice(LOCALHOST_KEY).unwrap(),
        )
        .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen: Log<Received> = Arc::default();
        let sink = seen.clone();
        tokio::spawn(async move {
            loop {
                let (tcp, _) = listener.accept().await.unwrap();
                let (acceptor, sink) = (acceptor.clone(), sink.clone());
                tokio::spawn(async move {
                    // A client that does not trust the certificate ends the handshake here.
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let answer = hyper::service::service_fn(
                        move |request: hyper::Request<hyper::body::Incoming>| {
                            let sink = sink.clone();
                            async move {
                                let (head, body) = request.into_parts();
                                let body = body.collect().await?.to_bytes();
                                sink.lock().unwrap().push(Received {
                                    method: head.method.to_string(),
                                    path: head.uri.to_string(),
                                    authorization: head
                                        .headers
                                        .get(AUTHORIZATION)
                                        .map(|v| v.to_str().unwrap().to_string()),
                                    body: body.to_vec(),
                                });
                                Ok::<_, hyper::Error>(
                                    hyper::Response::builder()
                                        .status(201)
                                        .body(Full::new(Bytes::from_static(b"{\"id\":7}")))
                                        .unwrap(),
                                )
                            }
                        },
                    );
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), answer)
                        .await;
                });
            }
        });
        (port, seen)
    }

    /// An HTTP proxy on 127.0.0.1 that records the head of each request it gets (a `CONNECT`),
    /// then answers `status_line`; when that is a 200 it relays bytes both ways between the
    /// client and the `host:port` the `CONNECT` named. Returns its port and the heads.
    async fn proxy(status_line: &'static str) -> (u16, Log<String>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let heads: Log<String> = Arc::default();
        let sink = heads.clone();
        tokio::spawn(async move {
            loop {
                let (mut client, _) = listener.accept().await.unwrap();
                let sink = sink.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut chunk = [0u8; 1024];
                    let end = loop {
                        if let Some(at) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                            break at + 4;
                        }
                        match client.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&chunk[..n]),
                        }
                    };
                    // Anything after the head was sent early; it belongs to the tunnel.
                    let early = head.split_off(end);
                    let head = String::from_utf8(head).unwrap();
                    let target = head.split(' ').nth(1).unwrap_or_default().to_string();
                    sink.lock().unwrap().push(head);
                    let answer = format!("{status_line}\r\n\r\n");
                    client.write_all(answer.as_bytes()).await.unwrap();
                    if !status_line.starts_with("HTTP/1.1 200") {
                        return;
                    }
                    let mut upstream = tokio::net::TcpStream::connect(target).await.unwrap();
                    upstream.write_all(&early).await.unwrap();
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                });
            }
        });
        (port, heads)
    }

    /// Roots holding only the test CA, read the way `--ca-file` is.
    fn test_ca() -> rustls::RootCertStore {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/client/testdata/ca.pem");
        let mut roots = rustls::RootCertStore::empty();
        let (added, ignored) = roots.add_parsable_certificates(
            crate::client::tls::roots_from(std::path::Path::new(path)).unwrap(),
        );
        assert_eq!((added, ignored), (1, 0));
        roots
    }

    fn client(
        roots: rustls::RootCertStore,
        proxies: Matcher,
        authorization: Option<&Secret>,
    ) -> HttpClient {
        HttpClient::build(
            Duration::from_secs(10),
            Duration::from_secs(5),
            authorization,
            crate::client::tls::config_trusting(roots).unwrap(),
            proxies,
        )
        .unwrap()
    }

    /// The `Proxy-Authorization: Basic …` credential of a request head, decoded.
    fn proxy_credential(head: &str) -> Option<String> {
        use base64::Engine as _;
        let value = head.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("proxy-authorization")
                .then(|| value.trim())
        })?;
        let encoded = value.strip_prefix("Basic ")?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()?;
        String::from_utf8(decoded).ok()
    }

    #[tokio::test]
    async fn https_reaches_a_server_whose_ca_is_trusted() {
        let (port, seen) = tls_server().await;
        let secret = Secret::new("Basic c2FuZGJveC1pZDpzYW5kYm94LXRva2Vu");
        let client = client(test_ca(), Matcher::builder().build(), Some(&secret));
        let response = client
            .send(&request(&format!("https://localhost:{port}"), true))
            .await
            .unwrap();
        assert_eq!(response.status, 201);
        assert_eq!(response.body, b"{\"id\":7}");
        client
            .send(&request(&format!("https://localhost:{port}"), false))
            .await
            .unwrap();
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0].method, "POST");
        assert_eq!(seen[0].path, "/v1/contacts");
        assert_eq!(seen[0].body, b"{\"first_name\":\"Ada\",\"n\":1.50}");
        assert_eq!(
            seen[0].authorization.as_deref(),
            Some("Basic c2FuZGJveC1pZDpzYW5kYm94LXRva2Vu")
        );
        assert_eq!(seen[1].authorization, None);
    }

    #[tokio::test]
    async fn a_certificate_from_an_untrusted_ca_is_a_connect_error() {
        let (port, seen) = tls_server().await;
        let mut public_roots = rustls::RootCertStore::empty();
        public_roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let client = client(public_roots, Matcher::builder().build(), None);
        let err = client
            .send(&request(&format!("https://localhost:{port}"), false))
            .await
            .unwrap_err();
        assert_eq!(err.kind, TransportError::Connect, "{}", err.message);
        assert!(
            err.message
                .contains("invalid peer certificate: UnknownIssuer"),
            "{}",
            err.message
        );
        assert!(seen.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn https_goes_through_the_proxys_connect_tunnel_with_its_credential() {
        let (port, seen) = tls_server().await;
        let (proxy_port, heads) = proxy("HTTP/1.1 200 Connection established").await;
        let proxies = Matcher::builder()
            .https(format!("http://user:pass@127.0.0.1:{proxy_port}"))
            .build();
        let client = client(test_ca(), proxies, None);
        let response = client
            .send(&request(&format!("https://localhost:{port}"), false))
            .await
            .unwrap();
        assert_eq!(response.status, 201);
        assert_eq!(response.body, b"{\"id\":7}");
        assert_eq!(
            seen.lock().unwrap()[0].body,
            b"{\"first_name\":\"Ada\",\"n\":1.50}"
        );
        let heads = heads.lock().unwrap();
        assert_eq!(heads.len(), 1, "{heads:?}");
        assert!(
            heads[0].starts_with(&format!("CONNECT localhost:{port} HTTP/1.1\r\n")),
            "{}",
            heads[0]
        );
        assert_eq!(proxy_credential(&heads[0]).as_deref(), Some("user:pass"));
    }

    #[tokio::test]
    async fn plain_http_and_no_proxy_hosts_skip_the_proxy() {
        let (proxy_port, heads) = proxy("HTTP/1.1 200 Connection established").await;
        let proxy_url = format!("http://user:pass@127.0.0.1:{proxy_port}");
        // Set for every scheme, so that only the client's own rule keeps plain HTTP direct.
        let proxies = Matcher::builder().all(proxy_url.clone()).build();
        assert!(
            proxies
                .intercept(&"http://127.0.0.1/".parse().unwrap())
                .is_some()
        );
        let (base, seen) = server().await;
        let response = client(test_ca(), proxies, None)
            .send(&request(&base, false))
            .await
            .unwrap();
        assert_eq!(response.status, 201);
        assert_eq!(seen.lock().unwrap().len(), 1);

        let (port, seen) = tls_server().await;
        let proxies = Matcher::builder().all(proxy_url).no("localhost").build();
        let response = client(test_ca(), proxies, None)
            .send(&request(&format!("https://localhost:{port}"), false))
            .await
            .unwrap();
        assert_eq!(response.status, 201);
        assert_eq!(seen.lock().unwrap().len(), 1);
        let heads = heads.lock().unwrap();
        assert!(heads.is_empty(), "the proxy was asked: {heads:?}");
    }

    #[tokio::test]
    async fn a_proxy_that_refuses_the_tunnel_is_a_connect_error() {
        let (port, seen) = tls_server().await;
        let (proxy_port, heads) = proxy("HTTP/1.1 403 Forbidden").await;
        let proxies = Matcher::builder()
            .https(format!("http://127.0.0.1:{proxy_port}"))
            .build();
        let err = client(test_ca(), proxies, None)
            .send(&request(&format!("https://localhost:{port}"), false))
            .await
            .unwrap_err();
        assert_eq!(err.kind, TransportError::Connect, "{}", err.message);
        assert!(
            err.message.contains("tunnel error: unsuccessful"),
            "{}",
            err.message
        );
        assert_eq!(heads.lock().unwrap().len(), 1, "the proxy was asked");
        assert!(seen.lock().unwrap().is_empty());
    }
}
