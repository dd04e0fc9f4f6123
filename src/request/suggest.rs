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

/// Edit distance over characters: insertions, deletions, substitutions and transpositions of
/// two neighbours (`Emial` is one slip from `Email`), each costing one.
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rows of the table: two rows back (for transpositions), the previous, the current.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        current[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (previous[j - 1] + cost)
                .min(previous[j] + 1)
                .min(current[j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(before[j - 2] + 1);
            }
            current[j] = best;
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
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

    #[test]
    fn a_swap_of_neighbours_is_one_edit() {
        assert_eq!(distance("emial", "email"), 1);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("abc", "abc"), 0);
        assert_eq!(distance("ca", "abc"), 3, "no edit of a transposed pair");
    }
}
