//! "Did you mean …?" for attribute names: the closest known name by edit distance, compared
//! without case, spaces, `_` or `-`.

/// ` (did you mean `First Name`?)` when a known name is close to `wanted`, else nothing.
pub fn did_you_mean(wanted: &str, known: &[String]) -> String {
    match closest(wanted, known) {
        Some(name) => format!(" (did you mean `{name}`?)"),
        None => String::new(),
    }
}

/// The known name closest to `wanted`, when it is close enough to be a likely slip.
pub fn closest<'a>(wanted: &str, known: &'a [String]) -> Option<&'a str> {
    let wanted_key = key(wanted);
    known
        .iter()
        .map(|name| (distance(&wanted_key, &key(name)), name))
        .filter(|(d, name)| {
            let longest = wanted_key.chars().count().max(key(name).chars().count());
            *d == 0 || *d * 3 <= longest || (*d <= 2 && *d * 2 < longest)
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, name)| name.as_str())
}

fn key(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Levenshtein distance over characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(current + 1);
            previous = current;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn suggests_the_spelling_the_input_uses() {
        let known = names(&["Index", "First Name", "Last Name", "Phone 1", "Email"]);
        assert_eq!(closest("FirstName", &known), Some("First Name"));
        assert_eq!(closest("first_name", &known), Some("First Name"));
        assert_eq!(closest("Emial", &known), Some("Email"));
        assert_eq!(closest("Phone1", &known), Some("Phone 1"));
        assert_eq!(closest("Website", &known), None);
        assert_eq!(did_you_mean("Company Name", &known), "");
    }
}
