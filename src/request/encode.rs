//! Body encodings: JSON, XML and form-urlencoded, each escaping every value it writes.

use serde_json::{Map, Value};

use crate::destination::ContentFormat;

/// Encodes one body. JSON keeps the record's field order and numbers exactly as read.
pub fn encode(body: &Map<String, Value>, format: ContentFormat, xml_root: &str) -> String {
    match format {
        ContentFormat::Json => json(body),
        ContentFormat::Xml => xml(body, xml_root),
        ContentFormat::Form => form(body),
    }
}

pub fn json(body: &Map<String, Value>) -> String {
    // Serialising a map of JSON values cannot fail: keys are strings, numbers were parsed.
    serde_json::to_string(body).unwrap_or_default()
}

/// `<?xml …?><root><key>value</key>…</root>`; arrays repeat `<item>` elements. Keys that are
/// not XML names are rewritten (invalid characters become `_`, a leading digit gets `_`).
pub fn xml(body: &Map<String, Value>, root: &str) -> String {
    let root = xml_name(root);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    out.push_str(&format!("<{root}>"));
    for (key, value) in body {
        xml_element(&mut out, &xml_name(key), value);
    }
    out.push_str(&format!("</{root}>"));
    out
}

fn xml_element(out: &mut String, name: &str, value: &Value) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    match value {
        Value::Null => {}
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => xml_escape_into(out, s),
        Value::Array(items) => {
            for item in items {
                xml_element(out, "item", item);
            }
        }
        Value::Object(map) => {
            for (key, inner) in map {
                xml_element(out, &xml_name(key), inner);
            }
        }
    }
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

fn xml_escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // A raw CR would reach the receiver as LF (XML end-of-line handling); a character
            // reference keeps it.
            '\r' => out.push_str("&#13;"),
            // Characters XML 1.0 cannot hold at all are written as U+FFFD.
            c if ((c as u32) < 0x20 && !matches!(c, '\t' | '\n'))
                || matches!(c, '\u{fffe}' | '\u{ffff}') =>
            {
                out.push('\u{fffd}')
            }
            c => out.push(c),
        }
    }
}

/// A valid XML element name for `key`.
pub fn xml_name(key: &str) -> String {
    let mut name: String = key
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let needs_prefix = name.is_empty()
        || name.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.')
        || name.to_ascii_lowercase().starts_with("xml");
    if needs_prefix {
        name.insert(0, '_');
    }
    name
}

/// `a=1&b%5Bc%5D=2&list%5B0%5D%5Blabel%5D=Work`: nested keys in bracket notation.
pub fn form(body: &Map<String, Value>) -> String {
    let mut pairs = form_urlencoded::Serializer::new(String::new());
    for (key, value) in body {
        form_pairs(&mut pairs, key.clone(), value);
    }
    pairs.finish()
}

fn form_pairs(pairs: &mut form_urlencoded::Serializer<'_, String>, key: String, value: &Value) {
    match value {
        Value::Null => {
            pairs.append_pair(&key, "");
        }
        Value::Bool(b) => {
            pairs.append_pair(&key, if *b { "true" } else { "false" });
        }
        Value::Number(n) => {
            pairs.append_pair(&key, &n.to_string());
        }
        Value::String(s) => {
            pairs.append_pair(&key, s);
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                form_pairs(pairs, format!("{key}[{i}]"), item);
            }
        }
        Value::Object(map) => {
            for (inner, item) in map {
                form_pairs(pairs, format!("{key}[{inner}]"), item);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn json_keeps_order_and_exact_numbers() {
        let b: Value =
            serde_json::from_str(r#"{"z":1,"a":123456789012345678901234567890,"f":1.10}"#).unwrap();
        assert_eq!(
            json(&body(b)),
            r#"{"z":1,"a":123456789012345678901234567890,"f":1.10}"#
        );
    }

    #[test]
    fn xml_escapes_values_and_names() {
        let b = body(json!({"first name": "<b>&\"'", "1st": [1, {"k": null}], "xmlns": true}));
        assert_eq!(
            xml(&b, "contact"),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><contact><first_name>&lt;b&gt;&amp;&quot;&apos;</first_name>\
             <_1st><item>1</item><item><k></k></item></_1st><_xmlns>true</_xmlns></contact>"
        );
    }

    #[test]
    fn hostile_xml_values_and_keys_stay_text() {
        let b = body(json!({
            "a": "]]><injected/>",
            "b": "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>&e;",
            "c": "&amp; stays &amp;amp;",
            "d": "nul\u{0}bell\u{7}cr\r\nlf\ttab\u{fffe}",
            "e": "Zoë 日本 🦀",
            "</root><x>": "k",
            "a b=\"1\"": "attr",
        }));
        assert_eq!(
            xml(&b, "root"),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><root>\
             <a>]]&gt;&lt;injected/&gt;</a>\
             <b>&lt;!DOCTYPE x [&lt;!ENTITY e SYSTEM &quot;file:///etc/passwd&quot;&gt;]&gt;&amp;e;</b>\
             <c>&amp;amp; stays &amp;amp;amp;</c>\
             <d>nul\u{fffd}bell\u{fffd}cr&#13;\nlf\ttab\u{fffd}</d>\
             <e>Zoë 日本 🦀</e>\
             <__root__x_>k</__root__x_>\
             <a_b__1_>attr</a_b__1_></root>"
        );
        assert_eq!(
            xml(&Map::new(), "<evil>"),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><_evil_></_evil_>"
        );
    }

    #[test]
    fn hostile_form_values_and_keys_stay_one_pair() {
        let b = body(json!({
            "q": "a&b=c;d#e%f+g h\r\ni",
            "k&=x": "v",
            "u": "Zoë 🦀",
        }));
        let encoded = form(&b);
        assert_eq!(
            encoded,
            "q=a%26b%3Dc%3Bd%23e%25f%2Bg+h%0D%0Ai&k%26%3Dx=v&u=Zo%C3%AB+%F0%9F%A6%80"
        );
        let pairs: Vec<(String, String)> = form_urlencoded::parse(encoded.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(
            pairs,
            [
                ("q".to_string(), "a&b=c;d#e%f+g h\r\ni".to_string()),
                ("k&=x".to_string(), "v".to_string()),
                ("u".to_string(), "Zoë 🦀".to_string()),
            ]
        );
    }

    /// Reverses [`xml_escape_into`] for text that holds no character XML cannot carry.
    fn xml_unescape(text: &str) -> String {
        text.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&#13;", "\r")
            .replace("&amp;", "&")
    }

    proptest::proptest! {
        #[test]
        fn any_string_value_is_one_xml_text_node(value in "\\PC*|[<>&'\"\r\n\t ]{0,12}") {
            let value: String = value.chars().filter(|&c| c >= ' ' || matches!(c, '\t' | '\n' | '\r')).collect();
            let encoded = xml(&body(json!({"v": value})), "r");
            let inner = encoded
                .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?><r><v>")
                .and_then(|rest| rest.strip_suffix("</v></r>"))
                .expect("one element");
            proptest::prop_assert!(!inner.contains(['<', '>', '\r']));
            proptest::prop_assert_eq!(xml_unescape(inner), value);
        }

        #[test]
        fn any_form_key_and_value_come_back_as_one_pair(key in "\\PC{1,8}", value in "\\PC*") {
            let encoded = form(&body(json!({key.clone(): value.clone()})));
            let pairs: Vec<(String, String)> = form_urlencoded::parse(encoded.as_bytes()).into_owned().collect();
            proptest::prop_assert_eq!(pairs, vec![(key, value)]);
        }
    }

    #[test]
    fn form_uses_brackets_and_encodes_every_value() {
        let b =
            body(json!({"a": "x&y=z", "list": [{"label": "Work", "value": "+1 2"}], "n": null}));
        assert_eq!(
            form(&b),
            "a=x%26y%3Dz&list%5B0%5D%5Blabel%5D=Work&list%5B0%5D%5Bvalue%5D=%2B1+2&n="
        );
    }
}
