//! The HTTP client: sends a built [`Request`] exactly as built, adding the credential's
//! `Authorization` header only when the request says so, and reports what came back.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Url;
use reqwest::header::{HeaderName, HeaderValue};

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

/// A reusable client (connections are pooled and kept alive between requests).
#[derive(Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    authorization: Option<HeaderValue>,
    /// The forms of the credential a server might echo back (a debugging endpoint, a proxy's
    /// error page); answers are redacted of them before anyone shows or stores them.
    echoes: Redactor,
    /// The last URL sent, parsed: most runs send every request to one URL, and parsing it again
    /// for each (host, IDNA, percent-encoding) was about 6 % of the delivery thread's samples.
    last_url: Arc<Mutex<Option<Url>>>,
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
        let builder = super::tls::trust_extra_roots(reqwest::Client::builder())
            .map_err(|e| ClientError::Build(e.to_string()))?;
        let inner = builder
            .user_agent(USER_AGENT)
            .timeout(request)
            .connect_timeout(connect)
            // Following a redirect would send the body (and maybe the credential) somewhere the
            // destination never named; a 3xx is reported instead.
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| ClientError::Build(e.to_string()))?;
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
            authorization,
            echoes,
            last_url: Arc::default(),
        })
    }

    /// The underlying client, for best-effort side calls (the response webhook).
    pub fn reqwest(&self) -> &reqwest::Client {
        &self.inner
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
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
        };
        let url = self
            .parsed(&request.url)
            .map_err(|err| fail(TransportError::Connect, format!("invalid URL: {err}")))?;
        let mut builder = self.inner.request(method, url);
        if request.auth
            && let Some(value) = &self.authorization
        {
            builder = builder.header(reqwest::header::AUTHORIZATION, value.clone());
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
            builder = builder.header(name, value);
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        let response = builder.send().await.map_err(|err| {
            let kind = if err.is_connect() {
                TransportError::Connect
            } else if err.is_timeout() {
                TransportError::Timeout
            } else if err.is_builder() {
                TransportError::Connect
            } else {
                TransportError::Dropped
            };
            fail(kind, describe(&err))
        })?;
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
        let body = match response.bytes().await {
            Ok(bytes) => self.echoes.redact(&bytes).into_owned(),
            Err(err) => {
                format!("[response body could not be read: {}]", describe(&err)).into_bytes()
            }
        };
        Ok(Response {
            status,
            headers,
            body,
            latency: started.elapsed(),
        })
    }

    /// `url` parsed, from the last one when it is the same text.
    fn parsed(&self, url: &str) -> Result<Url, url::ParseError> {
        let mut last = self
            .last_url
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(parsed) = last.as_ref().filter(|parsed| parsed.as_str() == url) {
            return Ok(parsed.clone());
        }
        let parsed = Url::parse(url)?;
        // Kept only when its text is the one asked for (the parser may normalise it), so a
        // match above is always the same URL.
        *last = (parsed.as_str() == url).then(|| parsed.clone());
        Ok(parsed)
    }
}

/// An error's message with its causes, which say what actually happened (refused, reset, DNS).
fn describe(err: &reqwest::Error) -> String {
    let mut message = err.to_string();
    let mut source = std::error::Error::source(err);
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
}
