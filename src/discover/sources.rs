//! The network sources. Each registers its lookups with the recorder before it waits on
//! them, so whatever is still pending at the deadline can be reported as such.

use std::collections::VecDeque;
use std::sync::Arc;

use reqwest::{Method, Url};
use tokio::task::JoinSet;

use crate::model::{Address, Transport};

use super::autodiscover::{self, Response as AdResponse, MAX_REDIRECTS};
use super::config_v11;
use super::net::NetError;
use super::run::{Ctx, Outcome};
use super::srv::{self, SrvAnswer};
use super::{ispdb, AttemptResult, Source};

/// Redirects followed when fetching a config-v1.1 file.
const CONFIG_REDIRECTS: usize = 3;

const ISPDB_BASE: &str = "https://autoconfig.thunderbird.net/v1.1/";

/// The URLs a config-v1.1 source fetches, in order (the next only when the previous found
/// nothing).
pub fn config_urls(source: Source, domain_ascii: &str, email: &str) -> Vec<Url> {
    let with_address = |base: String| {
        let mut u = Url::parse(&base).ok()?;
        u.query_pairs_mut().append_pair("emailaddress", email);
        Some(u)
    };
    let urls = match source {
        Source::Autoconfig => ["https", "http"]
            .map(|s| {
                with_address(format!(
                    "{s}://autoconfig.{domain_ascii}/mail/config-v1.1.xml"
                ))
            })
            .to_vec(),
        Source::AutoconfigWellknown => ["https", "http"]
            .map(|s| {
                with_address(format!(
                    "{s}://{domain_ascii}/.well-known/autoconfig/mail/config-v1.1.xml"
                ))
            })
            .to_vec(),
        Source::Ispdb | Source::MxIspdb => {
            vec![Url::parse(&format!("{ISPDB_BASE}{domain_ascii}")).ok()]
        }
        _ => Vec::new(),
    };
    urls.into_iter().flatten().collect()
}

/// The domains to look up for an MX host: the host minus its first label, then its
/// registrable domain; never the address's own domain, never a public suffix.
pub fn mx_domains(mx_host: &str, own_domain: &str) -> Vec<String> {
    let host = mx_host.trim_end_matches('.').to_ascii_lowercase();
    let mut out: Vec<String> = Vec::new();
    let parent = host.split_once('.').map(|(_, rest)| rest.to_string());
    let registrable = psl::domain_str(&host).map(str::to_string);
    for d in [parent, registrable].into_iter().flatten() {
        let is_suffix = psl::suffix_str(&d) == Some(d.as_str());
        if d.contains('.') && !is_suffix && d != own_domain && !out.contains(&d) {
            out.push(d);
        }
    }
    out
}

/// Autoconfig and .well-known (https and http side by side), or the online ISPDB.
///
/// Thunderbird asks over plain HTTP only after HTTPS failed, which costs a stalled web host's
/// whole HTTPS timeout before the HTTP answer is even asked for. Both are asked at once here;
/// HTTPS wins: when it finds settings, the HTTP lookup is withdrawn (or, when it had already
/// answered, what it found is dropped from the merge; see `run::Recorder::finish`).
pub async fn config_source(ctx: Arc<Ctx>, source: Source) {
    let email = ctx.address.as_string();
    let urls = config_urls(source, &ctx.domain_ascii, &email);
    let (https, http): (Vec<Url>, Vec<Url>) = urls.into_iter().partition(|u| u.scheme() == "https");
    match (https.into_iter().next(), http.into_iter().next()) {
        (Some(secure), Some(plain)) if !ctx.expired() => {
            let secure_id = ctx.rec.begin(source, secure.as_str());
            let plain_id = ctx.rec.begin(source, plain.as_str());
            let secure_lookup = lookup_config(&ctx, secure_id, source, secure, None);
            let plain_lookup = lookup_config(&ctx, plain_id, source, plain, None);
            tokio::pin!(secure_lookup, plain_lookup);
            tokio::select! {
                found = &mut secure_lookup => {
                    if found {
                        ctx.rec.withdraw(plain_id);
                    } else {
                        plain_lookup.await;
                    }
                }
                _ = &mut plain_lookup => {
                    // Answered first, but HTTPS still decides: when it finds settings, the
                    // HTTP attempt was not needed (and its servers would be dropped anyway).
                    if secure_lookup.await {
                        ctx.rec.withdraw(plain_id);
                    }
                }
            }
        }
        (Some(url), None) | (None, Some(url)) if !ctx.expired() => {
            fetch_config(&ctx, source, url, None).await;
        }
        _ => {}
    }
}

/// Fetches one config-v1.1 URL as one attempt; true when it found settings.
/// `mx_host`: the MX host the looked-up domain was derived from (MX sources).
async fn fetch_config(ctx: &Ctx, source: Source, url: Url, mx_host: Option<&str>) -> bool {
    let id = ctx.rec.begin(source, url.as_str());
    lookup_config(ctx, id, source, url, mx_host).await
}

/// Runs attempt `id` (already begun) for one config-v1.1 URL; true when it found settings.
async fn lookup_config(
    ctx: &Ctx,
    id: usize,
    source: Source,
    url: Url,
    mx_host: Option<&str>,
) -> bool {
    let mut outcome = config_outcome(ctx, id, source, url).await;
    for c in &mut outcome.candidates {
        c.mx_host = mx_host.map(str::to_string);
    }
    let found = outcome.is_found();
    ctx.rec.end(id, outcome);
    found
}

async fn config_outcome(ctx: &Ctx, id: usize, source: Source, mut url: Url) -> Outcome {
    let mut hops = Vec::new();
    // HTTPS only when every request of the chain was: a plain-HTTP hop could have chosen the
    // rest.
    // Under --insecure the certificate was not checked: not verified HTTPS.
    let mut transport = if ctx.cfg.tls.insecure() {
        Transport::Http
    } else {
        Transport::Https
    };
    for _ in 0..=CONFIG_REDIRECTS {
        if url.scheme() != "https" {
            transport = Transport::Http;
        }
        let resp = match ctx.net.request(Method::GET, &url, None).await {
            Ok(r) => r,
            Err(e) => return with_hops(Outcome::from_error(&e), &hops),
        };
        if (300..400).contains(&resp.status) {
            match resp.redirect_target(&url) {
                // Never from https down to http.
                Some(t)
                    if t.scheme() == "https"
                        || (t.scheme() == "http" && url.scheme() == "http") =>
                {
                    hops.push(t.to_string());
                    url = t;
                    continue;
                }
                Some(t) => {
                    let why = format!(
                        "HTTP {}: redirect to {t} refused (https to http)",
                        resp.status
                    );
                    return with_hops(Outcome::empty(AttemptResult::Error, why), &hops);
                }
                None => {
                    let why = format!("HTTP {} without a usable Location", resp.status);
                    return with_hops(Outcome::empty(AttemptResult::Error, why), &hops);
                }
            }
        }
        let parsed = match ctx.parse(id, resp.body, config_v11::parse).await {
            Ok(p) => p,
            Err(unfinished) => return with_hops(unfinished, &hops),
        };
        let outcome = match parsed {
            Ok(cfg) => {
                let name = cfg.name();
                let candidates = cfg.candidates(&ctx.address, source, transport);
                let mut detail = format!(
                    "{}: {} server(s)",
                    name.as_deref().unwrap_or("provider"),
                    candidates.len()
                );
                if let Some(note) = resp.tls_note {
                    detail.push_str(&format!("; {note}"));
                }
                if candidates.is_empty() {
                    Outcome::empty(AttemptResult::Error, format!("{detail}: no usable server"))
                } else {
                    Outcome::found(detail, candidates, name)
                }
            }
            Err(e) => Outcome::empty(
                AttemptResult::Error,
                format!("not a usable config-v1.1 file: {e}"),
            )
            .refused_if(matches!(&e, config_v11::ConfigError::Xml(x) if x.is_bound())),
        };
        return with_hops(outcome, &hops);
    }
    with_hops(
        Outcome::empty(
            AttemptResult::Error,
            format!("more than {CONFIG_REDIRECTS} redirects"),
        ),
        &hops,
    )
}

fn with_hops(mut o: Outcome, hops: &[String]) -> Outcome {
    if !hops.is_empty() {
        o.detail = format!("{} (redirected to {})", o.detail, hops.join(" → "));
    }
    o
}

/// MX → built-in DB and online ISPDB for the MX host's domains. The MX query itself is
/// reported under the first enabled of the two sources.
pub async fn mx(ctx: Arc<Ctx>) {
    let builtin = ctx.cfg.enabled(Source::MxBuiltinDb);
    let online = ctx.cfg.enabled(Source::MxIspdb);
    let label = if builtin {
        Source::MxBuiltinDb
    } else {
        Source::MxIspdb
    };
    let id = ctx.rec.begin(label, format!("MX {}", ctx.domain_ascii));
    let (host, pref) = match ctx.net.mx(&ctx.domain_ascii).await {
        Ok(v) => v,
        Err(e) => return ctx.rec.end(id, Outcome::from_error(&e)),
    };
    let names = mx_domains(&host, &ctx.domain_ascii);
    let detail = if names.is_empty() {
        format!(
            "{host} (preference {pref}): within the address's own domain, nothing more to look up"
        )
    } else {
        format!(
            "{host} (preference {pref}): looking up {}",
            names.join(", ")
        )
    };
    ctx.rec.end(id, Outcome::found(detail, Vec::new(), None));

    if builtin {
        for name in &names {
            let id = ctx.rec.begin(Source::MxBuiltinDb, name.as_str());
            let cfg =
                ispdb::lookup_xml(name).and_then(|(f, x)| Some((f, config_v11::parse(x).ok()?)));
            match cfg {
                Some((file, cfg)) => {
                    let name = cfg.name();
                    let detail = format!("{} ({file})", name.as_deref().unwrap_or("provider"));
                    let mut c =
                        cfg.candidates(&ctx.address, Source::MxBuiltinDb, Transport::Builtin);
                    for cand in &mut c {
                        cand.mx_host = Some(host.clone());
                    }
                    ctx.rec.end(id, Outcome::found(detail, c, name));
                    break;
                }
                None => ctx.rec.end(
                    id,
                    Outcome::empty(
                        AttemptResult::NotFound,
                        "not in the built-in provider database",
                    ),
                ),
            }
        }
    }
    if online {
        for name in &names {
            let Some(url) = config_urls(Source::MxIspdb, name, "").pop() else {
                continue;
            };
            if ctx.expired() || fetch_config(&ctx, Source::MxIspdb, url, Some(&host)).await {
                break;
            }
        }
    }
}

/// The six RFC 6186/8314 SRV names, queried at once.
pub async fn srv(ctx: Arc<Ctx>) {
    let mut tasks = JoinSet::new();
    for service in srv::SERVICES {
        let name = service.name(&ctx.domain_ascii);
        let id = ctx.rec.begin(Source::Srv, name.as_str());
        let ctx = ctx.clone();
        tasks.spawn(async move {
            let outcome = match ctx.net.srv(&name).await {
                Err(e) => Outcome::from_error(&e),
                Ok(records) => match srv::order(records) {
                    SrvAnswer::NotOffered => {
                        Outcome::empty(AttemptResult::NotFound, "not offered (target \".\")")
                    }
                    SrvAnswer::Targets(t) if t.is_empty() => {
                        Outcome::empty(AttemptResult::NotFound, "no usable target")
                    }
                    SrvAnswer::Targets(t) => {
                        let shown: Vec<String> = t
                            .iter()
                            .map(|r| {
                                format!(
                                    "{}:{} (priority {}, weight {})",
                                    r.target, r.port, r.priority, r.weight
                                )
                            })
                            .collect();
                        let c = srv::candidates(&service, &t, &ctx.address);
                        Outcome::found(shown.join(", "), c, None)
                    }
                },
            };
            ctx.rec.end(id, outcome);
        });
    }
    while tasks.join_next().await.is_some() {}
}

/// Autodiscover: both https URLs, the http redirect probe and `_autodiscover._tcp`, at once.
pub async fn autodiscover(ctx: Arc<Ctx>) {
    let d = ctx.domain_ascii.clone();
    let mut tasks = JoinSet::new();
    for url in autodiscover::post_urls(&d) {
        let id = ctx.rec.begin(Source::Autodiscover, url.as_str());
        let ctx = ctx.clone();
        tasks.spawn(async move {
            let outcome = match Url::parse(&url) {
                Ok(u) => {
                    let transport = if ctx.cfg.tls.insecure() {
                        Transport::Http
                    } else {
                        Transport::Https
                    };
                    ad_chain(&ctx, id, u, Vec::new(), transport).await
                }
                Err(e) => Outcome::empty(AttemptResult::Error, e.to_string()),
            };
            ctx.rec.end(id, outcome);
        });
    }
    let probe = autodiscover::redirect_probe_url(&d);
    let id = ctx.rec.begin(Source::Autodiscover, format!("GET {probe}"));
    let c = ctx.clone();
    tasks.spawn(async move {
        let outcome = ad_redirect_probe(&c, id, &probe).await;
        c.rec.end(id, outcome);
    });
    let name = autodiscover::srv_name(&d);
    let id = ctx.rec.begin(Source::Autodiscover, format!("SRV {name}"));
    let c = ctx.clone();
    tasks.spawn(async move {
        let outcome = match c.net.srv(&name).await {
            Err(e) => Outcome::from_error(&e),
            Ok(records) => match srv::order(records) {
                SrvAnswer::Targets(t) if !t.is_empty() => {
                    let url = autodiscover::srv_url(&t[0].target, t[0].port);
                    match Url::parse(&url) {
                        Ok(u) => {
                            let hops = vec![format!("SRV → {url}")];
                            ad_chain(&c, id, u, hops, Transport::Dns).await
                        }
                        Err(e) => Outcome::empty(AttemptResult::Error, format!("{url}: {e}")),
                    }
                }
                _ => Outcome::empty(AttemptResult::NotFound, "no usable target"),
            },
        };
        c.rec.end(id, outcome);
    });
    while tasks.join_next().await.is_some() {}
}

/// Unauthenticated GET on http, only to learn a redirect to https (then POSTed to).
async fn ad_redirect_probe(ctx: &Ctx, id: usize, probe: &str) -> Outcome {
    let Ok(url) = Url::parse(probe) else {
        return Outcome::empty(AttemptResult::Error, "bad URL");
    };
    match ctx.net.request(Method::GET, &url, None).await {
        Err(e) => Outcome::from_error(&e),
        Ok(resp) => match resp.redirect_target(&url) {
            Some(t) if t.scheme() == "https" => {
                let hop = format!("redirected to {t}");
                ad_chain(ctx, id, t, vec![hop], Transport::Http).await
            }
            Some(t) => Outcome::empty(
                AttemptResult::Error,
                format!("redirect to {t} refused: not https"),
            ),
            None => Outcome::empty(
                AttemptResult::NotFound,
                format!("HTTP {}: no redirect to https", resp.status),
            ),
        },
    }
}

/// POSTs for the address, following HTTP redirects to https and Autodiscover redirects
/// (address or URL), at most [`MAX_REDIRECTS`] in all. `transport`: how the first URL was
/// learned (HTTPS for the domain's own URLs, plain HTTP for the redirect probe, DNS for
/// `_autodiscover._tcp`); `in_domain` is judged against the original address's domain,
/// however the chain went. `id`: the attempt, marked while its answer is parsed.
async fn ad_chain(
    ctx: &Ctx,
    id: usize,
    first: Url,
    mut hops: Vec<String>,
    transport: Transport,
) -> Outcome {
    let mut email = ctx.address.as_string();
    let mut queue = VecDeque::from([first]);
    let mut redirects = 0;
    let mut last = Outcome::empty(AttemptResult::NotFound, "nothing answered");
    while let Some(url) = queue.pop_front() {
        if ctx.expired() {
            last = Outcome::empty(AttemptResult::Timeout, "deadline reached");
            break;
        }
        if url.scheme() != "https" {
            last = Outcome::empty(AttemptResult::Error, format!("{url}: not https, not asked"));
            continue;
        }
        let body = autodiscover::request_body(&email);
        let resp = match ctx.net.request(Method::POST, &url, Some(body)).await {
            Ok(r) => r,
            Err(e) => {
                last = from_ad_error(&e);
                continue;
            }
        };
        let redirect = if (300..400).contains(&resp.status) {
            match resp.redirect_target(&url) {
                Some(t) if t.scheme() == "https" => {
                    Some((format!("HTTP {} → {t}", resp.status), vec![t]))
                }
                other => {
                    let to = other
                        .map(|t| t.to_string())
                        .unwrap_or_else(|| "nowhere".into());
                    last = Outcome::empty(
                        AttemptResult::Error,
                        format!("HTTP {}: redirect to {to} refused", resp.status),
                    );
                    continue;
                }
            }
        } else {
            let parsed = match ctx.parse(id, resp.body, autodiscover::parse).await {
                Ok(p) => p,
                Err(unfinished) => return with_hops(unfinished, &hops),
            };
            match parsed {
                Ok(AdResponse::Settings { servers, .. }) => {
                    let c = autodiscover::candidates(&servers, &ctx.address, &email, transport);
                    let mut detail = format!("{} server(s) from {url}", c.len());
                    if let Some(note) = resp.tls_note {
                        detail.push_str(&format!("; {note}"));
                    }
                    return with_hops(Outcome::found(detail, c, None), &hops);
                }
                Ok(AdResponse::RedirectAddr(a)) => match a.parse::<Address>() {
                    Ok(addr) => {
                        let d = super::idn::to_ascii(&addr.domain).unwrap_or_default();
                        email = addr.as_string();
                        let urls = autodiscover::post_urls(&d);
                        let urls = urls.iter().filter_map(|u| Url::parse(u).ok()).collect();
                        Some((format!("redirectAddr {email}"), urls))
                    }
                    Err(e) => {
                        last =
                            Outcome::empty(AttemptResult::Error, format!("bad redirectAddr: {e}"));
                        continue;
                    }
                },
                Ok(AdResponse::RedirectUrl(u)) => match Url::parse(&u) {
                    Ok(t) if t.scheme() == "https" => Some((format!("redirectUrl {t}"), vec![t])),
                    _ => {
                        last = Outcome::empty(
                            AttemptResult::Error,
                            format!("redirectUrl {u:?} refused: not an https URL"),
                        );
                        continue;
                    }
                },
                Ok(AdResponse::Error(msg)) => {
                    last = Outcome::empty(
                        AttemptResult::NotFound,
                        format!("Autodiscover error: {msg}"),
                    );
                    continue;
                }
                Err(e) => {
                    let bound =
                        matches!(&e, autodiscover::AutodiscoverError::Xml(x) if x.is_bound());
                    last = Outcome::empty(AttemptResult::Error, e.to_string()).refused_if(bound);
                    continue;
                }
            }
        };
        if let Some((hop, next)) = redirect {
            redirects += 1;
            hops.push(hop);
            if redirects > MAX_REDIRECTS {
                last = Outcome::empty(
                    AttemptResult::Error,
                    format!("more than {MAX_REDIRECTS} redirects"),
                );
                break;
            }
            queue = next.into();
        }
    }
    with_hops(last, &hops)
}

fn from_ad_error(e: &NetError) -> Outcome {
    match e {
        NetError::Failed(s) if s.starts_with("HTTP 401") || s.starts_with("HTTP 403") => {
            Outcome::empty(
                AttemptResult::Error,
                format!("{s}: the server wants credentials (discovery sends none)"),
            )
        }
        e => Outcome::from_error(e),
    }
}

/// Thunderbird's guessed hosts: which of them resolve (candidates are built at the end).
pub async fn guess(ctx: Arc<Ctx>) {
    let mut tasks = JoinSet::new();
    for host in super::guess::hosts(&ctx.domain_ascii) {
        let id = ctx.rec.begin(Source::Guess, host.as_str());
        let ctx = ctx.clone();
        tasks.spawn(async move {
            let outcome = if ctx.net.mapped(&host) {
                Outcome::found("mapped by --connect-to", Vec::new(), None)
            } else {
                match ctx.net.addresses(&host).await {
                    Ok(ips) => {
                        let shown: Vec<String> = ips.iter().map(|ip| ip.to_string()).collect();
                        Outcome::found(
                            format!("resolves to {}", shown.join(", ")),
                            Vec::new(),
                            None,
                        )
                    }
                    Err(e) => Outcome::from_error(&e),
                }
            };
            ctx.rec.end(id, outcome);
        });
    }
    while tasks.join_next().await.is_some() {}
}

#[cfg(test)]
#[path = "sources_tests.rs"]
mod tests;
