//! POP3 session driver: greeting, CAPA, STLS.

use zeroize::Zeroizing;

use super::conn::Conn;
use super::login::{Credentials, Method, Outcome};
use super::{starttls_problem, upgrade_after_starttls, SessionConfig};
use crate::model::timing::PhaseName;
use crate::model::{Endpoint, Security};
use crate::proto::pop3::{self, MultiLine, Reply};
use crate::proto::sasl::{self, SaslClient};
use crate::report::Quota;
use crate::report::{Code, EndpointReport, Problem};

/// The POP3 state a login can continue from.
pub struct Pop3State {
    pub apop_timestamp: Option<String>,
    pub capa: Vec<String>,
}

pub(super) async fn establish_state(
    conn: &mut Conn,
    endpoint: &Endpoint,
    cfg: &SessionConfig,
    rep: &mut EndpointReport,
) -> Result<Pop3State, Vec<Problem>> {
    cfg.begin_phase(rep, PhaseName::Greeting);
    let greeting = conn
        .read(
            cfg.phase(cfg.timeouts.greeting),
            "the greeting",
            Code::GreetingTimeout,
            pop3::next_reply,
        )
        .await
        .map_err(|p| vec![p])?;
    let g = match pop3::check_greeting(&greeting) {
        Ok(g) => g,
        Err(e) => {
            let code = if matches!(greeting, Reply::Err(_)) {
                Code::ServerRefused
            } else {
                Code::ProtocolError
            };
            return Err(vec![Problem::error(code, e.to_string())]);
        }
    };
    rep.greeting = Some(format!("+OK {}", g.text));
    let mut apop_timestamp = g.apop_timestamp;
    cfg.begin_phase(rep, PhaseName::Capabilities);
    let mut capa = read_capa(conn, cfg).await?;
    if endpoint.security == Security::StartTls {
        rep.capabilities_before_tls = Some(pop3::capabilities(&capa));
        pop3::starttls_offered(&pop3::capabilities(&capa))
            .map_err(|r| vec![starttls_problem(r)])?;
        cfg.begin_phase(rep, PhaseName::Starttls);
        let stls = super::starttls_bytes(cfg, pop3::command("STLS"), pop3::command("NOOP"));
        conn.send(&stls, None, cfg.phase(cfg.timeouts.command))
            .await
            .map_err(|p| vec![p])?;
        let reply = conn
            .read(
                cfg.phase(cfg.timeouts.command),
                "the STLS reply",
                Code::Timeout,
                pop3::next_reply,
            )
            .await
            .map_err(|p| vec![p])?;
        pop3::check_stls_reply(&reply).map_err(|r| vec![starttls_problem(r)])?;
        upgrade_after_starttls(conn, endpoint, cfg, rep).await?;
        super::injection_verdict(conn, cfg, rep, "NOOP").await?;
        // Everything learned before TLS is discarded: capabilities are read again, and the
        // APOP timestamp (from the plaintext greeting, so attacker-controlled) is dropped.
        cfg.begin_phase(rep, PhaseName::Capabilities);
        capa = read_capa(conn, cfg).await?;
        apop_timestamp = None;
    }
    rep.capabilities = pop3::capabilities(&capa);
    rep.auth_mechanisms = pop3::auth_mechanisms(&capa);
    Ok(Pop3State {
        apop_timestamp,
        capa,
    })
}

/// `CAPA`; a server without it (`-ERR`) simply has no capabilities to show.
async fn read_capa(conn: &mut Conn, cfg: &SessionConfig) -> Result<Vec<String>, Vec<Problem>> {
    conn.send(
        &pop3::command("CAPA"),
        None,
        cfg.phase(cfg.timeouts.command),
    )
    .await
    .map_err(|p| vec![p])?;
    let deadline = cfg.phase(cfg.timeouts.command);
    let status = conn
        .read(deadline, "the CAPA reply", Code::Timeout, pop3::next_reply)
        .await
        .map_err(|p| vec![p])?;
    match status {
        Reply::Ok(_) => {
            let mut body = MultiLine::new();
            conn.read(deadline, "the CAPA list", Code::Timeout, |r| body.next(r))
                .await
                .map_err(|p| vec![p])
        }
        Reply::Err(_) => Ok(vec![]),
        Reply::Continuation(t) => Err(vec![Problem::error(
            Code::ProtocolError,
            format!("unexpected '+ {t}' to CAPA"),
        )]),
    }
}

async fn reply(conn: &mut Conn, cfg: &SessionConfig, what: &str) -> Result<Reply, Outcome> {
    conn.read(
        cfg.phase(cfg.timeouts.command),
        what,
        Code::Timeout,
        pop3::next_reply,
    )
    .await
    .map_err(|p| Outcome::Unverified(p.message))
}

async fn send(
    conn: &mut Conn,
    line: &[u8],
    shown: &str,
    cfg: &SessionConfig,
) -> Result<(), Outcome> {
    conn.send(line, Some(shown), cfg.phase(cfg.timeouts.command))
        .await
        .map_err(|p| Outcome::Unverified(p.message))
}

/// Only `+OK` to PASS, APOP or the last AUTH step is success.
pub(super) async fn login(
    conn: &mut Conn,
    st: &Pop3State,
    method: Method,
    creds: &Credentials,
    cfg: &SessionConfig,
    endpoint: &Endpoint,
) -> Outcome {
    match login_inner(conn, st, method, creds, cfg, endpoint).await {
        Ok(o) | Err(o) => o,
    }
}

async fn login_inner(
    conn: &mut Conn,
    st: &Pop3State,
    method: Method,
    creds: &Credentials,
    cfg: &SessionConfig,
    endpoint: &Endpoint,
) -> Result<Outcome, Outcome> {
    let user = &creds.username;
    if user.contains(['\r', '\n']) {
        return Err(Outcome::Unverified(
            "the user name contains a line break".into(),
        ));
    }
    let secret = creds.secret.expose();
    match method {
        Method::Pop3User => {
            send(
                conn,
                format!("USER {user}\r\n").as_bytes(),
                &format!("USER {user}"),
                cfg,
            )
            .await?;
            match reply(conn, cfg, "the USER reply").await? {
                Reply::Ok(_) => {}
                Reply::Err(t) => return Ok(Outcome::Refused(t)),
                Reply::Continuation(t) => return Ok(Outcome::Unverified(format!("+ {t}"))),
            }
            let line = Zeroizing::new(format!("PASS {secret}\r\n"));
            send(conn, line.as_bytes(), "PASS <redacted>", cfg).await?;
            Ok(final_reply(reply(conn, cfg, "the PASS reply").await?))
        }
        Method::Apop => {
            let Some(ts) = &st.apop_timestamp else {
                return Ok(Outcome::Unverified(
                    "the greeting has no APOP timestamp".into(),
                ));
            };
            let digest = sasl::apop_digest(ts, secret);
            let line = Zeroizing::new(format!("APOP {user} {}\r\n", &*digest));
            send(
                conn,
                line.as_bytes(),
                &format!("APOP {user} <redacted>"),
                cfg,
            )
            .await?;
            Ok(final_reply(reply(conn, cfg, "the APOP reply").await?))
        }
        Method::Sasl(mech) => {
            let mut client = SaslClient::new(mech, user, secret, &endpoint.host, endpoint.port);
            let line = match client.initial_response() {
                Some(ir) => {
                    let enc = sasl::encode_response(&ir);
                    Zeroizing::new(format!(
                        "AUTH {} {}\r\n",
                        mech.name(),
                        if enc.is_empty() { "=" } else { &enc }
                    ))
                }
                None => Zeroizing::new(format!("AUTH {}\r\n", mech.name())),
            };
            send(
                conn,
                line.as_bytes(),
                &format!("AUTH {} <redacted>", mech.name()),
                cfg,
            )
            .await?;
            loop {
                match reply(conn, cfg, "the AUTH reply").await? {
                    Reply::Continuation(text) => {
                        match sasl::decode_challenge(&text).and_then(|c| client.step(&c)) {
                            Ok(r) => {
                                let line =
                                    Zeroizing::new(format!("{}\r\n", &*sasl::encode_response(&r)));
                                send(conn, line.as_bytes(), "<redacted SASL response>", cfg)
                                    .await?;
                            }
                            Err(e) => {
                                let _ = send(conn, b"*\r\n", "*", cfg).await;
                                return Ok(Outcome::Unverified(e.to_string()));
                            }
                        }
                    }
                    Reply::Ok(t) => {
                        return Ok(match client.check_success() {
                            Ok(()) => Outcome::Ok(t),
                            Err(e) => Outcome::Unverified(e.to_string()),
                        })
                    }
                    Reply::Err(t) => return Ok(Outcome::Refused(t)),
                }
            }
        }
        Method::ImapLogin => Ok(Outcome::Unverified("not a POP3 method".into())),
    }
}

fn final_reply(r: Reply) -> Outcome {
    match r {
        Reply::Ok(t) => Outcome::Ok(t),
        Reply::Err(t) => Outcome::Refused(t),
        Reply::Continuation(t) => Outcome::Unverified(format!("unexpected '+ {t}'")),
    }
}

/// After a login: `STAT` (message count and size; POP3 knows no limit).
pub(super) async fn quota(conn: &mut Conn, cfg: &SessionConfig, url: &str) -> Option<Quota> {
    conn.send(
        &pop3::command("STAT"),
        None,
        cfg.phase(cfg.timeouts.command),
    )
    .await
    .ok()?;
    match reply(conn, cfg, "the STAT reply").await.ok()? {
        Reply::Ok(text) => {
            let (messages, octets) = pop3::parse_stat(&text)?;
            Some(Quota {
                used_bytes: Some(octets),
                limit_bytes: None,
                percent: None,
                messages: Some(messages),
                source: "pop3-stat".into(),
                url: url.to_string(),
            })
        }
        _ => None,
    }
}

pub(super) async fn quit(conn: &mut Conn) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(500);
    let _ = conn.send(&pop3::command("QUIT"), None, deadline).await;
}
