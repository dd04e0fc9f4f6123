//! Talking to the API: the rate limiter every attempt goes through, the retry policy that reads
//! each answer, and the HTTP client that attaches the credential and sends the built bytes.

pub mod attempt;
pub mod http;
pub mod limiter;
pub mod ping;
pub mod retry;
pub mod tls;

pub use attempt::{Attempts, Observer, Then, Tried, send_once};
pub use http::{ClientError, HttpClient, Response, SendError, WebhookError, status_text};
pub use limiter::RateLimiter;
pub use ping::{PingOutcome, ping};
pub use retry::{Action, Answer, Next, RetryPolicy, TransportError, classify};
