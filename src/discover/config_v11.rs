//! Thunderbird's autoconfig format, `config-v1.1.xml` (REFERENCE.md §3): parser and the
//! expansion of its templates for one address.
//!
//! Unsupported server types (exchange, ews, owa, graph, ...) and servers whose settings are
//! invalid are skipped with a note, never fatal: a file is usable when one server survives.

use crate::model::{validate_host, Address, AuthMethod, Endpoint, Protocol, Security, Transport};

use super::xml::{self, Element, XmlError};
use super::{Candidate, Source};

/// One provider's settings as the file states them (templates not yet expanded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderConfig {
    /// `<emailProvider id>`.
    pub id: String,
    /// `<displayName>`, else `<displayShortName>`.
    pub display_name: Option<String>,
    /// The `<domain>` entries, lowercased.
    pub domains: Vec<String>,
    /// IMAP and POP3 servers, in file order.
    pub incoming: Vec<ServerConfig>,
    /// SMTP servers, in file order.
    pub outgoing: Vec<ServerConfig>,
    /// Why some servers were left out (unsupported type, bad port, ...).
    pub skipped: Vec<String>,
}

/// One `<incomingServer>` or `<outgoingServer>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    pub protocol: Protocol,
    /// Host name template (may contain `%EMAILDOMAIN%`).
    pub hostname: String,
    pub port: u16,
    pub security: Security,
    /// Username template (`%EMAILADDRESS%`, `%EMAILLOCALPART%`, `%EMAILDOMAIN%`).
    pub username: String,
    /// Supported methods in the file's order (the first one the client supports wins).
    pub auth: Vec<AuthMethod>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Xml(#[from] XmlError),
    #[error("not a config-v1.1 document (root element <{0}>)")]
    NotClientConfig(String),
    #[error("no <emailProvider> element")]
    NoProvider,
    #[error("no usable IMAP, POP3 or SMTP server{}", skipped_note(.0))]
    NoUsableServer(Vec<String>),
}

fn skipped_note(skipped: &[String]) -> String {
    if skipped.is_empty() {
        String::new()
    } else {
        format!(" ({})", skipped.join("; "))
    }
}

/// Parses a config-v1.1 document. Never panics; input is bounded by [`xml::MAX_INPUT`].
pub fn parse(input: &str) -> Result<ProviderConfig, ConfigError> {
    let root = xml::parse(input)?;
    if !root.name.eq_ignore_ascii_case("clientConfig") {
        return Err(ConfigError::NotClientConfig(root.name));
    }
    let provider = root.child("emailProvider").ok_or(ConfigError::NoProvider)?;
    let mut cfg = ProviderConfig {
        id: provider.attr("id").unwrap_or_default().trim().to_string(),
        display_name: provider
            .child_text("displayName")
            .or_else(|| provider.child_text("displayShortName"))
            .map(str::to_string),
        domains: provider
            .children_named("domain")
            .map(|d| d.text.trim().to_ascii_lowercase())
            .filter(|d| !d.is_empty())
            .collect(),
        incoming: Vec::new(),
        outgoing: Vec::new(),
        skipped: Vec::new(),
    };
    for (tag, outgoing) in [("incomingServer", false), ("outgoingServer", true)] {
        for el in provider.children_named(tag) {
            match server(el, outgoing) {
                Ok(s) if outgoing => cfg.outgoing.push(s),
                Ok(s) => cfg.incoming.push(s),
                Err(why) => cfg.skipped.push(why),
            }
        }
    }
    if cfg.incoming.is_empty() && cfg.outgoing.is_empty() {
        return Err(ConfigError::NoUsableServer(cfg.skipped));
    }
    Ok(cfg)
}

fn server(el: &Element, outgoing: bool) -> Result<ServerConfig, String> {
    let kind = el
        .attr("type")
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let protocol = match (kind.as_str(), outgoing) {
        ("imap", false) => Protocol::Imap,
        ("pop3", false) => Protocol::Pop3,
        ("smtp", true) => Protocol::Smtp,
        (other, _) => return Err(format!("server type {other:?} is not supported")),
    };
    let hostname = el
        .child_text("hostname")
        .ok_or_else(|| format!("{kind} server without <hostname>"))?
        .to_string();
    // socketType is case-sensitive, as in Thunderbird's sanitizer.
    let security = match el.child_text("socketType") {
        Some("SSL") => Security::Tls,
        Some("STARTTLS") => Security::StartTls,
        Some("plain") => Security::Plain,
        other => {
            return Err(format!(
                "{kind} server {hostname}: socketType {other:?} is not SSL, STARTTLS or plain"
            ))
        }
    };
    let port = match el.child_text("port") {
        None => protocol.default_port(security),
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => n,
            _ => {
                return Err(format!(
                    "{kind} server {hostname}: port {p:?} is not 1-65535"
                ))
            }
        },
    };
    let mut auth = Vec::new();
    let mut unsupported = Vec::new();
    for a in el.children_named("authentication") {
        let word = a.text.trim();
        match auth_method(word) {
            Some(m) if !auth.contains(&m) => auth.push(m),
            Some(_) => {}
            None => unsupported.push(word.to_string()),
        }
    }
    if auth.is_empty() {
        if !unsupported.is_empty() {
            return Err(format!(
                "{kind} server {hostname}: authentication {} not supported",
                unsupported.join(", ")
            ));
        }
        // No <authentication> at all: Thunderbird's default.
        auth.push(AuthMethod::PasswordCleartext);
    }
    let username = el
        .child_text("username")
        .unwrap_or("%EMAILADDRESS%")
        .to_string();
    Ok(ServerConfig {
        protocol,
        hostname,
        port,
        security,
        username,
        auth,
    })
}

/// Thunderbird's `<authentication>` vocabulary, including its legacy spellings.
pub fn auth_method(word: &str) -> Option<AuthMethod> {
    Some(match word {
        "password-cleartext" | "plain" => AuthMethod::PasswordCleartext,
        "password-encrypted" | "secure" => AuthMethod::PasswordEncrypted,
        "OAuth2" => AuthMethod::OAuth2,
        // No login at all: the server relays by address or after a POP3 login.
        "none" | "client-IP-address" | "smtp-after-pop" => AuthMethod::None,
        _ => return None, // NTLM, GSSAPI, TLS-client-cert, ...
    })
}

/// Expands `%EMAILADDRESS%`, `%EMAILLOCALPART%` and `%EMAILDOMAIN%` for `address`.
pub fn expand(template: &str, address: &Address) -> String {
    template
        .replace("%EMAILADDRESS%", &address.as_string())
        .replace("%EMAILLOCALPART%", &address.local)
        .replace("%EMAILDOMAIN%", &address.domain)
}

impl ProviderConfig {
    /// The provider's name for display: display name, else id.
    pub fn name(&self) -> Option<String> {
        self.display_name
            .clone()
            .or_else(|| (!self.id.is_empty()).then(|| self.id.clone()))
    }

    /// Candidates for `address`, incoming then outgoing in file order, with the facts the
    /// trust policy decides from (`source`, `transport`: how the file reached us). Servers
    /// whose expanded host name is not a valid host, or whose username contains control
    /// characters, are left out.
    pub fn candidates(
        &self,
        address: &Address,
        source: Source,
        transport: Transport,
    ) -> Vec<Candidate> {
        let domain_ascii = super::idn::to_ascii(&address.domain).unwrap_or_default();
        self.incoming
            .iter()
            .chain(&self.outgoing)
            .filter_map(|s| {
                let host = super::idn::to_ascii(&expand(&s.hostname, address)).ok()?;
                validate_host(&host).ok()?;
                let username = expand(&s.username, address);
                // A username that could break a protocol line, or read differently on screen
                // (Unicode format characters), is never proposed.
                if username.chars().any(crate::model::is_unsafe_char) {
                    return None;
                }
                Some(Candidate::new(
                    Endpoint::new(s.protocol, &host, s.port, s.security),
                    username,
                    s.auth.clone(),
                    source,
                    transport,
                    &domain_ascii,
                ))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="example.com">
    <domain>example.com</domain>
    <domain>Example.NET</domain>
    <displayName>Example Mail</displayName>
    <displayShortName>Example</displayShortName>
    <incomingServer type="imap">
      <hostname>imap.%EMAILDOMAIN%</hostname>
      <port>993</port>
      <socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>OAuth2</authentication>
      <authentication>password-cleartext</authentication>
    </incomingServer>
    <incomingServer type="pop3">
      <hostname>pop.example.com</hostname>
      <port>110</port>
      <socketType>STARTTLS</socketType>
      <username>%EMAILLOCALPART%</username>
      <authentication>NTLM</authentication>
      <authentication>password-encrypted</authentication>
      <pop3><leaveMessagesOnServer>true</leaveMessagesOnServer></pop3>
    </incomingServer>
    <incomingServer type="ews">
      <url>https://example.com/ews</url>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.provider.net</hostname>
      <port>25</port>
      <socketType>plain</socketType>
      <username>%EMAILLOCALPART%.%EMAILDOMAIN%</username>
      <authentication>client-IP-address</authentication>
    </outgoingServer>
  </emailProvider>
</clientConfig>"#;

    fn addr(s: &str) -> Address {
        s.parse().unwrap()
    }

    #[test]
    fn parses_the_reference_sample() {
        let cfg = parse(SAMPLE).unwrap();
        assert_eq!(cfg.id, "example.com");
        assert_eq!(cfg.display_name.as_deref(), Some("Example Mail"));
        assert_eq!(cfg.domains, ["example.com", "example.net"]);
        assert_eq!(cfg.incoming.len(), 2);
        assert_eq!(cfg.outgoing.len(), 1);
        assert_eq!(cfg.skipped.len(), 1, "{:?}", cfg.skipped);
        assert!(cfg.skipped[0].contains("ews"));
        let imap = &cfg.incoming[0];
        assert_eq!(
            imap.auth,
            [AuthMethod::OAuth2, AuthMethod::PasswordCleartext]
        );
        assert_eq!(cfg.incoming[1].auth, [AuthMethod::PasswordEncrypted]);
        assert_eq!(cfg.outgoing[0].auth, [AuthMethod::None]);
    }

    #[test]
    fn expands_templates_and_judges_trust() {
        let cfg = parse(SAMPLE).unwrap();
        let a = addr("Jane.Doe@example.com");
        let c = cfg.candidates(&a, Source::Autoconfig, Transport::Http);
        let urls: Vec<String> = c.iter().map(|c| c.endpoint.url()).collect();
        assert_eq!(
            urls,
            [
                "imaps://imap.example.com:993",
                "pop3://pop.example.com:110",
                "smtp+plain://smtp.provider.net:25"
            ]
        );
        assert_eq!(c[0].username, "Jane.Doe@example.com");
        assert_eq!(c[1].username, "Jane.Doe");
        assert_eq!(c[2].username, "Jane.Doe.example.com");
        // Facts only; the trust policy (app::trust) decides from them.
        assert_eq!(
            c.iter().map(|c| c.in_domain).collect::<Vec<_>>(),
            [true, true, false]
        );
        assert!(c
            .iter()
            .all(|c| c.transport == Transport::Http && !c.trusted));
        assert!(cfg
            .candidates(&a, Source::BuiltinDb, Transport::Builtin)
            .iter()
            .all(|c| c.transport == Transport::Builtin && c.trust_reason.is_none()));
    }

    #[test]
    fn socket_type_is_case_sensitive_and_ports_are_checked() {
        let doc = |socket: &str, port: &str| {
            format!(
                r#"<clientConfig><emailProvider id="x"><incomingServer type="imap"><hostname>h.x</hostname>
                <port>{port}</port><socketType>{socket}</socketType></incomingServer></emailProvider></clientConfig>"#
            )
        };
        assert!(parse(&doc("SSL", "993")).is_ok());
        for (s, p) in [
            ("ssl", "993"),
            ("TLS", "993"),
            ("SSL", "0"),
            ("SSL", "65536"),
            ("SSL", "-1"),
            ("SSL", "x"),
        ] {
            assert!(
                matches!(parse(&doc(s, p)), Err(ConfigError::NoUsableServer(_))),
                "{s} {p}"
            );
        }
        // A missing port takes the protocol's standard port for that security.
        let cfg = parse(&doc("STARTTLS", "")).unwrap();
        assert_eq!(cfg.incoming[0].port, 143);
        assert_eq!(cfg.incoming[0].auth, [AuthMethod::PasswordCleartext]);
    }

    #[test]
    fn hostile_or_foreign_input_is_an_error_not_a_panic() {
        assert!(matches!(
            parse("<html><body/></html>"),
            Err(ConfigError::NotClientConfig(_))
        ));
        assert!(matches!(
            parse("<clientConfig/>"),
            Err(ConfigError::NoProvider)
        ));
        assert!(matches!(parse("not xml at all"), Err(ConfigError::Xml(_))));
        let huge = format!(
            "<clientConfig>{}</clientConfig>",
            " ".repeat(xml::MAX_INPUT)
        );
        assert!(matches!(
            parse(&huge),
            Err(ConfigError::Xml(XmlError::TooLarge))
        ));
        // Hostile host names and usernames survive parsing but never become endpoints.
        let doc = r#"<clientConfig><emailProvider id="x">
            <incomingServer type="imap"><hostname>evil host
</hostname><socketType>SSL</socketType></incomingServer>
            <incomingServer type="imap"><hostname>-x.example</hostname><socketType>SSL</socketType></incomingServer>
            <outgoingServer type="smtp"><hostname>bad-user.example</hostname><socketType>SSL</socketType>
            <username>a&#13;&#10;b</username></outgoingServer>
            <outgoingServer type="smtp"><hostname>ok.example</hostname><socketType>SSL</socketType>
            </outgoingServer></emailProvider></clientConfig>"#;
        let cfg = parse(doc).unwrap();
        let c = cfg.candidates(&addr("u@example"), Source::Autoconfig, Transport::Https);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].endpoint.host, "ok.example");
        // Every prefix of a valid file parses or fails cleanly.
        for end in (0..SAMPLE.len()).filter(|&i| SAMPLE.is_char_boundary(i)) {
            let _ = parse(&SAMPLE[..end]);
        }
    }

    #[test]
    fn idn_host_names_become_punycode() {
        let doc = r#"<clientConfig><emailProvider id="x"><incomingServer type="imap">
            <hostname>imap.%EMAILDOMAIN%</hostname><socketType>SSL</socketType></incomingServer>
            </emailProvider></clientConfig>"#;
        let a = addr("jörg@bücher.example");
        let c = parse(doc)
            .unwrap()
            .candidates(&a, Source::Autoconfig, Transport::Https);
        assert_eq!(c[0].endpoint.host, "imap.xn--bcher-kva.example");
        assert_eq!(c[0].username, "jörg@bücher.example");
        assert!(c[0].in_domain);
    }
}
