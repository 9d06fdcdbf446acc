//! Writing generated files: the one place that touches the filesystem for `write`.
//! Every target is checked before anything is written (a refusal leaves nothing behind);
//! each file is written to a temporary file in the same directory with its final mode and
//! renamed into place, so a file is either complete or absent, never half-written.
//! Installing where clients look is `install.rs` (with the marked blocks of `block.rs`);
//! Maildir delivery is `maildir.rs`.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::clients::{Client, OutputFile};

mod block;
mod install;
mod maildir;

pub use block::merge_block;
pub use install::{install, plan_install, Change, InstallEnv, InstallPlan, Installed};
pub use maildir::{deliver_maildir, MAX_MESSAGE};

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error(
        "{path} already exists; add --force to replace it (the old file is kept as {path}.bak)"
    )]
    Exists { path: String },
    #[error("cannot write {path}: {reason}")]
    Io { path: String, reason: String },
    #[error("--install: {client} has no conventional location; use --out DIR")]
    NoInstallPath { client: Client },
    #[error("--install needs $HOME to be set")]
    NoHome,
    #[error("{path} has a mailsetup block for {account} that is not closed (a line `{end}` is missing); fix or remove the block by hand, then run again")]
    BrokenBlock {
        path: String,
        account: String,
        end: String,
    },
}

/// Where files go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// Under this directory, at each file's relative path.
    Dir(PathBuf),
    /// At each client's conventional location (`~/.mbsyncrc`, ...).
    Install,
}

/// A file with the path it will be written to.
#[derive(Debug, Clone)]
pub struct Planned {
    pub target: PathBuf,
    pub file: OutputFile,
}

/// Resolves the target path of every file.
pub fn plan(files: Vec<OutputFile>, dest: &Destination) -> Result<Vec<Planned>, FileError> {
    files
        .into_iter()
        .map(|file| {
            let target = match dest {
                Destination::Dir(dir) => dir.join(&file.path),
                Destination::Install => {
                    let p = file.install_path.clone().ok_or(FileError::NoInstallPath {
                        client: file.client,
                    })?;
                    expand_home(&p)?
                }
            };
            Ok(Planned { target, file })
        })
        .collect()
}

fn expand_home(p: &str) -> Result<PathBuf, FileError> {
    match p.strip_prefix("~/") {
        Some(rest) => {
            let home = std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .ok_or(FileError::NoHome)?;
            Ok(Path::new(&home).join(rest))
        }
        None => Ok(PathBuf::from(p)),
    }
}

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub path: PathBuf,
    pub mode: u32,
    /// The previous file, kept when `--force` replaced it.
    pub backup: Option<PathBuf>,
}

/// Writes every planned file, or none if any target exists without `force`.
pub fn write_all(planned: &[Planned], force: bool) -> Result<Vec<Written>, FileError> {
    let io = |path: &Path, e: std::io::Error| FileError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    if !force {
        if let Some(p) = planned.iter().find(|p| p.target.exists()) {
            return Err(FileError::Exists {
                path: p.target.display().to_string(),
            });
        }
    }
    let mut done = Vec::new();
    for p in planned {
        let dir = p
            .target
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let name = p
            .target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        let result = (|| {
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(p.file.mode)
                .open(&tmp)?;
            f.write_all(p.file.contents.as_bytes())?;
            f.sync_all()
        })();
        if let Err(e) = result {
            let _ = fs::remove_file(&tmp);
            return Err(io(&tmp, e));
        }
        let backup = if p.target.exists() {
            let bak = PathBuf::from(format!("{}.bak", p.target.display()));
            fs::rename(&p.target, &bak).map_err(|e| io(&p.target, e))?;
            Some(bak)
        } else {
            None
        };
        if let Err(e) = fs::rename(&tmp, &p.target) {
            let _ = fs::remove_file(&tmp);
            return Err(io(&p.target, e));
        }
        done.push(Written {
            path: p.target.clone(),
            mode: p.file.mode,
            backup,
        });
    }
    Ok(done)
}

/// Writes a report file (`--html`): replaced atomically (temporary file + rename), mode 0644;
/// an existing file of that name is the previous report and is overwritten.
pub fn write_report(path: &Path, contents: &str) -> Result<(), FileError> {
    let io = |e: std::io::Error| FileError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(&tmp)
        .and_then(|mut f| f.write_all(contents.as_bytes()).and_then(|_| f.sync_all()));
    if let Err(e) = written.and_then(|_| fs::rename(&tmp, path)) {
        let _ = fs::remove_file(&tmp);
        return Err(io(e));
    }
    Ok(())
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::clients::Install;
    use std::os::unix::fs::PermissionsExt;

    pub(super) fn file(path: &str, mode: u32) -> OutputFile {
        OutputFile {
            client: Client::Msmtp,
            path: PathBuf::from(path),
            install_path: Some(format!("~/{path}")),
            contents: format!("contents of {path}\n"),
            mode,
            notes: vec![],
            install: Install::File,
            dirs: vec![],
            start: None,
            fetches: false,
        }
    }

    #[test]
    fn writes_with_modes_and_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let dest = Destination::Dir(dir.path().to_path_buf());
        let planned = plan(
            vec![file("a/secret.conf", 0o600), file("b.conf", 0o644)],
            &dest,
        )
        .unwrap();
        let written = write_all(&planned, false).unwrap();
        assert_eq!(written.len(), 2);
        let mode = |p: &str| {
            fs::metadata(dir.path().join(p))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode("a/secret.conf"), 0o600);
        assert_eq!(mode("b.conf"), 0o644);
        // A second run refuses, and writes nothing at all (b.conf stays as it is).
        fs::write(dir.path().join("b.conf"), "mine").unwrap();
        let again = plan(vec![file("c.conf", 0o644), file("b.conf", 0o644)], &dest).unwrap();
        assert!(matches!(
            write_all(&again, false),
            Err(FileError::Exists { .. })
        ));
        assert!(!dir.path().join("c.conf").exists());
        // --force keeps the old file as .bak.
        let written = write_all(&again, true).unwrap();
        assert_eq!(
            fs::read_to_string(dir.path().join("b.conf.bak")).unwrap(),
            "mine"
        );
        assert_eq!(
            written[1].backup.as_deref(),
            Some(dir.path().join("b.conf.bak").as_path())
        );
        assert_eq!(
            fs::read_to_string(dir.path().join("b.conf")).unwrap(),
            "contents of b.conf\n"
        );
        // No temporary files are left.
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn install_expands_home() {
        let home = std::env::var("HOME").unwrap_or_default();
        let planned = plan(vec![file(".mbsyncrc", 0o600)], &Destination::Install);
        if home.is_empty() {
            assert!(matches!(planned, Err(FileError::NoHome)));
        } else {
            assert_eq!(
                planned.unwrap()[0].target,
                Path::new(&home).join(".mbsyncrc")
            );
        }
    }
}
