//! A sample request as a `curl` command, to run or share outside the wizard. The credential's
//! header is written masked: the command never carries the secret.

use crate::credentials::AuthKind;
use crate::request::Request;

/// `request` as one shell command line (POSIX quoting).
pub fn command(request: &Request, auth_kind: Option<AuthKind>) -> String {
    let mut words = vec![
        "curl".to_string(),
        "-X".to_string(),
        request.method.as_str().to_string(),
        quote(&request.url),
    ];
    for (name, value) in request.display_headers(auth_kind) {
        words.push("-H".to_string());
        words.push(quote(&format!("{name}: {value}")));
    }
    if let Some(body) = &request.body {
        words.push("--data-raw".to_string());
        words.push(quote(body));
    }
    words.join(" ")
}

/// `text` in single quotes, a quote inside written as `'\''`.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The OSC 52 sequence that asks the terminal to put `text` on the clipboard; it works over SSH
/// and needs no clipboard library.
pub fn osc52(text: &str) -> String {
    use base64::Engine;
    format!(
        "\x1b]52;c;{}\x07",
        base64::engine::general_purpose::STANDARD.encode(text)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::destination::Method;
    use crate::secret::MASK;

    #[test]
    fn the_command_quotes_everything_and_masks_the_credential() {
        let request = Request {
            method: Method::Post,
            url: "https://api.aircall.io/v1/contacts".into(),
            headers: vec![("Content-Type".into(), "application/json".into())],
            auth: true,
            body: Some(r#"{"first_name":"O'Brien"}"#.into()),
            records: Vec::new(),
            warnings: Vec::new(),
        };
        let text = command(&request, Some(AuthKind::Basic));
        assert_eq!(
            text,
            format!(
                "curl -X POST 'https://api.aircall.io/v1/contacts' -H 'Authorization: Basic {MASK}' \
                 -H 'Content-Type: application/json' --data-raw '{{\"first_name\":\"O'\\''Brien\"}}'"
            )
        );
    }

    #[test]
    fn osc52_carries_the_text_in_base64() {
        assert_eq!(osc52("hi"), "\x1b]52;c;aGk=\x07");
    }
}
