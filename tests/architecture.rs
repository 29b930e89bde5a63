//! The code's shape, checked (issue 16): no import cycle among the files of `src/`, and no
//! function in `src/` longer than 80 lines. Read from the sources, so it runs without building
//! anything else.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The longest function allowed, in lines from its `fn` to its closing brace.
const MAX_FN_LINES: usize = 80;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The library's files by module path (`crate`, `model`, `model::decoder`, ...); the binaries
/// under `src/bin/` are left out (they use the library by its name, not `crate::`).
fn modules() -> BTreeMap<String, String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files
        .into_iter()
        .filter(|f| !f.starts_with(src.join("bin")))
        .map(|f| {
            let rel = f.strip_prefix(&src).unwrap().with_extension("");
            let mut parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
                parts.pop();
            }
            let name = if parts.is_empty() {
                "crate".to_string()
            } else {
                parts.join("::")
            };
            (
                name,
                std::fs::read_to_string(&f).expect("a readable source file"),
            )
        })
        .collect()
}

/// The text without comments, string literals and char literals (so that braces and paths
/// inside them do not count).
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                if chars[i] == '\n' {
                    out.push('\n');
                }
                i += 1;
            }
            i += 2;
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && is_raw_string(&chars, i) {
            i += 1;
            let mut hashes = 0;
            while chars[i] == '#' {
                hashes += 1;
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
            loop {
                if chars[i] == '\n' {
                    out.push('\n');
                }
                if chars[i] == '"' && chars[i + 1..].iter().take(hashes).all(|&h| h == '#') {
                    i += 1 + hashes;
                    break;
                }
                i += 1;
            }
        } else if c == '"' {
            i += 1;
            while chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                if chars[i] == '\n' {
                    out.push('\n');
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' && is_char_literal(&chars, i) {
            i += 1;
            while chars[i] != '\'' {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("' '");
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn is_raw_string(chars: &[char], i: usize) -> bool {
    let before_ok = i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
    let mut j = i + 1;
    while chars.get(j) == Some(&'#') {
        j += 1;
    }
    before_ok && chars.get(j) == Some(&'"')
}

/// `'x'`, `'\n'`, `'\''` but not a lifetime (`'a`).
fn is_char_literal(chars: &[char], i: usize) -> bool {
    matches!(
        (chars.get(i + 1), chars.get(i + 2)),
        (Some('\\'), _) | (Some(_), Some('\''))
    )
}

/// Every module a file refers to: `crate::a::b` paths (and `super::` ones, resolved), mapped
/// to the longest module path that is a file; `use crate::a::{b::X, Y}` counts `a::b` and `a`.
fn references(name: &str, code: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    let parent: Vec<&str> = if name == "crate" {
        Vec::new()
    } else {
        let mut p: Vec<&str> = name.split("::").collect();
        p.pop();
        p
    };
    let mut found = BTreeSet::new();
    let bytes = code.as_bytes();
    for (start, prefix) in code
        .match_indices("crate::")
        .map(|(i, _)| (i, Vec::new()))
        .chain(
            code.match_indices("super::")
                .map(|(i, _)| (i, parent.clone())),
        )
    {
        if start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
            continue;
        }
        let rest = &code[start..];
        let rest = &rest[rest.find("::").unwrap() + 2..];
        let mut path: Vec<String> = prefix.iter().map(|s| s.to_string()).collect();
        let (segments, tail) = path_segments(rest);
        path.extend(segments);
        if let Some(group) = tail {
            // `{b::X, Y}`: each member's first segments.
            for member in group.split(',') {
                let (inner, _) = path_segments(member.trim());
                let mut full = path.clone();
                full.extend(inner);
                found.insert(resolve(&full, known));
            }
        }
        found.insert(resolve(&path, known));
    }
    found.remove(name);
    found.remove("crate");
    found
}

/// The identifier segments of a path (`a::b::C` -> `[a, b, C]`) and, when it continues with a
/// `{...}` group, the group's text.
fn path_segments(text: &str) -> (Vec<String>, Option<String>) {
    let mut segments = Vec::new();
    let mut rest = text;
    loop {
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if end == 0 {
            break;
        }
        segments.push(rest[..end].to_string());
        rest = &rest[end..];
        match rest.strip_prefix("::") {
            Some(r) => rest = r,
            None => return (segments, None),
        }
    }
    let group = rest
        .strip_prefix('{')
        .and_then(|r| r.find('}').map(|e| r[..e].to_string()));
    (segments, group)
}

fn resolve(path: &[String], known: &BTreeSet<String>) -> String {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].join("::"))
        .find(|m| known.contains(m))
        .unwrap_or_else(|| "crate".to_string())
}

#[test]
fn no_import_cycle_among_modules() {
    let modules = modules();
    let known: BTreeSet<String> = modules.keys().cloned().collect();
    let graph: BTreeMap<String, BTreeSet<String>> = modules
        .iter()
        .map(|(name, text)| (name.clone(), references(name, &code_only(text), &known)))
        .collect();
    // Depth-first search; a back edge is a cycle.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
        cycles: &mut Vec<String>,
    ) {
        state.insert(node.to_string(), 1);
        stack.push(node.to_string());
        for next in &graph[node] {
            match state.get(next.as_str()).copied().unwrap_or(0) {
                0 => visit(next, graph, state, stack, cycles),
                1 => {
                    let from = stack.iter().position(|s| s == next).unwrap();
                    let mut cycle = stack[from..].to_vec();
                    cycle.push(next.clone());
                    cycles.push(cycle.join(" -> "));
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(node.to_string(), 2);
    }
    let mut state = BTreeMap::new();
    let mut cycles = Vec::new();
    for node in graph.keys() {
        if !state.contains_key(node) {
            visit(node, &graph, &mut state, &mut Vec::new(), &mut cycles);
        }
    }
    assert!(
        cycles.is_empty(),
        "import cycles among src/ modules:\n{}",
        cycles.join("\n")
    );
}

/// `(line, name, length)` of every function in `code` longer than [`MAX_FN_LINES`].
fn long_functions(code: &str) -> Vec<(usize, String, usize)> {
    let lines: Vec<&str> = code.lines().collect();
    let mut long = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(name) = fn_name(line) else { continue };
        let mut depth = 0i32;
        let mut opened = false;
        for (j, l) in lines.iter().enumerate().skip(i) {
            for c in l.chars() {
                match c {
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            if !opened && l.trim_end().ends_with(';') {
                break; // a declaration without a body
            }
            if opened && depth == 0 {
                let length = j - i + 1;
                if length > MAX_FN_LINES {
                    long.push((i + 1, name.clone(), length));
                }
                break;
            }
        }
    }
    long
}

/// The name of the function a line starts, if it does.
fn fn_name(line: &str) -> Option<String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words.iter().position(|w| *w == "fn")?;
    let before_ok = words[..at].iter().all(|w| {
        matches!(*w, "pub" | "async" | "const" | "unsafe" | "extern") || w.starts_with("pub(")
    });
    let name = words.get(at + 1)?;
    let name: String = name
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (before_ok && !name.is_empty()).then_some(name)
}

#[test]
fn no_function_over_80_lines() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut found = Vec::new();
    for file in files {
        let code = code_only(&std::fs::read_to_string(&file).unwrap());
        for (line, name, length) in long_functions(&code) {
            found.push(format!(
                "{}:{line}: fn {name} is {length} lines",
                file.strip_prefix(&src).unwrap().display()
            ));
        }
    }
    assert!(
        found.is_empty(),
        "functions over {MAX_FN_LINES} lines (split them at their natural steps):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_checks_see_what_they_check() {
    let code =
        code_only("use crate::a::{b::X, Y};\nfn f() { let s = \"crate::z {\"; super::c::d(); }");
    let known: BTreeSet<String> = ["a", "a::b", "p::c", "p::q", "z"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let refs = references("p::q", &code, &known);
    assert_eq!(
        refs,
        ["a", "a::b", "p::c"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );
    let long = format!("fn f() {{\n{}}}\n", "    let x = '{';\n".repeat(90));
    assert_eq!(
        long_functions(&code_only(&long)),
        vec![(1, "f".to_string(), 92)]
    );
    assert!(long_functions(&code_only("fn g() {\n}\n")).is_empty());
}
