//! Marked blocks in files shared with other accounts: replaced in place or appended, never
//! touching a byte outside the block.

use super::FileError;
use crate::clients::block_markers;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
