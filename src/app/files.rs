//! Writing generated files: the one place that touches the filesystem for `write`.
//! Every target is checked before anything is written (a refusal leaves nothing behind);
//! each file is written to a temporary file in the same directory with its final mode and
//! renamed into place, so a file is either complete or absent, never half-written.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::clients::{block_markers, Block, Install, OutputFile};

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error(
        "{path} already exists; add --force to replace it (the old file is kept as {path}.bak)"
    )]
    Exists { path: String },
    #[error("cannot write {path}: {reason}")]
    Io { path: String, reason: String },
    #[error("--install: {client} has no conventional location; use --out DIR")]
    NoInstallPath { client: String },
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
                    let p = file
                        .install_path
                        .clone()
                        .ok_or_else(|| FileError::NoInstallPath {
                            client: file.client.to_string(),
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

// ---------------------------------------------------------------------------- install

/// The home directory and XDG base the clients will see.
#[derive(Debug, Clone)]
pub struct InstallEnv {
    pub home: PathBuf,
    /// `$XDG_CONFIG_HOME` when set (else `~/.config`).
    pub config_home: Option<PathBuf>,
}

impl InstallEnv {
    pub fn from_process() -> Result<Self, FileError> {
        let home = std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .ok_or(FileError::NoHome)?;
        Ok(InstallEnv {
            home: PathBuf::from(home),
            config_home: std::env::var_os("XDG_CONFIG_HOME")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
        })
    }

    /// `~/.config/x` → `$XDG_CONFIG_HOME/x`, `~/x` → `$HOME/x`.
    pub fn expand(&self, p: &str) -> PathBuf {
        if let (Some(rest), Some(cfg)) = (p.strip_prefix("~/.config/"), &self.config_home) {
            return cfg.join(rest);
        }
        match p.strip_prefix("~/") {
            Some(rest) => self.home.join(rest),
            None if p == "~" => self.home.clone(),
            None => PathBuf::from(p),
        }
    }
}

/// What installing does to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub path: PathBuf,
    pub client: &'static str,
    /// The file as it is now (`None`: it does not exist yet).
    pub old: Option<String>,
    pub new: String,
    pub mode: u32,
}

impl Change {
    pub fn changes_anything(&self) -> bool {
        self.old.as_deref() != Some(self.new.as_str())
    }

    /// A unified diff of an existing file's change (empty for a new or unchanged file).
    pub fn diff(&self) -> String {
        match &self.old {
            Some(old) if old != &self.new => {
                let p = self.path.display().to_string();
                similar::TextDiff::from_lines(old.as_str(), self.new.as_str())
                    .unified_diff()
                    .context_radius(2)
                    .header(&p, &p)
                    .to_string()
            }
            _ => String::new(),
        }
    }
}

/// Everything installing will do.
#[derive(Debug, Clone, Default)]
pub struct InstallPlan {
    pub changes: Vec<Change>,
    /// Directories to make (absolute), and whether each is a Maildir.
    pub dirs: Vec<(PathBuf, bool)>,
}

/// Lines that configure something (not blank, not a comment).
fn has_config(text: &str) -> bool {
    text.lines().any(|l| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with('#') && !t.starts_with(';')
    })
}

/// `text` with the account's block replaced (in place) or appended. Pure; idempotent: applying
/// it twice gives the same text, and no byte outside the block changes.
pub fn merge_block(
    text: &str,
    path: &str,
    account: &str,
    alone: &str,
    beside: &str,
) -> Result<String, FileError> {
    let (begin, end) = block_markers(account);
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let start = lines.iter().position(|l| l.trim_end() == begin);
    let block = |before: &str| {
        let body = if has_config(before) { beside } else { alone };
        let mut b = format!("{begin}\n{body}");
        if !b.ends_with('\n') {
            b.push('\n');
        }
        b.push_str(&end);
        b.push('\n');
        b
    };
    match start {
        Some(i) => {
            let Some(j) = lines[i..].iter().position(|l| l.trim_end() == end) else {
                return Err(FileError::BrokenBlock {
                    path: path.to_string(),
                    account: account.to_string(),
                    end,
                });
            };
            let before: String = lines[..i].concat();
            let after: String = lines[i + j + 1..].concat();
            Ok(format!("{before}{}{after}", block(&before)))
        }
        None => {
            let mut out = text.to_string();
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            if !out.is_empty() && !out.ends_with("\n\n") {
                out.push('\n');
            }
            let b = block(text);
            out.push_str(&b);
            Ok(out)
        }
    }
}

fn read_existing(path: &Path) -> Result<Option<String>, FileError> {
    match fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| FileError::Io {
                path: path.display().to_string(),
                reason: "not UTF-8 text; mailsetup does not change it".into(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(FileError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        }),
    }
}

/// Works out every change installing `files` makes, reading (never writing) the files there.
/// Several blocks for one file in the same run compose.
pub fn plan_install(files: &[OutputFile], env: &InstallEnv) -> Result<InstallPlan, FileError> {
    let mut plan = InstallPlan::default();
    let put = |plan: &mut InstallPlan,
               path: PathBuf,
               client: &'static str,
               mode: u32,
               f: &dyn Fn(&str) -> Result<String, FileError>|
     -> Result<(), FileError> {
        let idx = plan.changes.iter().position(|c| c.path == path);
        let current = match idx {
            Some(i) => Some(plan.changes[i].new.clone()),
            None => read_existing(&path)?,
        };
        let new = f(current.as_deref().unwrap_or(""))?;
        match idx {
            Some(i) => plan.changes[i].new = new,
            None => plan.changes.push(Change {
                path,
                client,
                old: current,
                new,
                mode,
            }),
        }
        Ok(())
    };
    for file in files {
        let own = |p: &str| env.expand(p);
        match &file.install {
            Install::File => {
                let p = file
                    .install_path
                    .as_deref()
                    .ok_or(FileError::NoInstallPath {
                        client: file.client.to_string(),
                    })?;
                let contents = file.contents.clone();
                put(&mut plan, own(p), file.client, file.mode, &|_| {
                    Ok(contents.clone())
                })?;
            }
            Install::FileInDir { dirs, name } => {
                let dir = dirs
                    .iter()
                    .map(|d| own(d))
                    .find(|d| d.is_dir())
                    .unwrap_or_else(|| own(dirs[0]));
                let contents = file.contents.clone();
                plan.dirs.push((dir.clone(), false));
                put(&mut plan, dir.join(name), file.client, file.mode, &|_| {
                    Ok(contents.clone())
                })?;
            }
            Install::Block(b) => {
                let (target, prefix) = shared_target(b, env, &plan);
                let shown = target.display().to_string();
                put(&mut plan, target, file.client, file.mode, &|old| {
                    let base = if old.is_empty() {
                        prefix.clone()
                    } else {
                        old.to_string()
                    };
                    merge_block(&base, &shown, &b.account, &b.alone, &b.beside)
                })?;
            }
            Install::Sourced(b) => {
                let p = file
                    .install_path
                    .as_deref()
                    .ok_or(FileError::NoInstallPath {
                        client: file.client.to_string(),
                    })?;
                let contents = file.contents.clone();
                put(&mut plan, own(p), file.client, file.mode, &|_| {
                    Ok(contents.clone())
                })?;
                let (target, prefix) = shared_target(b, env, &plan);
                let shown = target.display().to_string();
                put(&mut plan, target, file.client, 0o644, &|old| {
                    let base = if old.is_empty() {
                        prefix.clone()
                    } else {
                        old.to_string()
                    };
                    merge_block(&base, &shown, &b.account, &b.alone, &b.beside)
                })?;
            }
        }
        for d in &file.dirs {
            let path = env.expand(&d.path);
            if !plan.dirs.iter().any(|(p, _)| *p == path) {
                plan.dirs.push((path, d.maildir));
            }
        }
    }
    Ok(plan)
}

/// The shared file a block goes into, and what a newly created one starts with.
fn shared_target(b: &Block, env: &InstallEnv, plan: &InstallPlan) -> (PathBuf, String) {
    let exists = |p: &PathBuf| p.is_file() || plan.changes.iter().any(|c| &c.path == p);
    let first = b
        .search
        .iter()
        .map(|(p, w)| (env.expand(p), *w))
        .find(|(p, _)| exists(p));
    match first {
        Some((p, true)) => (p, String::new()),
        Some((p, false)) => {
            let prefix = b
                .inherit
                .as_ref()
                .map(|t| format!("{}\n\n", t.replace("{path}", &p.display().to_string())))
                .unwrap_or_default();
            (env.expand(b.create), prefix)
        }
        None => (env.expand(b.create), String::new()),
    }
}

/// What installing did to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    pub path: PathBuf,
    pub created: bool,
    /// The previous version, kept when an existing file changed.
    pub backup: Option<PathBuf>,
}

/// Carries out a plan: directories first (0700; Maildirs with cur/new/tmp), then every file
/// that changes (the old one kept as FILE.bak, the new one written atomically; an existing
/// file keeps its mode unless the client needs 0600).
pub fn install(plan: &InstallPlan) -> Result<(Vec<Installed>, Vec<PathBuf>), FileError> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let io = |path: &Path, e: std::io::Error| FileError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let mut made = Vec::new();
    for (dir, maildir) in &plan.dirs {
        let mut all = vec![dir.clone()];
        if *maildir {
            all.extend(["cur", "new", "tmp"].iter().map(|s| dir.join(s)));
        }
        for d in all {
            if !d.is_dir() {
                fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(&d)
                    .map_err(|e| io(&d, e))?;
                made.push(d);
            }
        }
    }
    let mut done = Vec::new();
    for c in plan.changes.iter().filter(|c| c.changes_anything()) {
        let dir = c.path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let mode = match fs::metadata(&c.path) {
            Ok(m) if c.mode != 0o600 => m.permissions().mode() & 0o777,
            _ => c.mode,
        };
        let backup = if let Some(old) = &c.old {
            let bak = PathBuf::from(format!("{}.bak", c.path.display()));
            write_atomic(&bak, old.as_bytes(), 0o600).map_err(|e| io(&bak, e))?;
            Some(bak)
        } else {
            None
        };
        write_atomic(&c.path, c.new.as_bytes(), mode).map_err(|e| io(&c.path, e))?;
        done.push(Installed {
            path: c.path.clone(),
            created: c.old.is_none(),
            backup,
        });
    }
    Ok((done, made))
}

fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let _ = fs::remove_file(&tmp);
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.set_permissions(fs::Permissions::from_mode(mode))?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Largest message `deliver` accepts.
pub const MAX_MESSAGE: u64 = 256 * 1024 * 1024;

/// Delivers one message (read from `input`) into the Maildir `dir` the Maildir way: written
/// under `tmp/` with a unique name, then renamed into `new/`. `cur/new/tmp` are made if missing.
pub fn deliver_maildir(dir: &Path, input: &mut dyn std::io::Read) -> Result<PathBuf, FileError> {
    use std::os::unix::fs::DirBuilderExt;
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let io = |path: &Path, e: std::io::Error| FileError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    for sub in ["cur", "new", "tmp"] {
        let d = dir.join(sub);
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&d)
            .map_err(|e| io(&d, e))?;
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let host: String = fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap_or_else(|_| "localhost".into())
        .trim()
        .chars()
        .map(|c| if c == '/' || c == ':' { '_' } else { c })
        .collect();
    let name = format!(
        "{}.M{}P{}Q{}.{host}",
        now.as_secs(),
        now.subsec_micros(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let tmp = dir.join("tmp").join(&name);
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        let n = std::io::copy(
            &mut std::io::Read::take(&mut *input, MAX_MESSAGE + 1),
            &mut f,
        )?;
        if n > MAX_MESSAGE {
            return Err(std::io::Error::other("message larger than 256 MiB"));
        }
        f.sync_all()
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(io(&tmp, e));
    }
    let target = dir.join("new").join(&name);
    fs::rename(&tmp, &target).map_err(|e| io(&target, e))?;
    Ok(target)
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
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn file(path: &str, mode: u32) -> OutputFile {
        OutputFile {
            client: "test",
            path: PathBuf::from(path),
            install_path: Some(format!("~/{path}")),
            contents: format!("contents of {path}\n"),
            mode,
            notes: vec![],
            install: Install::File,
            dirs: vec![],
            start: None,
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

    #[test]
    fn blocks_are_appended_replaced_in_place_and_idempotent() {
        let mine = "set from = other@example.org\n";
        let once = merge_block(mine, "f", "a@x", "ALONE\n", "BESIDE\n").unwrap();
        assert_eq!(
            once,
            "set from = other@example.org\n\n# >>> mailsetup a@x >>>\nBESIDE\n# <<< mailsetup a@x <<<\n"
        );
        assert_eq!(
            merge_block(&once, "f", "a@x", "ALONE\n", "BESIDE\n").unwrap(),
            once
        );
        // A changed block is replaced where it is; the bytes around it stay.
        let tail = format!("{once}# user's own line after\n");
        let changed = merge_block(&tail, "f", "a@x", "A2\n", "B2\n").unwrap();
        assert_eq!(changed, tail.replace("BESIDE", "B2"));
        // Alone in a new file; a second account then goes beside it.
        let first = merge_block("", "f", "a@x", "ALONE\n", "BESIDE\n").unwrap();
        assert!(
            first.contains("ALONE") && !first.starts_with('\n'),
            "{first}"
        );
        let both = merge_block(&first, "f", "b@x", "ALONE2\n", "BESIDE2\n").unwrap();
        assert!(
            both.starts_with(&first) && both.contains("BESIDE2"),
            "{both}"
        );
        assert_eq!(
            merge_block(&both, "f", "a@x", "ALONE\n", "BESIDE\n").unwrap(),
            both
        );
        // An unclosed block is refused.
        assert!(matches!(
            merge_block("# >>> mailsetup a@x >>>\nx\n", "f", "a@x", "A\n", "B\n"),
            Err(FileError::BrokenBlock { .. })
        ));
    }

    #[test]
    fn install_plans_diffs_backs_up_and_makes_dirs() {
        use crate::clients::{Block, NeededDir};
        let home = tempfile::tempdir().unwrap();
        let env = InstallEnv {
            home: home.path().to_path_buf(),
            config_home: None,
        };
        fs::write(home.path().join(".msmtprc"), "account other\nhost h\n").unwrap();
        let mut f = file("msmtp/msmtprc", 0o644);
        f.install_path = Some("~/.config/msmtp/config".into());
        f.install = Install::Block(Block {
            account: "a@x".into(),
            search: vec![("~/.msmtprc", true), ("~/.config/msmtp/config", true)],
            create: "~/.config/msmtp/config",
            inherit: None,
            alone: "account a@x\naccount default : a@x\n".into(),
            beside: "account a@x\n".into(),
        });
        f.dirs = vec![NeededDir {
            path: "~/Mail/a@x".into(),
            maildir: true,
        }];
        let plan = plan_install(std::slice::from_ref(&f), &env).unwrap();
        assert_eq!(plan.changes.len(), 1);
        assert_eq!(plan.changes[0].path, home.path().join(".msmtprc"));
        assert!(
            plan.changes[0].diff().contains("+account a@x"),
            "{}",
            plan.changes[0].diff()
        );
        let (done, made) = install(&plan).unwrap();
        assert_eq!(done[0].backup, Some(home.path().join(".msmtprc.bak")));
        assert_eq!(
            fs::read_to_string(home.path().join(".msmtprc.bak")).unwrap(),
            "account other\nhost h\n"
        );
        assert!(home.path().join("Mail/a@x/cur").is_dir() && made.len() == 4);
        // Again: nothing changes, no new backup is needed.
        let again = plan_install(std::slice::from_ref(&f), &env).unwrap();
        assert!(!again.changes[0].changes_anything());
        assert!(install(&again).unwrap().0.is_empty());
    }

    #[test]
    fn a_fallback_file_of_another_client_is_inherited() {
        use crate::clients::Block;
        let home = tempfile::tempdir().unwrap();
        let env = InstallEnv {
            home: home.path().to_path_buf(),
            config_home: None,
        };
        fs::write(home.path().join(".muttrc"), "set folder = x\n").unwrap();
        let mut f = file("neomutt/x.neomuttrc", 0o644);
        f.install_path = Some("~/.config/neomutt/accounts/a.neomuttrc".into());
        f.install = Install::Sourced(Block {
            account: "a".into(),
            search: vec![("~/.config/neomutt/neomuttrc", true), ("~/.muttrc", false)],
            create: "~/.config/neomutt/neomuttrc",
            inherit: Some("source \"{path}\"".into()),
            alone: "source A\n".into(),
            beside: "hook A\n".into(),
        });
        let plan = plan_install(&[f], &env).unwrap();
        let main = &plan.changes[1];
        assert_eq!(main.path, home.path().join(".config/neomutt/neomuttrc"));
        assert!(main
            .new
            .starts_with(&format!("source \"{}/.muttrc\"\n", home.path().display())));
        assert!(main.new.contains("hook A"), "{}", main.new);
    }
}
