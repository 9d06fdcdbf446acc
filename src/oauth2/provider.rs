//! Who issues tokens for an account, and at which endpoints: the built-in provider
//! database's `<oAuth2>` block (issuer, scope, authURL, tokenURL), completed by the issuer's
//! published metadata (RFC 8414 `/.well-known/oauth-authorization-server`, then OpenID
//! Connect `/.well-known/openid-configuration`) for what the database does not list: the
//! device authorization and revocation endpoints. Plus, per provider, where a user registers
//! an OAuth2 client (mailsetup ships no client ID borrowed from another application).

use serde::Deserialize;

use super::http::Https;
use super::OAuth2Error;

/// Endpoints and scope of one authorization server.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Metadata {
    /// As the database or the user names it: a host (`accounts.google.com`) or an https URL.
    pub issuer: String,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
    pub device_authorization_endpoint: Option<String>,
    pub revocation_endpoint: Option<String>,
    pub scope: Option<String>,
    pub scopes_supported: Vec<String>,
}

/// The `<oAuth2>` block of the built-in database entry for `domain`, if any.
pub fn from_builtin_db(domain: &str) -> Option<Metadata> {
    let (_, xml) = crate::discover::ispdb::lookup_xml(domain)?;
    let root = crate::discover::xml::parse(xml).ok()?;
    let block = root.child("oAuth2")?;
    let text = |name: &str| block.child_text(name).map(|s| s.trim().to_string());
    let issuer = text("issuer")?;
    let mut meta = Metadata {
        scope: text("scope"),
        authorization_endpoint: text("authURL"),
        token_endpoint: text("tokenURL"),
        issuer,
        ..Default::default()
    };
    apply_quirks(&mut meta);
    Some(meta)
}

/// Known facts the database leaves out. Google's entry asks for contacts and calendars too;
/// mail needs only `https://mail.google.com/`. Microsoft's issuer host publishes no metadata
/// at its root; its v2.0 endpoints sit beside the authorization endpoint.
fn apply_quirks(meta: &mut Metadata) {
    match meta.issuer.as_str() {
        "accounts.google.com" => meta.scope = Some("https://mail.google.com/".into()),
        "login.microsoftonline.com" => {
            if let Some(base) = meta
                .authorization_endpoint
                .as_deref()
                .and_then(|a| a.strip_suffix("/authorize"))
            {
                meta.device_authorization_endpoint = Some(format!("{base}/devicecode"));
            }
        }
        _ => {}
    }
}

/// The issuer as an https URL (a bare host becomes `https://host`).
pub fn issuer_url(issuer: &str) -> Result<reqwest::Url, OAuth2Error> {
    let text = if issuer.contains("://") {
        issuer.to_string()
    } else {
        format!("https://{issuer}")
    };
    let url = reqwest::Url::parse(&text)
        .map_err(|e| OAuth2Error::Metadata(format!("issuer {issuer:?} is not a URL: {e}")))?;
    if url.scheme() != "https" {
        return Err(OAuth2Error::Insecure(format!(
            "the issuer {issuer} is not an https URL; OAuth2 endpoints are only used over verified HTTPS"
        )));
    }
    Ok(url)
}

#[derive(Deserialize)]
struct Published {
    issuer: Option<String>,
    authorization_endpoint: Option<String>,
    token_endpoint: Option<String>,
    device_authorization_endpoint: Option<String>,
    revocation_endpoint: Option<String>,
    #[serde(default)]
    scopes_supported: Vec<String>,
}

/// Fills the gaps in `meta` from the issuer's published metadata. A server that publishes
/// none is not an error when the database already gave the token endpoint.
pub async fn complete(meta: &mut Metadata, http: &Https) -> Result<(), OAuth2Error> {
    let base = issuer_url(&meta.issuer)?;
    let path = base.path().trim_end_matches('/').to_string();
    let origin = format!(
        "https://{}",
        base.host_str().unwrap_or_default().to_string()
            + &base.port().map(|p| format!(":{p}")).unwrap_or_default()
    );
    // RFC 8414 §3.1 inserts the well-known segment before the issuer's path; OpenID
    // Connect Discovery appends it.
    let candidates = [
        format!("{origin}/.well-known/oauth-authorization-server{path}"),
        format!("{origin}{path}/.well-known/openid-configuration"),
    ];
    let mut last_error = None;
    for url in candidates {
        match http.get_json::<Published>(&url).await {
            Ok(p) => {
                if let Some(published) = p.issuer.as_deref() {
                    let wanted = base.as_str().trim_end_matches('/');
                    if published.trim_end_matches('/') != wanted {
                        return Err(OAuth2Error::Metadata(format!(
                            "{url} says its issuer is {published}, not {wanted}: refusing metadata that names another server (RFC 8414 §3.3)"
                        )));
                    }
                }
                let fill = |slot: &mut Option<String>, v: Option<String>| {
                    if slot.is_none() {
                        *slot = v;
                    }
                };
                fill(&mut meta.authorization_endpoint, p.authorization_endpoint);
                fill(&mut meta.token_endpoint, p.token_endpoint);
                fill(
                    &mut meta.device_authorization_endpoint,
                    p.device_authorization_endpoint,
                );
                fill(&mut meta.revocation_endpoint, p.revocation_endpoint);
                meta.scopes_supported = p.scopes_supported;
                return Ok(());
            }
            Err(e) => last_error = Some(e),
        }
    }
    if meta.token_endpoint.is_some() {
        return Ok(());
    }
    Err(last_error.unwrap_or_else(|| OAuth2Error::Metadata("no metadata".into())))
}

/// The scope to ask for: the database's, else what the server supports of
/// `openid email offline_access` (refresh tokens need `offline_access` on many servers).
pub fn default_scope(meta: &Metadata) -> String {
    if let Some(s) = &meta.scope {
        return s.clone();
    }
    let wanted = ["openid", "email", "offline_access"];
    let chosen: Vec<&str> = if meta.scopes_supported.is_empty() {
        wanted.to_vec()
    } else {
        wanted
            .into_iter()
            .filter(|w| meta.scopes_supported.iter().any(|s| s == w))
            .collect()
    };
    chosen.join(" ")
}

/// Where to register an OAuth2 client for this issuer, in a sentence or two.
pub fn registration_help(issuer: &str) -> String {
    let specific = match issuer {
        "accounts.google.com" => Some(
            "Google: in the Google Cloud console (https://console.cloud.google.com/apis/credentials) \
             create an OAuth client ID of type \"Desktop app\", enable the Gmail API for the project \
             and add the scope https://mail.google.com/ to its consent screen.",
        ),
        "login.microsoftonline.com" => Some(
            "Microsoft: in the Microsoft Entra admin center (https://entra.microsoft.com), App \
             registrations → New registration; add the platform \"Mobile and desktop applications\" \
             with the redirect URI http://localhost, set \"Allow public client flows\" to Yes (for \
             the device code), and grant IMAP.AccessAsUser.All, POP.AccessAsUser.All, SMTP.Send and \
             offline_access.",
        ),
        "login.yahoo.com" | "login.aol.com" => Some(
            "Yahoo and AOL: create an app at https://developer.yahoo.com/apps/ with the Mail \
             read/write permission.",
        ),
        "oauth.yandex.com" => Some(
            "Yandex: register an app at https://oauth.yandex.com/client/new with the scopes \
             mail:imap_full and mail:smtp.",
        ),
        "o2.mail.ru" => Some("Mail.ru: register an app at https://o2.mail.ru/app/."),
        _ => None,
    };
    let general = "Register mailsetup as an installed (native or desktop) application with the \
                   provider, allowing the redirect URI http://127.0.0.1 (any port) and, for \
                   terminals, the device authorization grant; then pass the client ID with \
                   --oauth2-client-id (and --oauth2-client-secret if the provider issued one). \
                   mailsetup remembers it for this provider.";
    match specific {
        Some(s) => format!("{s} {general}"),
        None => general.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_db_blocks() {
        let g = from_builtin_db("gmail.com").unwrap();
        assert_eq!(g.issuer, "accounts.google.com");
        assert_eq!(g.scope.as_deref(), Some("https://mail.google.com/"));
        assert_eq!(
            g.token_endpoint.as_deref(),
            Some("https://www.googleapis.com/oauth2/v3/token")
        );
        let m = from_builtin_db("office365.com").unwrap();
        assert_eq!(m.issuer, "login.microsoftonline.com");
        assert_eq!(
            m.device_authorization_endpoint.as_deref(),
            Some("https://login.microsoftonline.com/common/oauth2/v2.0/devicecode")
        );
        assert!(m.scope.unwrap().contains("IMAP.AccessAsUser.All"));
        assert!(from_builtin_db("example.invalid").is_none());
    }

    #[test]
    fn issuers_must_be_https() {
        assert_eq!(
            issuer_url("accounts.google.com").unwrap().as_str(),
            "https://accounts.google.com/"
        );
        assert!(matches!(
            issuer_url("http://127.0.0.1:8080"),
            Err(OAuth2Error::Insecure(_))
        ));
    }

    #[test]
    fn scope_defaults() {
        let mut m = Metadata::default();
        assert_eq!(default_scope(&m), "openid email offline_access");
        m.scopes_supported = vec!["openid".into(), "email".into()];
        assert_eq!(default_scope(&m), "openid email");
        m.scope = Some("mail".into());
        assert_eq!(default_scope(&m), "mail");
        assert!(registration_help("accounts.google.com").contains("Desktop app"));
    }
}
