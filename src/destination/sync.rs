//! The `[sync]` section: which attribute identifies a row across exports, what a run may do to
//! Aircall (create, update, delete) and how a key never seen before finds an existing object.
//! Meanings are documented in `docs/destination-file.md` and `docs/sync.md`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::error::Problem;

/// Keep Aircall in step with an export: send only what changed since the last run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncSettings {
    /// The attribute, or attributes, whose values identify a row across exports.
    pub key: SyncKey,
    #[serde(default)]
    pub mode: SyncMode,
    /// How a key never seen before finds an Aircall object that may already exist. Absent: the
    /// resource's default (contacts: phone then email; users: email).
    #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
    pub matching: Option<MatchRule>,
    /// A mirror run that would delete more than this share (percent) of the synced objects is
    /// refused unless `run --allow-deletes`.
    #[serde(
        default = "default_max_delete_percent",
        skip_serializing_if = "is_default_max_delete_percent"
    )]
    pub max_delete_percent: f64,
}

fn default_max_delete_percent() -> f64 {
    10.0
}

fn is_default_max_delete_percent(value: &f64) -> bool {
    *value == default_max_delete_percent()
}

/// One attribute (`key = "Customer Id"`) or several (`key = ["Region", "Id"]`); dotted paths
/// reach nested attributes of JSON records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncKey(pub Vec<String>);

impl Serialize for SyncKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0.as_slice() {
            [one] => serializer.serialize_str(one),
            many => many.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for SyncKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged, expecting = "an attribute name or a list of attribute names")]
        enum Raw {
            One(String),
            Many(Vec<String>),
        }
        Ok(match Raw::deserialize(deserializer)? {
            Raw::One(one) => SyncKey(vec![one]),
            Raw::Many(many) => SyncKey(many),
        })
    }
}

impl fmt::Display for SyncKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(" + "))
    }
}

/// What a sync run may do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncMode {
    /// Create new keys (after matching), update changed ones.
    #[default]
    Upsert,
    /// Create new keys only; known keys are never updated.
    CreateOnly,
    /// Update objects that exist (known or matched); never create.
    UpdateOnly,
    /// Upsert, and delete the objects this destination created whose keys left the export.
    Mirror,
}

impl SyncMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncMode::Upsert => "upsert",
            SyncMode::CreateOnly => "create_only",
            SyncMode::UpdateOnly => "update_only",
            SyncMode::Mirror => "mirror",
        }
    }

    pub fn creates(self) -> bool {
        !matches!(self, SyncMode::UpdateOnly)
    }

    pub fn updates(self) -> bool {
        !matches!(self, SyncMode::CreateOnly)
    }
}

impl fmt::Display for SyncMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One way of finding an existing object: by its phone number or its email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchOn {
    Phone,
    Email,
}

/// `match = "none"`, `match = "email"` or `match = ["phone", "email"]` (tried in that order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchRule {
    None,
    On(Vec<MatchOn>),
}

impl Serialize for MatchRule {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            MatchRule::None => serializer.serialize_str("none"),
            MatchRule::On(list) => match list.as_slice() {
                [one] => one.serialize(serializer),
                many => many.serialize(serializer),
            },
        }
    }
}

impl<'de> Deserialize<'de> for MatchRule {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(
            untagged,
            expecting = "\"none\", \"phone\", \"email\" or a list such as [\"phone\", \"email\"]"
        )]
        enum Raw {
            One(String),
            Many(Vec<MatchOn>),
        }
        match Raw::deserialize(deserializer)? {
            Raw::One(word) => match word.as_str() {
                "none" => Ok(MatchRule::None),
                "phone" => Ok(MatchRule::On(vec![MatchOn::Phone])),
                "email" => Ok(MatchRule::On(vec![MatchOn::Email])),
                other => Err(serde::de::Error::custom(format!(
                    "expected \"none\", \"phone\" or \"email\", found {other:?}"
                ))),
            },
            Raw::Many(list) => Ok(MatchRule::On(list)),
        }
    }
}

/// The Aircall resources a sync knows how to find, create, update and delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncResource {
    Contacts,
    Users,
}

impl SyncResource {
    /// The resource a destination creates, from its request: `POST /v1/contacts` or
    /// `POST /v2/users` (the `create_records` template's two resources a sync supports).
    pub fn of(method: super::Method, url: &str) -> Option<Self> {
        if method != super::Method::Post {
            return None;
        }
        let path = url.trim().trim_end_matches('/');
        let path = match path.find("://") {
            Some(at) => {
                let rest = &path[at + 3..];
                rest.find('/').map_or("", |slash| &rest[slash..])
            }
            None => path,
        };
        match path {
            "/v1/contacts" => Some(Self::Contacts),
            "/v2/users" => Some(Self::Users),
            _ => None,
        }
    }

    /// What `match` means when the file does not set it.
    pub fn default_match(self) -> Vec<MatchOn> {
        match self {
            Self::Contacts => vec![MatchOn::Phone, MatchOn::Email],
            Self::Users => vec![MatchOn::Email],
        }
    }
}

impl SyncSettings {
    /// The ways a new key is matched, in order; empty for `match = "none"`.
    pub fn match_order(&self, resource: SyncResource) -> Vec<MatchOn> {
        match &self.matching {
            None => resource.default_match(),
            Some(MatchRule::None) => Vec::new(),
            Some(MatchRule::On(list)) => list.clone(),
        }
    }

    /// Problems with this section, located under `sync`.
    pub fn check(&self, method: super::Method, url: &str, problems: &mut Vec<Problem>) {
        let mut add =
            |key: &str, message: String| problems.push(Problem::new(&["sync", key], message));
        if self.key.0.is_empty() {
            add(
                "key",
                "expected an attribute name (or a list of them)".into(),
            );
        }
        for name in &self.key.0 {
            if name.trim().is_empty() {
                add("key", "expected attribute names, found an empty one".into());
            }
        }
        if !(0.0..=100.0).contains(&self.max_delete_percent) || self.max_delete_percent.is_nan() {
            add(
                "max_delete_percent",
                format!(
                    "expected a percentage between 0 and 100, found {}",
                    self.max_delete_percent
                ),
            );
        }
        let Some(resource) = SyncResource::of(method, url) else {
            add(
                "key",
                format!(
                    "sync needs a destination that creates contacts (POST /v1/contacts) or users \
                     (POST /v2/users); this one sends {method} {}",
                    url.trim()
                ),
            );
            return;
        };
        if let Some(MatchRule::On(list)) = &self.matching {
            if list.is_empty() {
                add(
                    "match",
                    "expected at least one of \"phone\", \"email\" (or \"none\")".into(),
                );
            }
            if resource == SyncResource::Users && list.contains(&MatchOn::Phone) {
                add(
                    "match",
                    "users are matched by email only: Aircall cannot look a user up by phone number"
                        .into(),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, Serialize)]
    struct Wrapper {
        sync: SyncSettings,
    }

    fn parse(text: &str) -> Result<SyncSettings, String> {
        toml::from_str::<Wrapper>(text)
            .map(|w| w.sync)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn key_is_one_name_or_a_list() {
        let one = parse("[sync]\nkey = \"Customer Id\"").unwrap();
        assert_eq!(one.key.0, vec!["Customer Id"]);
        assert_eq!(one.mode, SyncMode::Upsert);
        assert_eq!(one.max_delete_percent, 10.0);
        let many = parse("[sync]\nkey = [\"Region\", \"Id\"]\nmode = \"mirror\"").unwrap();
        assert_eq!(many.key.0, vec!["Region", "Id"]);
        assert_eq!(many.mode, SyncMode::Mirror);
    }

    #[test]
    fn match_forms() {
        let none = parse("[sync]\nkey = \"id\"\nmatch = \"none\"").unwrap();
        assert_eq!(none.match_order(SyncResource::Contacts), vec![]);
        let default = parse("[sync]\nkey = \"id\"").unwrap();
        assert_eq!(
            default.match_order(SyncResource::Contacts),
            vec![MatchOn::Phone, MatchOn::Email]
        );
        assert_eq!(
            default.match_order(SyncResource::Users),
            vec![MatchOn::Email]
        );
        let list = parse("[sync]\nkey = \"id\"\nmatch = [\"email\", \"phone\"]").unwrap();
        assert_eq!(
            list.match_order(SyncResource::Contacts),
            vec![MatchOn::Email, MatchOn::Phone]
        );
        let bad = parse("[sync]\nkey = \"id\"\nmatch = \"fax\"").unwrap_err();
        assert!(bad.contains("fax"), "{bad}");
        let bad_mode = parse("[sync]\nkey = \"id\"\nmode = \"replace\"").unwrap_err();
        assert!(bad_mode.contains("replace"), "{bad_mode}");
    }

    #[test]
    fn round_trips() {
        let text = "[sync]\nkey = [\"a\", \"b\"]\nmode = \"update_only\"\nmatch = \"email\"\nmax_delete_percent = 25.0\n";
        let settings = parse(text).unwrap();
        let written = toml::to_string(&Wrapper {
            sync: settings.clone(),
        })
        .unwrap();
        assert_eq!(parse(&written).unwrap(), settings);
    }

    #[test]
    fn checks_name_the_key() {
        let mut problems = Vec::new();
        let settings =
            parse("[sync]\nkey = \"\"\nmax_delete_percent = 150.0\nmatch = \"phone\"").unwrap();
        settings.check(super::super::Method::Post, "/v2/users", &mut problems);
        let keys: Vec<String> = problems.iter().map(Problem::key).collect();
        assert_eq!(
            keys,
            vec!["sync.key", "sync.max_delete_percent", "sync.match"]
        );
        let mut problems = Vec::new();
        parse("[sync]\nkey = \"id\"").unwrap().check(
            super::super::Method::Post,
            "/v1/tags",
            &mut problems,
        );
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].message.contains("POST /v1/tags"),
            "{:?}",
            problems[0]
        );
    }

    #[test]
    fn resource_from_request() {
        use super::super::Method;
        assert_eq!(
            SyncResource::of(Method::Post, "/v1/contacts"),
            Some(SyncResource::Contacts)
        );
        assert_eq!(
            SyncResource::of(Method::Post, "https://api.aircall.io/v2/users"),
            Some(SyncResource::Users)
        );
        assert_eq!(SyncResource::of(Method::Put, "/v1/contacts"), None);
    }
}
