//! IMAP folders: which LIST form to ask (RFC 6154 `RETURN (SPECIAL-USE)`, Gmail's XLIST, plain
//! LIST), parsing LIST/XLIST replies (quoted, atom and literal names, RFC 3501/9051), modified
//! UTF-7 (RFC 3501 §5.1.3), and choosing the Sent, Drafts, Trash, Junk and Archive folders:
//! by attribute first, then by well-known and localized names.

use base64::alphabet::IMAP_MUTF7;
use base64::engine::{general_purpose::NO_PAD, GeneralPurpose};
use base64::Engine as _;

use crate::model::{Folder, Folders, FoundBy};

/// At most this many LIST entries are looked at (a mailbox tree bigger than that is cut).
pub const MAX_FOLDERS: usize = 10_000;

const MUTF7: GeneralPurpose = GeneralPurpose::new(&IMAP_MUTF7, NO_PAD);

/// The LIST form a server supports best.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListForm {
    /// `LIST "" "*" RETURN (SPECIAL-USE)` (RFC 6154).
    SpecialUse,
    /// `XLIST "" "*"` (Gmail's pre-RFC 6154 form).
    Xlist,
    /// `LIST "" "*"`: attributes if the server volunteers them, else names.
    Plain,
}

impl ListForm {
    /// Chosen from the capabilities read after login.
    pub fn for_capabilities(caps: &[String]) -> ListForm {
        if caps.iter().any(|c| c == "SPECIAL-USE") {
            ListForm::SpecialUse
        } else if caps.iter().any(|c| c == "XLIST") {
            ListForm::Xlist
        } else {
            ListForm::Plain
        }
    }

    /// The command (without tag).
    pub fn command(self) -> &'static str {
        match self {
            ListForm::SpecialUse => "LIST \"\" \"*\" RETURN (SPECIAL-USE)",
            ListForm::Xlist => "XLIST \"\" \"*\"",
            ListForm::Plain => "LIST \"\" \"*\"",
        }
    }

    /// The keyword of the untagged data lines.
    pub fn keyword(self) -> &'static str {
        match self {
            ListForm::Xlist => "XLIST",
            _ => "LIST",
        }
    }
}

/// One LIST/XLIST entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListEntry {
    /// Attributes, lower-case, with their backslash: `\sent`, `\noselect`.
    pub attributes: Vec<String>,
    pub delimiter: Option<char>,
    /// The name as sent (modified UTF-7, or UTF-8 after `ENABLE UTF8=ACCEPT`).
    pub raw: String,
}

/// Parses the text after `* LIST ` (literals already folded in as `{n}\r\n<bytes>`).
pub fn parse_list(text: &str) -> Option<ListEntry> {
    let rest = text.trim_start().strip_prefix('(')?;
    let close = rest.find(')')?;
    let attributes = rest[..close]
        .split_ascii_whitespace()
        .map(str::to_ascii_lowercase)
        .collect();
    let rest = rest[close + 1..].trim_start();
    let (delimiter, rest) = if let Some(r) = strip_prefix_ci(rest, "NIL") {
        (None, r)
    } else {
        let (d, r) = string(rest)?;
        let mut chars = d.chars();
        let c = chars.next();
        if chars.next().is_some() {
            return None;
        }
        (c, r)
    };
    let rest = rest.strip_prefix(' ')?;
    let (raw, _extended) = string_or_atom(rest)?;
    Some(ListEntry {
        attributes,
        delimiter,
        raw,
    })
}

fn strip_prefix_ci<'a>(s: &'a str, word: &str) -> Option<&'a str> {
    let head = s.get(..word.len())?;
    head.eq_ignore_ascii_case(word).then(|| &s[word.len()..])
}

/// A quoted string or a literal at the start of `s`; returns it and the rest.
fn string(s: &str) -> Option<(String, &str)> {
    if let Some(body) = s.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = body.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => out.push(chars.next()?.1),
                '"' => return Some((out, &body[i + 1..])),
                c => out.push(c),
            }
        }
        return None;
    }
    if let Some(body) = s.strip_prefix('{') {
        let close = body.find('}')?;
        let n: usize = body[..close].trim_end_matches('+').parse().ok()?;
        let data = body[close + 1..].strip_prefix("\r\n")?;
        let value = data.get(..n)?;
        return Some((value.to_string(), &data[n..]));
    }
    None
}

/// A string, or an atom (up to a space or the end).
fn string_or_atom(s: &str) -> Option<(String, &str)> {
    if s.starts_with('"') || s.starts_with('{') {
        return string(s);
    }
    let end = s.find(' ').unwrap_or(s.len());
    (end > 0).then(|| (s[..end].to_string(), &s[end..]))
}

/// Decodes an IMAP modified UTF-7 name (`Entw&APw-rfe` → `Entwürfe`, `&-` → `&`).
/// `None` when it is not valid modified UTF-7.
pub fn decode_mutf7(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let dash = after.find('-')?;
        let b64 = &after[..dash];
        if b64.is_empty() {
            out.push('&');
        } else {
            let bytes = MUTF7.decode(b64).ok()?;
            if bytes.len() % 2 != 0 {
                return None;
            }
            let units = bytes.chunks(2).map(|c| u16::from_be_bytes([c[0], c[1]]));
            for c in char::decode_utf16(units) {
                out.push(c.ok()?);
            }
        }
        rest = &after[dash + 1..];
    }
    if !rest.is_ascii() {
        // Raw 8-bit text is not modified UTF-7; a UTF8=ACCEPT server sends UTF-8 as is.
        return None;
    }
    out.push_str(rest);
    Some(out)
}

/// Encodes a name in IMAP modified UTF-7.
pub fn encode_mutf7(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending: Vec<u16> = Vec::new();
    let flush = |pending: &mut Vec<u16>, out: &mut String| {
        if !pending.is_empty() {
            let bytes: Vec<u8> = pending.iter().flat_map(|u| u.to_be_bytes()).collect();
            out.push('&');
            out.push_str(&MUTF7.encode(bytes));
            out.push('-');
            pending.clear();
        }
    };
    for c in s.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut pending, &mut out);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut buf = [0u16; 2];
            pending.extend_from_slice(c.encode_utf16(&mut buf));
        }
    }
    flush(&mut pending, &mut out);
    out
}

/// A folder role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Sent,
    Drafts,
    Trash,
    Junk,
    Archive,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Sent,
        Role::Drafts,
        Role::Trash,
        Role::Junk,
        Role::Archive,
    ];

    /// RFC 6154 attributes (and XLIST's `\Spam`), lower-case.
    fn attributes(self) -> &'static [&'static str] {
        match self {
            Role::Sent => &["\\sent"],
            Role::Drafts => &["\\drafts"],
            Role::Trash => &["\\trash"],
            Role::Junk => &["\\junk", "\\spam"],
            Role::Archive => &["\\archive"],
        }
    }

    /// Well-known and localized names, most common first, compared case-insensitively with
    /// the whole decoded path (delimiter shown as `/`), also below `INBOX/`. Sources:
    /// the default folder names of Dovecot, Courier, Exchange/Outlook.com, Gmail (English and
    /// German UI), Apple Mail, Thunderbird's localizations, GMX/WEB.DE, T-Online.
    fn names(self) -> &'static [&'static str] {
        match self {
            Role::Sent => &[
                "Sent",
                "Sent Messages",
                "Sent Items",
                "Sent Mail",
                "[Gmail]/Sent Mail",
                "[Google Mail]/Sent Mail",
                "[Google Mail]/Gesendet",
                "Gesendet",
                "Gesendete Objekte",
                "Gesendete Elemente",
                "Gesendete Nachrichten",
                "Envoyés",
                "Éléments envoyés",
                "Messages envoyés",
                "Enviados",
                "Elementos enviados",
                "Inviati",
                "Posta inviata",
                "Verzonden",
                "Verzonden items",
                "Skickat",
                "Skickade objekt",
                "Sendt",
                "Wysłane",
                "Отправленные",
            ],
            Role::Drafts => &[
                "Drafts",
                "Draft",
                "[Gmail]/Drafts",
                "[Google Mail]/Drafts",
                "[Google Mail]/Entwürfe",
                "Entwürfe",
                "Brouillons",
                "Borradores",
                "Bozze",
                "Concepten",
                "Utkast",
                "Kladder",
                "Kopie robocze",
                "Черновики",
            ],
            Role::Trash => &[
                "Trash",
                "Deleted Messages",
                "Deleted Items",
                "Deleted",
                "Bin",
                "[Gmail]/Trash",
                "[Gmail]/Bin",
                "[Google Mail]/Trash",
                "[Google Mail]/Papierkorb",
                "Papierkorb",
                "Gelöschte Objekte",
                "Gelöschte Elemente",
                "Corbeille",
                "Éléments supprimés",
                "Papelera",
                "Elementos eliminados",
                "Cestino",
                "Prullenbak",
                "Verwijderde items",
                "Papperskorgen",
                "Kosz",
                "Корзина",
            ],
            Role::Junk => &[
                "Junk",
                "Spam",
                "Junk E-mail",
                "Junk Email",
                "Junk Mail",
                "Bulk Mail",
                "[Gmail]/Spam",
                "[Google Mail]/Spam",
                "Junk-E-Mail",
                "Spamverdacht",
                "Courrier indésirable",
                "Correo no deseado",
                "Posta indesiderata",
                "Ongewenste e-mail",
                "Skräppost",
                "Спам",
            ],
            Role::Archive => &[
                "Archive",
                "Archives",
                "Archiv",
                "Archivio",
                "Archivo",
                "Archief",
                "Arkiv",
                "Archiwum",
                "Архив",
            ],
        }
    }
}

/// The decoded name of an entry (the raw name when it is not valid modified UTF-7).
pub fn decoded(entry: &ListEntry) -> String {
    decode_mutf7(&entry.raw).unwrap_or_else(|| entry.raw.clone())
}

fn selectable(e: &ListEntry) -> bool {
    !e.attributes
        .iter()
        .any(|a| a == "\\noselect" || a == "\\nonexistent")
}

/// The path with the delimiter shown as `/`, without a leading `INBOX/` (Courier's `INBOX.Sent`).
fn normalized(e: &ListEntry) -> (String, Option<String>) {
    let name = decoded(e);
    let slash = match e.delimiter {
        Some(d) if d != '/' => name.replace(d, "/"),
        _ => name,
    };
    let below_inbox = slash
        .get(..6)
        .filter(|p| p.eq_ignore_ascii_case("INBOX/"))
        .map(|_| slash[6..].to_string());
    (slash, below_inbox)
}

/// Chooses each role's folder: an entry with the role's attribute first (the first in server
/// order), then the first well-known name in the table's order.
pub fn choose(entries: &[ListEntry], form: ListForm) -> Folders {
    let entries: Vec<&ListEntry> = entries
        .iter()
        .take(MAX_FOLDERS)
        .filter(|e| selectable(e))
        .collect();
    let by_attribute = if form == ListForm::Xlist {
        FoundBy::Xlist
    } else {
        FoundBy::SpecialUse
    };
    let folder = |e: &ListEntry, found_by| Folder {
        raw: e.raw.clone(),
        name: decoded(e),
        found_by,
    };
    let pick = |role: Role| -> Option<Folder> {
        if let Some(e) = entries.iter().find(|e| {
            e.attributes
                .iter()
                .any(|a| role.attributes().contains(&a.as_str()))
        }) {
            return Some(folder(e, by_attribute));
        }
        for name in role.names() {
            if let Some(e) = entries.iter().find(|e| {
                let (full, below) = normalized(e);
                full.to_lowercase() == name.to_lowercase()
                    || below.is_some_and(|b| b.to_lowercase() == name.to_lowercase())
            }) {
                return Some(folder(e, FoundBy::Name));
            }
        }
        None
    };
    let delimiter = entries
        .iter()
        .find_map(|e| e.delimiter)
        .map(|c| c.to_string());
    Folders {
        sent: pick(Role::Sent),
        drafts: pick(Role::Drafts),
        trash: pick(Role::Trash),
        junk: pick(Role::Junk),
        archive: pick(Role::Archive),
        delimiter,
        server_saves_sent: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(lines: &[&str]) -> Vec<ListEntry> {
        lines.iter().map(|l| parse_list(l).expect(l)).collect()
    }

    #[test]
    fn modified_utf7_round_trips() {
        for (raw, text) in [
            ("Entw&APw-rfe", "Entwürfe"),
            ("Gel&APY-schte Objekte", "Gelöschte Objekte"),
            ("&-", "&"),
            ("Tom &- Jerry", "Tom & Jerry"),
            ("&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-", "Отправленные"),
            ("&ZeVnLIqe-", "日本語"),
            ("&2D3eAA-", "\u{1F600}"),
            ("INBOX", "INBOX"),
        ] {
            assert_eq!(decode_mutf7(raw).as_deref(), Some(text), "{raw}");
            assert_eq!(encode_mutf7(text), raw, "{text}");
        }
        for bad in ["&AP", "&AP&-", "&*-", "Entwürfe", "&AA-"] {
            // "&AA-" is a lone U+0000 half: one byte short of a UTF-16 unit.
            assert_eq!(decode_mutf7(bad), None, "{bad}");
        }
    }

    #[test]
    fn list_lines_parse() {
        let e = parse_list(r#"(\HasNoChildren \Sent) "/" "Sent Messages""#).unwrap();
        assert_eq!(e.attributes, ["\\hasnochildren", "\\sent"]);
        assert_eq!(e.delimiter, Some('/'));
        assert_eq!(e.raw, "Sent Messages");
        let e = parse_list(r#"() "." INBOX.Sent"#).unwrap();
        assert_eq!((e.delimiter, e.raw.as_str()), (Some('.'), "INBOX.Sent"));
        let e = parse_list("(\\Noselect) NIL \"\"").unwrap();
        assert_eq!((e.delimiter, e.raw.as_str()), (None, ""));
        let e = parse_list("() \"/\" {11}\r\nSent Things").unwrap();
        assert_eq!(e.raw, "Sent Things");
        let e = parse_list(r#"() "\\" "a \"b\" c""#).unwrap();
        assert_eq!((e.delimiter, e.raw.as_str()), (Some('\\'), "a \"b\" c"));
        let e = parse_list(r#"(\Sent) "/" Sent ("CHILDINFO" ("SUBSCRIBED"))"#).unwrap();
        assert_eq!(e.raw, "Sent");
        for bad in [
            "",
            "()",
            "(\\Sent \"/\" x",
            "() \"//\" x",
            "() \"/\" \"unterminated",
            "() \"/\" {99}\r\nshort",
        ] {
            assert_eq!(parse_list(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn special_use_attributes_win_over_names() {
        let list = entries(&[
            r#"(\HasNoChildren) "/" INBOX"#,
            r#"(\HasNoChildren) "/" Sent"#,
            r#"(\HasNoChildren \Sent) "/" "Sent Messages""#,
            r#"(\HasNoChildren \Drafts) "/" "Entw&APw-rfe""#,
            r#"(\HasNoChildren \Junk) "/" Spam"#,
        ]);
        let f = choose(&list, ListForm::SpecialUse);
        let sent = f.sent.unwrap();
        assert_eq!(
            (sent.raw.as_str(), sent.found_by),
            ("Sent Messages", FoundBy::SpecialUse)
        );
        let drafts = f.drafts.unwrap();
        assert_eq!(
            (drafts.raw.as_str(), drafts.name.as_str()),
            ("Entw&APw-rfe", "Entwürfe")
        );
        assert_eq!(f.junk.unwrap().raw, "Spam");
        assert_eq!(f.trash, None);
        assert_eq!(f.delimiter.as_deref(), Some("/"));
    }

    #[test]
    fn gmail_xlist_and_hierarchy() {
        let list = entries(&[
            r#"(\HasChildren \Noselect) "/" "[Gmail]""#,
            r#"(\HasNoChildren \Sent) "/" "[Gmail]/Sent Mail""#,
            r#"(\HasNoChildren \Spam) "/" "[Gmail]/Spam""#,
            r#"(\HasNoChildren \Trash) "/" "[Gmail]/Trash""#,
            r#"(\HasNoChildren \AllMail) "/" "[Gmail]/All Mail""#,
        ]);
        let f = choose(&list, ListForm::Xlist);
        assert_eq!(f.sent.as_ref().unwrap().raw, "[Gmail]/Sent Mail");
        assert_eq!(f.sent.unwrap().found_by, FoundBy::Xlist);
        assert_eq!(f.junk.unwrap().raw, "[Gmail]/Spam");
        assert_eq!(f.archive, None, "All Mail is not an archive folder");
    }

    #[test]
    fn names_are_the_fallback_localized_and_below_inbox() {
        let list = entries(&[
            r#"(\HasNoChildren) "." INBOX"#,
            r#"(\HasNoChildren) "." "INBOX.Gesendete Objekte""#,
            r#"(\HasNoChildren) "." "INBOX.Entw&APw-rfe""#,
            r#"(\HasNoChildren) "." "INBOX.Papierkorb""#,
            r#"(\HasNoChildren) "." "INBOX.Spamverdacht""#,
            r#"(\Noselect) "." "Archiv""#,
        ]);
        let f = choose(&list, ListForm::Plain);
        assert_eq!(f.sent.as_ref().unwrap().raw, "INBOX.Gesendete Objekte");
        assert_eq!(f.sent.unwrap().found_by, FoundBy::Name);
        assert_eq!(f.drafts.unwrap().name, "INBOX.Entwürfe");
        assert_eq!(f.trash.unwrap().raw, "INBOX.Papierkorb");
        assert_eq!(f.junk.unwrap().raw, "INBOX.Spamverdacht");
        assert_eq!(f.archive, None, "\\Noselect is never chosen");
    }

    #[test]
    fn list_form_follows_capabilities() {
        let caps = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        assert_eq!(
            ListForm::for_capabilities(&caps("IMAP4REV1 SPECIAL-USE XLIST")),
            ListForm::SpecialUse
        );
        assert_eq!(
            ListForm::for_capabilities(&caps("IMAP4REV1 XLIST")),
            ListForm::Xlist
        );
        assert_eq!(
            ListForm::for_capabilities(&caps("IMAP4REV1")),
            ListForm::Plain
        );
        assert_eq!(ListForm::Xlist.keyword(), "XLIST");
    }
}
