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

pub fn method_index(method: Method) -> usize {
    Method::ALL.iter().position(|m| *m == method).unwrap_or(1)
}

pub fn headers_text(headers: &toml::Table) -> String {
    headers
        .iter()
        .map(|(name, value)| {
            format!(
                "{name}:{}",
                value
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| value.to_string())
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Parses `name:value,name2:value2`. A comma inside a value is kept when what follows it has no
/// colon, so `Accept:a,b` stays one header.
pub fn parse_headers(text: &str) -> Result<toml::Table, String> {
    let mut table = toml::Table::new();
    let mut pieces: Vec<String> = Vec::new();
    for piece in text.split(',') {
        match pieces.last_mut() {
            Some(last) if !piece.contains(':') => {
                last.push(',');
                last.push_str(piece);
            }
            _ => pieces.push(piece.to_string()),
        }
    }
    for piece in pieces.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        let Some((name, value)) = piece.split_once(':') else {
            return Err(format!("expected name:value, found {piece:?}"));
        };
        let name = name.trim();
        let value = value.trim();
        crate::rules::check_header_name(name).map_err(|rule| rule.to_string())?;
        crate::rules::check_header_value(name, value).map_err(|rule| rule.to_string())?;
        table.insert(
            name.to_string(),
            toml::Value::String(value.trim().to_string()),
        );
    }
    Ok(table)
}

/// A destination's source path, relative paths taken from the destination file's folder.
pub fn resolve_source(path: &std::path::Path, dest_path: Option<&std::path::Path>) -> PathBuf {
    match dest_path {
        Some(dest_path) => crate::rules::relative_to_destination(dest_path, path),
        None => path.to_path_buf(),
    }
}
