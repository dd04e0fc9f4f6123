//! The wizard's modules depend on each other in one direction only (issue 14: no import circle
//! inside src/tui), and no file there grows past the size a reader can hold.
//!
//! The graph is read from the sources: every `crate::tui::NAME` and, inside a folder module,
//! every `super::NAME` that leaves the folder, outside the file's `#[cfg(test)]` part (tests may
//! build whatever they check).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

fn tui_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/tui")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module of src/tui a file belongs to (`update/save.rs` → `update`), or `None`
/// for src/tui/mod.rs itself, which wires the modules together.
fn top_module(file: &Path) -> Option<String> {
    let relative = file.strip_prefix(tui_dir()).unwrap();
    let first = relative
        .components()
        .next()?
        .as_os_str()
        .to_str()?
        .to_string();
    match first.strip_suffix(".rs") {
        Some("mod") => None,
        Some(name) => Some(name.to_string()),
        None => Some(first),
    }
}

/// The file's code without its test part: everything from the first `#[cfg(test)]` on.
fn code_of(text: &str) -> &str {
    text.find("#[cfg(test)]").map_or(text, |at| &text[..at])
}

/// Identifiers that follow `prefix` in `code`, including each name of a `prefix{a, b::c}` group.
fn names_after(code: &str, prefix: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find(prefix) {
        rest = &rest[at + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    names.push(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                names.push(name);
            }
        }
    }
    names
}

fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(&tui_dir(), &mut files);
    let modules: BTreeSet<String> = files.iter().filter_map(|f| top_module(f)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let Some(from) = top_module(file) else {
            continue;
        };
        let text = fs::read_to_string(file).unwrap();
        let code = code_of(&text);
        let mut targets = names_after(code, "crate::tui::");
        // `super::` in a folder's own mod.rs or in a top-level file reaches src/tui itself.
        let depth = file.strip_prefix(tui_dir()).unwrap().components().count();
        let is_folder_root = file.file_name().is_some_and(|n| n == "mod.rs");
        if depth == 1 || (depth == 2 && is_folder_root) {
            targets.extend(names_after(code, "super::"));
        }
        let edges = graph.entry(from.clone()).or_default();
        for target in targets {
            if target != from && modules.contains(&target) {
                edges.insert(target);
            }
        }
    }
    graph
}

/// A path of modules that leads back to its start, if the graph has one.
fn find_circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut circle = path[at..].to_vec();
            circle.push(node.to_string());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(circle) = visit(next, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|start| visit(start, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_circle_finder_finds_a_circle_and_accepts_a_layering() {
    let graph = |edges: &[(&str, &str)]| {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in edges {
            g.entry(a.to_string()).or_default().insert(b.to_string());
            g.entry(b.to_string()).or_default();
        }
        g
    };
    let layered = graph(&[("view", "model"), ("update", "model"), ("model", "widgets")]);
    assert_eq!(find_circle(&layered), None);
    let circular = graph(&[
        ("view", "model"),
        ("model", "sections"),
        ("sections", "model"),
    ]);
    let circle = find_circle(&circular).expect("model → sections → model");
    assert_eq!(circle.first(), circle.last());
    assert!(circle.contains(&"sections".to_string()), "{circle:?}");
}

#[test]
fn names_are_read_from_paths_and_groups() {
    let code = "use crate::tui::model::Model;\nuse crate::tui::{msg::Msg, widgets};\n";
    assert_eq!(
        names_after(code, "crate::tui::"),
        ["model", "msg", "widgets"]
    );
    assert_eq!(code_of("a\n#[cfg(test)]\nuse crate::tui::x;"), "a\n");
}

#[test]
fn no_import_circle_inside_src_tui() {
    let graph = module_graph();
    // The layering the wizard is built on: the model knows its sections and widgets; update and
    // view read the model. If these edges vanish the reader above has gone blind.
    for (from, to) in [("update", "model"), ("view", "model"), ("model", "widgets")] {
        assert!(
            graph.get(from).is_some_and(|e| e.contains(to)),
            "expected {from} → {to} in {graph:#?}"
        );
    }
    if let Some(circle) = find_circle(&graph) {
        panic!("import circle in src/tui: {}", circle.join(" → "));
    }
}

#[test]
fn no_file_in_src_tui_is_above_600_lines() {
    let mut files = Vec::new();
    rust_files(&tui_dir(), &mut files);
    assert!(files.len() > 20, "src/tui has only {} files", files.len());
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let lines = fs::read_to_string(f).unwrap().lines().count();
            (lines > 600).then(|| format!("{} ({lines} lines)", f.display()))
        })
        .collect();
    assert!(long.is_empty(), "too long: {long:?}");
}
