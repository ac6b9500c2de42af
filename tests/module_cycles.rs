//! The module graph has no cycles: lower layers never import higher ones. Checked for the
//! top-level modules of both crates (`crate::x` paths, and `super::x` in files at the crate root)
//! and for the files inside each provider (`super::x`), from the source text (test modules
//! excluded). A cycle that comes back fails here with the modules that form it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::Path,
};

type Graph = BTreeMap<String, BTreeSet<String>>;

/// The source without comment lines and without the items under `#[cfg(test)]` (a `mod x;`
/// line, or an item up to its closing brace); what follows them still counts.
fn without_tests(text: &str) -> String {
    let mut kept = Vec::new();
    let mut lines = text.lines().filter(|l| !l.trim_start().starts_with("//"));
    while let Some(line) = lines.next() {
        if line.trim() != "#[cfg(test)]" {
            kept.push(line);
            continue;
        }
        // Skip the gated item: brace depth back to zero, or a line ending in `;` outside braces.
        let mut depth = 0i64;
        for item in lines.by_ref() {
            depth += item.matches('{').count() as i64 - item.matches('}').count() as i64;
            if depth <= 0 && (item.trim_end().ends_with(';') || item.trim_end().ends_with('}')) {
                break;
            }
        }
    }
    kept.join("\n")
}

/// The first segments named after `prefix::` in `code`: in use trees (`prefix::{a::b, c}`
/// names `a` and `c`) and in paths (`prefix::a::f()` names `a`).
fn referenced(code: &str, prefix: &str) -> BTreeSet<String> {
    let needle = format!("{prefix}::");
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find(&needle) {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + needle.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // `foo_crate::` or a longer path
        }
        if let Some(tree) = rest.strip_prefix('{') {
            // A use tree: top-level names at depth 0 up to the matching brace.
            let (mut depth, mut name, mut at_start) = (0usize, String::new(), true);
            for c in tree.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        at_start = true;
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 && at_start {
                    if c.is_alphanumeric() || c == '_' {
                        name.push(c);
                    } else if !name.is_empty() {
                        out.insert(std::mem::take(&mut name));
                        at_start = false;
                    }
                }
            }
            if !name.is_empty() {
                out.insert(name);
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

/// Every `.rs` file under `dir`.
fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module of `file` directly under `root` (`src/http/x.rs` → `http`), if any.
fn module_of(root: &Path, file: &Path) -> Option<String> {
    let first = file.strip_prefix(root).ok()?.components().next()?;
    let name = first
        .as_os_str()
        .to_str()?
        .trim_end_matches(".rs")
        .to_owned();
    (!matches!(name.as_str(), "lib" | "main" | "mod" | "tests")).then_some(name)
}

/// The graph of the modules directly under `root`.
fn graph(root: &Path, crate_level: bool) -> Graph {
    let mut all = Vec::new();
    files(root, &mut all);
    let modules: BTreeSet<String> = all.iter().filter_map(|f| module_of(root, f)).collect();
    let mut graph = Graph::new();
    for file in &all {
        let Some(from) = module_of(root, file) else {
            continue;
        };
        // Test-only files: `tests/` folders, `tests.rs` and `test_support.rs`.
        let test_only = file.components().any(|c| c.as_os_str() == "tests")
            || matches!(
                file.file_stem().and_then(|s| s.to_str()),
                Some("tests" | "test_support")
            );
        if test_only {
            continue;
        }
        let code = without_tests(&fs::read_to_string(file).unwrap());
        let at_root = file.parent() == Some(root);
        let mut names = BTreeSet::new();
        if crate_level {
            names.extend(referenced(&code, "crate"));
        }
        if at_root || !crate_level {
            names.extend(referenced(&code, "super"));
        }
        let edges = graph.entry(from.clone()).or_default();
        edges.extend(
            names
                .into_iter()
                .filter(|n| *n != from && modules.contains(n)),
        );
    }
    graph
}

/// The strongly connected components with more than one module (Tarjan).
fn cycles(graph: &Graph) -> Vec<BTreeSet<String>> {
    struct State<'a> {
        graph: &'a Graph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        found: Vec<BTreeSet<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        for w in s.graph.get(v).into_iter().flatten() {
            if !s.index.contains_key(w.as_str()) {
                visit(s, w);
                let low = s.low[v].min(s.low[w.as_str()]);
                s.low.insert(v, low);
            } else if s.stack.contains(&w.as_str()) {
                let low = s.low[v].min(s.index[w.as_str()]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = BTreeSet::new();
            while let Some(w) = s.stack.pop() {
                component.insert(w.to_owned());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                s.found.push(component);
            }
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !state.index.contains_key(v.as_str()) {
            visit(&mut state, v);
        }
    }
    state.found
}

fn assert_acyclic(root: &str, crate_level: bool) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(root);
    let graph = graph(&dir, crate_level);
    assert!(graph.len() > 1, "{root}: no modules found");
    let found = cycles(&graph);
    assert!(
        found.is_empty(),
        "{root}: modules in a cycle: {found:?}\n{graph:#?}"
    );
}

#[test]
fn the_gateway_crate_is_layered() {
    assert_acyclic("src", true);
}

#[test]
fn the_actors_crate_is_layered() {
    assert_acyclic("actors/src", true);
}

#[test]
fn each_provider_is_layered() {
    for provider in ["openai", "azure", "anthropic", "gemini"] {
        assert_acyclic(&format!("src/providers/{provider}"), false);
    }
}

#[test]
fn the_parser_sees_use_trees_and_paths() {
    let code = "use crate::{api::{A, B}, error::E};\nfn f() { crate::http::g(); super::wire::X }";
    let names = referenced(code, "crate");
    assert_eq!(
        names,
        BTreeSet::from(["api".into(), "error".into(), "http".into()])
    );
    assert_eq!(referenced(code, "super"), BTreeSet::from(["wire".into()]));
    let mut graph = Graph::new();
    graph.entry("a".into()).or_default().insert("b".into());
    graph.entry("b".into()).or_default().insert("a".into());
    assert_eq!(cycles(&graph).len(), 1, "a two-module cycle is found");
    let gated = "#[cfg(test)]\nmod tests;\nuse crate::a::X;\n#[cfg(test)]\nmod t {\n    use crate::b::Y;\n}\nuse crate::c::Z;";
    assert_eq!(
        referenced(&without_tests(gated), "crate"),
        BTreeSet::from(["a".into(), "c".into()]),
        "test items are left out, what follows them is not"
    );
}
