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
mod tests;
