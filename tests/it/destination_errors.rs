//! Broken destination files: each error names the line, the column, the key and what was expected.

use aircall_dest::destination::Destination;

const GOOD: &str = r#"version = 1
name = "contacts"
credential = "prod"
mode = "manual"

[source]
path = "customers.csv"

[request]
method = "POST"
url = "/v1/contacts"
"#;

/// (what is broken, the file text, expected line, expected column, a fragment of the message)
fn cases() -> Vec<(&'static str, String, usize, usize, &'static str)> {
    let replace = |from: &str, to: &str| GOOD.replacen(from, to, 1);
    vec![
        (
            "unknown top-level key",
            format!("{GOOD}colour = \"red\"\n"),
            12,
            1,
            "unknown field `colour`",
        ),
        (
            "unknown key in a table",
            replace(
                "url = \"/v1/contacts\"",
                "url = \"/v1/contacts\"\nmethd = \"GET\"",
            ),
            12,
            1,
            "unknown field `methd`",
        ),
        (
            "method not in the list",
            replace("method = \"POST\"", "method = \"SEND\""),
            10,
            10,
            "unknown variant `SEND`",
        ),
        (
            "wrong type",
            replace("version = 1", "version = \"one\""),
            1,
            11,
            "invalid type: string \"one\", expected u32",
        ),
        (
            "missing required key",
            replace("credential = \"prod\"\n", ""),
            1,
            1,
            "missing field `credential`",
        ),
        (
            "unsupported version",
            replace("version = 1", "version = 2"),
            1,
            1,
            "expected 1",
        ),
        (
            "url without slash or scheme",
            replace("url = \"/v1/contacts\"", "url = \"v1/contacts\""),
            11,
            1,
            "expected a URL starting with `/`",
        ),
        (
            "unclosed macro",
            replace(
                "url = \"/v1/contacts\"",
                "url = \"/v1/contacts/{record.id\"",
            ),
            11,
            1,
            "unclosed `{`",
        ),
        (
            "macro in the host",
            replace(
                "url = \"/v1/contacts\"",
                "url = \"https://{record.host}/x\"",
            ),
            11,
            1,
            "host",
        ),
        (
            "secret header",
            format!("{GOOD}headers = {{ Authorization = \"Basic abc\" }}\n"),
            12,
            13,
            "secret",
        ),
        (
            "header with a newline",
            format!("{GOOD}headers = {{ \"X-A\" = \"a\\nb\" }}\n"),
            12,
            13,
            "control character",
        ),
        (
            "bad content format",
            replace(
                "method = \"POST\"",
                "method = \"POST\"\ncontent_format = \"yaml\"",
            ),
            11,
            18,
            "unknown variant `yaml`",
        ),
        (
            "batching group_by without attribute",
            format!("{GOOD}\n[batching]\nenabled = true\nalgorithm = \"group_by\"\n"),
            15,
            1,
            "group_by needs",
        ),
        (
            "zero concurrency",
            format!("{GOOD}\n[delivery]\nconcurrency = 0\n"),
            14,
            1,
            "expected at least 1",
        ),
        (
            "mapping without source",
            format!("{GOOD}\n[[mapping]]\ntarget = \"first_name\"\n"),
            13,
            1,
            "expected `from`",
        ),
        (
            "bad mapping target",
            format!("{GOOD}\n[[mapping]]\ntarget = \"phones[x]\"\nfrom = \"a\"\n"),
            13,
            1,
            "array index",
        ),
        (
            "unknown template",
            replace(
                "mode = \"manual\"",
                "mode = \"template\"\n[template]\nid = \"create_all\"\nresource = \"contacts\"",
            ),
            5,
            2,
            "unknown template",
        ),
        (
            "template mode without template",
            replace("mode = \"manual\"", "mode = \"template\""),
            4,
            1,
            "needs a [template] table",
        ),
        (
            "bad default country",
            format!(
                "{GOOD}\n[[mapping]]\ntarget = \"p\"\nfrom = \"a\"\ntransform = \"e164\"\ndefault_country = \"XX\"\n"
            ),
            13,
            1,
            "unknown default_country",
        ),
        (
            "TOML syntax error",
            replace("name = \"contacts\"", "name = \"contacts"),
            2,
            17,
            "",
        ),
    ]
}

#[test]
fn every_broken_file_names_line_column_and_what_was_expected() {
    let cases = cases();
    assert!(cases.len() >= 10);
    for (what, text, line, column, fragment) in cases {
        let err = Destination::from_toml(&text, "dest.toml").expect_err(what);
        let located = err.located();
        assert!(!located.is_empty(), "{what}: no location in {err}");
        let first = &located[0];
        assert_eq!((first.line, first.column), (line, column), "{what}: {err}");
        assert!(
            err.to_string().contains(fragment),
            "{what}: {err:?} lacks {fragment:?}"
        );
        assert!(
            err.to_string()
                .starts_with(&format!("dest.toml:{line}:{column}:")),
            "{what}: {err}"
        );
    }
}

#[test]
fn the_good_file_loads_and_round_trips() {
    let destination = Destination::from_toml(GOOD, "dest.toml").unwrap();
    let again = Destination::from_toml(&destination.to_toml(), "saved.toml").unwrap();
    assert_eq!(destination, again);
}

#[test]
fn every_example_loads_and_round_trips_through_save() {
    let dir = tempfile::tempdir().unwrap();
    let mut seen = 0;
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/examples")).unwrap()
    {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let destination = Destination::load(&path).unwrap_or_else(|e| panic!("{e}"));
            let saved = dir.path().join("saved.toml");
            destination.save(&saved).unwrap();
            assert_eq!(
                Destination::load(&saved).unwrap(),
                destination,
                "{}",
                path.display()
            );
            seen += 1;
        }
    }
    assert!(seen >= 7, "only {seen} examples");
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Arbitrary text never panics the parser, and every error is located inside the text.
        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
            if let Err(err) = Destination::from_toml(&text, "f.toml") {
                for located in err.located() {
                    prop_assert!(located.line >= 1 && located.line <= text.lines().count().max(1) + 1);
                }
            }
        }

        /// A valid file with one byte range replaced by junk: never a panic, always a located error
        /// or a valid destination that saves and reloads unchanged.
        #[test]
        fn mutated_files_fail_cleanly(start in 0usize..GOOD.len(), len in 0usize..20, junk in "[\\[\\]{}=\"#., a-z0-9\n]{0,12}") {
            let end = (start + len).min(GOOD.len());
            let (start, end) = (GOOD.floor_char_boundary(start), GOOD.floor_char_boundary(end));
            let text = format!("{}{}{}", &GOOD[..start], junk, &GOOD[end..]);
            match Destination::from_toml(&text, "f.toml") {
                Ok(destination) => {
                    let again = Destination::from_toml(&destination.to_toml(), "again.toml").unwrap();
                    prop_assert_eq!(destination, again);
                }
                Err(err) => prop_assert!(!err.located().is_empty(), "{}", err),
            }
        }
    }
}

/// A destination whose URL is plain http to a host other than loopback, a problem only the
/// request plan finds (it compiles the URL against the credential's base URL); returns its path
/// and the line of its `url` key.
fn plain_http_destination(dir: &std::path::Path) -> (std::path::PathBuf, usize) {
    let dest = dir.join("plain.toml");
    let text = GOOD.replacen(
        "url = \"/v1/contacts\"",
        "url = \"http://example.com/v1/contacts\"",
        1,
    );
    std::fs::write(&dest, &text).unwrap();
    let line = text
        .lines()
        .position(|l| l.starts_with("url ="))
        .map(|i| i + 1)
        .unwrap();
    (dest, line)
}

fn aircall_dest(home: &std::path::Path) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_aircall-dest"));
    command.env("AIRCALL_DEST_HOME", home);
    command
}

/// Problems only the request plan finds are located like every other problem of the file:
/// file, line, column and key.
#[test]
fn a_plan_problem_names_its_line_column_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let (dest, line) = plain_http_destination(dir.path());
    let out = aircall_dest(&dir.path().join("home"))
        .arg("validate")
        .arg(&dest)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("plain.toml:{line}:1: `request.url`: ")),
        "{stderr}"
    );
    assert!(stderr.contains("plain http://"), "{stderr}");
}

/// `run` reports a plan problem as `validate` does, at its file, line, column and key: with a
/// saved credential, and in a dry run without one.
#[test]
fn run_locates_a_plan_problem_like_validate() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let (dest, line) = plain_http_destination(dir.path());
    let add = aircall_dest(&home)
        .env("PLAN_TEST_TOKEN", "plan-test-token-0123456789")
        .args(["credentials", "add", "prod", "--api-id", "plan-test-id"])
        .args(["--token-env", "PLAN_TEST_TOKEN"])
        .output()
        .unwrap();
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    for dry_run in [false, true] {
        let mut command = aircall_dest(&home);
        command
            .env("PLAN_TEST_TOKEN", "plan-test-token-0123456789")
            .arg("run")
            .arg(&dest)
            .arg("--state-dir")
            .arg(dir.path().join("state"));
        if dry_run {
            // Without the credential: a dry run needs none.
            command
                .env("AIRCALL_DEST_HOME", dir.path().join("empty"))
                .arg("--dry-run");
        }
        let out = command.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "dry run {dry_run}: {stderr}");
        assert!(
            stderr.contains(&format!("plain.toml:{line}:1: `request.url`: ")),
            "dry run {dry_run}: {stderr}"
        );
        assert!(
            stderr.contains("plain http://"),
            "dry run {dry_run}: {stderr}"
        );
        assert!(
            !dir.path().join("state").exists(),
            "dry run {dry_run}: nothing is written before the plan compiles"
        );
    }
}
