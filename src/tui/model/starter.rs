//! What a new destination starts from, and the text forms of settings typed on one line (headers).

use super::*;

/// A destination for a newcomer: create contacts from the dataset, mapping suggested later
/// from the dataset's attributes.
pub fn starter_destination(dataset: &std::path::Path, credential: &str) -> Destination {
    let template = TemplateRef {
        id: "create_records".into(),
        resource: "contacts".into(),
        custom_path: None,
        parameters: toml::Table::new(),
    };
    let resolved = crate::templates::resolve(&template);
    let request = match &resolved {
        Ok(resolved) => resolved.request.clone(),
        Err(_) => crate::destination::RequestSettings {
            method: Method::Post,
            content_format: ContentFormat::Json,
            url: "/v1/contacts".into(),
            headers: toml::Table::new(),
            exclude: Vec::new(),
            body: Default::default(),
            xml_root: "record".into(),
            allow_credential_hosts: Vec::new(),
            content_type_without_body: true,
        },
    };
    let ok = resolved.is_ok();
    Destination {
        version: crate::destination::VERSION,
        name: dataset
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_else(|| "aircall".into()),
        description: String::new(),
        status: Status::Paused,
        credential: credential.to_string(),
        source: crate::destination::Source {
            path: dataset.to_path_buf(),
            format: None,
            encoding: Default::default(),
            csv: Default::default(),
            max_record_bytes: crate::destination::DEFAULT_MAX_RECORD_BYTES,
        },
        mode: if ok { Mode::Template } else { Mode::Manual },
        template: ok.then_some(template),
        request,
        mapping: Vec::new(),
        batching: Default::default(),
        capture: Default::default(),
        delivery: Default::default(),
        schedule: Default::default(),
        alerts: Default::default(),
        sync: None,
    }
}

pub(super) fn options<T: Copy>(all: &[T], label: impl Fn(T) -> &'static str) -> Vec<String> {
    all.iter().map(|v| label(*v).to_string()).collect()
}

pub use crate::tui::sections::request::{headers_text, method_index, parse_headers};

/// A destination's source path, relative paths taken from the destination file's folder.
pub fn resolve_source(path: &std::path::Path, dest_path: Option<&std::path::Path>) -> PathBuf {
    match dest_path {
        Some(dest_path) => crate::rules::relative_to_destination(dest_path, path),
        None => path.to_path_buf(),
    }
}
