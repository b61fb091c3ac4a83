//! House rules of the server crate, checked as an ordinary test (after
//! rust-analyzer's `tidy.rs`): the modules import each other without cycles,
//! no module is long without a reason, and no text file of the repository
//! holds a merge's conflict markers.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

#[test]
fn server_modules_import_each_other_without_cycles() {
    let modules = modules();
    let graph = imports(&modules);
    let cycles = strongly_connected(&graph);
    assert!(
        cycles.is_empty(),
        "these server modules import each other in a cycle: {cycles:?}\n\
         (edges: {:?})",
        cycles
            .iter()
            .flatten()
            .map(|m| (m, &graph[m]))
            .collect::<Vec<_>>()
    );
}

/// Lines of code (before the file's test module) a file may have before it
/// must carry a reason: a `//!` line at its top starting with `Long:`.
const MAX_LINES: usize = 400;

/// Every module stays under [`MAX_LINES`] lines of code, or says at its top
/// why it is longer (`//! Long: …`). Its test module does not count, and
/// files that are themselves test code are exempt: `tests.rs`,
/// `*_tests.rs`, and any module its parent declares under `#[cfg(test)]`
/// (the `Store` suite, `suite.rs`); tests are long by nature, and splitting
/// them spreads one story over several files.
#[test]
fn no_server_file_is_long_without_a_reason() {
    let long: Vec<String> = modules()
        .values()
        .filter(|path| !is_test_code(path))
        .filter_map(|path| {
            let text = fs::read_to_string(path).unwrap();
            let code = code_lines(&text);
            let reason = text
                .lines()
                .take_while(|l| l.starts_with("//!"))
                .any(|l| l.trim_start_matches("//!").trim().starts_with("Long:"));
            (code > MAX_LINES && !reason).then(|| format!("{} ({code} lines)", path.display()))
        })
        .collect();
    assert!(
        long.is_empty(),
        "split these files, or say why they are long in a `//! Long: …` line at the top: {long:?}"
    );
}

/// The rule's own parts work: the test module is not counted (a test-only
/// module declared above the code does not end it), and test files are
/// recognised by name and by their declaration.
#[test]
fn the_length_rule_counts_code_and_knows_test_files() {
    let text = "use a;\n#[cfg(test)]\nmod suite;\nfn f() {}\n#[cfg(test)]\nmod tests {\n}\n";
    assert_eq!(code_lines(text), 4);
    assert_eq!(code_lines("fn f() {}\nfn g() {}\n"), 2);
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    assert!(is_test_code(&src.join("table/tests.rs")));
    assert!(is_test_code(&src.join("table/stall_tests.rs")));
    assert!(is_test_code(&src.join("store/suite.rs")));
    assert!(!is_test_code(&src.join("store/sqlite.rs")));
    assert!(
        !is_test_code(&src.join("store/memory_store.rs")),
        "compiled with a feature too, so it is not test code only"
    );
}

#[test]
fn no_file_holds_conflict_markers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let skip = [
        "target",
        "node_modules",
        "dist",
        "artifacts",
        ".git",
        "work",
    ];
    let texts = ["rs", "md", "ts", "mjs", "toml", "json", "sh", "css", "html"];
    let mut found = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if path.is_dir() {
                if !skip.contains(&name.as_str()) {
                    dirs.push(path);
                }
                continue;
            }
            if !path
                .extension()
                .is_some_and(|e| texts.iter().any(|t| e == *t))
            {
                continue;
            }
            let Ok(text) = fs::read_to_string(&path) else {
                continue;
            };
            for (n, line) in text.lines().enumerate() {
                if line.starts_with("<<<<<<< ") || line.starts_with(">>>>>>> ") {
                    found.push(format!("{}:{}", path.display(), n + 1));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "conflict markers left by a merge: {found:?}"
    );
}

/// Every module of the library by its path (`http::state`), and its file.
fn modules() -> BTreeMap<String, PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeMap::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(&root).unwrap().with_extension("");
            let mut name = relative.to_string_lossy().replace('/', "::");
            if let Some(parent) = name.strip_suffix("::mod") {
                name = parent.to_string();
            }
            if name != "lib" && name != "main" {
                out.insert(name, path);
            }
        }
    }
    out
}

/// Which modules each module names through `crate::…` in its code (not in
/// comments, not in its test module). A module naming its own parent is
/// not an edge: a folder's `mod.rs` holds what its parts share.
fn imports(modules: &BTreeMap<String, PathBuf>) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph = BTreeMap::new();
    for (name, path) in modules {
        let text = fs::read_to_string(path).unwrap();
        let mut edges = BTreeSet::new();
        for line in text.lines().take(code_lines(&text)) {
            let code = line.split("//").next().unwrap_or("");
            for (at, _) in code.match_indices("crate::") {
                let tail: String = code[at + "crate::".len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                let mut parts: Vec<&str> = tail.split("::").filter(|p| !p.is_empty()).collect();
                while !parts.is_empty() {
                    let target = parts.join("::");
                    if modules.contains_key(&target) {
                        if target != *name && !name.starts_with(&format!("{target}::")) {
                            edges.insert(target);
                        }
                        break;
                    }
                    parts.pop();
                }
            }
        }
        graph.insert(name.clone(), edges);
    }
    graph
}

/// Lines before the file's test module: the first `#[cfg(test)]` that
/// opens a module in place (`mod tests {`). One that only declares a module
/// in a file of its own (`mod suite;`) does not end the code.
fn code_lines(text: &str) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    lines
        .windows(2)
        .position(|pair| {
            pair[0].starts_with("#[cfg(test)]")
                && pair[1].contains("mod ")
                && pair[1].trim_end().ends_with('{')
        })
        .unwrap_or(lines.len())
}

/// Whether the file at `path` is test code only: named `tests.rs` or
/// `*_tests.rs`, or declared under `#[cfg(test)]` in its parent.
fn is_test_code(path: &Path) -> bool {
    let stem = path.file_stem().unwrap().to_string_lossy();
    if stem == "tests" || stem.ends_with("_tests") {
        return true;
    }
    let dir = path.parent().unwrap();
    // A folder's own file (`x/mod.rs`) is declared one level up.
    let (name, dir) = if stem == "mod" {
        (
            dir.file_name().unwrap().to_string_lossy(),
            dir.parent().unwrap(),
        )
    } else {
        (stem, dir)
    };
    let parents = [
        dir.with_extension("rs"),
        dir.join("mod.rs"),
        dir.join("lib.rs"),
    ];
    let declaration = format!("mod {name};");
    parents
        .iter()
        .filter_map(|p| fs::read_to_string(p).ok())
        .any(|text| {
            let lines: Vec<&str> = text.lines().collect();
            lines.windows(2).any(|pair| {
                pair[0].trim() == "#[cfg(test)]" && pair[1].trim().ends_with(&declaration)
            })
        })
}

/// Tarjan's algorithm: the groups of two or more modules that reach each other.
fn strongly_connected(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let next = s.index.len();
        s.index.insert(v, next);
        s.low.insert(v, next);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in &s.graph[v] {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut group = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                group.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if group.len() > 1 {
                s.found.push(group);
            }
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !state.index.contains_key(v.as_str()) {
            visit(&mut state, v);
        }
    }
    state.found
}
