//! `mailsetup deliver`: one message into a Maildir, the Maildir way.

use std::fs::{self, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::FileError;

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
