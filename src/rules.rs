//! The edge rules, each written once: which URLs may carry records and credentials (origin,
//! plain http only to loopback, no user info), which header names and values may be sent, the
//! default base URL, and where a path written in a destination file points.
//!
//! A leaf module: it depends on nothing else in the crate, so the request builder, the
//! destination, the credentials store, the wizard and the command line all call the same rule.

use std::path::{Path, PathBuf};

use url::Url;

/// Aircall's API: the base URL of a new credential, and the one `/` request URLs are shown
/// against when no credential is at hand.
pub const DEFAULT_BASE_URL: &str = "https://api.aircall.io";

/// The characters of an HTTP header name (RFC 9110 `tchar`), besides letters and digits.
const HEADER_NAME_SYMBOLS: &[u8] = b"!#$%&'*+-.^_`|~";

/// A rule an address or header broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("{text:?} is not a URL: {reason}")]
    NotAUrl { text: String, reason: String },
    #[error("{url} is not an http(s) URL")]
    NotHttp { url: String },
    #[error("{origin} uses plain http:// to a host that is not loopback; use https://")]
    PlainHttp { origin: String },
    #[error(
        "{origin} holds a user name or password (`user:pass@`): it would be sent, shown and saved \
         with every URL; keep secrets in a credential (`aircall-dest credentials add`)"
    )]
    UserInfo { origin: String },
    #[error("{name:?} is not a valid header name (letters, digits and -_.!#$%&'*+^`|~ only)")]
    HeaderName { name: String },
    #[error("the value of {name} holds the control character {character:?}")]
    HeaderValue { name: String, character: char },
}

/// Whether a URL's host is loopback (`localhost`, 127.0.0.0/8, `::1`): the only hosts plain
/// `http://` may reach.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Whether a URL carries `user:pass@`, which clients turn into credentials of their own.
pub fn has_user_info(url: &Url) -> bool {
    !url.username().is_empty() || url.password().is_some()
}

/// The origin rule for every URL records or credentials go to: http(s) only, plain http only to
/// loopback, and no user name or password in the URL.
pub fn check_origin(url: &Url) -> Result<(), RuleError> {
    let origin = || url.origin().ascii_serialization();
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(url) => {}
        "http" => return Err(RuleError::PlainHttp { origin: origin() }),
        _ => {
            return Err(RuleError::NotHttp {
                url: url.to_string(),
            });
        }
    }
    if has_user_info(url) {
        return Err(RuleError::UserInfo { origin: origin() });
    }
    Ok(())
}

/// Parses `text` as a URL and applies [`check_origin`].
pub fn parse_origin(text: &str) -> Result<Url, RuleError> {
    let url = Url::parse(text).map_err(|e| RuleError::NotAUrl {
        text: text.to_string(),
        reason: e.to_string(),
    })?;
    check_origin(&url)?;
    Ok(url)
}

/// A header name: one or more letters, digits or RFC 9110 symbols.
pub fn check_header_name(name: &str) -> Result<(), RuleError> {
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || HEADER_NAME_SYMBOLS.contains(&b));
    if valid {
        Ok(())
    } else {
        Err(RuleError::HeaderName {
            name: name.to_string(),
        })
    }
}

/// A header value: no control character (CR and LF would split the request).
pub fn check_header_value(name: &str, value: &str) -> Result<(), RuleError> {
    match value.chars().find(|c| c.is_control()) {
        Some(character) => Err(RuleError::HeaderValue {
            name: name.to_string(),
            character,
        }),
        None => Ok(()),
    }
}

/// `path` as written in a destination file: a relative path is relative to the file's folder.
pub fn relative_to_destination(destination_path: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        return path.to_path_buf();
    }
    match destination_path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(path),
        _ => path.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn loopback_is_localhost_127_8_and_ipv6_one() {
        for yes in [
            "http://localhost:8080",
            "http://LOCALHOST",
            "http://127.0.0.1",
            "http://127.200.3.4:9",
            "http://[::1]:80",
        ] {
            assert!(is_loopback(&url(yes)), "{yes}");
        }
        for no in [
            "http://localhost.example.com",
            "http://128.0.0.1",
            "http://10.0.0.1",
            "http://[::2]",
            "http://api.aircall.io",
        ] {
            assert!(!is_loopback(&url(no)), "{no}");
        }
    }

    #[test]
    fn plain_http_is_only_for_loopback() {
        assert_eq!(check_origin(&url("https://api.aircall.io")), Ok(()));
        assert_eq!(check_origin(&url("http://127.0.0.1:8787/v1")), Ok(()));
        assert_eq!(
            check_origin(&url("http://api.aircall.io/v1/contacts")),
            Err(RuleError::PlainHttp {
                origin: "http://api.aircall.io".into()
            })
        );
        assert!(matches!(
            check_origin(&url("ftp://127.0.0.1/x")),
            Err(RuleError::NotHttp { .. })
        ));
    }

    #[test]
    fn user_info_is_refused_even_over_https() {
        for text in ["https://id:tok@api.aircall.io", "https://id@api.aircall.io"] {
            assert_eq!(
                check_origin(&url(text)),
                Err(RuleError::UserInfo {
                    origin: "https://api.aircall.io".into()
                }),
                "{text}"
            );
        }
        let message = check_origin(&url("http://u:p@localhost"))
            .unwrap_err()
            .to_string();
        assert!(!message.contains("u:p"), "{message}");
    }

    #[test]
    fn parse_origin_names_what_is_not_a_url() {
        let err = parse_origin("api.aircall.io").unwrap_err();
        assert!(matches!(err, RuleError::NotAUrl { .. }), "{err}");
        assert!(err.to_string().contains("\"api.aircall.io\""), "{err}");
        assert_eq!(
            parse_origin(DEFAULT_BASE_URL).unwrap().as_str(),
            "https://api.aircall.io/"
        );
    }

    #[test]
    fn header_names_are_rfc_9110_tokens() {
        for good in ["X-Source", "accept", "x_y.z~1", "!#$%&'*+-.^_`|~"] {
            assert_eq!(check_header_name(good), Ok(()), "{good}");
        }
        for bad in ["", "X Source", "X:Y", "Ü", "a\nb", "(x)"] {
            assert!(check_header_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn header_values_hold_no_control_character() {
        assert_eq!(
            check_header_value("X", "a b\tc"),
            Err(RuleError::HeaderValue {
                name: "X".into(),
                character: '\t'
            })
        );
        assert!(check_header_value("X", "a\r\nInjected: 1").is_err());
        assert_eq!(check_header_value("X", "crm, café"), Ok(()));
    }

    #[test]
    fn paths_are_relative_to_the_destination_file() {
        assert_eq!(
            relative_to_destination(Path::new("conf/dest.toml"), Path::new("data/a.csv")),
            Path::new("conf/data/a.csv")
        );
        assert_eq!(
            relative_to_destination(Path::new("dest.toml"), Path::new("a.csv")),
            Path::new("a.csv")
        );
        assert_eq!(
            relative_to_destination(Path::new("conf/dest.toml"), Path::new("/abs/a.csv")),
            Path::new("/abs/a.csv")
        );
    }
}
