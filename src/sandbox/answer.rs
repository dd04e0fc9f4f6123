//! The sandbox's answers: success replies and Aircall-shaped error bodies.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A successful answer: a status and, except for 204-style answers, a JSON body.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Option<Value>,
}

impl Reply {
    pub fn ok(body: Value) -> Self {
        Self {
            status: StatusCode::OK,
            body: Some(body),
        }
    }

    /// Creates answer 201 as Aircall's reference documents (live Aircall has been seen answering 200).
    pub fn created(body: Value) -> Self {
        Self {
            status: StatusCode::CREATED,
            body: Some(body),
        }
    }

    /// A 201 with no body: call comments, call tags and dialer numbers document no response body.
    pub fn created_empty() -> Self {
        Self {
            status: StatusCode::CREATED,
            body: None,
        }
    }

    pub fn no_content() -> Self {
        Self {
            status: StatusCode::NO_CONTENT,
            body: None,
        }
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        match self.body {
            Some(body) => json_response(self.status, &body),
            None => self.status.into_response(),
        }
    }
}

/// An error answered the way Aircall answers it: `{"error": ..., "troubleshoot": ...}`, or for
/// the edge tier (authentication) `{"message": ...}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: Value,
}

impl ApiError {
    fn with(status: StatusCode, error: &str, troubleshoot: impl Into<String>) -> Self {
        Self {
            status,
            body: json!({ "error": error, "troubleshoot": troubleshoot.into() }),
        }
    }

    pub fn bad_request(troubleshoot: impl Into<String>) -> Self {
        Self::with(StatusCode::BAD_REQUEST, "Bad Request", troubleshoot)
    }

    pub fn not_found(troubleshoot: impl Into<String>) -> Self {
        Self::with(StatusCode::NOT_FOUND, "Not found", troubleshoot)
    }

    pub fn method_not_allowed(troubleshoot: impl Into<String>) -> Self {
        Self::with(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method Not Allowed",
            troubleshoot,
        )
    }

    pub fn unprocessable(troubleshoot: impl Into<String>) -> Self {
        Self::with(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Unprocessable Entity",
            troubleshoot,
        )
    }

    pub fn unsupported_media_type(troubleshoot: impl Into<String>) -> Self {
        Self::with(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported Media Type",
            troubleshoot,
        )
    }

    pub fn payload_too_large(troubleshoot: impl Into<String>) -> Self {
        Self::with(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Payload Too Large",
            troubleshoot,
        )
    }

    /// The shape Attio's client parses for dialer-campaign conflicts.
    pub fn unprocessable_errors(field: &str, messages: Vec<String>) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            body: json!({
                "error": "Unprocessable Entity",
                "success": false,
                "errors": { field: messages },
            }),
        }
    }

    pub fn too_many_requests(troubleshoot: impl Into<String>) -> Self {
        Self::with(
            StatusCode::TOO_MANY_REQUESTS,
            "Too Many Requests",
            troubleshoot,
        )
    }

    /// An error status injected by the fault plan; the body names it as injected.
    pub fn injected(status: StatusCode) -> Self {
        let reason = status.canonical_reason().unwrap_or("Error");
        Self::with(
            status,
            reason,
            format!("Injected by the sandbox fault plan ({})", status.as_u16()),
        )
    }

    pub fn unauthorized() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            body: json!({ "message": "Unauthorized" }),
        }
    }

    pub fn forbidden() -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            body: json!({ "message": "Forbidden" }),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(self.status, &self.body)
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = (status, bytes).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

pub type Answer = Result<Reply, ApiError>;
