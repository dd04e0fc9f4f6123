//! Which of a dataset's columns holds a template field, guessed from the column's name.
//!
//! A person's own export names its columns as it likes (`First Name`, `FName`, `Given Name`,
//! `e-mail`, `Mobile`, `Phone Number`, `Company Name`). The template lists the spellings it
//! knows for each field; a column spelt one of those ways (compared without case, spaces or
//! punctuation) is taken first. Then a column is guessed: its words against the field's words
//! and synonyms (`Given Name` for `first_name`, `Tel` for a phone), allowing words that only
//! qualify them (`Work Email`, `Phone Number`), or its whole name one slip away from one of them
//! (`Emial`, `Frist Name`). A guess is shown as such so the person checks it. A column goes to
//! one field at most, each field taking, in the template's order, its best column still free.

use super::Suggestion;
use crate::request::suggest::distance;

/// The column chosen for a suggestion, and whether it was guessed rather than spelt as the
/// template knows the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub attribute: String,
    pub guessed: bool,
}

/// The weakest likeness still taken as a guess (see [`likeness`]).
const THRESHOLD: u32 = 50;

/// Words that only qualify a field's name: `Work Email`, `Phone Number`, `Customer First Name`.
const QUALIFIERS: &[&str] = &[
    "name", "number", "no", "nr", "num", "address", "addr", "primary", "main", "work", "personal",
    "perso", "home", "contact", "customer", "client", "user", "person", "office", "business",
    "direct", "default", "value",
];

/// Other names people give a field, beyond the spellings a template lists.
fn synonyms(concept: &str) -> &'static [&'static str] {
    match concept {
        "first_name" => &[
            "first name",
            "firstname",
            "fname",
            "first",
            "given name",
            "forename",
            "prenom",
            "vorname",
        ],
        "last_name" => &[
            "last name",
            "lastname",
            "lname",
            "last",
            "surname",
            "family name",
            "nachname",
        ],
        "company_name" => &[
            "company",
            "company name",
            "organization",
            "organisation",
            "org",
            "employer",
            "firm",
        ],
        "phone" => &[
            "phone",
            "phone number",
            "telephone",
            "tel",
            "mobile",
            "cell",
            "cellphone",
            "mobile phone",
            "gsm",
        ],
        "email" => &["email", "e mail", "mail", "email address"],
        "information" => &[
            "information",
            "info",
            "notes",
            "note",
            "comment",
            "comments",
            "description",
        ],
        "content" => &["content", "comment", "comments", "note", "notes", "text"],
        "time_zone" => &["time zone", "timezone", "tz"],
        "language" => &["language", "locale", "lang"],
        "color" => &["color", "colour"],
        _ => &[],
    }
}

/// What a target is about: `phone` for `phone_numbers[1].value` and `phone_number`, else its
/// first name (`first_name`).
fn concept(target: &str) -> &str {
    let top = target.split(['.', '[']).next().unwrap_or(target);
    match top {
        "phone_numbers" | "phone_number" => "phone",
        "emails" | "email" => "email",
        other => other,
    }
}

/// A name compared without case, spaces or punctuation: `First Name` → `firstname`.
pub fn normal(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The words of a name, lower case: split at anything not a letter or digit, where a lower
/// case letter meets an upper case one (`firstName`), where an acronym meets a word (`FName`)
/// and between letters and digits (`Phone1`).
fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut out = Vec::new();
    let mut word = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            continue;
        }
        if !word.is_empty() {
            // The character before, as written (the word holds it in lower case).
            let previous = chars[i - 1];
            let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            let boundary = (previous.is_lowercase() && c.is_uppercase())
                || (previous.is_uppercase() && c.is_uppercase() && next_is_lower)
                || (previous.is_alphabetic() != c.is_alphabetic());
            if boundary {
                out.push(std::mem::take(&mut word));
            }
        }
        word.extend(c.to_lowercase());
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// How much `attribute` looks like `phrase` (0 to 100): the same name (90), the phrase's words
/// among the attribute's with only qualifying words around them (80, less 5 per extra word), or
/// the whole name a slip or two away with the same first letter (70, less 10 per edit; one
/// edit allowed from 5 letters, two from 8).
fn likeness(attribute: &str, phrase: &str) -> u32 {
    let (a, p) = (normal(attribute), normal(phrase));
    if a.is_empty() || p.is_empty() {
        return 0;
    }
    if a == p {
        return 90;
    }
    let attribute_words = words(attribute);
    let phrase_words = words(phrase);
    let n = phrase_words.len();
    if n > 0 && n < attribute_words.len() {
        for start in 0..=attribute_words.len() - n {
            if attribute_words[start..start + n] != phrase_words[..] {
                continue;
            }
            let others: Vec<&String> = attribute_words[..start]
                .iter()
                .chain(&attribute_words[start + n..])
                .collect();
            let qualifying = others
                .iter()
                .all(|w| QUALIFIERS.contains(&w.as_str()) || w.chars().all(|c| c.is_ascii_digit()));
            if qualifying {
                return 80u32.saturating_sub(5 * others.len() as u32);
            }
        }
    }
    let allowed = match p.chars().count() {
        0..=4 => 0,
        5..=7 => 1,
        _ => 2,
    };
    let d = distance(&a, &p);
    if d <= allowed && a.chars().next() == p.chars().next() {
        return 70 - 10 * d as u32;
    }
    0
}

/// How much `attribute` looks like the field `suggestion` fills (0 when it does not).
fn score(suggestion: &Suggestion, attribute: &str) -> u32 {
    suggestion
        .candidates
        .iter()
        .map(String::as_str)
        .chain(synonyms(concept(&suggestion.target)).iter().copied())
        .map(|phrase| likeness(attribute, phrase))
        .max()
        .unwrap_or(0)
}

/// Whether `attribute` is spelt as one of the suggestion's known spellings.
pub fn spelt_as_known(suggestion: &Suggestion, attribute: &str) -> bool {
    let a = normal(attribute);
    suggestion.candidates.iter().any(|c| normal(c) == a)
}

/// The column for each suggestion (aligned with `suggestions`; `None` for constants and for
/// fields no column looks like). Known spellings first, in the template's order of spellings,
/// then guesses; a column is given once.
pub fn assign(suggestions: &[Suggestion], attributes: &[String]) -> Vec<Option<Choice>> {
    let mut chosen: Vec<Option<Choice>> = vec![None; suggestions.len()];
    let mut used: Vec<bool> = vec![false; attributes.len()];
    for (i, suggestion) in suggestions.iter().enumerate() {
        if suggestion.value.is_some() {
            continue;
        }
        let known = suggestion.candidates.iter().find_map(|candidate| {
            attributes
                .iter()
                .enumerate()
                .find(|(at, a)| !used[*at] && normal(a) == normal(candidate))
                .map(|(at, _)| at)
        });
        if let Some(at) = known {
            used[at] = true;
            chosen[i] = Some(Choice {
                attribute: attributes[at].clone(),
                guessed: false,
            });
        }
    }
    for (i, suggestion) in suggestions.iter().enumerate() {
        if suggestion.value.is_some() || chosen[i].is_some() {
            continue;
        }
        let best = attributes
            .iter()
            .enumerate()
            .filter(|(at, _)| !used[*at])
            .map(|(at, a)| (score(suggestion, a), at))
            .filter(|(s, _)| *s >= THRESHOLD)
            // The highest score; the earliest column among equals.
            .min_by_key(|(s, at)| (std::cmp::Reverse(*s), *at));
        if let Some((_, at)) = best {
            used[at] = true;
            chosen[i] = Some(Choice {
                attribute: attributes[at].clone(),
                guessed: true,
            });
        }
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::destination::FieldMapping;
    use crate::templates::{Resource, get, suggest_mapping};

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    /// (target, column) for each entry taken from a column.
    fn columns_of(mapping: &[FieldMapping]) -> Vec<(&str, &str)> {
        mapping
            .iter()
            .filter_map(|m| Some((m.target.as_str(), m.from.as_deref()?)))
            .collect()
    }

    fn contacts() -> &'static Resource {
        get("create_records").unwrap().resource("contacts").unwrap()
    }

    #[test]
    fn the_bundled_customers_file_is_mapped_by_its_known_spellings_only() {
        let header = include_str!("../../assets/data/customers-100.csv")
            .lines()
            .next()
            .unwrap();
        let attributes: Vec<String> = header.split(',').map(String::from).collect();
        assert_eq!(attributes.len(), 12, "{header}");
        let chosen = assign(&contacts().suggest, &attributes);
        assert!(chosen.iter().flatten().all(|c| !c.guessed), "{chosen:?}");
        assert_eq!(
            columns_of(&suggest_mapping(contacts(), &attributes)),
            [
                ("first_name", "First Name"),
                ("last_name", "Last Name"),
                ("company_name", "Company"),
                ("phone_numbers[0].value", "Phone 1"),
                ("phone_numbers[1].value", "Phone 2"),
                ("emails[0].value", "Email")
            ],
            "Index, Customer Id, City, Country, Subscription Date and Website stay unmapped"
        );
    }

    #[test]
    fn a_persons_own_column_names_are_matched_normalised_or_guessed() {
        // Each header alone, and the field a person means by it.
        let cases = [
            ("First Name", "first_name"),
            ("firstname", "first_name"),
            ("FName", "first_name"),
            ("first", "first_name"),
            ("Given Name", "first_name"),
            ("Frist Name", "first_name"),
            ("Surname", "last_name"),
            ("LName", "last_name"),
            ("Company Name", "company_name"),
            ("Organisation", "company_name"),
            ("e-mail", "emails[0].value"),
            ("Work Email", "emails[0].value"),
            ("Emial", "emails[0].value"),
            ("Mobile", "phone_numbers[0].value"),
            ("Phone Number", "phone_numbers[0].value"),
            ("Telephone", "phone_numbers[0].value"),
            ("Cell", "phone_numbers[0].value"),
        ];
        for (header, target) in cases {
            let mapping = suggest_mapping(contacts(), &names(&[header]));
            let columns = columns_of(&mapping);
            assert_eq!(columns, [(target, header)], "{header}");
        }
    }

    #[test]
    fn an_export_of_a_contacts_app_is_mapped_with_each_column_used_once() {
        // Column names as a contacts app exports them (type and value of each entry apart).
        let attributes = names(&[
            "Name",
            "Given Name",
            "Family Name",
            "E-mail 1 - Type",
            "E-mail 1 - Value",
            "Phone 1 - Type",
            "Phone 1 - Value",
            "Phone 2 - Value",
            "Organization 1 - Name",
        ]);
        let mapping = suggest_mapping(contacts(), &attributes);
        assert_eq!(
            columns_of(&mapping),
            [
                ("first_name", "Given Name"),
                ("last_name", "Family Name"),
                ("company_name", "Organization 1 - Name"),
                ("phone_numbers[0].value", "Phone 1 - Value"),
                ("phone_numbers[1].value", "Phone 2 - Value"),
                ("emails[0].value", "E-mail 1 - Value")
            ]
        );
        // The label of the optional second phone is set only when that column has a value.
        let label = mapping
            .iter()
            .find(|m| m.target == "phone_numbers[1].label")
            .unwrap();
        assert_eq!(label.if_present.as_deref(), Some("Phone 2 - Value"));
        let chosen = assign(&contacts().suggest, &attributes);
        let guessed: Vec<&str> = chosen
            .iter()
            .flatten()
            .filter(|c| c.guessed)
            .map(|c| c.attribute.as_str())
            .collect();
        assert_eq!(
            guessed,
            [
                "Organization 1 - Name",
                "Phone 1 - Value",
                "Phone 2 - Value",
                "E-mail 1 - Value"
            ]
        );
    }

    #[test]
    fn look_alike_columns_that_mean_something_else_are_left_alone() {
        let attributes = names(&[
            "Company",
            "Country",
            "City",
            "Last Login",
            "First Contact Date",
            "Lat",
            "Email Opt In",
            "Phone 1 - Type",
            "Customer Id",
            "Website",
        ]);
        let mapping = suggest_mapping(contacts(), &attributes);
        assert_eq!(columns_of(&mapping), [("company_name", "Company")]);
        // One phone column fills the first phone only, never both.
        let mapping = suggest_mapping(contacts(), &names(&["Phone"]));
        assert_eq!(columns_of(&mapping), [("phone_numbers[0].value", "Phone")]);
        assert!(
            !mapping
                .iter()
                .any(|m| m.target.starts_with("phone_numbers[1]"))
        );
    }

    #[test]
    fn names_split_into_words_as_people_write_them() {
        assert_eq!(words("First Name"), ["first", "name"]);
        assert_eq!(words("firstName"), ["first", "name"]);
        assert_eq!(words("FName"), ["f", "name"]);
        assert_eq!(words("e-mail"), ["e", "mail"]);
        assert_eq!(words("Phone1"), ["phone", "1"]);
        assert_eq!(words("phone_number"), ["phone", "number"]);
        assert_eq!(words("URL"), ["url"]);
    }

    #[test]
    fn likeness_rewards_the_same_words_and_small_slips_only() {
        assert_eq!(likeness("Given Name", "given name"), 90);
        assert_eq!(likeness("e-mail", "email"), 90);
        assert_eq!(likeness("Phone Number", "phone"), 75);
        assert_eq!(
            likeness("Emial", "email"),
            60,
            "a transposition is one slip"
        );
        assert_eq!(likeness("Frist Name", "first name"), 60);
        // Words that do more than qualify the field, and names too short to allow a slip.
        assert_eq!(likeness("First Contact Date", "first"), 0);
        assert_eq!(likeness("Lat", "last"), 0);
        assert_eq!(likeness("Country", "company"), 0);
    }
}
