//! The layer check: which top-level module of `src/` may import which (ARCHITECTURE.md,
//! "Layers"). Reads every `src/**/*.rs` as text, maps each file to its top-level module and
//! collects the modules it names through `crate::X` — in `use` lines, inside grouped
//! `use crate::{a, b::{c, d}}`, in fully qualified paths in code — and through `super::` chains
//! that climb to the crate root. Comments, string and character literals are skipped; test code
//! (`#[cfg(test)]` modules, `*_tests.rs` files) is read like any other code: it keeps the
//! order too. `lib.rs` and `main.rs` are the top and may import anything.
//!
//! It fails, naming the file and line of each offending reference, on
//! - an import cycle between top-level modules,
//! - an upward import: a module naming one of a higher layer, or a peer of its own layer,
//! - a top-level module missing from [`LAYERS`] (or a name in it that is not a module).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fs;
use std::path::Path;

/// The layer order, lowest first. A module may import only modules of a lower layer; modules
/// of one layer are peers and import neither each other nor anything above. ARCHITECTURE.md
/// ("Layers") describes each layer; change both together.
const LAYERS: &[&[&str]] = &[
    &["model"],
    &["proto"],
    &["net"],
    &["session"],
    &["discover"],
    &["secrets"],
    // OAuth2 keeps refresh tokens in the secret store (issue 14 item 1, issue 15 item 3).
    &["oauth2"],
    &["clients"],
    &["report"],
    &["app"],
    &["cli"],
];

/// Module graph: (importer, imported) → where the first such reference is (`path:line`).
type Edges = BTreeMap<(String, String), String>;

#[test]
fn src_keeps_the_layer_order() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let modules = top_level_modules(&root);
    let mut files = Vec::new();
    read_rs_files(&root, &root, &mut files);
    assert!(
        files.len() > 50,
        "only {} files read under {}",
        files.len(),
        root.display()
    );
    let edges = graph(&files, &modules);
    // The graph is printed for `--nocapture`; it is what ARCHITECTURE.md describes.
    for m in &modules {
        let to: Vec<&str> = edges
            .keys()
            .filter(|(f, _)| f == m)
            .map(|(_, t)| t.as_str())
            .collect();
        println!(
            "{m} -> {}",
            if to.is_empty() {
                "-".into()
            } else {
                to.join(", ")
            }
        );
    }
    assert!(
        edges.len() >= 10,
        "implausibly few imports between modules: {edges:?}"
    );
    let problems = problems(&modules, &edges, LAYERS);
    assert!(
        problems.is_empty(),
        "the layer order (tests/layers.rs LAYERS, ARCHITECTURE.md \"Layers\") is broken:\n  {}\n\
         Move the code to the layer that owns it (usually: return facts down there, word them \
         in report, orchestrate in app); change LAYERS only if the order itself is wrong.",
        problems.join("\n  ")
    );
}

// ---------------------------------------------------------------------------------------------
// The analysis, checked on synthetic input below.

/// Every problem with the graph against `layers`, as sentences naming the references.
fn problems(modules: &BTreeSet<String>, edges: &Edges, layers: &[&[&str]]) -> Vec<String> {
    let mut out = Vec::new();
    let rank: BTreeMap<&str, usize> = layers
        .iter()
        .enumerate()
        .flat_map(|(i, l)| l.iter().map(move |m| (*m, i)))
        .collect();
    for m in modules {
        if !rank.contains_key(m.as_str()) {
            out.push(format!(
                "src/{m} is not in LAYERS: give it its place in the order"
            ));
        }
    }
    for m in rank.keys() {
        if !modules.contains(*m) {
            out.push(format!("LAYERS names `{m}`, which is not a module in src/"));
        }
    }
    for cycle in cycles(modules, edges) {
        let steps: Vec<String> = cycle
            .windows(2)
            .map(|w| {
                format!(
                    "{} -> {} at {}",
                    w[0],
                    w[1],
                    edges[&(w[0].clone(), w[1].clone())]
                )
            })
            .collect();
        out.push(format!(
            "import cycle {}: {}",
            cycle.join(" -> "),
            steps.join("; ")
        ));
    }
    for ((from, to), at) in edges {
        let (Some(&rf), Some(&rt)) = (rank.get(from.as_str()), rank.get(to.as_str())) else {
            continue;
        };
        if rt == rf {
            out.push(format!(
                "sideways import: {from} uses its peer {to} (both layer {rf}) at {at}"
            ));
        } else if rt > rf {
            out.push(format!(
                "upward import: {from} (layer {rf}) uses {to} (layer {rt}) at {at}"
            ));
        }
    }
    out
}

/// One cycle per strongly connected group of modules, as a closed path `[a, b, …, a]`.
fn cycles(modules: &BTreeSet<String>, edges: &Edges) -> Vec<Vec<String>> {
    let next = |m: &str| -> Vec<String> {
        edges
            .keys()
            .filter(|(f, _)| f == m)
            .map(|(_, t)| t.clone())
            .collect()
    };
    // The shortest path from `a` to `b` (breadth first), without `a`.
    let path = |a: &str, b: &str| -> Option<Vec<String>> {
        let mut prev: BTreeMap<String, String> = BTreeMap::new();
        let mut queue = VecDeque::from([a.to_string()]);
        while let Some(m) = queue.pop_front() {
            for n in next(&m) {
                if prev.contains_key(&n) {
                    continue;
                }
                prev.insert(n.clone(), m.clone());
                if n == b {
                    let mut p = vec![n.clone()];
                    let mut cur = n;
                    while let Some(q) = prev.get(&cur).filter(|q| q.as_str() != a) {
                        p.push(q.clone());
                        cur = q.clone();
                    }
                    p.reverse();
                    return Some(p);
                }
                queue.push_back(n);
            }
        }
        None
    };
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for m in modules {
        if seen.contains(m) {
            continue;
        }
        if let Some(back) = path(m, m) {
            let mut cycle = vec![m.clone()];
            cycle.extend(back);
            // Everything on a cycle through `m` is in its group: report the group once.
            for n in modules {
                if path(m, n).is_some() && path(n, m).is_some() {
                    seen.insert(n.clone());
                }
            }
            out.push(cycle);
        }
    }
    out
}

/// The edges between top-level modules: `files` are (path relative to src/, text).
fn graph(files: &[(String, String)], modules: &BTreeSet<String>) -> Edges {
    let mut edges = Edges::new();
    for (rel, text) in files {
        let mut path: Vec<&str> = rel.trim_end_matches(".rs").split('/').collect();
        if path.last() == Some(&"mod") {
            path.pop();
        }
        if path.len() == 1 && (path[0] == "lib" || path[0] == "main") {
            continue; // the top: may import anything
        }
        let own = path[0];
        for (name, line) in references(text, &path) {
            if modules.contains(&name) && name != own {
                edges
                    .entry((own.to_string(), name))
                    .or_insert_with(|| format!("src/{rel}:{line}"));
            }
        }
    }
    edges
}

/// The first path segments below the crate root that `text` names, with their lines. `module`
/// is the file's module path (`["proto", "imap", "client"]`): `super::` chains are resolved
/// against it and against the inline `mod x { … }` blocks they sit in. (A file included with
/// `#[path]` counts at the depth of its own name, which is one short for `client_tests.rs`:
/// only a chain of `super::` climbing to the root from such a file could be misread.)
fn references(text: &str, module: &[&str]) -> Vec<(String, usize)> {
    let toks = tokens(text);
    let ident = |i: usize| match toks.get(i) {
        Some(Token {
            tok: Tok::Ident(s), ..
        }) => Some(s.as_str()),
        _ => None,
    };
    let is = |i: usize, t: &Tok| toks.get(i).map(|x| &x.tok) == Some(t);
    let mut out = Vec::new();
    // Inline modules around the current token (None: any other brace).
    let mut braces: Vec<Option<String>> = Vec::new();
    let mut pending_mod: Option<String> = None;
    // The segment(s) right after a path that reached the crate root at token `j`.
    let tail = |j: usize, out: &mut Vec<(String, usize)>| {
        if let Some(name) = ident(j) {
            out.push((name.to_string(), toks[j].line));
        } else if is(j, &Tok::Open) {
            let mut depth = 0usize;
            let mut item_start = true;
            for t in &toks[j..] {
                match &t.tok {
                    Tok::Open => {
                        depth += 1;
                        item_start = depth == 1;
                    }
                    Tok::Close => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    Tok::Punct(',') if depth == 1 => item_start = true,
                    Tok::Ident(s) if item_start => {
                        out.push((s.clone(), t.line));
                        item_start = false;
                    }
                    _ => item_start = false,
                }
            }
        }
    };
    for (i, t) in toks.iter().enumerate() {
        let after_sep = i > 0 && is(i - 1, &Tok::PathSep);
        match &t.tok {
            Tok::Ident(s) if s == "mod" => {
                pending_mod = ident(i + 1).map(str::to_string);
                continue;
            }
            Tok::Ident(s) if s == "crate" && !after_sep && is(i + 1, &Tok::PathSep) => {
                tail(i + 2, &mut out);
            }
            Tok::Ident(s) if s == "super" && !after_sep => {
                let mut j = i;
                let mut ups = 0;
                while ident(j) == Some("super") && is(j + 1, &Tok::PathSep) {
                    ups += 1;
                    j += 2;
                }
                let depth = module.len() + braces.iter().flatten().count();
                if ups > 0 && ups == depth {
                    tail(j, &mut out);
                }
            }
            Tok::Open => braces.push(pending_mod.take()),
            Tok::Close => {
                braces.pop();
            }
            _ => {}
        }
        if !matches!(&t.tok, Tok::Ident(s) if pending_mod.as_deref() == Some(s.as_str())) {
            pending_mod = None;
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    /// `::`
    PathSep,
    Open,
    Close,
    Punct(char),
}

#[derive(Debug)]
struct Token {
    tok: Tok,
    line: usize,
}

/// Rust source as identifiers, `::`, braces and other punctuation; comments, string, byte
/// string, raw string, character literals and numbers are dropped.
fn tokens(text: &str) -> Vec<Token> {
    let c: Vec<char> = text.chars().collect();
    let at = |i: usize| c.get(i).copied().unwrap_or('\0');
    let is_ident = |ch: char| ch == '_' || ch.is_alphanumeric();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    // Skips from `i` (just after an opening `"`) past the closing one, honouring escapes.
    let skip_string = |mut i: usize, line: &mut usize| {
        while i < c.len() {
            match c[i] {
                '\\' => i += 1,
                '"' => return i + 1,
                '\n' => *line += 1,
                _ => {}
            }
            i += 1;
        }
        i
    };
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch == '/' && at(i + 1) == '/' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if c[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
        } else if ch == '"' {
            i = skip_string(i + 1, &mut line);
        } else if ch == '\'' {
            if at(i + 1) == '\\' {
                // '\n', '\'', '\u{1F600}': to the closing quote after the escape.
                i += 3;
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(i + 2) == '\'' {
                i += 3; // 'x'
            } else {
                i += 1; // a lifetime or label: its name is read as an identifier
            }
        } else if is_ident(ch) && !ch.is_ascii_digit() {
            let start = i;
            // Raw strings r"…", r#"…"#, br#"…"#, cr"…"; byte and C strings b"…", c"…";
            // byte characters b'x'; raw identifiers r#name.
            let mut j = i;
            if matches!(c[j], 'b' | 'c') {
                j += 1;
            }
            if at(j) == 'r' && (at(j + 1) == '"' || at(j + 1) == '#') {
                let mut hashes = 0;
                let mut k = j + 1;
                while at(k) == '#' {
                    hashes += 1;
                    k += 1;
                }
                if at(k) == '"' {
                    k += 1;
                    'raw: while k < c.len() {
                        if c[k] == '\n' {
                            line += 1;
                        }
                        if c[k] == '"' && (1..=hashes).all(|h| at(k + h) == '#') {
                            k += 1 + hashes;
                            break 'raw;
                        }
                        k += 1;
                    }
                    i = k;
                    continue;
                }
                if hashes == 1 && j == i && is_ident(at(k)) {
                    i = k; // r#name: the name follows
                    continue;
                }
            }
            if j > i && at(j) == '"' {
                i = skip_string(j + 1, &mut line);
                continue;
            }
            if c[i] == 'b' && at(i + 1) == '\'' {
                i += 1; // b'x': the character literal follows
                continue;
            }
            while i < c.len() && is_ident(c[i]) {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Ident(c[start..i].iter().collect()),
                line,
            });
        } else if ch.is_ascii_digit() {
            while i < c.len() && (is_ident(c[i]) || c[i] == '.' && at(i + 1).is_ascii_digit()) {
                i += 1;
            }
        } else {
            let tok = match ch {
                ':' if at(i + 1) == ':' => {
                    i += 1;
                    Tok::PathSep
                }
                '{' => Tok::Open,
                '}' => Tok::Close,
                other => Tok::Punct(other),
            };
            out.push(Token { tok, line });
            i += 1;
        }
    }
    out
}

/// The directories and `.rs` files directly in `src/` (without `lib.rs` and `main.rs`).
fn top_level_modules(root: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for entry in fs::read_dir(root).expect("src/ is readable") {
        let entry = entry.expect("src/ entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir() {
            out.insert(name);
        } else if let Some(stem) = name.strip_suffix(".rs") {
            if stem != "lib" && stem != "main" {
                out.insert(stem.to_string());
            }
        }
    }
    out
}

fn read_rs_files(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .expect("directory under src/ is readable")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            read_rs_files(root, &p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            let rel = p
                .strip_prefix(root)
                .expect("under src/")
                .to_string_lossy()
                .replace('\\', "/");
            let text = fs::read_to_string(&p).expect("source file is UTF-8");
            out.push((rel, text));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The analysis on synthetic input: it finds what it must find, and nothing else.

fn synthetic(files: &[(&str, &str)]) -> (BTreeSet<String>, Edges) {
    let files: Vec<(String, String)> = files
        .iter()
        .map(|(p, t)| (p.to_string(), t.to_string()))
        .collect();
    let modules: BTreeSet<String> = files
        .iter()
        .map(|(p, _)| {
            p.split('/')
                .next()
                .unwrap()
                .trim_end_matches(".rs")
                .to_string()
        })
        .filter(|m| m != "lib" && m != "main")
        .collect();
    let edges = graph(&files, &modules);
    (modules, edges)
}

fn edge_list(edges: &Edges) -> Vec<(String, String, String)> {
    edges
        .iter()
        .map(|((f, t), at)| (f.clone(), t.clone(), at.clone()))
        .collect()
}

#[test]
fn a_cycle_is_found_and_named() {
    let (modules, edges) = synthetic(&[
        ("a/mod.rs", "use crate::b::B;\npub struct A;\n"),
        ("b/mod.rs", "pub struct B;\n"),
        ("b/inner.rs", "\n\nfn f() { let _ = crate::c::C; }\n"),
        (
            "c.rs",
            "pub struct C;\nfn g() -> crate::a::A { crate::a::A }\n",
        ),
        ("d.rs", "use crate::a::A;\n"),
    ]);
    let layers: &[&[&str]] = &[&["a", "b", "c", "d"]];
    let cycles = cycles(&modules, &edges);
    assert_eq!(cycles, vec![vec!["a", "b", "c", "a"]]);
    let problems = problems(&modules, &edges, layers);
    assert!(
        problems.contains(
            &"import cycle a -> b -> c -> a: a -> b at src/a/mod.rs:1; b -> c at \
              src/b/inner.rs:3; c -> a at src/c.rs:2"
                .to_string()
        ),
        "{problems:#?}"
    );
    // d imports into the cycle without being on it.
    assert_eq!(
        problems
            .iter()
            .filter(|p| p.starts_with("import cycle"))
            .count(),
        1
    );
}

#[test]
fn an_upward_and_a_sideways_import_are_found() {
    let (modules, edges) = synthetic(&[
        ("low/mod.rs", "//! low\n\nuse crate::high::H;\n"),
        ("peer1.rs", "fn f() { crate::peer2::g() }\n"),
        ("peer2.rs", "use crate::low::L;\n"),
        ("high/mod.rs", "use crate::{low, peer1};\n"),
    ]);
    let layers: &[&[&str]] = &[&["low"], &["peer1", "peer2"], &["high"]];
    let found = problems(&modules, &edges, layers);
    assert_eq!(
        found,
        vec![
            "import cycle high -> low -> high: high -> low at src/high/mod.rs:1; low -> high at \
             src/low/mod.rs:3",
            "upward import: low (layer 0) uses high (layer 2) at src/low/mod.rs:3",
            "sideways import: peer1 uses its peer peer2 (both layer 1) at src/peer1.rs:1",
        ]
    );
    // Without the upward edge, the same modules keep the order.
    let (modules, edges) = synthetic(&[
        ("low/mod.rs", "pub struct L;\n"),
        ("peer1.rs", "use crate::low::L;\n"),
        ("peer2.rs", "use crate::low::L;\n"),
        ("high/mod.rs", "use crate::{low, peer1, peer2::X};\n"),
    ]);
    assert_eq!(problems(&modules, &edges, layers), Vec::<String>::new());
}

#[test]
fn every_module_must_have_a_layer() {
    let (modules, edges) = synthetic(&[("a.rs", ""), ("new/mod.rs", "")]);
    assert_eq!(
        problems(&modules, &edges, &[&["a"], &["gone"]]),
        vec![
            "src/new is not in LAYERS: give it its place in the order",
            "LAYERS names `gone`, which is not a module in src/",
        ]
    );
}

#[test]
fn references_are_read_from_code_only() {
    let text = r##"//! Doc: crate::cli is only mentioned.
// use crate::cli::Args;
/* crate::app::{x}
   /* nested */ crate::app::y */
use crate::{
    model::{A, B},
    net,
};
use super::super::super::session::Z;
pub(crate) fn f() {
    let s = "crate::report \" still crate::report";
    let r = r#"crate::clients "# ;
    let b = br"crate::clients";
    let c = '"';
    let q = '\'';
    let l: &'static str = "";
    crate::discover::run();
}
mod inner {
    use super::super::super::super::secrets::S;
    use super::super::super::imap_only;
}
/// [`crate::oauth2`] in a doc comment.
fn g() -> crate::proto::X { todo!() }
"##;
    let refs = references(text, &["proto", "imap", "client"]);
    assert_eq!(
        refs,
        vec![
            ("model".to_string(), 6),
            ("net".to_string(), 7),
            ("session".to_string(), 9),
            ("discover".to_string(), 17),
            ("secrets".to_string(), 20),
            ("proto".to_string(), 24),
        ]
    );
    // The same text as a file of `proto`: its own module is no edge.
    let (_, edges) = synthetic(&[
        ("proto/imap/client.rs", text),
        ("model.rs", ""),
        ("net/mod.rs", ""),
        ("session/mod.rs", ""),
        ("discover/mod.rs", ""),
        ("secrets/mod.rs", ""),
        ("cli/mod.rs", ""),
        ("app/mod.rs", ""),
        ("report/mod.rs", ""),
        ("clients/mod.rs", ""),
        ("oauth2/mod.rs", ""),
    ]);
    let to: Vec<String> = edge_list(&edges).into_iter().map(|(_, t, _)| t).collect();
    assert_eq!(to, ["discover", "model", "net", "secrets", "session"]);
}

#[test]
fn lib_and_main_are_the_top() {
    let (modules, edges) = synthetic(&[
        ("lib.rs", "pub mod a;\npub mod b;\nuse crate::b::B;\n"),
        ("main.rs", "fn main() { crate::b::run() }\n"),
        ("a.rs", ""),
        ("b.rs", ""),
    ]);
    assert!(edges.is_empty(), "{edges:?}");
    assert_eq!(
        problems(&modules, &edges, &[&["a"], &["b"]]),
        Vec::<String>::new()
    );
}
