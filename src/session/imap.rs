//! IMAP session driver: greeting, CAPABILITY, STARTTLS.

use zeroize::Zeroizing;

use super::conn::Conn;
use super::login::{percent, Credentials, Method, Outcome};
use super::{starttls_problem, upgrade_after_starttls, SessionConfig};
use crate::model::timing::PhaseName;
use crate::model::{Endpoint, Security};
use crate::proto::imap::{self, GreetingError, Response, ResponseParser, Status, Step, Tags};
use crate::proto::sasl::{self, SaslClient};
use crate::report::Quota;
use crate::report::{Code, EndpointReport, Problem};

/// The IMAP state a login can continue from.
pub struct ImapState {
    pub parser: ResponseParser,
    pub tags: Tags,
    pub capabilities: Vec<String>,
}

impl ImapState {
    /// A fresh state that knows only these capabilities (unit tests of the login rules).
    #[cfg(test)]
    pub(super) fn for_capabilities(capabilities: Vec<String>) -> Self {
        ImapState {
            parser: ResponseParser::new(),
            tags: Tags::default(),
            capabilities,
        }
    }
}

pub(super) async fn establish_state(
    conn: &mut Conn,
    endpoint: &Endpoint,
    cfg: &SessionConfig,
    rep: &mut EndpointReport,
) -> Result<ImapState, Vec<Problem>> {
    let mut parser = ResponseParser::new();
    let mut tags = Tags::default();
    cfg.begin_phase(rep, PhaseName::Greeting);
    let greeting = conn
        .read(
            cfg.phase(cfg.timeouts.greeting),
            "the greeting",
            Code::GreetingTimeout,
            |r| parser.next(r),
        )
        .await
        .map_err(|p| vec![p])?;
    rep.greeting = Some(describe(&greeting));
    match imap::check_greeting(&greeting, conn.is_tls()) {
        Ok(_) => {}
        Err(GreetingError::PreAuthBeforeTls(text)) => {
            return Err(vec![starttls_problem(
                crate::proto::StartTlsRefusal::PreAuth(text),
            )])
        }
        Err(GreetingError::Bye(text)) => {
            return Err(vec![Problem::error(
                Code::ServerRefused,
                format!("the server said BYE: {text}"),
            )])
        }
        Err(GreetingError::Unexpected(text)) => {
            return Err(vec![Problem::error(
                Code::ProtocolError,
                format!("not an IMAP greeting: {text}"),
            )])
        }
    }
    cfg.begin_phase(rep, PhaseName::Capabilities);
    let mut caps = capability(conn, &mut parser, &mut tags, cfg).await?;
    if endpoint.security == Security::StartTls {
        rep.capabilities_before_tls = Some(caps.clone());
        imap::starttls_offered(&caps).map_err(|r| vec![starttls_problem(r)])?;
        cfg.begin_phase(rep, PhaseName::Starttls);
        let (status, text) = if cfg.check_injection {
            // STARTTLS and NOOP in one segment; only STARTTLS's completion is awaited.
            let starttls = tags.next_tag();
            let noop = tags.next_tag();
            let bytes = [
                imap::command(&starttls, "STARTTLS"),
                imap::command(&noop, "NOOP"),
            ]
            .concat();
            conn.send(&bytes, None, cfg.phase(cfg.timeouts.command))
                .await
                .map_err(|p| vec![p])?;
            wait_completion(conn, &mut parser, &starttls, cfg).await?
        } else {
            run(conn, &mut parser, &mut tags, "STARTTLS", cfg).await?
        };
        imap::check_starttls_reply(status, &text).map_err(|r| vec![starttls_problem(r)])?;
        upgrade_after_starttls(conn, endpoint, cfg, rep).await?;
        super::injection_verdict(conn, cfg, rep, "NOOP").await?;
        // Everything learned before TLS is discarded and read again.
        parser = ResponseParser::new();
        cfg.begin_phase(rep, PhaseName::Capabilities);
        caps = capability(conn, &mut parser, &mut tags, cfg).await?;
    }
    rep.auth_mechanisms = imap::auth_mechanisms(&caps);
    rep.capabilities = caps.clone();
    Ok(ImapState {
        parser,
        tags,
        capabilities: caps,
    })
}

/// `CAPABILITY`, collecting the untagged reply (or the code on the tagged OK).
pub(super) async fn capability(
    conn: &mut Conn,
    parser: &mut ResponseParser,
    tags: &mut Tags,
    cfg: &SessionConfig,
) -> Result<Vec<String>, Vec<Problem>> {
    let tag = tags.next_tag();
    conn.send(
        &imap::command(&tag, "CAPABILITY"),
        None,
        cfg.phase(cfg.timeouts.command),
    )
    .await
    .map_err(|p| vec![p])?;
    let mut caps = None;
    let deadline = cfg.phase(cfg.timeouts.command);
    loop {
        let resp = read_response(conn, parser, deadline, "the CAPABILITY reply").await?;
        if let Some(c) = resp.capabilities() {
            caps = Some(c);
        }
        match imap::expect_completion(&resp, &tag) {
            Ok(Step::Data) => {}
            Ok(Step::Done {
                status: Status::Ok, ..
            }) => break,
            Ok(Step::Done { status, text, .. }) => {
                return Err(vec![Problem::error(
                    Code::ProtocolError,
                    format!("CAPABILITY failed: {} {text}", status.as_str()),
                )])
            }
            Err(e) => return Err(vec![Problem::error(Code::ProtocolError, e.to_string())]),
        }
    }
    caps.ok_or_else(|| {
        vec![Problem::error(
            Code::ProtocolError,
            "the server sent no CAPABILITY data",
        )]
    })
}

/// Sends a simple command and waits for its tagged completion.
pub(super) async fn run(
    conn: &mut Conn,
    parser: &mut ResponseParser,
    tags: &mut Tags,
    cmd: &str,
    cfg: &SessionConfig,
) -> Result<(Status, String), Vec<Problem>> {
    let tag = tags.next_tag();
    conn.send(
        &imap::command(&tag, cmd),
        None,
        cfg.phase(cfg.timeouts.command),
    )
    .await
    .map_err(|p| vec![p])?;
    wait_completion(conn, parser, &tag, cfg).await
}

/// Reads until the completion of the command tagged `tag`.
async fn wait_completion(
    conn: &mut Conn,
    parser: &mut ResponseParser,
    tag: &str,
    cfg: &SessionConfig,
) -> Result<(Status, String), Vec<Problem>> {
    let deadline = cfg.phase(cfg.timeouts.command);
    let what = format!("the reply to {tag}");
    loop {
        let resp = read_response(conn, parser, deadline, &what).await?;
        match imap::expect_completion(&resp, tag) {
            Ok(Step::Data) => {}
            Ok(Step::Done { status, text, .. }) => return Ok((status, text)),
            Err(e) => return Err(vec![Problem::error(Code::ProtocolError, e.to_string())]),
        }
    }
}

async fn read_response(
    conn: &mut Conn,
    parser: &mut ResponseParser,
    deadline: std::time::Instant,
    what: &str,
) -> Result<Response, Vec<Problem>> {
    conn.read(deadline, what, Code::Timeout, |r| parser.next(r))
        .await
        .map_err(|p| vec![p])
}

fn describe(resp: &Response) -> String {
    match resp {
        Response::Untagged {
            keyword,
            code,
            text,
            ..
        } => match code {
            Some(c) => format!("{keyword} [{c}] {text}"),
            None => format!("{keyword} {text}"),
        },
        Response::Tagged {
            tag, status, text, ..
        } => format!("{tag} {} {text}", status.as_str()),
        Response::Continuation { text } => format!("+ {text}"),
    }
}

/// Logs in with `method`. Only the tagged OK of our own command is success.
pub(super) async fn login(
    conn: &mut Conn,
    st: &mut ImapState,
    method: Method,
    creds: &Credentials,
    cfg: &SessionConfig,
    endpoint: &Endpoint,
) -> Outcome {
    let secret = creds.secret.expose();
    let tag = st.tags.next_tag();
    let deadline = cfg.phase(cfg.timeouts.command);
    let mut sasl = None;
    match method {
        Method::ImapLogin => {
            let user = imap::quoted(&creds.username);
            let pass = imap::quoted_secret(secret);
            let shown = format!(
                "{tag} LOGIN {} <redacted>",
                user.as_deref().unwrap_or("{literal}")
            );
            match (user, pass) {
                (Some(u), Some(p)) => {
                    let line = Zeroizing::new(format!("{tag} LOGIN {u} {}\r\n", &*p));
                    if let Err(p) = conn.send(line.as_bytes(), Some(&shown), deadline).await {
                        return Outcome::Unverified(p.message);
                    }
                }
                _ => {
                    if let Err(o) = send_login_literals(conn, st, &tag, creds, deadline).await {
                        return o;
                    }
                }
            }
        }
        Method::Sasl(mech) => {
            let mut client =
                SaslClient::new(mech, &creds.username, secret, &endpoint.host, endpoint.port);
            let cmd = if mech.client_first() && imap::sasl_ir(&st.capabilities) {
                let ir = client.initial_response().unwrap_or_default();
                let enc = sasl::encode_response(&ir);
                let enc = if enc.is_empty() {
                    "=".to_string()
                } else {
                    enc.to_string()
                };
                Zeroizing::new(format!("{tag} AUTHENTICATE {} {enc}\r\n", mech.name()))
            } else {
                Zeroizing::new(format!("{tag} AUTHENTICATE {}\r\n", mech.name()))
            };
            let shown = format!("{tag} AUTHENTICATE {} <redacted>", mech.name());
            if let Err(p) = conn.send(cmd.as_bytes(), Some(&shown), deadline).await {
                return Outcome::Unverified(p.message);
            }
            sasl = Some(client);
        }
        Method::Pop3User | Method::Apop => return Outcome::Unverified("not an IMAP method".into()),
    }
    loop {
        let resp = match conn
            .read(deadline, "the login reply", Code::Timeout, |r| {
                st.parser.next(r)
            })
            .await
        {
            Ok(r) => r,
            Err(p) => return Outcome::Unverified(p.message),
        };
        match (&resp, sasl.as_mut()) {
            (Response::Continuation { text }, Some(client)) => {
                let answer = sasl::decode_challenge(text).and_then(|c| client.step(&c));
                match answer {
                    Ok(r) => {
                        let line = Zeroizing::new(format!("{}\r\n", &*sasl::encode_response(&r)));
                        if let Err(p) = conn
                            .send(line.as_bytes(), Some("<redacted SASL response>"), deadline)
                            .await
                        {
                            return Outcome::Unverified(p.message);
                        }
                    }
                    Err(e) => {
                        let _ = conn.send(b"*\r\n", None, deadline).await;
                        return Outcome::Unverified(e.to_string());
                    }
                }
                continue;
            }
            (Response::Continuation { text }, None) => {
                return Outcome::Unverified(format!("unexpected continuation request: + {text}"));
            }
            _ => {}
        }
        match imap::expect_completion(&resp, &tag) {
            Ok(Step::Data) => {}
            Ok(Step::Done {
                status: Status::Ok,
                text,
                ..
            }) => {
                if let Some(client) = &sasl {
                    if let Err(e) = client.check_success() {
                        return Outcome::Unverified(e.to_string());
                    }
                }
                return Outcome::Ok(text);
            }
            Ok(Step::Done {
                status: Status::No,
                code,
                text,
            }) => {
                return Outcome::Refused(match code {
                    Some(c) => format!("[{c}] {text}"),
                    None => text,
                })
            }
            Ok(Step::Done { status, text, .. }) => {
                return Outcome::Unverified(format!("{} {text}", status.as_str()))
            }
            Err(e) => return Outcome::Unverified(e.to_string()),
        }
    }
}

/// LOGIN with literals for a user name or password that can't be quoted.
async fn send_login_literals(
    conn: &mut Conn,
    st: &mut ImapState,
    tag: &str,
    creds: &Credentials,
    deadline: std::time::Instant,
) -> Result<(), Outcome> {
    let plus = imap::literal_plus(&st.capabilities);
    let user = creds.username.as_bytes();
    let pass = creds.secret.expose().as_bytes();
    let marker = |n: usize| {
        if plus {
            format!("{{{n}+}}")
        } else {
            format!("{{{n}}}")
        }
    };
    // Every buffer that holds the password is zeroed when dropped.
    let parts: [(Zeroizing<Vec<u8>>, String); 3] = [
        (
            Zeroizing::new(format!("{tag} LOGIN {}\r\n", marker(user.len())).into_bytes()),
            format!("{tag} LOGIN {}", marker(user.len())),
        ),
        (
            Zeroizing::new([user, format!(" {}\r\n", marker(pass.len())).as_bytes()].concat()),
            "<literal user name>".into(),
        ),
        (
            Zeroizing::new([pass, b"\r\n"].concat()),
            "<redacted literal>".into(),
        ),
    ];
    for (i, (bytes, shown)) in parts.iter().enumerate() {
        conn.send(bytes, Some(shown), deadline)
            .await
            .map_err(|p| Outcome::Unverified(p.message))?;
        if !plus && i < 2 {
            let resp = conn
                .read(deadline, "the literal continuation", Code::Timeout, |r| {
                    st.parser.next(r)
                })
                .await
                .map_err(|p| Outcome::Unverified(p.message))?;
            match resp {
                Response::Continuation { .. } => {}
                Response::Tagged {
                    tag: t,
                    status: Status::No,
                    text,
                    ..
                } if t == tag => return Err(Outcome::Refused(text)),
                other => {
                    return Err(Outcome::Unverified(format!(
                        "expected a continuation, got {}",
                        describe(&other)
                    )))
                }
            }
        }
    }
    Ok(())
}

/// After a login: `GETQUOTAROOT INBOX` (when QUOTA is advertised) and `STATUS INBOX (MESSAGES)`.
pub(super) async fn quota(
    conn: &mut Conn,
    st: &mut ImapState,
    cfg: &SessionConfig,
    url: &str,
) -> Option<Quota> {
    // Servers announce more after login (Dovecot: QUOTA); read the capabilities again.
    if let Ok(caps) = capability(conn, &mut st.parser, &mut st.tags, cfg).await {
        st.capabilities = caps;
    }
    let storage = if imap::has_quota(&st.capabilities) {
        untagged(conn, st, "GETQUOTAROOT INBOX", "QUOTA", cfg)
            .await?
            .iter()
            .flat_map(|text| imap::parse_quota(text))
            .find(|(name, _, _)| name == "STORAGE")
            .map(|(_, used, limit)| (used.saturating_mul(1024), limit.saturating_mul(1024)))
    } else {
        None
    };
    let messages = untagged(conn, st, "STATUS INBOX (MESSAGES)", "STATUS", cfg)
        .await
        .and_then(|texts| texts.iter().find_map(|t| imap::parse_status_messages(t)));
    let (used, limit) = storage.map_or((None, None), |(u, l)| (Some(u), (l > 0).then_some(l)));
    Some(Quota {
        used_bytes: used,
        limit_bytes: limit,
        percent: percent(used, limit),
        messages,
        source: "imap-quota".into(),
        url: url.to_string(),
    })
}

/// Runs `cmd` and returns the texts of its untagged `keyword` responses (None on any failure).
async fn untagged(
    conn: &mut Conn,
    st: &mut ImapState,
    cmd: &str,
    keyword: &str,
    cfg: &SessionConfig,
) -> Option<Vec<String>> {
    let tag = st.tags.next_tag();
    conn.send(
        &imap::command(&tag, cmd),
        None,
        cfg.phase(cfg.timeouts.command),
    )
    .await
    .ok()?;
    let deadline = cfg.phase(cfg.timeouts.command);
    let mut out = Vec::new();
    loop {
        let resp = conn
            .read(deadline, cmd, Code::Timeout, |r| st.parser.next(r))
            .await
            .ok()?;
        if let Response::Untagged {
            keyword: k, text, ..
        } = &resp
        {
            if k == keyword {
                out.push(text.clone());
            }
        }
        match imap::expect_completion(&resp, &tag) {
            Ok(Step::Data) => {}
            Ok(Step::Done { .. }) => return Some(out),
            Err(_) => return None,
        }
    }
}

/// After a login: the special folders, from the best LIST form the server offers (bounded by
/// [`folders::MAX_FOLDERS`] entries and the command deadline). `None` when LIST failed.
pub(super) async fn folders(
    conn: &mut Conn,
    st: &mut ImapState,
    cfg: &SessionConfig,
) -> Option<crate::model::Folders> {
    use crate::proto::folders::{self, ListForm};
    let form = ListForm::for_capabilities(&st.capabilities);
    let texts = untagged(conn, st, form.command(), form.keyword(), cfg).await?;
    let entries: Vec<_> = texts
        .iter()
        .take(folders::MAX_FOLDERS)
        .filter_map(|t| folders::parse_list(t))
        .collect();
    Some(folders::choose(&entries, form))
}

pub(super) async fn logout(conn: &mut Conn, st: &mut ImapState) {
    let tag = st.tags.next_tag();
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(500);
    let _ = conn
        .send(&imap::command(&tag, "LOGOUT"), None, deadline)
        .await;
}
