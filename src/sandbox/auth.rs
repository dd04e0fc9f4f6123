//! Authentication as Aircall's edge does it: Basic (API ID and token) or Bearer; no or unknown
//! `Authorization` → 401, a wrong credential → 403.

use axum::http::{HeaderMap, header};
use base64::Engine;

use super::answer::ApiError;
use crate::secret::Secret;

/// The credentials the sandbox accepts. They are test credentials of the sandbox only, never a
/// real Aircall key, but they are still kept in [`Secret`] so they never print.
#[derive(Debug, Clone)]
pub struct SandboxCredentials {
    pub api_id: String,
    pub api_token: Secret,
    pub bearer: Secret,
}

impl Default for SandboxCredentials {
    fn default() -> Self {
        Self {
            api_id: "sandbox-id".into(),
            api_token: Secret::new("sandbox-token"),
            bearer: Secret::new("sandbox-bearer"),
        }
    }
}

impl SandboxCredentials {
    pub fn check(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Err(ApiError::unauthorized());
        };
        let Ok(value) = value.to_str() else {
            return Err(ApiError::forbidden());
        };
        let (scheme, credential) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
        let credential = credential.trim();
        if scheme.eq_ignore_ascii_case("basic") {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(credential)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok());
            match decoded.as_deref().and_then(|pair| pair.split_once(':')) {
                Some((id, token)) if id == self.api_id && token == self.api_token.expose() => {
                    Ok(())
                }
                _ => Err(ApiError::forbidden()),
            }
        } else if scheme.eq_ignore_ascii_case("bearer") {
            if credential == self.bearer.expose() {
                Ok(())
            } else {
                Err(ApiError::forbidden())
            }
        } else {
            Err(ApiError::unauthorized())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn statuses_follow_aircall() {
        let creds = SandboxCredentials::default();
        let good = base64::engine::general_purpose::STANDARD.encode("sandbox-id:sandbox-token");
        let bad = base64::engine::general_purpose::STANDARD.encode("sandbox-id:wrong");
        assert!(creds.check(&with(&format!("Basic {good}"))).is_ok());
        assert!(creds.check(&with("Bearer sandbox-bearer")).is_ok());
        assert_eq!(
            creds.check(&HeaderMap::new()).unwrap_err().status.as_u16(),
            401
        );
        assert_eq!(
            creds.check(&with("Token abc")).unwrap_err().status.as_u16(),
            401
        );
        assert_eq!(
            creds
                .check(&with(&format!("Basic {bad}")))
                .unwrap_err()
                .status
                .as_u16(),
            403
        );
        assert_eq!(
            creds.check(&with("Basic !!!")).unwrap_err().status.as_u16(),
            403
        );
        assert_eq!(
            creds
                .check(&with("Bearer nope"))
                .unwrap_err()
                .status
                .as_u16(),
            403
        );
    }
}
