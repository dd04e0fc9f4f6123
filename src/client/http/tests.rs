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
                    sink.lock()
                        .unwrap()
                        .push((method.to_string(), headers, body, uri.to_string()));
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

const LOCALHOST_CERT: &[u8] = include_bytes!("../testdata/localhost.pem");
const LOCALHOST_KEY: &[u8] = include_bytes!("../testdata/localhost.key");

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
