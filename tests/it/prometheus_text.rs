//! A strict checker of the Prometheus text exposition format (version 0.0.4), written from the
//! format's specification: `# HELP` / `# TYPE` lines, one TYPE per metric family given before
//! its samples, the samples of a family together, metric and label names from their character
//! sets, label values quoted with only `\\`, `\"` and `\n` escapes, no label repeated, values
//! that are Go floats (`NaN`, `+Inf`, `-Inf` included), an optional integer timestamp, and a
//! final line feed.

use std::collections::{BTreeMap, HashSet};

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// Parses `text`, returning its samples, or the first line that breaks the format and why.
pub fn parse(text: &str) -> Result<Vec<Sample>, String> {
    if !text.is_empty() && !text.ends_with('\n') {
        return Err("the text must end with a line feed".into());
    }
    let mut samples = Vec::new();
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut helped = HashSet::new();
    let mut finished_families = HashSet::new();
    let mut current: Option<String> = None;
    for (n, line) in text.lines().enumerate() {
        let at = |why: String| format!("line {}: {why}: {line:?}", n + 1);
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix('#') {
            let mut parts = rest.trim_start().splitn(3, ' ');
            match (parts.next(), parts.next(), parts.next()) {
                (Some("TYPE"), Some(name), Some(kind)) => {
                    check_metric_name(name).map_err(at)?;
                    if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind) {
                        return Err(at(format!("unknown type {kind:?}")));
                    }
                    if types.insert(name.to_string(), kind.to_string()).is_some() {
                        return Err(at(format!("second TYPE for {name}")));
                    }
                    if samples.iter().any(|s: &Sample| s.name == name) {
                        return Err(at(format!("TYPE for {name} after its samples")));
                    }
                }
                (Some("HELP"), Some(name), _) => {
                    check_metric_name(name).map_err(at)?;
                    if !helped.insert(name.to_string()) {
                        return Err(at(format!("second HELP for {name}")));
                    }
                }
                _ => {} // a comment
            }
            continue;
        }
        let sample = parse_sample(line).map_err(at)?;
        if current.as_deref() != Some(sample.name.as_str()) {
            if let Some(previous) = current.take() {
                finished_families.insert(previous);
            }
            if finished_families.contains(&sample.name) {
                return Err(at(format!("samples of {} are not together", sample.name)));
            }
            current = Some(sample.name.clone());
        }
        samples.push(sample);
    }
    Ok(samples)
}

fn check_metric_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':');
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
        Ok(())
    } else {
        Err(format!("bad metric name {name:?}"))
    }
}

fn check_label_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(())
    } else {
        Err(format!("bad label name {name:?}"))
    }
}

fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line
        .find(['{', ' '])
        .ok_or_else(|| "no value".to_string())?;
    let name = &line[..name_end];
    check_metric_name(name)?;
    let mut rest = line[name_end..].to_string();
    let mut labels = BTreeMap::new();
    if let Some(after) = rest.strip_prefix('{') {
        let chars: Vec<char> = after.chars().collect();
        let mut i = 0;
        loop {
            if chars.get(i) == Some(&'}') {
                i += 1;
                break;
            }
            let start = i;
            while chars.get(i).is_some_and(|c| *c != '=') {
                i += 1;
            }
            if i >= chars.len() {
                return Err("label without `=`".into());
            }
            let label: String = chars[start..i].iter().collect();
            check_label_name(&label)?;
            i += 1;
            if chars.get(i) != Some(&'"') {
                return Err(format!("label {label} is not quoted"));
            }
            i += 1;
            let mut value = String::new();
            loop {
                match chars.get(i) {
                    None => return Err("unterminated label value".into()),
                    Some('"') => {
                        i += 1;
                        break;
                    }
                    Some('\\') => {
                        match chars.get(i + 1) {
                            Some('\\') => value.push('\\'),
                            Some('"') => value.push('"'),
                            Some('n') => value.push('\n'),
                            other => return Err(format!("bad escape {other:?}")),
                        }
                        i += 2;
                    }
                    Some(c) => {
                        value.push(*c);
                        i += 1;
                    }
                }
            }
            if labels.insert(label.clone(), value).is_some() {
                return Err(format!("label {label} repeated"));
            }
            match chars.get(i) {
                Some(',') => i += 1,
                Some('}') => {}
                _ => return Err("expected `,` or `}` after a label".into()),
            }
        }
        rest = chars[i..].iter().collect();
    }
    let rest = rest
        .strip_prefix(' ')
        .ok_or_else(|| "expected one space before the value".to_string())?;
    let mut fields = rest.split(' ');
    let value = fields.next().unwrap_or("");
    let value = match value {
        "NaN" => f64::NAN,
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v if !v.is_empty()
            && v.chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E')) =>
        {
            v.parse().map_err(|_| format!("bad value {v:?}"))?
        }
        v => return Err(format!("bad value {v:?}")),
    };
    if let Some(timestamp) = fields.next()
        && timestamp.parse::<i64>().is_err()
    {
        return Err(format!("bad timestamp {timestamp:?}"));
    }
    if fields.next().is_some() {
        return Err("extra fields after the timestamp".into());
    }
    Ok(Sample {
        name: name.to_string(),
        labels,
        value,
    })
}

#[test]
fn the_checker_accepts_the_format_and_refuses_what_breaks_it() {
    let good = "# HELP a_total Things.\n# TYPE a_total counter\na_total{x=\"1\",y=\"q\\\"\\\\\\n\"} 3\na_total{x=\"2\"} 4 1700000000000\n# TYPE b gauge\nb 1.5e3\nc NaN\n";
    let samples = parse(good).unwrap();
    assert_eq!(samples.len(), 4);
    assert_eq!(samples[0].labels["y"], "q\"\\\n");
    assert_eq!(samples[2].value, 1500.0);
    for bad in [
        "a 1",                                     // no final line feed
        "a{x=1} 1\n",                              // unquoted label value
        "a{x=\"1\"\"} 1\n",                        // stray quote
        "a{x=\"\\t\"} 1\n",                        // unknown escape
        "a{x=\"1\",x=\"2\"} 1\n",                  // repeated label
        "1a 1\n",                                  // bad metric name
        "a one\n",                                 // bad value
        "a  1\n",                                  // two spaces
        "a 1\nb 2\na 3\n",                         // family split
        "a 1\n# TYPE a gauge\n",                   // TYPE after samples
        "# TYPE a gauge\n# TYPE a counter\na 1\n", // two TYPEs
        "# TYPE a widget\na 1\n",                  // unknown type
    ] {
        assert!(parse(bad).is_err(), "accepted {bad:?}");
    }
}
