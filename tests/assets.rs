//! Generated files must match the CLI: regenerate with `scripts/gen-assets`.

#[test]
fn completions_and_man_pages_are_current() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let generated = mailsetup::cli::assets::render_all();
    assert!(
        generated.len() >= 7,
        "five shells and at least two man pages"
    );
    let mut stale = Vec::new();
    for (path, contents) in &generated {
        match std::fs::read(root.join(path)) {
            Ok(on_disk) if &on_disk == contents => {}
            _ => stale.push(path.display().to_string()),
        }
    }
    assert!(
        stale.is_empty(),
        "stale generated files {stale:?}: run scripts/gen-assets and commit the result"
    );
}
