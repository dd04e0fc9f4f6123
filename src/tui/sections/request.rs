//! The Request section of the Advanced tab: method, content format, URL (typing `{` offers the
//! record macros), headers and the attributes excluded from bodies. The section owns these
//! widgets, loads them from the destination, checks each edit and applies it to its own key
//! only; the screen asks it for the focus order and for a widget by its part.

use crate::destination::{ContentFormat, Destination, Method};
use crate::tui::widgets::{MultiSelect, Pulldown, TextInput};

/// A part of the section, in focus order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Method,
    ContentFormat,
    Url,
    Headers,
    Exclude,
}

impl Part {
    pub const ALL: [Part; 5] = [
        Part::Method,
        Part::ContentFormat,
        Part::Url,
        Part::Headers,
        Part::Exclude,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Part::Method => "Method",
            Part::ContentFormat => "Content format",
            Part::Url => "URL",
            Part::Headers => "Headers",
            Part::Exclude => "Exclude",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: Pulldown,
    pub content: Pulldown,
    pub url: TextInput,
    pub headers: TextInput,
    /// Over the dataset's attributes (see [`Request::set_attributes`]).
    pub exclude: MultiSelect,
}

impl Default for Request {
    fn default() -> Self {
        Request {
            method: Pulldown::new(
                Method::ALL.iter().map(|m| m.as_str().to_string()).collect(),
                method_index(Method::Post),
            ),
            content: Pulldown::new(
                ContentFormat::ALL
                    .iter()
                    .map(|c| content_label(*c).to_string())
                    .collect(),
                0,
            ),
            url: TextInput::default().with_placeholder("/v1/contacts — type { for record macros"),
            headers: TextInput::default().with_placeholder("name:value,name2:value2"),
            exclude: MultiSelect::default(),
        }
    }
}

impl Request {
    /// Every widget set from the destination (the exclude list keeps its attributes).
    pub fn load(&mut self, dest: &Destination) {
        let request = &dest.request;
        self.method.select(method_index(request.method));
        self.content.select(
            ContentFormat::ALL
                .iter()
                .position(|c| *c == request.content_format)
                .unwrap_or(0),
        );
        self.url.set_value(request.url.clone());
        self.headers.set_value(headers_text(&request.headers));
        // Its attributes come from the dataset, after (see `set_attributes`).
        self.exclude = MultiSelect::new(Vec::new(), request.exclude.clone());
    }

    /// The attributes the exclude list offers: the dataset's, nested ones as dotted paths.
    pub fn set_attributes(&mut self, attributes: Vec<String>) {
        self.exclude.set_items(attributes);
    }

    /// Writes `part`'s value into the destination, or says why what was typed cannot be used
    /// (the destination then keeps its last good value).
    pub fn apply(&self, part: Part, dest: &mut Destination) -> Result<(), String> {
        let request = &mut dest.request;
        match part {
            Part::Method => {
                if let Some(method) = Method::ALL.get(self.method.selected()) {
                    request.method = *method;
                }
            }
            Part::ContentFormat => {
                if let Some(format) = ContentFormat::ALL.get(self.content.selected()) {
                    request.content_format = *format;
                }
            }
            Part::Url => {
                let url = self.url.value().trim();
                if !(url.starts_with('/')
                    || url.starts_with("https://")
                    || url.starts_with("http://"))
                {
                    return Err("a URL starts with /, https:// or http://".into());
                }
                crate::request::check_url_template(url).map_err(|e| e.to_string())?;
                request.url = url.to_string();
            }
            Part::Headers => request.headers = parse_headers(self.headers.value())?,
            Part::Exclude => request.exclude = self.exclude.checked(),
        }
        Ok(())
    }

    pub fn text_input(&self, part: Part) -> Option<&TextInput> {
        match part {
            Part::Url => Some(&self.url),
            Part::Headers => Some(&self.headers),
            _ => None,
        }
    }

    pub fn text_input_mut(&mut self, part: Part) -> Option<&mut TextInput> {
        match part {
            Part::Url => Some(&mut self.url),
            Part::Headers => Some(&mut self.headers),
            _ => None,
        }
    }

    pub fn pulldown(&self, part: Part) -> Option<&Pulldown> {
        match part {
            Part::Method => Some(&self.method),
            Part::ContentFormat => Some(&self.content),
            _ => None,
        }
    }

    pub fn pulldown_mut(&mut self, part: Part) -> Option<&mut Pulldown> {
        match part {
            Part::Method => Some(&mut self.method),
            Part::ContentFormat => Some(&mut self.content),
            _ => None,
        }
    }

    /// After a `{` typed in the URL: the attributes as `{record.…}` macros, until `}`.
    pub fn offer_macros(&mut self, attributes: &[String]) {
        let items = attributes
            .iter()
            .map(|a| format!("{{record.{a}}}"))
            .collect();
        let anchor = self.url.cursor().saturating_sub(1);
        self.url.offer_until(items, anchor, '}');
    }
}

fn content_label(format: ContentFormat) -> &'static str {
    match format {
        ContentFormat::Json => "JSON",
        ContentFormat::Xml => "XML",
        ContentFormat::Form => "form-urlencoded",
    }
}

pub fn method_index(method: Method) -> usize {
    Method::ALL.iter().position(|m| *m == method).unwrap_or(1)
}

/// `name:value,name2:value2`, as the Headers field shows them.
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
        table.insert(name.to_string(), toml::Value::String(value.to_string()));
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn destination() -> Destination {
        crate::tui::model::starter_destination(std::path::Path::new("x.csv"), "c")
    }

    #[test]
    fn each_part_loads_and_applies_only_its_own_key() {
        let mut section = Request::default();
        let mut dest = destination();
        dest.request.url = "/v1/tags".into();
        section.load(&dest);
        assert_eq!(section.url.value(), "/v1/tags");
        section.headers.set_value("X-Team:{record.team},Accept:a,b");
        let before = dest.clone();
        section.apply(Part::Headers, &mut dest).unwrap();
        let mut expected = before;
        expected.request.headers = parse_headers("X-Team:{record.team},Accept:a,b").unwrap();
        assert_eq!(dest, expected);
        assert_eq!(
            dest.request.headers.get("Accept").and_then(|v| v.as_str()),
            Some("a,b")
        );
    }

    #[test]
    fn a_url_or_header_that_cannot_be_used_is_refused_and_the_destination_keeps_its_own() {
        let mut section = Request::default();
        let mut dest = destination();
        section.load(&dest);
        let url = dest.request.url.clone();
        section.url.set_value("v1/contacts");
        assert!(
            section
                .apply(Part::Url, &mut dest)
                .unwrap_err()
                .contains("starts with /")
        );
        section.url.set_value("/v1/contacts/{record.id");
        assert!(section.apply(Part::Url, &mut dest).is_err());
        assert_eq!(dest.request.url, url);
        section.headers.set_value("X-Team");
        assert!(
            section
                .apply(Part::Headers, &mut dest)
                .unwrap_err()
                .contains("expected name:value")
        );
    }

    #[test]
    fn the_exclude_list_keeps_its_attributes_and_ticks_across_a_reload() {
        let mut section = Request::default();
        let mut dest = destination();
        dest.request.exclude = vec!["Website".into()];
        section.load(&dest);
        section.set_attributes(vec!["Email".into(), "Website".into()]);
        assert_eq!(section.exclude.visible(), ["Email", "Website"]);
        assert_eq!(section.exclude.checked(), ["Website"]);
        section.exclude.toggle_visible(0);
        section.apply(Part::Exclude, &mut dest).unwrap();
        assert_eq!(dest.request.exclude, ["Email", "Website"]);
    }
}
