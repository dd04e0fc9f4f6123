//! The credentials store: named Aircall credentials in a 0600 TOML file in the config folder.
//!
//! A token is stored in the file, or resolved each time it is used from an environment
//! variable or a command (a password manager), so it need not live in any file at all.

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::secret::Secret;

/// The file inside the config folder.
pub const STORE_FILE: &str = "credentials.toml";

pub use crate::paths::config_dir;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthKind {
    /// `Authorization: Basic base64(api_id:api_token)`.
    #[default]
    Basic,
    /// `Authorization: Bearer <token>` (OAuth).
    Bearer,
}

impl AuthKind {
    pub fn scheme(self) -> &'static str {
        match self {
            AuthKind::Basic => "Basic",
            AuthKind::Bearer => "Bearer",
        }
    }
}

/// Where a token comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    Stored(Secret),
    /// The named environment variable, read at use time.
    Env(String),
    /// The standard output of this shell command, run at use time.
    Command(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub name: String,
    pub description: String,
    pub api_id: String,
    pub token: TokenSource,
    pub kind: AuthKind,
    pub base_url: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("{path}: {message}")]
    Store { path: String, message: String },
    #[error(
        "no credential named {name:?} (saved: {known}); add one with `aircall-dest credentials add {name} --api-id ID`"
    )]
    NotFound { name: String, known: String },
    #[error("credential {name:?}: {message}")]
    Token { name: String, message: String },
    #[error("credential {name:?}: {message}")]
    Invalid { name: String, message: String },
    #[error(
        "{file}: holds the {what} of credential {name:?}; remove it from the file. Secrets belong in \
         the credentials store, an environment variable or a command \
         (`aircall-dest credentials add {name} --token-stdin | --token-env VAR | --token-cmd COMMAND`), \
         and the credential's Authorization header is added when sending"
    )]
    SecretInFile {
        file: String,
        name: String,
        what: &'static str,
    },
    #[error("cannot read {file}: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
}

/// Tokens shorter than this are not searched for in files: they would match ordinary text, and
/// no real API token is that short.
const MIN_SEARCHED_SECRET: usize = 6;

impl Credential {
    /// The token, resolved now.
    pub fn token(&self) -> Result<Secret, CredentialError> {
        let fail = |message: String| CredentialError::Token {
            name: self.name.clone(),
            message,
        };
        let token = match &self.token {
            TokenSource::Stored(secret) => secret.clone(),
            TokenSource::Env(var) => match std::env::var(var) {
                Ok(value) => Secret::new(value.trim().to_string()),
                Err(_) => return Err(fail(format!("environment variable {var} is not set"))),
            },
            TokenSource::Command(command) => {
                let output = Command::new("sh")
                    .arg("-c")
                    .arg(command)
                    .stdin(std::process::Stdio::null())
                    .stderr(std::process::Stdio::inherit())
                    .output()
                    .map_err(|e| fail(format!("cannot run the token command: {e}")))?;
                if !output.status.success() {
                    return Err(fail(format!(
                        "the token command failed ({})",
                        output.status
                    )));
                }
                let text = String::from_utf8(output.stdout)
                    .map_err(|_| fail("the token command printed invalid UTF-8".into()))?;
                Secret::new(text.trim().to_string())
            }
        };
        if token.is_empty() {
            return Err(fail("the token is empty".into()));
        }
        Ok(token)
    }

    /// The full `Authorization` header value, e.g. `Basic YWJj…`.
    pub fn authorization(&self) -> Result<Secret, CredentialError> {
        let token = self.token()?;
        Ok(match self.kind {
            AuthKind::Basic => {
                let pair = format!("{}:{}", self.api_id, token.expose());
                Secret::new(format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                ))
            }
            AuthKind::Bearer => Secret::new(format!("Bearer {}", token.expose())),
        })
    }

    /// The `Authorization` value when it can be had without side effects: a stored token or an
    /// environment variable. A token command (a password manager that may prompt) is not run.
    pub fn authorization_if_cheap(&self) -> Option<Secret> {
        match self.token {
            TokenSource::Stored(_) | TokenSource::Env(_) => self.authorization().ok(),
            TokenSource::Command(_) => None,
        }
    }

    /// Refuses a file (a destination file) whose text holds this credential's secret: the
    /// token itself, or the full `Authorization` value (for Basic, its base64 form).
    /// `authorization` is the value [`Credential::authorization`] gave.
    pub fn refuse_secret_in(
        &self,
        authorization: &Secret,
        file: &Path,
        text: &str,
    ) -> Result<(), CredentialError> {
        let (scheme, encoded, token) = split_authorization(authorization.expose());
        let found = |needle: &str| needle.len() >= MIN_SEARCHED_SECRET && text.contains(needle);
        let what = if token.as_deref().is_some_and(found) {
            "token"
        } else if scheme.eq_ignore_ascii_case("basic") && found(encoded) {
            "Authorization value"
        } else {
            return Ok(());
        };
        Err(CredentialError::SecretInFile {
            file: file.display().to_string(),
            name: self.name.clone(),
            what,
        })
    }

    /// [`Credential::refuse_secret_in`] for the text of the file at `file`; a file that does not
    /// exist (a destination not saved yet) holds no secret.
    pub fn refuse_secret_in_file(
        &self,
        authorization: &Secret,
        file: &Path,
    ) -> Result<(), CredentialError> {
        match std::fs::read_to_string(file) {
            Ok(text) => self.refuse_secret_in(authorization, file, &text),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(CredentialError::Read {
                file: file.display().to_string(),
                source,
            }),
        }
    }

    /// Where the token comes from, as shown to a person (never the token itself).
    pub fn token_origin(&self) -> String {
        match &self.token {
            TokenSource::Stored(_) => "stored".to_string(),
            TokenSource::Env(var) => format!("env:{var}"),
            TokenSource::Command(command) => format!("cmd:{command}"),
        }
    }

    /// Checks the name, the API ID and the base URL (https, or http to loopback only).
    pub fn check(&self) -> Result<(), CredentialError> {
        let invalid = |message: String| CredentialError::Invalid {
            name: self.name.clone(),
            message,
        };
        if self.name.trim().is_empty() {
            return Err(invalid("a credential needs a name".into()));
        }
        if self.kind == AuthKind::Basic && self.api_id.trim().is_empty() {
            return Err(invalid("Basic auth needs an API ID (--api-id)".into()));
        }
        crate::rules::parse_origin(&self.base_url)
            .map_err(|rule| invalid(format!("base URL: {rule}")))?;
        Ok(())
    }
}

/// An `Authorization` value's scheme, its encoded part, and the token inside it (the encoded
/// part itself for Bearer; the part after `id:` of the decoded pair for Basic).
fn split_authorization(value: &str) -> (&str, &str, Option<String>) {
    let (scheme, encoded) = value.split_once(' ').unwrap_or(("", value));
    let token = if scheme.eq_ignore_ascii_case("basic") {
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()
            .and_then(|pair| String::from_utf8(pair).ok())
            .and_then(|pair| pair.split_once(':').map(|(_, token)| token.to_string()))
    } else {
        Some(encoded.to_string())
    };
    (scheme, encoded, token)
}

/// The forms a credential's secret takes, longest first: the whole `Authorization` value, its
/// encoded part (`base64(id:token)` for Basic) and the token itself. A response that echoes any
/// of them back is redacted before it is shown or stored (see `client::http`).
pub fn secret_forms(authorization: &Secret) -> Vec<Secret> {
    let value = authorization.expose();
    let (_, encoded, token) = split_authorization(value);
    let mut forms: Vec<String> = vec![value.to_string(), encoded.to_string()];
    forms.extend(token);
    forms.retain(|form| form.len() >= MIN_SEARCHED_SECRET);
    forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
    forms.dedup();
    forms.into_iter().map(Secret::new).collect()
}

/// The file's shape. Only one of `token`, `token_env`, `token_cmd` is set per entry.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreFile {
    #[serde(default, rename = "credential")]
    credentials: Vec<Entry>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    description: String,
    #[serde(default)]
    kind: AuthKind,
    #[serde(default)]
    api_id: String,
    base_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token_cmd: Option<String>,
}

/// The credentials store of one config folder.
#[derive(Debug, Clone)]
pub struct CredentialStore {
    path: PathBuf,
}

impl CredentialStore {
    /// The store in `home` (the file need not exist yet).
    pub fn open(home: &Path) -> Self {
        Self {
            path: home.join(STORE_FILE),
        }
    }

    /// The store in [`config_dir`].
    pub fn open_default() -> Self {
        Self::open(&config_dir())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn error(&self, message: String) -> CredentialError {
        CredentialError::Store {
            path: self.path.display().to_string(),
            message,
        }
    }

    fn read(&self) -> Result<StoreFile, CredentialError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Ok(StoreFile::default());
            }
            Err(err) => return Err(self.error(format!("cannot read: {err}"))),
        };
        toml::from_str(&text).map_err(|err| {
            let (line, column) = err
                .span()
                .map(|s| crate::destination::line_column(&text, s.start))
                .unwrap_or((1, 1));
            self.error(format!(
                "line {line}, column {column}: {}",
                err.message().trim()
            ))
        })
    }

    fn write(&self, file: &StoreFile) -> Result<(), CredentialError> {
        let text =
            toml::to_string_pretty(file).map_err(|e| self.error(format!("cannot encode: {e}")))?;
        let text =
            format!("# aircall-dest credentials. Keep this file private (mode 0600).\n\n{text}");
        crate::files::write_private_atomic(&self.path, text.as_bytes())
            .map_err(|e| self.error(format!("cannot write: {e}")))
    }

    /// Every saved credential, in the order they were added.
    pub fn list(&self) -> Result<Vec<Credential>, CredentialError> {
        self.read()?
            .credentials
            .into_iter()
            .map(|entry| self.to_credential(entry))
            .collect()
    }

    pub fn get(&self, name: &str) -> Result<Credential, CredentialError> {
        let all = self.list()?;
        let known = if all.is_empty() {
            "none".to_string()
        } else {
            all.iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        all.into_iter()
            .find(|c| c.name == name)
            .ok_or_else(|| CredentialError::NotFound {
                name: name.to_string(),
                known,
            })
    }

    /// Saves a credential, replacing one of the same name.
    pub fn add(&self, credential: Credential) -> Result<(), CredentialError> {
        credential.check()?;
        let mut file = self.read()?;
        let (token, token_env, token_cmd) = match credential.token {
            TokenSource::Stored(secret) => (Some(secret.expose().to_string()), None, None),
            TokenSource::Env(var) => (None, Some(var), None),
            TokenSource::Command(command) => (None, None, Some(command)),
        };
        let entry = Entry {
            name: credential.name,
            description: credential.description,
            kind: credential.kind,
            api_id: credential.api_id,
            base_url: credential.base_url,
            token,
            token_env,
            token_cmd,
        };
        match file.credentials.iter_mut().find(|e| e.name == entry.name) {
            Some(slot) => *slot = entry,
            None => file.credentials.push(entry),
        }
        self.write(&file)
    }

    /// Deletes a credential; an unknown name is an error.
    pub fn remove(&self, name: &str) -> Result<(), CredentialError> {
        let mut file = self.read()?;
        let before = file.credentials.len();
        file.credentials.retain(|e| e.name != name);
        if file.credentials.len() == before {
            return Err(self
                .get(name)
                .err()
                .unwrap_or_else(|| self.error(format!("no credential named {name:?}"))));
        }
        self.write(&file)
    }

    fn to_credential(&self, entry: Entry) -> Result<Credential, CredentialError> {
        let token = match (entry.token, entry.token_env, entry.token_cmd) {
            (Some(token), None, None) => TokenSource::Stored(Secret::new(token)),
            (None, Some(var), None) => TokenSource::Env(var),
            (None, None, Some(command)) => TokenSource::Command(command),
            _ => {
                return Err(self.error(format!(
                    "credential {:?}: expected exactly one of token, token_env and token_cmd",
                    entry.name
                )));
            }
        };
        Ok(Credential {
            name: entry.name,
            description: entry.description,
            api_id: entry.api_id,
            token,
            kind: entry.kind,
            base_url: entry.base_url,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credential(name: &str, token: TokenSource) -> Credential {
        Credential {
            name: name.into(),
            description: "test".into(),
            api_id: "id-1".into(),
            token,
            kind: AuthKind::Basic,
            base_url: "https://api.aircall.io".into(),
        }
    }

    #[test]
    fn add_list_get_remove_round_trip_with_a_private_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = CredentialStore::open(dir.path());
        assert!(store.list().unwrap().is_empty());
        store
            .add(credential(
                "prod",
                TokenSource::Stored(Secret::new("tok-canary")),
            ))
            .unwrap();
        store
            .add(credential(
                "ci",
                TokenSource::Env("AIRCALL_TEST_TOKEN_VAR".into()),
            ))
            .unwrap();
        let names: Vec<String> = store.list().unwrap().into_iter().map(|c| c.name).collect();
        assert_eq!(names, ["prod", "ci"]);
        assert_eq!(
            store.get("prod").unwrap().token,
            TokenSource::Stored(Secret::new("tok-canary"))
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(store.path())
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(mode, 0o600);
        }
        store.remove("prod").unwrap();
        assert!(matches!(
            store.get("prod"),
            Err(CredentialError::NotFound { .. })
        ));
        assert!(store.remove("prod").is_err());
    }

    #[test]
    fn basic_and_bearer_headers_and_command_tokens() {
        let basic = credential("b", TokenSource::Stored(Secret::new("tok")));
        // base64("id-1:tok")
        assert_eq!(
            basic.authorization().unwrap().expose(),
            "Basic aWQtMTp0b2s="
        );
        let mut bearer = credential("o", TokenSource::Command("printf ' from-cmd \\n'".into()));
        bearer.kind = AuthKind::Bearer;
        assert_eq!(bearer.authorization().unwrap().expose(), "Bearer from-cmd");
        let missing = credential(
            "e",
            TokenSource::Env("AIRCALL_DEST_SURELY_UNSET_VAR".into()),
        );
        assert!(
            missing
                .token()
                .unwrap_err()
                .to_string()
                .contains("is not set")
        );
        let failing = credential("f", TokenSource::Command("exit 3".into()));
        assert!(failing.token().unwrap_err().to_string().contains("failed"));
    }

    #[test]
    fn a_file_holding_the_token_or_its_basic_form_is_refused() {
        let c = credential("prod", TokenSource::Stored(Secret::new("tok-canary-42")));
        let authorization = c.authorization().unwrap();
        let file = Path::new("dest.toml");
        assert!(
            c.refuse_secret_in(&authorization, file, "name = \"x\"")
                .is_ok()
        );
        let err = c
            .refuse_secret_in(&authorization, file, "description = \"tok-canary-42\"")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("dest.toml") && err.contains("token of credential \"prod\""),
            "{err}"
        );
        assert!(
            !err.contains("tok-canary-42"),
            "the message never repeats the secret: {err}"
        );
        // base64("id-1:tok-canary-42")
        let basic = authorization
            .expose()
            .strip_prefix("Basic ")
            .unwrap()
            .to_string();
        let err = c
            .refuse_secret_in(&authorization, file, &format!("X = \"{basic}\""))
            .unwrap_err()
            .to_string();
        assert!(err.contains("Authorization value"), "{err}");
        let mut bearer = credential("o", TokenSource::Stored(Secret::new("bearer-canary")));
        bearer.kind = AuthKind::Bearer;
        let authorization = bearer.authorization().unwrap();
        assert!(
            bearer
                .refuse_secret_in(&authorization, file, "bearer-canary")
                .is_err()
        );
        // A token too short to be a real one is not searched for.
        let short = credential("s", TokenSource::Stored(Secret::new("ab")));
        assert!(
            short
                .refuse_secret_in(&short.authorization().unwrap(), file, "ab ab")
                .is_ok()
        );
        let command = credential("c", TokenSource::Command("echo tok".into()));
        assert!(command.authorization_if_cheap().is_none());
    }

    #[test]
    fn secret_forms_are_the_header_its_encoded_part_and_the_token() {
        let basic = credential("b", TokenSource::Stored(Secret::new("tok-canary")));
        let forms: Vec<String> = secret_forms(&basic.authorization().unwrap())
            .iter()
            .map(|s| s.expose().to_string())
            .collect();
        // base64("id-1:tok-canary")
        assert_eq!(
            forms,
            [
                "Basic aWQtMTp0b2stY2FuYXJ5",
                "aWQtMTp0b2stY2FuYXJ5",
                "tok-canary"
            ]
        );
        let mut bearer = credential("o", TokenSource::Stored(Secret::new("bearer-canary")));
        bearer.kind = AuthKind::Bearer;
        let forms: Vec<String> = secret_forms(&bearer.authorization().unwrap())
            .iter()
            .map(|s| s.expose().to_string())
            .collect();
        assert_eq!(forms, ["Bearer bearer-canary", "bearer-canary"]);
    }

    #[test]
    fn plain_http_is_only_for_loopback() {
        let mut c = credential("x", TokenSource::Stored(Secret::new("t")));
        c.base_url = "http://127.0.0.1:8080".into();
        assert!(c.check().is_ok());
        c.base_url = "http://localhost:9".into();
        assert!(c.check().is_ok());
        c.base_url = "http://api.aircall.io".into();
        assert!(c.check().unwrap_err().to_string().contains("https"));
    }

    #[test]
    fn a_broken_store_names_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(STORE_FILE),
            "[[credential]]\nname = \"x\"\nbase_url = 3\n",
        )
        .unwrap();
        let err = CredentialStore::open(dir.path())
            .list()
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 3"), "{err}");
    }
}
