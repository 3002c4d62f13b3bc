//! The house rule on time: production code reads "now" from the clock a
//! service (or the gateway) is built with, so a test can move it (a hold
//! period, a claim deadline, an expiry). Only the runtime's `Clock` reads
//! the system clock; tests may read it directly.

use std::path::{Path, PathBuf};

/// What reads the system clock behind the `Clock`'s back.
const SYSTEM_CLOCK: [&str; 3] = ["Utc::now", "SystemTime::now", "Local::now"];

/// Files allowed to: the clock itself, and the test helpers.
const ALLOWED: [&str; 2] = ["runtime/src/clock.rs", "runtime/src/testing.rs"];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the runtime sits in the workspace")
        .to_path_buf()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The production source of the workspace: every crate's `src/` but the
/// tests' own crates (their `tests/` folders are never under `src/`).
fn production_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    rust_files(&root.join("runtime/src"), &mut files);
    rust_files(&root.join("gateway/src"), &mut files);
    let services = std::fs::read_dir(root.join("services")).expect("services/");
    for service in services.flatten() {
        rust_files(&service.path().join("src"), &mut files);
    }
    files.sort();
    files
}

/// `source` without its `#[cfg(test)]` items and its comments.
fn without_tests(source: &str) -> Vec<(usize, &str)> {
    let mut kept = Vec::new();
    let mut lines = source.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        let code = line.trim_start();
        if code.starts_with("#[cfg(test)]") {
            // Skip the item that follows: to the end of its braces (or to
            // its `;`, for a `mod tests;` in a file of its own).
            let mut depth = 0i32;
            let mut opened = false;
            for (_, item) in lines.by_ref() {
                depth += item.matches('{').count() as i32 - item.matches('}').count() as i32;
                opened |= item.contains('{');
                if (opened && depth <= 0) || (!opened && item.trim_end().ends_with(';')) {
                    break;
                }
            }
            continue;
        }
        if code.starts_with("//") {
            continue;
        }
        kept.push((n + 1, line));
    }
    kept
}

#[test]
fn production_code_reads_the_services_clock() {
    let root = workspace();
    let files = production_files(&root);
    assert!(
        files.len() > 100,
        "found only {} source files under {}",
        files.len(),
        root.display()
    );
    let mut found = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&root).unwrap_or(file);
        if ALLOWED.iter().any(|a| relative == Path::new(a)) {
            continue;
        }
        let source = std::fs::read_to_string(file).expect("readable source");
        for (n, line) in without_tests(&source) {
            if SYSTEM_CLOCK.iter().any(|c| line.contains(c)) {
                found.push(format!("{}:{n}: {}", relative.display(), line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "production code reads the system clock; take `now` from the service's `Clock` \
         (`host.clock()`, `Delivery::now`, a job's `now`) instead:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_scan_sees_production_code_and_skips_tests() {
    let source = "fn a() { let t = Utc::now(); }\n\
                  // Utc::now in a comment\n\
                  #[cfg(test)]\n\
                  mod tests {\n    fn b() {\n        Utc::now();\n    }\n}\n\
                  fn c() { Utc::now(); }\n";
    let hits: Vec<usize> = without_tests(source)
        .into_iter()
        .filter(|(_, l)| l.contains("Utc::now"))
        .map(|(n, _)| n)
        .collect();
    assert_eq!(hits, [1, 9]);
}
