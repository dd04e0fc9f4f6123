//! The Capture section of the Advanced tab: where every response is recorded, one JSON line
//! per call (`[capture]`): a file, a URL, both or neither.

use std::path::PathBuf;

use crate::tui::sections::{Section, Setting};

pub const FILE: &str = "capture.file";
pub const WEBHOOK: &str = "capture.webhook_url";

pub fn section() -> Section {
    Section::new(
        "Capture",
        vec![
            Setting::text(
                FILE,
                "Capture file",
                "responses.jsonl (optional)",
                |d| {
                    d.capture
                        .file
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default()
                },
                |d, text| {
                    d.capture.file =
                        Some(PathBuf::from(text.trim())).filter(|p| !p.as_os_str().is_empty());
                    Ok(())
                },
            ),
            Setting::text(
                WEBHOOK,
                "Webhook URL",
                "https://… (optional)",
                |d| d.capture.webhook_url.clone().unwrap_or_default(),
                |d, text| {
                    let url = text.trim();
                    if !(url.is_empty()
                        || url.starts_with("https://")
                        || url.starts_with("http://"))
                    {
                        return Err("expected an http(s) URL".into());
                    }
                    d.capture.webhook_url = Some(url.to_string()).filter(|u| !u.is_empty());
                    Ok(())
                },
            ),
        ],
    )
    .without_heading()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_webhook_that_is_not_http_is_refused_and_an_empty_file_clears_the_key() {
        let mut section = section();
        let mut dest = crate::tui::model::starter_destination(std::path::Path::new("x.csv"), "c");
        dest.capture.file = Some("old.jsonl".into());
        section.load(&dest);
        let file = section.get_mut(FILE).unwrap();
        assert_eq!(file.text_input().unwrap().value(), "old.jsonl");
        file.text_input_mut().unwrap().set_value("  ");
        section.apply_setting(FILE, &mut dest).unwrap();
        assert_eq!(dest.capture.file, None);
        let hook = section.get_mut(WEBHOOK).unwrap();
        hook.text_input_mut().unwrap().set_value("ftp://x");
        assert!(section.apply_setting(WEBHOOK, &mut dest).is_err());
        assert_eq!(dest.capture.webhook_url, None);
    }
}
