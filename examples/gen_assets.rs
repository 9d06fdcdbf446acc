//! Writes completions/ and man/ from the CLI definition: `scripts/gen-assets`.
fn main() -> std::io::Result<()> {
    let root = std::env::args().nth(1).unwrap_or_else(|| ".".into());
    for (path, contents) in mailsetup::cli::assets::render_all() {
        let path = std::path::Path::new(&root).join(path);
        std::fs::create_dir_all(path.parent().expect("has a parent"))?;
        std::fs::write(&path, contents)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
