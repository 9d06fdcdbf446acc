//! DNS-driven sources (SRV, MX, guesses, IDN) and Autodiscover, against dnsmasq and local
//! HTTPS servers. Part of the `discover` test target (see ../discover.rs for the helpers).

use super::*;
#[tokio::test(flavor = "multi_thread")]
async fn srv_only_in_rfc_order() {
    let Some(dns) = TestDns::start(&[
        Record::srv("_imaps._tcp.srv.test", "imap.srv.test", 993, 0, 0),
        Record::srv("_submission._tcp.srv.test", "backup.srv.test", 587, 20, 0),
        Record::srv("_submission._tcp.srv.test", "smtp.srv.test", 587, 10, 5),
        Record::srv("_submission._tcp.srv.test", "smtp2.srv.test", 2587, 10, 50),
        Record::srv_not_offered("_pop3._tcp.srv.test"),
        Record::srv_not_offered("_pop3s._tcp.srv.test"),
    ]) else {
        return;
    };
    let t = trust();
    let d = discover(&addr("u@srv.test"), &config(&t, Some(&dns), &[], 10)).await;
    only_from(&d, Source::Srv);
    assert_eq!(
        urls(&d),
        [
            "imaps://imap.srv.test:993",
            "smtp://smtp2.srv.test:2587",
            "smtp://smtp.srv.test:587",
            "smtp://backup.srv.test:587"
        ]
    );
    assert!(d
        .candidates
        .iter()
        .all(|c| c.trusted && c.username == "u@srv.test"));
    let srv = attempts(&d, Source::Srv);
    assert_eq!(srv.len(), 6);
    let pop3 = srv
        .iter()
        .find(|a| a.target == "_pop3._tcp.srv.test")
        .unwrap();
    assert_eq!(pop3.result, AttemptResult::NotFound);
    assert!(pop3.detail.contains("not offered"), "{}", pop3.detail);
    let imap = srv
        .iter()
        .find(|a| a.target == "_imap._tcp.srv.test")
        .unwrap();
    assert_eq!(imap.result, AttemptResult::NotFound);

    // --sources srv: nothing else runs.
    let mut cfg = config(&t, Some(&dns), &[], 10);
    cfg.sources = Some(vec![Source::Srv]);
    let d = discover(&addr("u@srv.test"), &cfg).await;
    assert!(
        d.attempts.iter().all(|a| a.source == Source::Srv),
        "{:#?}",
        d.attempts
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn srv_target_outside_the_domain_is_untrusted() {
    let Some(dns) = TestDns::start(&[
        Record::srv("_imaps._tcp.srvout.test", "imap.elsewhere.test", 993, 0, 0),
        Record::srv(
            "_submissions._tcp.srvout.test",
            "smtp.srvout.test",
            465,
            0,
            0,
        ),
    ]) else {
        return;
    };
    let t = trust();
    let d = discover(&addr("u@srvout.test"), &config(&t, Some(&dns), &[], 10)).await;
    let got: Vec<(String, bool)> = d
        .candidates
        .iter()
        .map(|c| (c.endpoint.url(), c.trusted))
        .collect();
    // Ranked by tier: an SRV target inside the domain above one outside it (host names and
    // protocols never outrank the tier).
    assert_eq!(
        got,
        [
            ("smtps://smtp.srvout.test:465".into(), true),
            ("imaps://imap.elsewhere.test:993".into(), false)
        ]
    );
    let outside = &d.candidates[1];
    assert_eq!(outside.trust_reason, Some(TrustReason::OutsideDomain));
    assert!(!outside.in_domain);
}

#[tokio::test(flavor = "multi_thread")]
async fn mx_host_leads_to_the_builtin_db() {
    // A customer domain hosted by Microsoft 365: its MX is <tenant>.mail.protection.outlook.com.
    let Some(dns) = TestDns::start(&[Record::mx(
        "mxonly.test",
        "mxonly-test.mail.protection.outlook.com",
        10,
    )]) else {
        return;
    };
    let t = trust();
    let d = discover(&addr("u@mxonly.test"), &config(&t, Some(&dns), &[], 10)).await;
    only_from(&d, Source::MxBuiltinDb);
    assert_eq!(
        urls(&d),
        [
            "imaps://outlook.office365.com:993",
            "pop3s://outlook.office365.com:995",
            "smtp://smtp.office365.com:587"
        ]
    );
    // Derived from an MX host outside the domain: not trusted until the user confirms the
    // provider (--trust-mx, or the wizard's question); the MX host is recorded.
    assert!(
        d.candidates.iter().all(|c| !c.trusted
            && c.trust_reason == Some(TrustReason::MxUnconfirmed)
            && c.mx_host.as_deref() == Some("mxonly-test.mail.protection.outlook.com")),
        "{:#?}",
        d.candidates
    );
    let mut confirmed = d.clone();
    TrustPolicy::new(&addr("u@mxonly.test"), &[], true).apply(&mut confirmed);
    assert!(confirmed
        .candidates
        .iter()
        .all(|c| c.trusted && c.trust_reason == Some(TrustReason::TrustMx)));
    assert_eq!(d.provider.as_deref(), Some("Microsoft 365"));
    let mx = attempts(&d, Source::MxBuiltinDb);
    assert_eq!(mx[0].target, "MX mxonly.test");
    assert!(
        mx[0]
            .detail
            .contains("mxonly-test.mail.protection.outlook.com"),
        "{}",
        mx[0].detail
    );
    assert!(mx
        .iter()
        .any(|a| a.target == "mail.protection.outlook.com" && a.result == AttemptResult::Found));
    // The online ISPDB was asked for the same name (the test DNS refuses, so: error).
    let online = attempts(&d, Source::MxIspdb);
    assert!(
        online
            .iter()
            .any(|a| a.target.ends_with("/v1.1/mail.protection.outlook.com")),
        "{online:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn autodiscover_only() {
    let Some(dns) = TestDns::start(&[]) else {
        return;
    };
    let t = trust();
    let leaf = t.ca.leaf(&["autodiscover.ad.test"]);
    let srv = HttpServer::https(
        leaf.server_config(),
        vec![route(
            "autodiscover.ad.test",
            AD_PATH,
            Reply::xml(&pox_settings("imap.ad.test", "smtp.ad.test")),
        )],
    );
    let cfg = config(
        &t,
        Some(&dns),
        &[rule("autodiscover.ad.test", 443, srv.port())],
        10,
    );
    let d = discover(&addr("a&b@ad.test"), &cfg).await;
    only_from(&d, Source::Autodiscover);
    assert_eq!(
        urls(&d),
        ["imaps://imap.ad.test:993", "smtp://smtp.ad.test:587"]
    );
    assert!(d
        .candidates
        .iter()
        .all(|c| c.trusted && c.username == "a&b@ad.test"));
    let reqs = srv.requests();
    assert_eq!(reqs.len(), 1, "{reqs:#?}");
    assert_eq!(reqs[0].method, "POST");
    assert!(reqs[0]
        .header("content-type")
        .unwrap()
        .starts_with("text/xml"));
    let body = String::from_utf8_lossy(&reqs[0].body);
    assert!(
        body.contains("<EMailAddress>a&amp;b@ad.test</EMailAddress>"),
        "{body}"
    );
    assert!(
        reqs[0].header("authorization").is_none(),
        "discovery never sends credentials"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn autodiscover_follows_http_redirect_then_redirect_addr() {
    let Some(dns) = TestDns::start(&[]) else {
        return;
    };
    let t = trust();
    let leaf =
        t.ca.leaf(&["mail.ad2.test", "ad3.test", "autodiscover.ad4.test"]);
    let loop_url = |n: u32| format!("https://autodiscover.ad4.test/loop{n}");
    let https = HttpServer::https(
        leaf.server_config(),
        vec![
            route(
                "mail.ad2.test",
                AD_PATH,
                Reply::xml(&pox(
                    "<Action>redirectAddr</Action><RedirectAddr>user@ad3.test</RedirectAddr>",
                )),
            ),
            route(
                "ad3.test",
                AD_PATH,
                Reply::xml(&pox_settings("imap.ad3.test", "smtp.ad3.test")),
            ),
            route(
                "autodiscover.ad4.test",
                AD_PATH,
                Reply::xml(&pox(&format!(
                    "<Action>redirectUrl</Action><RedirectUrl>{}</RedirectUrl>",
                    loop_url(1)
                ))),
            ),
            route(
                "autodiscover.ad4.test",
                "/loop1",
                Reply::xml(&pox(&format!(
                    "<Action>redirectUrl</Action><RedirectUrl>{}</RedirectUrl>",
                    loop_url(2)
                ))),
            ),
            route(
                "autodiscover.ad4.test",
                "/loop2",
                Reply::xml(&pox(&format!(
                    "<Action>redirectUrl</Action><RedirectUrl>{}</RedirectUrl>",
                    loop_url(3)
                ))),
            ),
        ],
    );
    let http = HttpServer::http(vec![route(
        "autodiscover.ad2.test",
        AD_PATH,
        Reply::redirect(302, "https://mail.ad2.test/autodiscover/autodiscover.xml"),
    )]);
    let rules = [
        rule("autodiscover.ad2.test", 80, http.port()),
        rule("mail.ad2.test", 443, https.port()),
        rule("ad3.test", 443, https.port()),
        rule("autodiscover.ad4.test", 443, https.port()),
    ];
    let d = discover(&addr("me@ad2.test"), &config(&t, Some(&dns), &rules, 10)).await;
    only_from(&d, Source::Autodiscover);
    assert_eq!(
        urls(&d),
        ["imaps://imap.ad3.test:993", "smtp://smtp.ad3.test:587"]
    );
    // Redirected to another domain: usernames follow the new address, trust does not.
    assert!(
        d.candidates
            .iter()
            .all(|c| !c.trusted && c.username == "user@ad3.test"),
        "{:#?}",
        d.candidates
    );
    let probe = attempts(&d, Source::Autodiscover)
        .into_iter()
        .find(|a| a.target.starts_with("GET "))
        .unwrap();
    assert_eq!(probe.result, AttemptResult::Found);
    assert!(
        probe.detail.contains("redirectAddr user@ad3.test"),
        "{}",
        probe.detail
    );
    assert_eq!(http.requests()[0].method, "GET");

    // A chain of redirectUrl answers stops after two redirects.
    let d = discover(&addr("me@ad4.test"), &config(&t, Some(&dns), &rules, 10)).await;
    assert!(d.candidates.is_empty());
    let a = attempts(&d, Source::Autodiscover);
    let looped = a
        .iter()
        .find(|a| a.target == "https://autodiscover.ad4.test/autodiscover/autodiscover.xml")
        .unwrap();
    assert_eq!(looped.result, AttemptResult::Error);
    assert!(
        looped.detail.contains("more than 2 redirects"),
        "{}",
        looped.detail
    );
    assert!(
        !https.requests().iter().any(|r| r.target == "/loop3"),
        "a third redirect was followed"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn guessing_keeps_hosts_that_resolve() {
    let Some(dns) = TestDns::start(&[
        Record::a("imap.guess.test", "127.0.0.1"),
        Record::a("smtp.guess.test", "127.0.0.1"),
    ]) else {
        return;
    };
    let t = trust();
    let mut cfg = config(&t, Some(&dns), &[], 10);
    cfg.guess = true;
    let d = discover(&addr("u@guess.test"), &cfg).await;
    only_from(&d, Source::Guess);
    assert_eq!(
        urls(&d),
        [
            "imaps://imap.guess.test:993",
            "imap://imap.guess.test:143",
            "smtps://smtp.guess.test:465",
            "smtp://smtp.guess.test:587"
        ]
    );
    let g = attempts(&d, Source::Guess);
    assert_eq!(g.len(), 6, "{g:#?}");
    assert_eq!(
        g.iter()
            .filter(|a| a.result == AttemptResult::Found)
            .count(),
        2
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn idn_domains_use_punycode_on_the_wire() {
    let Some(dns) = TestDns::start(&[Record::srv(
        "_imaps._tcp.xn--bcher-kva.test",
        "imap.xn--bcher-kva.test",
        993,
        0,
        0,
    )]) else {
        return;
    };
    let t = trust();
    let leaf = t.ca.leaf(&["autoconfig.xn--bcher-kva.test"]);
    let srv = HttpServer::https(leaf.server_config(), vec![]);
    let cfg = config(
        &t,
        Some(&dns),
        &[rule("autoconfig.xn--bcher-kva.test", 443, srv.port())],
        10,
    );
    let d = discover(&addr("jörg@bücher.test"), &cfg).await;
    only_from(&d, Source::Srv);
    assert_eq!(urls(&d), ["imaps://imap.xn--bcher-kva.test:993"]);
    assert!(d.candidates[0].trusted);
    assert_eq!(d.candidates[0].username, "jörg@bücher.test");
    assert_eq!(
        mailsetup::discover::idn::to_unicode(&d.candidates[0].endpoint.host),
        "imap.bücher.test"
    );
    let reqs = srv.requests();
    assert_eq!(reqs.len(), 1, "{reqs:#?}");
    assert_eq!(reqs[0].host, "autoconfig.xn--bcher-kva.test");
    assert!(
        d.attempts.iter().all(|a| a.target.is_ascii()),
        "{:#?}",
        d.attempts
    );
}
