//! Installing where clients look: the plan (every change worked out first, reading but never
//! writing, with diffs and the directories to make), then carrying it out with backups.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::block::merge_block;
use super::FileError;
use crate::clients::{Block, Client, Install, OutputFile};

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
    pub client: Client,
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
               client: Client,
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
                        client: file.client,
                    })?;
                let contents = file.contents.clone();
                put(&mut plan, own(p), file.client, file.mode, &|_| {
                    Ok(contents.clone())
                })?;
            }
            Install::FileInDir { dirs, name } => {
                let Some(first) = dirs.first() else {
                    return Err(FileError::NoInstallPath {
                        client: file.client,
                    });
                };
                let dir = dirs
                    .iter()
                    .map(|d| own(d))
                    .find(|d| d.is_dir())
                    .unwrap_or_else(|| own(first));
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
                        client: file.client,
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

#[cfg(test)]
mod tests {
    use super::super::tests::file;
    use super::*;

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
