//! The README and the guide in `docs/` as a reader meets them: every relative link
//! leads to a file that exists, and every `#anchor` to a heading of it; every page
//! is compiled as doctests (one `include_str!` item per page in `support.rs`); no
//! Rust block hides a line from the reader.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate is inside the repository")
        .to_path_buf()
}

/// README.md and every page of `docs/`, as paths relative to the repository root.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![PathBuf::from("README.md")];
    let docs = std::fs::read_dir(repo_root().join("docs")).expect("docs/ exists");
    let mut guide: Vec<PathBuf> = docs
        .map(|entry| entry.expect("a readable docs/ entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .map(|path| Path::new("docs").join(path.file_name().expect("a file name")))
        .collect();
    guide.sort();
    assert!(guide.len() > 10, "docs/ has {} pages", guide.len());
    pages.extend(guide);
    pages
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(repo_root().join(path))
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// The lines of a markdown text outside fenced code blocks, with their numbers.
fn prose(text: &str) -> Vec<(usize, &str)> {
    let mut fenced = false;
    let mut lines = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            lines.push((index + 1, line));
        }
    }
    lines
}

/// A line without its inline code spans, which may hold `[…](…)` that is no link.
fn without_code_spans(line: &str) -> String {
    let mut out = String::new();
    let mut in_code = false;
    for c in line.chars() {
        if c == '`' {
            in_code = !in_code;
        } else if !in_code {
            out.push(c);
        }
    }
    out
}

/// The targets of the inline links and images of a line: what `](` opens.
fn link_targets(line: &str) -> Vec<String> {
    let line = without_code_spans(line);
    let mut targets = Vec::new();
    let mut rest = line.as_str();
    while let Some(start) = rest.find("](") {
        let after = &rest[start + 2..];
        let Some(end) = after.find(')') else { break };
        let target = after[..end].split_whitespace().next().unwrap_or_default();
        targets.push(target.to_owned());
        rest = &after[end..];
    }
    targets
}

/// A heading's anchor as GitHub makes it: the heading's text (code spans and links
/// reduced to their text), lowercased, with every character but letters, digits,
/// `-`, `_` and spaces dropped, and spaces made hyphens.
fn slug(heading: &str) -> String {
    let mut text = String::new();
    let mut rest = heading;
    // `[text](target)` reads as `text`.
    while let Some(open) = rest.find('[') {
        text.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match (after.find("]("), after.find(')')) {
            (Some(close), Some(end)) if close < end => {
                text.push_str(&after[..close]);
                rest = &after[end + 1..];
            }
            _ => {
                text.push('[');
                rest = after;
            }
        }
    }
    text.push_str(rest);
    text.chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .flat_map(char::to_lowercase)
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// Every anchor of a markdown file's headings, numbered `-1`, `-2`… when repeated.
fn anchors(text: &str) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut anchors = Vec::new();
    for (_, line) in prose(text) {
        let hashes = line.chars().take_while(|c| *c == '#').count();
        let Some(heading) = line[hashes..].strip_prefix(' ') else {
            continue;
        };
        if !(1..=6).contains(&hashes) {
            continue;
        }
        let base = slug(heading.trim());
        let count = seen.entry(base.clone()).or_default();
        anchors.push(if *count == 0 {
            base.clone()
        } else {
            format!("{base}-{count}")
        });
        *count += 1;
    }
    anchors
}

#[test]
fn anchors_are_made_as_github_makes_them() {
    assert_eq!(slug("TLS (`wss://`)"), "tls-wss");
    assert_eq!(slug("On your axum site's port"), "on-your-axum-sites-port");
    assert_eq!(
        slug("From Python's `relay_url` and `public=True`"),
        "from-pythons-relay_url-and-publictrue"
    );
    assert_eq!(slug("Maps: `SyncMap`"), "maps-syncmap");
    assert_eq!(
        slug("[PROTOCOL.md](../PROTOCOL.md) in short"),
        "protocolmd-in-short"
    );
    assert_eq!(
        anchors("# A\n## B\n```\n# not a heading\n```\n## B\n"),
        ["a", "b", "b-1"]
    );
    assert_eq!(
        link_targets("see [a](x.md#y), ![b](c.png) and `[i](not a link)`"),
        ["x.md#y", "c.png"]
    );
}

#[test]
fn every_relative_link_leads_to_a_file_and_heading_that_exist() {
    let root = repo_root();
    let mut broken = Vec::new();
    let mut checked = 0;
    for page in pages() {
        let text = read(&page);
        let dir = page.parent().unwrap_or(Path::new(""));
        for (number, line) in prose(&text) {
            for target in link_targets(line) {
                if target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                checked += 1;
                let (path, anchor) = match target.split_once('#') {
                    Some((path, anchor)) => (path, Some(anchor)),
                    None => (target.as_str(), None),
                };
                let file = if path.is_empty() {
                    page.clone()
                } else {
                    dir.join(path)
                };
                let where_ = format!("{}:{number}: {target}", page.display());
                if !root.join(&file).exists() {
                    broken.push(format!("{where_}: no file {}", file.display()));
                    continue;
                }
                if let Some(anchor) = anchor {
                    if file.extension().is_none_or(|ext| ext != "md") {
                        broken.push(format!(
                            "{where_}: an anchor into a file that is not markdown"
                        ));
                    } else if !anchors(&read(&file)).iter().any(|a| a == anchor) {
                        broken.push(format!(
                            "{where_}: no heading #{anchor} in {}",
                            file.display()
                        ));
                    }
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} links found");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn every_page_is_compiled_as_doctests() {
    let support = read(Path::new("tests/support.rs"));
    for page in pages() {
        let item = format!("#[doc = include_str!(\"../{}\")]", page.display());
        assert!(
            support.contains(&item),
            "{} is not compiled: add `#[cfg(doctest)] {item} struct …;` to tests/support.rs",
            page.display()
        );
    }
}

#[test]
fn no_rust_block_hides_a_line() {
    for page in pages() {
        let text = read(&page);
        let mut in_rust = false;
        for (number, line) in text.lines().enumerate() {
            if let Some(fence) = line.trim_start().strip_prefix("```") {
                in_rust = !in_rust && fence.starts_with("rust");
            } else if in_rust {
                let code = line.trim_start();
                assert!(
                    code != "#" && !code.starts_with("# ") && !code.starts_with("##"),
                    "{} line {}: a line rustdoc would hide: {line}",
                    page.display(),
                    number + 1
                );
            }
        }
    }
}

#[test]
fn the_readme_keeps_the_test_command() {
    // `.ci/run` runs the README's test command; so does a check before a change lands.
    let readme = read(Path::new("README.md"));
    assert!(
        readme.contains("\ncargo test --workspace "),
        "README.md lost `cargo test --workspace`"
    );
}
