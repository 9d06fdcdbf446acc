//! Client config writers, checked from the outside:
//!
//! * golden files for one IMAP and one POP3 account per client
//!   (`UPDATE_GOLDEN=1 cargo test --test clients_parse` rewrites them);
//! * every generated file parsed back with a real parser for its format (XML,
//!   plist, TOML, INI flavours, and the clients' own syntax) and compared with the
//!   account: host, port, TLS mode, username, display name;
//! * hostile display names and usernames either survive that round trip unchanged
//!   or are refused with `UnsafeValue`; control characters are always refused;
//! * where the real client is installed (neomutt, mutt, msmtp, mpop, fetchmail,
//!   mbsync, python3 for getmail/OfflineIMAP), it reads the file back too.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use mailsetup::clients::{render, OutputFile, WriteError, WriteOptions, CLIENTS};
use mailsetup::model::{
    AccountSettings, AuthMethod, Endpoint, Pop3Policy, Protocol, Secret, Security, ServerSettings,
};

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

fn server(url: &str, user: &str) -> ServerSettings {
    ServerSettings {
        endpoint: url.parse::<Endpoint>().unwrap(),
        username: user.to_string(),
        auth: AuthMethod::PasswordCleartext,
        mechanism: None,
    }
}

fn imap_account() -> AccountSettings {
    AccountSettings {
        address: "alice@example.com".into(),
        display_name: Some("Alice Example".into()),
        incoming: server("imaps://imap.example.com:993", "alice@example.com"),
        outgoing: server("smtps://smtp.example.com:465", "alice@example.com"),
        pop3: Pop3Policy::default(),
        folders: Default::default(),
    }
}

fn pop3_account() -> AccountSettings {
    AccountSettings {
        address: "alice@example.com".into(),
        display_name: Some("Alice Example".into()),
        incoming: server("pop3s://pop.example.com:995", "alice@example.com"),
        outgoing: server("smtp://smtp.example.com:587", "alice@example.com"),
        pop3: Pop3Policy {
            keep: true,
            keep_days: Some(30),
        },
        folders: Default::default(),
    }
}

fn cases() -> [(&'static str, AccountSettings); 2] {
    [("imap", imap_account()), ("pop3", pop3_account())]
}

// ---------------------------------------------------------------------------
// Golden files
// ---------------------------------------------------------------------------

fn golden_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/clients")
}

/// What a render produced, as the files stored under tests/golden/clients/<client>/<case>/.
fn golden_files(
    client: &str,
    result: &Result<Vec<OutputFile>, WriteError>,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    match result {
        Ok(files) => {
            let mut manifest = String::new();
            for f in files {
                let rel = f
                    .path
                    .strip_prefix(client)
                    .expect("output paths start with the client id")
                    .to_string_lossy()
                    .into_owned();
                manifest.push_str(&format!(
                    "{rel}\n  mode: {:o}\n  install: {}\n",
                    f.mode,
                    f.install_path.as_deref().unwrap_or("-")
                ));
                for note in &f.notes {
                    manifest.push_str(&format!("  note: {note}\n"));
                }
                out.insert(rel, f.contents.clone());
            }
            out.insert("MANIFEST.txt".into(), manifest);
        }
        Err(e) => {
            out.insert("UNSUPPORTED.txt".into(), format!("{e}\n"));
        }
    }
    out
}

fn read_dir_files(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            out.insert(name, std::fs::read_to_string(entry.path()).unwrap());
        }
    }
    out
}

#[test]
fn golden_files_match() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut mismatches = Vec::new();
    for info in CLIENTS {
        for (case, account) in cases() {
            let result = render(info.name, &account, &WriteOptions::default());
            if let Err(e) = &result {
                assert!(
                    matches!(e, WriteError::Unsupported { .. }),
                    "{} {case}: {e}",
                    info.name
                );
            }
            let expected = golden_files(info.name, &result);
            let dir = golden_root().join(info.name).join(case);
            if update {
                let _ = std::fs::remove_dir_all(&dir);
                std::fs::create_dir_all(&dir).unwrap();
                for (name, contents) in &expected {
                    std::fs::write(dir.join(name), contents).unwrap();
                }
                continue;
            }
            let actual = read_dir_files(&dir);
            if actual != expected {
                let names: Vec<&String> = expected.keys().collect();
                let changed: Vec<&String> = expected
                    .iter()
                    .filter(|(k, v)| actual.get(*k) != Some(*v))
                    .map(|(k, _)| k)
                    .collect();
                mismatches.push(format!(
                    "{}/{case}: expected files {names:?}, differing or missing {changed:?}",
                    info.name
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "golden files differ (rerun with UPDATE_GOLDEN=1 after checking the change):\n{}",
        mismatches.join("\n")
    );
}

// ---------------------------------------------------------------------------
// What a client would read back
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sec {
    Tls,
    StartTls,
    Plain,
    /// Apple's profiles only say "use SSL" (implicit TLS or STARTTLS by port).
    AnyTls,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Srv {
    host: String,
    port: u16,
    sec: Sec,
    user: Option<String>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Parsed {
    incoming: Option<Srv>,
    outgoing: Option<Srv>,
    display_name: Option<String>,
    /// The shell command the client runs for the password, when it has one.
    password_command: Option<String>,
    /// The password written into the file (with --embed-password).
    password: Option<String>,
}

fn sec_of(e: &Endpoint) -> Sec {
    match e.security {
        Security::Tls => Sec::Tls,
        Security::StartTls => Sec::StartTls,
        Security::Plain => Sec::Plain,
    }
}

fn srv(host: &str, port: impl ToString, sec: Sec, user: Option<String>) -> Srv {
    Srv {
        host: host.to_string(),
        port: port.to_string().parse().expect("numeric port"),
        sec,
        user,
    }
}

/// Clients whose file carries the display name.
fn carries_display_name(client: &str) -> bool {
    !matches!(
        client,
        "thunderbird" | "mbsync" | "msmtp" | "mpop" | "fetchmail" | "getmail" | "offlineimap"
    )
}

/// Clients whose file runs a password command.
fn runs_password_command(client: &str) -> bool {
    matches!(
        client,
        "neomutt"
            | "mutt"
            | "aerc"
            | "himalaya"
            | "mbsync"
            | "msmtp"
            | "mpop"
            | "getmail"
            | "offlineimap"
    )
}

/// Clients whose file can hold an embedded password.
fn holds_password(client: &str) -> bool {
    matches!(
        client,
        "apple-mail"
            | "k9"
            | "neomutt"
            | "mutt"
            | "aerc"
            | "himalaya"
            | "mbsync"
            | "msmtp"
            | "mpop"
            | "fetchmail"
            | "getmail"
            | "offlineimap"
    )
}

/// What the account should look like to `client`.
fn expected(client: &str, account: &AccountSettings, opts: &WriteOptions) -> Parsed {
    let info = CLIENTS.iter().find(|c| c.name == client).unwrap();
    let server = |s: &ServerSettings| {
        let sec = if client == "apple-mail" && s.endpoint.security != Security::Plain {
            Sec::AnyTls
        } else {
            sec_of(&s.endpoint)
        };
        let user = (s.auth != AuthMethod::None).then(|| s.username.clone());
        srv(&s.endpoint.host, s.endpoint.port, sec, user)
    };
    let default_cmd = format!("pass show mail/{}", account.address);
    let mut used = Vec::new();
    if !info.incoming.is_empty() {
        used.push(&account.incoming);
    }
    if info.outgoing {
        used.push(&account.outgoing);
    }
    let logs_in = used.iter().any(|s| s.auth != AuthMethod::None);
    Parsed {
        incoming: (!info.incoming.is_empty()).then(|| server(&account.incoming)),
        outgoing: info.outgoing.then(|| server(&account.outgoing)),
        display_name: if carries_display_name(client) {
            account.display_name.clone().filter(|n| !n.is_empty())
        } else {
            None
        },
        password_command: (logs_in
            && runs_password_command(client)
            && opts.embed_password.is_none())
        .then(|| opts.password_command.clone().unwrap_or(default_cmd)),
        password: if logs_in && holds_password(client) {
            opts.embed_password.as_ref().map(|s| s.expose().to_string())
        } else {
            None
        },
    }
}

fn file<'a>(files: &'a [OutputFile], suffix: &str) -> &'a str {
    &files
        .iter()
        .find(|f| f.path.to_string_lossy().ends_with(suffix))
        .unwrap_or_else(|| panic!("no file ending in {suffix}"))
        .contents
}

/// Parses the client's files with a parser for their format and reports what the
/// client would use.
fn read_back(client: &str, files: &[OutputFile], account: &AccountSettings) -> Parsed {
    match client {
        "thunderbird" => read_thunderbird(file(files, "config-v1.1.xml"), account),
        "apple-mail" => read_apple(file(files, ".mobileconfig")),
        "outlook" => read_outlook(file(files, "autodiscover.xml")),
        "k9" => read_k9(file(files, ".k9s")),
        "neomutt" | "mutt" => read_muttrc(file(files, "rc")),
        "aerc" => read_aerc(file(files, "accounts.conf")),
        "himalaya" => {
            let v2 = read_himalaya_v2(file(files, "config.toml"));
            if let Some(f) = files.iter().find(|f| f.path.ends_with("config.v1.toml")) {
                assert_eq!(
                    read_himalaya_v1(&f.contents),
                    v2,
                    "himalaya v1 and v2 disagree"
                );
            }
            v2
        }
        "mbsync" => read_mbsync(file(files, "mbsyncrc")),
        "msmtp" => read_msmtp_like(file(files, "msmtprc"), false),
        "mpop" => read_msmtp_like(file(files, "mpoprc"), true),
        "fetchmail" => read_fetchmail(file(files, "fetchmailrc")),
        "getmail" => read_getmail(file(files, "getmailrc")),
        "offlineimap" => read_offlineimap(file(files, "offlineimaprc")),
        "claws-mail" => read_claws(file(files, "accountrc")),
        "evolution" => read_evolution(files),
        other => panic!("no reader for {other}"),
    }
}

// --- XML ------------------------------------------------------------------

#[derive(Debug, Default)]
struct El {
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
    children: Vec<El>,
}

impl El {
    fn child(&self, name: &str) -> &El {
        self.children
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("<{}> has no <{name}>", self.name))
    }
    fn opt(&self, name: &str) -> Option<&El> {
        self.children.iter().find(|c| c.name == name)
    }
    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a El> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
    fn text_of(&self, name: &str) -> String {
        self.child(name).text.clone()
    }
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A strict XML parse (quick-xml reader) into a small element tree.
fn parse_xml(text: &str) -> El {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<El> = vec![El::default()];
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                let mut el = El {
                    name: e.name().as_ref().to_string(),
                    ..Default::default()
                };
                for a in e.attributes() {
                    let a = a.expect("attribute");
                    el.attrs.push((
                        a.key.as_ref().to_string(),
                        // XML attribute-value normalization, as every real reader applies it.
                        a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .expect("attribute value")
                            .into_owned(),
                    ));
                }
                stack.push(el);
            }
            Event::Empty(e) => {
                let mut el = El {
                    name: e.name().as_ref().to_string(),
                    ..Default::default()
                };
                for a in e.attributes() {
                    let a = a.expect("attribute");
                    el.attrs.push((
                        a.key.as_ref().to_string(),
                        // XML attribute-value normalization, as every real reader applies it.
                        a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .expect("attribute value")
                            .into_owned(),
                    ));
                }
                stack.last_mut().unwrap().children.push(el);
            }
            Event::End(_) => {
                let mut el = stack.pop().unwrap();
                if !el.children.is_empty() {
                    assert!(el.text.trim().is_empty(), "mixed content in <{}>", el.name);
                    el.text.clear();
                }
                stack.last_mut().unwrap().children.push(el);
            }
            Event::Text(t) => stack.last_mut().unwrap().text.push_str(&t.xml10_content()),
            Event::CData(t) => stack.last_mut().unwrap().text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref().expect("char ref") {
                    Some(c) => c.to_string(),
                    None => match r.as_ref() {
                        "amp" => "&".into(),
                        "lt" => "<".into(),
                        "gt" => ">".into(),
                        "quot" => "\"".into(),
                        "apos" => "'".into(),
                        other => panic!("unknown entity &{other};"),
                    },
                };
                stack.last_mut().unwrap().text.push_str(&resolved);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(stack.len(), 1, "unclosed elements");
    let mut root = stack.pop().unwrap();
    assert_eq!(root.children.len(), 1, "exactly one root element");
    root.children.pop().unwrap()
}

fn read_thunderbird(text: &str, account: &AccountSettings) -> Parsed {
    let root = parse_xml(text);
    assert_eq!(root.name, "clientConfig");
    assert_eq!(root.attr("version"), Some("1.1"));
    let provider = root.child("emailProvider");
    let (local, domain) = account.address.rsplit_once('@').unwrap();
    let server = |el: &El| {
        let sec = match el.text_of("socketType").as_str() {
            "SSL" => Sec::Tls,
            "STARTTLS" => Sec::StartTls,
            "plain" => Sec::Plain,
            other => panic!("socketType {other}"),
        };
        // Thunderbird substitutes these placeholders.
        let user = el.opt("username").map(|u| {
            u.text
                .replace("%EMAILADDRESS%", &account.address)
                .replace("%EMAILLOCALPART%", local)
                .replace("%EMAILDOMAIN%", domain)
        });
        let user = if el.text_of("authentication") == "none" {
            None
        } else {
            user
        };
        srv(&el.text_of("hostname"), el.text_of("port"), sec, user)
    };
    let incoming = provider.child("incomingServer");
    assert_eq!(
        incoming.attr("type"),
        Some(match account.incoming.endpoint.protocol {
            Protocol::Pop3 => "pop3",
            _ => "imap",
        })
    );
    if let Some(pop3) = incoming.opt("pop3") {
        assert_eq!(
            pop3.text_of("leaveMessagesOnServer"),
            account.pop3.keep.to_string()
        );
    }
    Parsed {
        incoming: Some(server(incoming)),
        outgoing: Some(server(provider.child("outgoingServer"))),
        ..Default::default()
    }
}

fn read_outlook(text: &str) -> Parsed {
    let root = parse_xml(text);
    assert_eq!(root.name, "Autodiscover");
    let response = root.child("Response");
    let account = response.child("Account");
    assert_eq!(account.text_of("Action"), "settings");
    let mut parsed = Parsed {
        display_name: response.opt("User").map(|u| u.text_of("DisplayName")),
        ..Default::default()
    };
    for p in account.all("Protocol") {
        let sec = match (p.text_of("SSL").as_str(), p.text_of("Encryption").as_str()) {
            ("on", "SSL") => Sec::Tls,
            ("on", "TLS") => Sec::StartTls,
            ("off", "None") => Sec::Plain,
            other => panic!("SSL/Encryption {other:?}"),
        };
        assert_eq!(p.text_of("SPA"), "off");
        let user = p.opt("LoginName").map(|l| l.text.clone());
        let s = srv(&p.text_of("Server"), p.text_of("Port"), sec, user);
        match p.text_of("Type").as_str() {
            "SMTP" => parsed.outgoing = Some(s),
            "IMAP" | "POP3" => parsed.incoming = Some(s),
            other => panic!("Type {other}"),
        }
    }
    parsed
}

fn read_k9(text: &str) -> Parsed {
    let root = parse_xml(text);
    assert_eq!(root.name, "k9settings");
    assert_eq!(root.attr("format"), Some("1"));
    let account = root.child("accounts").child("account");
    let uuid = account.attr("uuid").unwrap();
    assert_eq!(uuid.len(), 36);
    let server = |el: &El| {
        let sec = match el.text_of("connection-security").as_str() {
            "SSL_TLS_REQUIRED" => Sec::Tls,
            "STARTTLS_REQUIRED" => Sec::StartTls,
            "NONE" => Sec::Plain,
            other => panic!("connection-security {other}"),
        };
        let user = el.opt("username").map(|u| u.text.clone());
        srv(&el.text_of("host"), el.text_of("port"), sec, user)
    };
    let identity = account.child("identities").child("identity");
    let name = identity.text_of("name");
    Parsed {
        incoming: Some(server(account.child("incoming-server"))),
        outgoing: Some(server(account.child("outgoing-server"))),
        display_name: (!name.is_empty()).then_some(name),
        password: account
            .child("incoming-server")
            .opt("password")
            .map(|p| p.text.clone()),
        ..Default::default()
    }
}

fn read_apple(text: &str) -> Parsed {
    let value = plist::Value::from_reader_xml(std::io::Cursor::new(text.as_bytes()))
        .expect("valid property list");
    let top = value.as_dictionary().unwrap();
    assert_eq!(top["PayloadType"].as_string(), Some("Configuration"));
    let payload = top["PayloadContent"].as_array().unwrap()[0]
        .as_dictionary()
        .unwrap();
    assert_eq!(
        payload["PayloadType"].as_string(),
        Some("com.apple.mail.managed")
    );
    let s = |key: &str| {
        payload
            .get(key)
            .and_then(|v| v.as_string())
            .map(str::to_string)
    };
    let server = |side: &str| {
        let sec = if payload[&format!("{side}MailServerUseSSL")]
            .as_boolean()
            .unwrap()
        {
            Sec::AnyTls
        } else {
            Sec::Plain
        };
        srv(
            &s(&format!("{side}MailServerHostName")).unwrap(),
            payload[&format!("{side}MailServerPortNumber")]
                .as_unsigned_integer()
                .unwrap(),
            sec,
            s(&format!("{side}MailServerUsername")),
        )
    };
    Parsed {
        incoming: Some(server("Incoming")),
        outgoing: Some(server("Outgoing")),
        display_name: s("EmailAccountName"),
        password: s("IncomingPassword"),
        ..Default::default()
    }
}

// --- URLs (mutt, aerc, himalaya) -------------------------------------------

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).expect("percent escape"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// scheme://[user[:pass]@]host:port[/...] → (scheme, user, pass, host, port)
fn parse_url(url: &str) -> (String, Option<String>, Option<String>, String, u16) {
    let (scheme, rest) = url.split_once("://").expect("URL scheme");
    let rest = rest.trim_end_matches('/');
    assert!(!rest.contains('/'), "path in {url}");
    let (userinfo, hostport) = match rest.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, rest),
    };
    assert!(!hostport.contains('@'));
    let (user, pass) = match userinfo {
        Some(u) => match u.split_once(':') {
            Some((u, p)) => (Some(percent_decode(u)), Some(percent_decode(p))),
            None => (Some(percent_decode(u)), None),
        },
        None => (None, None),
    };
    assert!(user.as_deref().is_none_or(|u| !u.is_empty()));
    let (host, port) = hostport.rsplit_once(':').expect("port in URL");
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    (
        scheme.to_string(),
        user,
        pass,
        host.to_string(),
        port.parse().unwrap(),
    )
}

// --- muttrc -----------------------------------------------------------------

/// `set name = value` lines: double-quoted values with backslash escapes.
fn parse_muttrc(text: &str) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let rest = line.strip_prefix("set ").expect("only set commands");
        let (name, value) = rest.split_once(" = ").expect("name = value");
        let value = if let Some(inner) = value.strip_prefix('"') {
            let mut out = String::new();
            let mut chars = inner.chars();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '\\' => out.push(chars.next().expect("escaped char")),
                    '"' => {
                        closed = true;
                        break;
                    }
                    // Mutt runs `…` inside double quotes: the raw text up to the
                    // next backtick (a backslash skips one character) is the command.
                    '`' => {
                        out.push('`');
                        loop {
                            match chars.next().expect("closing backtick") {
                                '`' => break,
                                '\\' => {
                                    out.push('\\');
                                    out.push(chars.next().expect("escaped char"));
                                }
                                c => out.push(c),
                            }
                        }
                        out.push('`');
                    }
                    c => out.push(c),
                }
            }
            assert!(closed, "unterminated string in {line:?}");
            assert_eq!(chars.as_str(), "", "text after the string in {line:?}");
            out
        } else {
            assert!(!value.contains(char::is_whitespace));
            value.to_string()
        };
        assert!(
            vars.insert(name.to_string(), value).is_none(),
            "{name} twice"
        );
    }
    vars
}

fn mutt_pass(value: &str) -> (Option<String>, Option<String>) {
    match value.strip_prefix('`').and_then(|v| v.strip_suffix('`')) {
        Some(cmd) => (Some(cmd.to_string()), None),
        None => (None, Some(value.to_string())),
    }
}

fn read_muttrc(text: &str) -> Parsed {
    let vars = parse_muttrc(text);
    let (mut parsed, pass) = if let Some(pop_host) = vars.get("pop_host") {
        let (scheme, _, _, host, port) = parse_url(pop_host);
        let sec = match (scheme.as_str(), vars["ssl_force_tls"].as_str()) {
            ("pops", _) => Sec::Tls,
            ("pop", "yes") => Sec::StartTls,
            ("pop", _) => Sec::Plain,
            other => panic!("{other:?}"),
        };
        let incoming = srv(&host, port, sec, vars.get("pop_user").cloned());
        (
            Parsed {
                incoming: Some(incoming),
                ..Default::default()
            },
            &vars["pop_pass"],
        )
    } else {
        let (scheme, _, _, host, port) = parse_url(&vars["folder"]);
        let sec = match (scheme.as_str(), vars["ssl_force_tls"].as_str()) {
            ("imaps", _) => Sec::Tls,
            ("imap", "yes") => Sec::StartTls,
            ("imap", _) => Sec::Plain,
            other => panic!("{other:?}"),
        };
        let incoming = srv(&host, port, sec, vars.get("imap_user").cloned());
        (
            Parsed {
                incoming: Some(incoming),
                ..Default::default()
            },
            &vars["imap_pass"],
        )
    };
    let (scheme, user, _, host, port) = parse_url(&vars["smtp_url"]);
    let sec = match (scheme.as_str(), vars["ssl_force_tls"].as_str()) {
        ("smtps", _) => Sec::Tls,
        ("smtp", "yes") => Sec::StartTls,
        ("smtp", _) => Sec::Plain,
        other => panic!("{other:?}"),
    };
    parsed.outgoing = Some(srv(&host, port, sec, user));
    parsed.display_name = vars
        .get("real_name")
        .or_else(|| vars.get("realname"))
        .cloned();
    (parsed.password_command, parsed.password) = mutt_pass(pass);
    if vars.contains_key("spool_file") {
        // NeoMutt tokenizes the command again: `\X` stands for X.
        parsed.password_command = parsed.password_command.map(|cmd| {
            let mut out = String::new();
            let mut chars = cmd.chars();
            while let Some(c) = chars.next() {
                out.push(if c == '\\' { chars.next().unwrap() } else { c });
            }
            out
        });
    }
    if let Some(smtp_pass) = vars.get("smtp_pass") {
        assert_eq!(smtp_pass, pass);
    }
    parsed
}

// --- go-ini (aerc) --------------------------------------------------------------

/// go-ini as aerc loads it: `key = value`, a backtick-quoted value is taken
/// literally up to the last backtick, otherwise `#`/`;` start a comment and
/// surrounding quotes are stripped.
fn parse_go_ini(text: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut sections: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[') {
            current = name.trim_end().strip_suffix(']').expect("]").to_string();
            continue;
        }
        let (key, value) = line.split_once('=').expect("key = value");
        let value = value.trim_start();
        let value = if let Some(inner) = value.strip_prefix('`') {
            let end = inner.rfind('`').expect("closing backtick");
            inner[..end].to_string()
        } else {
            let value = match value.find(['#', ';']) {
                Some(i) => &value[..i],
                None => value,
            };
            value.trim().trim_matches('"').to_string()
        };
        sections
            .entry(current.clone())
            .or_default()
            .insert(key.trim().to_string(), value);
    }
    sections
}

/// RFC 5322 `"quoted name" <addr>` or a bare address.
fn parse_mailbox(value: &str) -> (Option<String>, String) {
    match value.strip_prefix('"') {
        None => (None, value.to_string()),
        Some(rest) => {
            let mut name = String::new();
            let mut chars = rest.chars();
            loop {
                match chars.next().expect("closing quote") {
                    '\\' => name.push(chars.next().unwrap()),
                    '"' => break,
                    c => name.push(c),
                }
            }
            let addr = chars.as_str().trim();
            let addr = addr
                .strip_prefix('<')
                .and_then(|a| a.strip_suffix('>'))
                .unwrap();
            (Some(name), addr.to_string())
        }
    }
}

fn read_aerc(text: &str) -> Parsed {
    let sections = parse_go_ini(text);
    assert_eq!(sections.len(), 1, "one account section");
    let account = sections.values().next().unwrap();
    let url_srv = |url: &str| {
        let (scheme, user, pass, host, port) = parse_url(url);
        let base = scheme.split('+').next().unwrap();
        let sec = match (base, scheme.contains("+insecure")) {
            ("imaps" | "smtps", _) => Sec::Tls,
            ("imap" | "smtp", false) => Sec::StartTls,
            ("imap" | "smtp", true) => Sec::Plain,
            other => panic!("{other:?}"),
        };
        (srv(&host, port, sec, user), pass)
    };
    let (incoming, pass) = url_srv(&account["source"]);
    let (outgoing, _) = url_srv(&account["outgoing"]);
    let (name, addr) = parse_mailbox(&account["from"]);
    assert!(addr.contains('@'));
    Parsed {
        incoming: Some(incoming),
        outgoing: Some(outgoing),
        display_name: name,
        password_command: account.get("source-cred-cmd").cloned(),
        password: pass,
    }
}

// --- TOML (himalaya) -------------------------------------------------------------

fn toml_account(text: &str) -> toml::Table {
    let value: toml::Table = toml::from_str(text).expect("valid TOML");
    let accounts = value["accounts"].as_table().unwrap();
    assert_eq!(accounts.len(), 1);
    accounts
        .values()
        .next()
        .unwrap()
        .as_table()
        .unwrap()
        .clone()
}

fn read_himalaya_v2(text: &str) -> Parsed {
    let account = toml_account(text);
    let mut parsed = Parsed {
        display_name: account
            .get("display-name")
            .map(|v| v.as_str().unwrap().to_string()),
        ..Default::default()
    };
    for proto in ["imap", "smtp"] {
        let t = account[proto].as_table().unwrap();
        let (scheme, _, _, host, port) = parse_url(t["server"].as_str().unwrap());
        let starttls = t.get("starttls").and_then(|v| v.as_bool()).unwrap_or(false);
        let sec = match (scheme.ends_with('s'), starttls) {
            (true, false) => Sec::Tls,
            (false, true) => Sec::StartTls,
            (false, false) => Sec::Plain,
            other => panic!("{other:?}"),
        };
        let plain = t
            .get("sasl")
            .map(|s| s.as_table().unwrap()["plain"].as_table().unwrap().clone());
        let user = plain
            .as_ref()
            .map(|p| p["username"].as_str().unwrap().to_string());
        if let Some(p) = &plain {
            let password = p["password"].as_table().unwrap();
            parsed.password_command = password
                .get("command")
                .map(|c| c.as_str().unwrap().to_string());
            parsed.password = password.get("raw").map(|c| c.as_str().unwrap().to_string());
        }
        let s = srv(&host, port, sec, user);
        if proto == "imap" {
            parsed.incoming = Some(s);
        } else {
            parsed.outgoing = Some(s);
        }
    }
    parsed
}

fn read_himalaya_v1(text: &str) -> Parsed {
    let account = toml_account(text);
    let mut parsed = Parsed {
        display_name: account
            .get("display-name")
            .map(|v| v.as_str().unwrap().to_string()),
        ..Default::default()
    };
    let send = account["message"].as_table().unwrap()["send"]
        .as_table()
        .unwrap()["backend"]
        .as_table()
        .unwrap()
        .clone();
    for (t, incoming) in [
        (account["backend"].as_table().unwrap().clone(), true),
        (send, false),
    ] {
        let sec = match t["encryption"].as_table().unwrap()["type"]
            .as_str()
            .unwrap()
        {
            "tls" => Sec::Tls,
            "start-tls" => Sec::StartTls,
            "none" => Sec::Plain,
            other => panic!("{other}"),
        };
        let auth = t["auth"].as_table().unwrap();
        assert_eq!(auth["type"].as_str(), Some("password"));
        parsed.password_command = auth.get("cmd").map(|c| c.as_str().unwrap().to_string());
        parsed.password = auth.get("raw").map(|c| c.as_str().unwrap().to_string());
        let s = srv(
            t["host"].as_str().unwrap(),
            t["port"].as_integer().unwrap(),
            sec,
            Some(t["login"].as_str().unwrap().to_string()),
        );
        if incoming {
            parsed.incoming = Some(s);
        } else {
            parsed.outgoing = Some(s);
        }
    }
    parsed
}

// --- isync/mbsync -----------------------------------------------------------------

/// isync's `get_arg`: `"` toggles quoting, `\` escapes the next character.
fn mbsync_args(line: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut cur = String::new();
    let (mut quoted, mut escaped, mut any) = (false, false, false);
    for c in line.chars() {
        if escaped {
            cur.push(c);
            escaped = false;
            any = true;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
            any = true;
        } else if c.is_whitespace() && !quoted {
            if any {
                args.push(std::mem::take(&mut cur));
                any = false;
            }
        } else {
            cur.push(c);
            any = true;
        }
    }
    assert!(!quoted && !escaped, "unterminated argument in {line:?}");
    if any {
        args.push(cur);
    }
    args
}

fn read_mbsync(text: &str) -> Parsed {
    let mut kv = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let args = mbsync_args(line);
        if args[0] == "AuthMechs" {
            continue;
        }
        assert_eq!(
            args.len(),
            2,
            "one argument per keyword: {line:?} → {args:?}"
        );
        // Store blocks repeat keywords like Path; the IMAPAccount block comes first.
        kv.entry(args[0].clone()).or_insert_with(|| args[1].clone());
    }
    let sec = match kv["SSLType"].as_str() {
        "IMAPS" => Sec::Tls,
        "STARTTLS" => Sec::StartTls,
        "None" => Sec::Plain,
        other => panic!("{other}"),
    };
    Parsed {
        incoming: Some(srv(&kv["Host"], &kv["Port"], sec, kv.get("User").cloned())),
        password_command: kv.get("PassCmd").map(|c| c.trim_start().to_string()),
        password: kv.get("Pass").cloned(),
        ..Default::default()
    }
}

// --- msmtp / mpop ---------------------------------------------------------------------

/// msmtp/mpop: `command argument`, the argument optionally in one outer pair of quotes.
fn read_msmtp_like(text: &str, incoming: bool) -> Parsed {
    let mut kv = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (cmd, arg) = line.split_once(' ').unwrap_or((line, ""));
        let arg = arg.trim();
        let arg = if arg.len() >= 2 && arg.starts_with('"') && arg.ends_with('"') {
            &arg[1..arg.len() - 1]
        } else {
            arg
        };
        kv.insert(cmd.to_string(), arg.to_string());
    }
    let sec = match (kv["tls"].as_str(), kv["tls_starttls"].as_str()) {
        ("on", "off") => Sec::Tls,
        ("on", "on") => Sec::StartTls,
        ("off", _) => Sec::Plain,
        other => panic!("{other:?}"),
    };
    let s = srv(&kv["host"], &kv["port"], sec, kv.get("user").cloned());
    let mut parsed = Parsed {
        password_command: kv.get("passwordeval").cloned(),
        password: kv.get("password").cloned(),
        ..Default::default()
    };
    if incoming {
        parsed.incoming = Some(s);
    } else {
        parsed.outgoing = Some(s);
    }
    parsed
}

// --- fetchmail ------------------------------------------------------------------------

/// fetchmail's lexer: `"…"` strings (no `"` inside) with backslash escapes
/// (`\\`, octal `\NNN`, `\xHH`, `\n`…); bare words otherwise; `#` comments.
fn fetchmail_tokens(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    for line in text.lines() {
        let mut chars = line.chars().peekable();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                chars.next();
            } else if c == '#' {
                break;
            } else if c == '"' {
                chars.next();
                let mut raw = String::new();
                loop {
                    match chars.next().expect("closing quote") {
                        '"' => break,
                        c => raw.push(c),
                    }
                }
                tokens.push(fetchmail_unescape(&raw));
            } else {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                tokens.push(word);
            }
        }
    }
    tokens
}

fn fetchmail_unescape(raw: &str) -> String {
    let mut out = String::new();
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next().expect("escape") {
            'x' => {
                let mut v = 0u32;
                for _ in 0..2 {
                    match chars.peek().and_then(|c| c.to_digit(16)) {
                        Some(d) => {
                            v = v * 16 + d;
                            chars.next();
                        }
                        None => break,
                    }
                }
                out.push(char::from_u32(v).unwrap());
            }
            d @ '0'..='7' => {
                let mut v = d.to_digit(8).unwrap();
                for _ in 0..2 {
                    match chars.peek().and_then(|c| c.to_digit(8)) {
                        Some(d) => {
                            v = v * 8 + d;
                            chars.next();
                        }
                        None => break,
                    }
                }
                out.push(char::from_u32(v).unwrap());
            }
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            other => out.push(other),
        }
    }
    out
}

fn read_fetchmail(text: &str) -> Parsed {
    let tokens = fetchmail_tokens(text);
    // The token after keyword `kw` (`auth password` is the auth keyword's argument).
    let after = |kw: &str| {
        (1..tokens.len())
            .find(|&i| tokens[i] == kw && tokens[i - 1] != "auth")
            .map(|i| tokens[i + 1].clone())
    };
    assert_eq!(tokens[0], "poll");
    let sec = match (
        tokens.iter().any(|t| t == "ssl"),
        after("sslproto").as_deref(),
    ) {
        (true, _) => Sec::Tls,
        (false, Some("")) | (false, None) => Sec::Plain,
        (false, Some(_)) => Sec::StartTls,
    };
    Parsed {
        incoming: Some(srv(&tokens[1], after("port").unwrap(), sec, after("user"))),
        password: after("password"),
        ..Default::default()
    }
}

// --- INI flavours ------------------------------------------------------------------------

type Ini = BTreeMap<String, BTreeMap<String, String>>;

/// Python configparser rules (what getmail and OfflineIMAP use): `key = value`
/// split at the first `=`, both sides stripped, full-line `#`/`;` comments,
/// `%%` → `%` when interpolating.
fn parse_python_ini(text: &str, interpolate: bool) -> Ini {
    let mut ini = Ini::new();
    let mut current = None;
    for line in text.lines() {
        assert!(!line.starts_with([' ', '\t']), "continuation line {line:?}");
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[') {
            let name = name.strip_suffix(']').expect("]").to_string();
            assert!(ini.insert(name.clone(), BTreeMap::new()).is_none());
            current = Some(name);
            continue;
        }
        let (key, value) = line.split_once('=').expect("key = value");
        let mut value = value.trim().to_string();
        if interpolate {
            assert!(
                !value.replace("%%", "").contains('%'),
                "uninterpolated % in {value:?}"
            );
            value = value.replace("%%", "%");
        }
        let section = ini.get_mut(current.as_ref().expect("section")).unwrap();
        assert!(section.insert(key.trim().to_lowercase(), value).is_none());
    }
    ini
}

/// The same file read by Python's own configparser (when python3 is installed),
/// for the cross-check: the Rust reading above must agree with it.
fn python_ini(text: &str, interpolate: bool) -> Option<Ini> {
    static PYTHON: std::sync::OnceLock<Option<&'static str>> = std::sync::OnceLock::new();
    let python = (*PYTHON.get_or_init(|| {
        ["/usr/bin/python3", "python3"].into_iter().find(|p| {
            Command::new(p)
                .arg("-c")
                .arg("")
                .output()
                .is_ok_and(|o| o.status.success())
        })
    }))?;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rc");
    std::fs::write(&path, text).unwrap();
    let parser = if interpolate {
        "configparser.ConfigParser()"
    } else {
        "configparser.RawConfigParser()"
    };
    let script = format!(
        "import configparser, json, sys\n\
         c = {parser}\n\
         c.read(sys.argv[1], encoding='utf-8')\n\
         print(json.dumps({{s: {{k: c.get(s, k) for k in c.options(s)}} for s in c.sections()}}))\n"
    );
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

fn read_python_ini(text: &str, interpolate: bool) -> Ini {
    let ini = parse_python_ini(text, interpolate);
    if let Some(py) = python_ini(text, interpolate) {
        assert_eq!(py, ini, "Python's configparser reads the file differently");
    }
    ini
}

/// The string items of a Python literal: `'…'` strings with `\\`, `\'`,
/// `\uXXXX`, `\UXXXXXXXX` and `\n` escapes.
fn python_strings(literal: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = literal.chars();
    while let Some(c) = chars.next() {
        if c != '\'' {
            continue;
        }
        let mut s = String::new();
        loop {
            match chars.next().expect("closing quote") {
                '\'' => break,
                '\\' => match chars.next().unwrap() {
                    e @ ('u' | 'U') => {
                        let n = if e == 'u' { 4 } else { 8 };
                        let hex: String = chars.by_ref().take(n).collect();
                        s.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap());
                    }
                    'n' => s.push('\n'),
                    other => s.push(other),
                },
                c => s.push(c),
            }
        }
        out.push(s);
    }
    out
}

fn read_getmail(text: &str) -> Parsed {
    let ini = read_python_ini(text, false);
    let r = &ini["retriever"];
    let sec = match (r["type"].as_str(), r.get("ca_certs")) {
        ("SimplePOP3SSLRetriever" | "SimpleIMAPSSLRetriever", Some(_)) => Sec::Tls,
        ("SimplePOP3Retriever" | "SimpleIMAPRetriever", None) => Sec::Plain,
        other => panic!("{other:?}"),
    };
    let password_command = r.get("password_command").map(|t| {
        let items = python_strings(t);
        assert_eq!(items[..2], ["/bin/sh", "-c"], "{t}");
        assert_eq!(items.len(), 3);
        items[2].clone()
    });
    Parsed {
        incoming: Some(srv(
            &r["server"],
            &r["port"],
            sec,
            r.get("username").cloned(),
        )),
        password_command,
        password: r.get("password").cloned(),
        ..Default::default()
    }
}

fn read_offlineimap(text: &str) -> Parsed {
    let ini = read_python_ini(text, true);
    let accounts = &ini["general"]["accounts"];
    let remote_name = &ini[&format!("Account {accounts}")]["remoterepository"];
    let r = &ini[&format!("Repository {remote_name}")];
    assert_eq!(r["type"], "IMAP");
    let sec = match (r["ssl"].as_str(), r["starttls"].as_str()) {
        ("yes", "no") => Sec::Tls,
        ("no", "no") => Sec::Plain,
        other => panic!("{other:?}"),
    };
    let password_command = r.get("remotepasseval").map(|expr| {
        let items = python_strings(expr);
        assert_eq!(items[..3], ["subprocess", "/bin/sh", "-c"], "{expr}");
        items[3].clone()
    });
    Parsed {
        incoming: Some(srv(
            &r["remotehost"],
            &r["remoteport"],
            sec,
            r.get("remoteuser").cloned(),
        )),
        password_command,
        password: r.get("remotepass").cloned(),
        ..Default::default()
    }
}

/// Claws Mail prefs: `[Account: N]`, then raw `key=value` lines.
fn read_claws(text: &str) -> Parsed {
    let mut kv = BTreeMap::new();
    let mut sections = 0;
    for line in text.lines() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if line.starts_with("[Account: ") {
            sections += 1;
            continue;
        }
        let (k, v) = line.split_once('=').expect("key=value");
        assert!(
            kv.insert(k.to_string(), v.to_string()).is_none(),
            "{k} twice"
        );
    }
    assert_eq!(sections, 1);
    let sec = |v: &str| match v {
        "1" => Sec::Tls,
        "2" => Sec::StartTls,
        "0" => Sec::Plain,
        other => panic!("{other}"),
    };
    let (ssl, port) = if kv["protocol"] == "0" {
        (&kv["ssl_pop"], &kv["pop_port"])
    } else {
        (&kv["ssl_imap"], &kv["imap_port"])
    };
    let user = kv["user_id"].clone();
    let out_user = (kv["use_smtp_auth"] == "1").then(|| match kv["smtp_user_id"].as_str() {
        "" => user.clone(),
        u => u.to_string(),
    });
    Parsed {
        incoming: Some(srv(
            &kv["receive_server"],
            port,
            sec(ssl),
            Some(user.clone()),
        )),
        outgoing: Some(srv(
            &kv["smtp_server"],
            &kv["smtp_port"],
            sec(&kv["ssl_smtp"]),
            out_user,
        )),
        display_name: Some(kv["name"].clone()).filter(|n| !n.is_empty()),
        ..Default::default()
    }
}

/// GLib key file: `[Group]`, `Key=Value` with leading blanks of the value
/// dropped and `\s \n \t \r \\` unescaped.
fn parse_gkeyfile(text: &str) -> Ini {
    let mut ini = Ini::new();
    let mut current = String::new();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[') {
            current = name.strip_suffix(']').expect("]").to_string();
            assert!(ini.insert(current.clone(), BTreeMap::new()).is_none());
            continue;
        }
        let (k, v) = line.split_once('=').expect("key=value");
        let v = v
            .trim_start_matches([' ', '\t'])
            .trim_end_matches([' ', '\t']);
        let mut value = String::new();
        let mut chars = v.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                value.push(match chars.next().expect("escape") {
                    's' => ' ',
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    '\\' => '\\',
                    other => panic!("invalid escape \\{other}"),
                });
            } else {
                value.push(c);
            }
        }
        ini.get_mut(&current)
            .unwrap()
            .insert(k.trim().to_string(), value);
    }
    ini
}

fn read_evolution(files: &[OutputFile]) -> Parsed {
    let parsed: Vec<(String, Ini)> = files
        .iter()
        .map(|f| {
            let uid = f.path.file_stem().unwrap().to_string_lossy().into_owned();
            (uid, parse_gkeyfile(&f.contents))
        })
        .collect();
    let find = |group: &str| {
        parsed
            .iter()
            .find(|(_, ini)| ini.contains_key(group))
            .unwrap_or_else(|| panic!("no source with [{group}]"))
    };
    let (account_uid, account) = find("Mail Account");
    let (identity_uid, identity) = find("Mail Identity");
    let (transport_uid, transport) = find("Mail Transport");
    assert_eq!(&account["Mail Account"]["IdentityUid"], identity_uid);
    assert_eq!(&identity["Data Source"]["Parent"], account_uid);
    assert_eq!(&identity["Mail Submission"]["TransportUid"], transport_uid);
    assert_eq!(&transport["Data Source"]["Parent"], account_uid);
    let server = |ini: &Ini| {
        let auth = &ini["Authentication"];
        let sec = match ini["Security"]["Method"].as_str() {
            "ssl-on-alternate-port" => Sec::Tls,
            "starttls-on-standard-port" => Sec::StartTls,
            "none" => Sec::Plain,
            other => panic!("{other}"),
        };
        srv(&auth["Host"], &auth["Port"], sec, auth.get("User").cloned())
    };
    let name = identity["Mail Identity"]["Name"].clone();
    Parsed {
        incoming: Some(server(account)),
        outgoing: Some(server(transport)),
        display_name: (!name.is_empty()).then_some(name),
        ..Default::default()
    }
}

// ---------------------------------------------------------------------------
// Structure tests
// ---------------------------------------------------------------------------

fn check_round_trip(
    client: &str,
    account: &AccountSettings,
    opts: &WriteOptions,
) -> Result<(), WriteError> {
    let files = render(client, account, opts)?;
    let parsed = read_back(client, &files, account);
    assert_eq!(
        parsed,
        expected(client, account, opts),
        "{client}: the file reads back differently from the account\n{}",
        files
            .iter()
            .map(|f| f.contents.as_str())
            .collect::<Vec<_>>()
            .join("\n----\n")
    );
    Ok(())
}

#[test]
fn every_file_parses_to_the_account() {
    let mut checked = 0;
    for info in CLIENTS {
        for (case, account) in cases() {
            match check_round_trip(info.name, &account, &WriteOptions::default()) {
                Ok(()) => checked += 1,
                Err(WriteError::Unsupported { .. }) => {}
                Err(e) => panic!("{} {case}: {e}", info.name),
            }
        }
    }
    assert!(checked >= 25, "only {checked} files checked");
}

#[test]
fn variants_parse_to_the_account() {
    // STARTTLS and plaintext variants, other usernames, SMTP without login,
    // keep/delete policies, custom commands and embedded passwords.
    let mut starttls = imap_account();
    starttls.incoming = server("imap://imap.example.com:143", "alice");
    starttls.outgoing = server("smtp://smtp.example.com:587", "alice");
    let mut plain = pop3_account();
    plain.incoming = server("pop3+plain://pop.example.com:110", "alice");
    plain.outgoing = server("smtp+plain://smtp.example.com:25", "alice");
    plain.outgoing.auth = AuthMethod::None;
    plain.outgoing.username = String::new();
    plain.display_name = None;
    let mut delete = pop3_account();
    delete.pop3 = Pop3Policy {
        keep: false,
        keep_days: None,
    };
    let mut cram = imap_account();
    cram.incoming.auth = AuthMethod::PasswordEncrypted;
    cram.outgoing.auth = AuthMethod::PasswordEncrypted;
    let mut ipv6 = imap_account();
    ipv6.incoming = server("imaps://[2001:db8::1]:993", "alice@example.com");
    let custom = WriteOptions {
        password_command: Some("secret-tool lookup service 'imap' user \"alice\"".into()),
        maildir: Some("/srv/mail/alice".into()),
        account_name: Some("work".into()),
        ..Default::default()
    };
    let embedded = WriteOptions {
        embed_password: Some(Secret::new("p@ss w\"o'r`d$%(x)s\\;#".into())),
        ..Default::default()
    };
    for info in CLIENTS {
        for account in [&starttls, &plain, &delete, &cram, &ipv6] {
            for opts in [&WriteOptions::default(), &custom, &embedded] {
                match check_round_trip(info.name, account, opts) {
                    Ok(()) | Err(WriteError::Unsupported { .. }) => {}
                    Err(e) => panic!("{}: {e}", info.name),
                }
            }
        }
    }
}

#[test]
fn pop3_policy_is_explicit_in_every_pop3_file() {
    for (keep, days) in [(true, None), (true, Some(7)), (false, None)] {
        let mut account = pop3_account();
        account.pop3 = Pop3Policy {
            keep,
            keep_days: days,
        };
        for info in CLIENTS
            .iter()
            .filter(|c| c.incoming.contains(&Protocol::Pop3))
        {
            let files = render(info.name, &account, &WriteOptions::default()).unwrap();
            let all: String = files.iter().map(|f| f.contents.as_str()).collect();
            let notes: Vec<&String> = files.iter().flat_map(|f| &f.notes).collect();
            let policy_in_file = match info.name {
                "thunderbird" => all.contains(&format!(
                    "<leaveMessagesOnServer>{keep}</leaveMessagesOnServer>"
                )),
                "fetchmail" => all.contains(if keep { "    keep\n" } else { "    nokeep\n" }),
                "getmail" => all.contains(&format!("delete = {}\n", !keep)),
                "mpop" => all.contains(if keep { "keep on\n" } else { "keep off\n" }),
                "neomutt" | "mutt" => all.contains(if keep {
                    "pop_delete = no"
                } else {
                    "pop_delete = yes"
                }),
                "k9" => all.contains(if keep { ">NEVER<" } else { ">DELETE<" }),
                "claws-mail" => all.contains(if keep && days.is_none() {
                    "remove_mail=0"
                } else {
                    "remove_mail=1"
                }),
                "evolution" => all.contains(&format!("KeepOnServer={keep}")),
                // Formats without a policy field say so in a note.
                "apple-mail" | "outlook" => notes.iter().any(|n| n.contains("cannot")),
                other => panic!("no policy check for {other}"),
            };
            assert!(
                policy_in_file,
                "{}: keep={keep} days={days:?}\n{all}",
                info.name
            );
            if keep {
                assert!(
                    notes.iter().any(|n| n.contains("storage quota")),
                    "{}: no storage note",
                    info.name
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Hostile values
// ---------------------------------------------------------------------------

const HOSTILE: &[&str] = &[
    "O'Brien \"Bob\"",
    "a # not a comment",
    "#leading hash",
    "100% %s %n %U %(x)s %%",
    "`id` $(id) $HOME ${HOME} $",
    "back\\slash\\",
    "semi;colon; x=y",
    "at@sign@example.com",
    "Zoë 😀 日本語 rtl",
    // Persian with a zero-width non-joiner (U+200C): a script needs it, so it is kept.
    "نی\u{200c}نی",
    "]]> <![CDATA[",
    "</username><x>&amp;",
    "[section]",
    "key = value",
    "\"quoted\"",
    "'single'",
    "%EMAILADDRESS%",
    "~/tilde",
    "+plus",
    "-dash",
    "a=b",
    "}}{{",
    "\\\"",
];

/// Characters that make a file read differently than it works: refused by every writer.
const DECEPTIVE: &[&str] = &[
    "evil\u{202e}txt.exe",
    "iso\u{2066}late",
    "zero\u{200b}width",
    "bom\u{feff}",
    "tag\u{e0041}",
];

#[test]
fn deceptive_characters_are_refused_everywhere() {
    for info in CLIENTS {
        for value in DECEPTIVE {
            let mut account = base_account(info.name);
            account.display_name = Some(value.to_string());
            let err = render(info.name, &account, &WriteOptions::default()).unwrap_err();
            assert!(
                matches!(err, WriteError::UnsafeValue { .. }),
                "{}: {value:?}: {err}",
                info.name
            );
        }
    }
}

const CONTROL: &[&str] = &[
    "line\nbreak",
    "car\rriage",
    "tab\tbed",
    "nul\0x",
    "esc\u{1b}[2J",
    "del\u{7f}",
    "nel\u{85}",
    "ls\u{2028}",
];

fn base_account(client: &str) -> AccountSettings {
    let info = CLIENTS.iter().find(|c| c.name == client).unwrap();
    if info.incoming.contains(&Protocol::Imap) || info.incoming.is_empty() {
        imap_account()
    } else {
        pop3_account()
    }
}

fn expect_round_trip_or_refusal(
    client: &str,
    account: &AccountSettings,
    opts: &WriteOptions,
    what: &str,
) -> bool {
    match check_round_trip(client, account, opts) {
        Ok(()) => true,
        Err(WriteError::UnsafeValue { field, reason }) => {
            assert!(!field.is_empty() && !reason.is_empty());
            false
        }
        Err(e) => panic!("{client}: {what}: unexpected error {e}"),
    }
}

#[test]
fn hostile_display_names_keep_the_structure_or_are_refused() {
    for info in CLIENTS {
        let mut written = 0;
        for value in HOSTILE {
            let mut account = base_account(info.name);
            account.display_name = Some(value.to_string());
            if expect_round_trip_or_refusal(info.name, &account, &WriteOptions::default(), value) {
                written += 1;
            }
        }
        // Refusing everything would be "safe" but useless.
        assert!(
            written >= HOSTILE.len() - 4,
            "{}: refused too many names",
            info.name
        );
    }
}

#[test]
fn hostile_usernames_keep_the_structure_or_are_refused() {
    for info in CLIENTS {
        let mut written = 0;
        for value in HOSTILE {
            let mut account = base_account(info.name);
            account.incoming.username = value.to_string();
            account.outgoing.username = value.to_string();
            if expect_round_trip_or_refusal(info.name, &account, &WriteOptions::default(), value) {
                written += 1;
            }
        }
        assert!(
            written >= HOSTILE.len() - 5,
            "{}: refused too many usernames",
            info.name
        );
    }
}

#[test]
fn hostile_password_commands_and_passwords_round_trip_or_are_refused() {
    for info in CLIENTS {
        for value in HOSTILE {
            let cmd = format!("printf '%s\\n' {value}");
            let by_command = WriteOptions {
                password_command: Some(cmd),
                ..Default::default()
            };
            expect_round_trip_or_refusal(info.name, &base_account(info.name), &by_command, value);
            let embedded = WriteOptions {
                embed_password: Some(Secret::new(value.to_string())),
                ..Default::default()
            };
            expect_round_trip_or_refusal(info.name, &base_account(info.name), &embedded, value);
        }
    }
}

#[test]
fn control_characters_are_always_refused() {
    for info in CLIENTS {
        for value in CONTROL {
            let mut by_name = base_account(info.name);
            by_name.display_name = Some(value.to_string());
            let mut by_user = base_account(info.name);
            by_user.incoming.username = value.to_string();
            by_user.outgoing.username = value.to_string();
            for account in [by_name, by_user] {
                assert!(
                    matches!(
                        render(info.name, &account, &WriteOptions::default()),
                        Err(WriteError::UnsafeValue { .. })
                    ),
                    "{}: {value:?} not refused",
                    info.name
                );
            }
            let opts = WriteOptions {
                password_command: Some(format!("pass {value}")),
                ..Default::default()
            };
            assert!(matches!(
                render(info.name, &base_account(info.name), &opts),
                Err(WriteError::UnsafeValue { .. })
            ));
            let opts = WriteOptions {
                embed_password: Some(Secret::new(value.to_string())),
                ..Default::default()
            };
            assert!(matches!(
                render(info.name, &base_account(info.name), &opts),
                Err(WriteError::UnsafeValue { .. })
            ));
        }
    }
}

#[test]
fn refusals_say_which_value_and_what_to_do() {
    let mut account = imap_account();
    account.display_name = Some("a\nb".into());
    let msg = render("mbsync", &account, &WriteOptions::default())
        .map(|_| ())
        .unwrap_err()
        .to_string();
    // Control characters are refused even by clients that do not write the name.
    assert!(msg.contains("display name"), "{msg}");
    let msg = render("neomutt", &account, &WriteOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("display name") && msg.contains("remove it"),
        "{msg}"
    );
    let opts = WriteOptions {
        password_command: Some("echo `id`".into()),
        ..Default::default()
    };
    let msg = render("aerc", &imap_account(), &opts)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("password command") && msg.contains("remove it"),
        "{msg}"
    );
}

// ---------------------------------------------------------------------------
// The real clients, where installed
// ---------------------------------------------------------------------------

fn installed(binary: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {binary}"))
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("{binary} is not installed; skipping its real-client check");
    }
    found
}

/// Writes the files into a fresh directory (with their modes) and returns it.
fn write_out(files: &[OutputFile]) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    for f in files {
        let path = dir.path().join(&f.path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &f.contents).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(f.mode)).unwrap();
    }
    dir
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run client");
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// A password command printing `value`, so clients that run it show it back.
fn printing(value: &str) -> WriteOptions {
    WriteOptions {
        password_command: Some(format!(
            "printf '%s\\n' {}",
            mailsetup::clients::quote::shell_word(value)
        )),
        ..Default::default()
    }
}

/// Hostile account: the value as display name and as both usernames.
fn hostile_account(client: &str, value: &str) -> AccountSettings {
    let mut account = base_account(client);
    account.display_name = Some(value.to_string());
    account.incoming.username = value.to_string();
    account.outgoing.username = value.to_string();
    account
}

/// `set name = "value"` (NeoMutt) or `name="value"` (Mutt) from `-Q`.
fn mutt_query(binary: &str, rc: &Path, var: &str) -> String {
    let out = run(Command::new(binary)
        .arg("-n")
        .arg("-F")
        .arg(rc)
        .arg("-Q")
        .arg(var));
    let line = out
        .lines()
        .find(|l| l.starts_with(&format!("set {var} = ")) || l.starts_with(&format!("{var}=")))
        .unwrap_or_else(|| panic!("{binary} -Q {var}: {out}"));
    let quoted = &line[line.find('"').expect("quoted value")..];
    let mut value = String::new();
    let mut chars = quoted[1..quoted.len() - 1].chars();
    while let Some(c) = chars.next() {
        value.push(if c == '\\' { chars.next().unwrap() } else { c });
    }
    value
}

#[test]
fn neomutt_and_mutt_read_hostile_values_back() {
    for (client, binary, name_var) in [
        ("neomutt", "neomutt", "real_name"),
        ("mutt", "mutt", "realname"),
    ] {
        if !installed(binary) {
            continue;
        }
        for value in HOSTILE {
            let account = hostile_account(client, value);
            let Ok(files) = render(client, &account, &printing(value)) else {
                continue;
            };
            let dir = write_out(&files);
            let rc = dir.path().join(&files[0].path);
            assert_eq!(
                mutt_query(binary, &rc, name_var),
                *value,
                "{client} display name"
            );
            assert_eq!(
                mutt_query(binary, &rc, "imap_user"),
                *value,
                "{client} username"
            );
            assert_eq!(
                mutt_query(binary, &rc, "imap_pass"),
                *value,
                "{client} password command"
            );
            let smtp_url = mutt_query(binary, &rc, "smtp_url");
            assert_eq!(
                parse_url(&smtp_url).1.as_deref(),
                Some(*value),
                "{client} smtp_url"
            );
        }
    }
}

/// `key = value` lines of msmtp/mpop `--pretend`.
fn pretend_value(out: &str, key: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{key} = ")))
        .unwrap_or_else(|| panic!("no {key} in {out}"))
        .to_string()
}

#[test]
fn msmtp_and_mpop_read_hostile_values_back() {
    for (client, binary) in [("msmtp", "msmtp"), ("mpop", "mpop")] {
        if !installed(binary) {
            continue;
        }
        for value in HOSTILE {
            let account = hostile_account(client, value);
            for opts in [
                printing(value),
                WriteOptions {
                    embed_password: Some(Secret::new(value.to_string())),
                    ..Default::default()
                },
            ] {
                let Ok(files) = render(client, &account, &opts) else {
                    continue;
                };
                let dir = write_out(&files);
                let rc = dir.path().join(&files[0].path);
                let out = run(Command::new(binary).arg("-C").arg(&rc).arg("--pretend"));
                assert_eq!(pretend_value(&out, "user"), *value, "{client}: {out}");
                if let Some(cmd) = &opts.password_command {
                    assert_eq!(&pretend_value(&out, "passwordeval"), cmd, "{client}: {out}");
                }
            }
        }
    }
}

#[test]
fn fetchmail_reads_hostile_values_back() {
    if !installed("fetchmail") {
        return;
    }
    for value in HOSTILE.iter().filter(|v| v.is_ascii()) {
        for base in [imap_account(), pop3_account()] {
            let mut account = base;
            account.incoming.username = value.to_string();
            let opts = WriteOptions {
                embed_password: Some(Secret::new(format!("pw{value}"))),
                ..Default::default()
            };
            let files = render("fetchmail", &account, &opts).unwrap();
            let dir = write_out(&files);
            let rc = dir.path().join(&files[0].path);
            let out = run(Command::new("fetchmail")
                .arg("-f")
                .arg(&rc)
                .arg("--configdump"));
            // --configdump prints Python: "remote":"…" with \" and \\ escapes.
            let field = |key: &str| {
                let start = out
                    .find(&format!("\"{key}\":\""))
                    .unwrap_or_else(|| panic!("{key}: {out}"))
                    + key.len()
                    + 4;
                let mut v = String::new();
                let mut chars = out[start..].chars();
                loop {
                    match chars.next().unwrap() {
                        '\\' => v.push(chars.next().unwrap()),
                        '"' => break,
                        c => v.push(c),
                    }
                }
                v
            };
            assert_eq!(field("remote"), *value, "{out}");
            assert_eq!(field("password"), format!("pw{value}"), "{out}");
        }
    }
}

#[test]
fn mbsync_accepts_the_file() {
    if !installed("mbsync") {
        return;
    }
    for value in HOSTILE {
        let account = hostile_account("mbsync", value);
        let files = render("mbsync", &account, &printing(value)).unwrap();
        let dir = write_out(&files);
        let rc = dir.path().join(&files[0].path);
        // Parsing happens before the channel lookup; any config error is printed as file:line.
        let out = run(Command::new("mbsync")
            .arg("-c")
            .arg(&rc)
            .arg("mailsetup-no-such-channel"));
        assert!(
            out.contains("No channel or group named") && !out.contains(&rc.display().to_string()),
            "mbsync complained about the file: {out}"
        );
    }
}

#[test]
fn offlineimap_reads_hostile_values_back() {
    let lib = Path::new("/usr/share/offlineimap3");
    if !lib.join("offlineimap/CustomConfig.py").exists() || !Path::new("/usr/bin/python3").exists()
    {
        eprintln!("OfflineIMAP 3 is not installed; skipping its real-parser check");
        return;
    }
    for value in HOSTILE {
        let account = hostile_account("offlineimap", value);
        let files = render("offlineimap", &account, &printing(value)).unwrap();
        let dir = write_out(&files);
        let rc = dir.path().join(&files[0].path);
        // OfflineIMAP's own config parser, and its eval of remotepasseval.
        let script = "import sys, json\n\
            from offlineimap.CustomConfig import CustomConfigParser\n\
            c = CustomConfigParser(); c.read(sys.argv[1])\n\
            acct = c.get('general', 'accounts')\n\
            remote = 'Repository ' + c.get('Account ' + acct, 'remoterepository')\n\
            print(json.dumps([c.get(remote, 'remoteuser'), eval(c.get(remote, 'remotepasseval'), {})]))\n";
        let out = Command::new("/usr/bin/python3")
            .current_dir(lib)
            .arg("-c")
            .arg(script)
            .arg(&rc)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(got, [value.to_string(), value.to_string()]);
    }
}
