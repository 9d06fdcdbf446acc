//! Microsoft Autodiscover, "POX" flavour (REFERENCE.md §4): the request body, the URLs to try,
//! and the response parser (settings, `redirectAddr`, `redirectUrl`, errors).

use crate::model::{validate_host, Address, AuthMethod, Endpoint, Protocol, Security, Transport};

use super::xml::{self, XmlError};
use super::{Candidate, Source};

/// Most redirects (address or URL) followed in one Autodiscover chain.
pub const MAX_REDIRECTS: usize = 2;

const RESPONSE_SCHEMA: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";

/// The POST body asking for `email`'s settings.
pub fn request_body(email: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n\
         <Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\">\r\n\
         <Request>\r\n\
         <EMailAddress>{}</EMailAddress>\r\n\
         <AcceptableResponseSchema>{RESPONSE_SCHEMA}</AcceptableResponseSchema>\r\n\
         </Request>\r\n\
         </Autodiscover>\r\n",
        quick_xml::escape::escape(email)
    )
}

/// The two https URLs POSTed to for an (ASCII) domain, in order.
pub fn post_urls(domain_ascii: &str) -> [String; 2] {
    [
        format!("https://{domain_ascii}/autodiscover/autodiscover.xml"),
        format!("https://autodiscover.{domain_ascii}/autodiscover/autodiscover.xml"),
    ]
}

/// The http URL fetched with GET, only to learn a redirect to https.
pub fn redirect_probe_url(domain_ascii: &str) -> String {
    format!("http://autodiscover.{domain_ascii}/autodiscover/autodiscover.xml")
}

/// The SRV name pointing at an Autodiscover host (`_autodiscover._tcp.<d>`).
pub fn srv_name(domain_ascii: &str) -> String {
    format!("_autodiscover._tcp.{domain_ascii}")
}

/// The URL for an `_autodiscover._tcp` SRV target.
pub fn srv_url(target: &str, port: u16) -> String {
    if port == 443 {
        format!("https://{target}/autodiscover/autodiscover.xml")
    } else {
        format!("https://{target}:{port}/autodiscover/autodiscover.xml")
    }
}

/// One `<Protocol>` of type IMAP, POP3 or SMTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSetting {
    pub protocol: Protocol,
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// `<LoginName>`, when given.
    pub login_name: Option<String>,
    /// Empty when only SPA (NTLM) is offered, which we don't speak.
    pub auth: Vec<AuthMethod>,
}

/// What an Autodiscover response says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    Settings {
        display_name: Option<String>,
        servers: Vec<ServerSetting>,
    },
    /// Ask again for this address.
    RedirectAddr(String),
    /// Ask again at this URL.
    RedirectUrl(String),
    /// `<Error>`: code and message.
    Error(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AutodiscoverError {
    #[error(transparent)]
    Xml(#[from] XmlError),
    #[error("not an Autodiscover response (root element <{0}>)")]
    NotAutodiscover(String),
    #[error("Autodiscover response without <Response>")]
    NoResponse,
    #[error("Autodiscover response with no IMAP, POP3 or SMTP settings")]
    NoSettings,
}

/// Parses a POX response. Never panics; input is bounded by [`xml::MAX_INPUT`].
pub fn parse(input: &str) -> Result<Response, AutodiscoverError> {
    let root = xml::parse(input)?;
    if !root.name.eq_ignore_ascii_case("Autodiscover") {
        return Err(AutodiscoverError::NotAutodiscover(root.name));
    }
    let response = root
        .child("Response")
        .ok_or(AutodiscoverError::NoResponse)?;
    if let Some(err) = response.child("Error") {
        let code = err.child_text("ErrorCode").unwrap_or("");
        let message = err.child_text("Message").unwrap_or("");
        return Ok(Response::Error(
            format!("{code} {message}").trim().to_string(),
        ));
    }
    let account = response
        .child("Account")
        .ok_or(AutodiscoverError::NoSettings)?;
    let action = account.child_text("Action").unwrap_or("settings");
    if action.eq_ignore_ascii_case("redirectAddr") {
        if let Some(a) = account.child_text("RedirectAddr") {
            return Ok(Response::RedirectAddr(a.to_string()));
        }
    } else if action.eq_ignore_ascii_case("redirectUrl") {
        if let Some(u) = account.child_text("RedirectUrl") {
            return Ok(Response::RedirectUrl(u.to_string()));
        }
    }
    let mut servers = Vec::new();
    for p in account.children_named("Protocol") {
        let protocol = match p.child_text("Type").map(str::to_ascii_uppercase).as_deref() {
            Some("IMAP") => Protocol::Imap,
            Some("POP3") => Protocol::Pop3,
            Some("SMTP") => Protocol::Smtp,
            _ => continue, // EXCH, EXPR, WEB, ...
        };
        let Some(host) = p.child_text("Server") else {
            continue;
        };
        let host = host.to_ascii_lowercase();
        let port = match p.child_text("Port").map(str::parse::<u16>) {
            Some(Ok(n)) if n > 0 => Some(n),
            Some(_) => continue,
            None => None,
        };
        let on = |name: &str, default: bool| {
            p.child_text(name)
                .map(|v| v.eq_ignore_ascii_case("on"))
                .unwrap_or(default)
        };
        let security = match p
            .child_text("Encryption")
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("none") => Security::Plain,
            Some("ssl") => Security::Tls,
            Some("tls") => Security::StartTls,
            // `Auto` or `SSL on`: "encrypted", which kind follows from the port.
            _ if on("SSL", true) => guess_tls_kind(protocol, port),
            _ => Security::Plain,
        };
        let port = port.unwrap_or_else(|| protocol.default_port(security));
        let auth = if protocol == Protocol::Smtp && !on("AuthRequired", true) {
            vec![AuthMethod::None]
        } else if on("SPA", true) {
            Vec::new()
        } else {
            vec![AuthMethod::PasswordCleartext]
        };
        servers.push(ServerSetting {
            protocol,
            host,
            port,
            security,
            login_name: p.child_text("LoginName").map(str::to_string),
            auth,
        });
    }
    if servers.is_empty() {
        return Err(AutodiscoverError::NoSettings);
    }
    let display_name = response
        .child("User")
        .and_then(|u| u.child_text("DisplayName"))
        .map(str::to_string);
    Ok(Response::Settings {
        display_name,
        servers,
    })
}

/// Implicit TLS on the implicit-TLS ports (and when no port is given), STARTTLS on the
/// STARTTLS ports.
fn guess_tls_kind(protocol: Protocol, port: Option<u16>) -> Security {
    match port {
        Some(p) if p == protocol.default_port(Security::StartTls) || p == 25 => Security::StartTls,
        _ => Security::Tls,
    }
}

/// Candidates from a settings response. `login` is the address the response answered for
/// (after a `redirectAddr`, the new one), used where no `<LoginName>` is given. `in_domain`
/// is judged against the user's own `address` (Autodiscover never vouches for a host outside
/// it: the trust policy decides).
pub fn candidates(
    servers: &[ServerSetting],
    address: &Address,
    login: &str,
    transport: Transport,
) -> Vec<Candidate> {
    let domain_ascii = super::idn::to_ascii(&address.domain).unwrap_or_default();
    servers
        .iter()
        .filter_map(|s| {
            let host = super::idn::to_ascii(&s.host).ok()?;
            validate_host(&host).ok()?;
            let username = s.login_name.clone().unwrap_or_else(|| login.to_string());
            if username.chars().any(crate::model::is_unsafe_char) {
                return None;
            }
            Some(Candidate::new(
                Endpoint::new(s.protocol, &host, s.port, s.security),
                username,
                s.auth.clone(),
                Source::Autodiscover,
                transport,
                &domain_ascii,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SETTINGS: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <User><DisplayName>Jane Doe</DisplayName></User>
    <Account>
      <AccountType>email</AccountType>
      <Action>settings</Action>
      <Protocol><Type>EXCH</Type><Server>ex.example.com</Server></Protocol>
      <Protocol><Type>IMAP</Type><Server>Mail.Example.com</Server><Port>993</Port>
        <LoginName>jane</LoginName><DomainRequired>off</DomainRequired><SPA>off</SPA><SSL>on</SSL>
        <AuthRequired>on</AuthRequired></Protocol>
      <Protocol><Type>POP3</Type><Server>mail.example.com</Server><Port>110</Port>
        <SPA>off</SPA><SSL>on</SSL></Protocol>
      <Protocol><Type>SMTP</Type><Server>smtp.elsewhere.net</Server><Port>587</Port>
        <SPA>off</SPA><Encryption>TLS</Encryption><AuthRequired>on</AuthRequired></Protocol>
      <Protocol><Type>SMTP</Type><Server>relay.example.com</Server><Port>25</Port>
        <SSL>off</SSL><AuthRequired>off</AuthRequired></Protocol>
      <Protocol><Type>IMAP</Type><Server>spa.example.com</Server></Protocol>
    </Account>
  </Response>
</Autodiscover>"#;

    #[test]
    fn request_body_escapes_the_address() {
        let body = request_body("a&b<c>@example.com");
        assert!(body.contains("<EMailAddress>a&amp;b&lt;c&gt;@example.com</EMailAddress>"));
        assert!(body.contains(RESPONSE_SCHEMA));
        assert!(xml::parse(&body).is_ok());
    }

    #[test]
    fn parses_settings() {
        let Response::Settings {
            display_name,
            servers,
        } = parse(SETTINGS).unwrap()
        else {
            panic!("not settings")
        };
        assert_eq!(display_name.as_deref(), Some("Jane Doe"));
        let a: Address = "jane.doe@example.com".parse().unwrap();
        let c = candidates(&servers, &a, "jane.doe@example.com", Transport::Https);
        let got: Vec<(String, &str, Vec<AuthMethod>, bool)> = c
            .iter()
            .map(|c| {
                (
                    c.endpoint.url(),
                    c.username.as_str(),
                    c.auth.clone(),
                    c.in_domain,
                )
            })
            .collect();
        use AuthMethod::*;
        let full = "jane.doe@example.com";
        assert_eq!(
            got,
            [
                (
                    "imaps://mail.example.com:993".into(),
                    "jane",
                    vec![PasswordCleartext],
                    true
                ),
                (
                    "pop3://mail.example.com:110".into(),
                    full,
                    vec![PasswordCleartext],
                    true
                ),
                (
                    "smtp://smtp.elsewhere.net:587".into(),
                    full,
                    vec![PasswordCleartext],
                    false
                ),
                (
                    "smtp+plain://relay.example.com:25".into(),
                    full,
                    vec![None],
                    true
                ),
                ("imaps://spa.example.com:993".into(), full, vec![], true),
            ]
        );
    }

    #[test]
    fn parses_redirects_and_errors() {
        let redirect = |action: &str, tag: &str, value: &str| {
            format!(
                "<Autodiscover><Response><Account><Action>{action}</Action><{tag}>{value}</{tag}>\
                 </Account></Response></Autodiscover>"
            )
        };
        assert_eq!(
            parse(&redirect("redirectAddr", "RedirectAddr", "x@other.example")).unwrap(),
            Response::RedirectAddr("x@other.example".into())
        );
        assert_eq!(
            parse(&redirect(
                "redirectUrl",
                "RedirectUrl",
                "https://ad.example/a.xml"
            ))
            .unwrap(),
            Response::RedirectUrl("https://ad.example/a.xml".into())
        );
        let err = "<Autodiscover><Response><Error><ErrorCode>500</ErrorCode>\
                   <Message>The email address can't be found.</Message></Error></Response></Autodiscover>";
        assert_eq!(
            parse(err).unwrap(),
            Response::Error("500 The email address can't be found.".into())
        );
    }

    #[test]
    fn hostile_input_is_an_error() {
        assert!(matches!(
            parse("<html/>"),
            Err(AutodiscoverError::NotAutodiscover(_))
        ));
        assert!(matches!(
            parse("<Autodiscover/>"),
            Err(AutodiscoverError::NoResponse)
        ));
        let no_servers = "<Autodiscover><Response><Account><Protocol><Type>IMAP</Type>\
                          <Port>99999</Port><Server>h</Server></Protocol></Account></Response></Autodiscover>";
        assert!(matches!(
            parse(no_servers),
            Err(AutodiscoverError::NoSettings)
        ));
        // A redirect action without its value falls through to "no settings".
        let empty = "<Autodiscover><Response><Account><Action>redirectAddr</Action>\
                     </Account></Response></Autodiscover>";
        assert!(matches!(parse(empty), Err(AutodiscoverError::NoSettings)));
        for end in (0..SETTINGS.len()).filter(|&i| SETTINGS.is_char_boundary(i)) {
            let _ = parse(&SETTINGS[..end]);
        }
        let bad_host = "<Autodiscover><Response><Account><Protocol><Type>IMAP</Type>\
                        <Server>a b</Server></Protocol></Account></Response></Autodiscover>";
        let Ok(Response::Settings { servers, .. }) = parse(bad_host) else {
            panic!()
        };
        let a: Address = "u@x.example".parse().unwrap();
        assert!(candidates(&servers, &a, "u@x.example", Transport::Https).is_empty());
    }

    #[test]
    fn urls() {
        assert_eq!(
            post_urls("example.com"),
            [
                "https://example.com/autodiscover/autodiscover.xml",
                "https://autodiscover.example.com/autodiscover/autodiscover.xml"
            ]
        );
        assert_eq!(
            redirect_probe_url("x.org"),
            "http://autodiscover.x.org/autodiscover/autodiscover.xml"
        );
        assert_eq!(srv_name("x.org"), "_autodiscover._tcp.x.org");
        assert_eq!(
            srv_url("ad.x.org", 443),
            "https://ad.x.org/autodiscover/autodiscover.xml"
        );
        assert_eq!(
            srv_url("ad.x.org", 8443),
            "https://ad.x.org:8443/autodiscover/autodiscover.xml"
        );
    }
}
