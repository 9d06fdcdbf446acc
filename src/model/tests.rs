//! Endpoint URLs, ports, addresses, secrets.

use super::*;

#[test]
fn endpoint_urls_round_trip() {
    for url in [
        "imaps://mail.example.com:993",
        "imap://mail.example.com:143",
        "imap+plain://mail.example.com:143",
        "pop3s://h:995",
        "pop3://h:110",
        "pop3+plain://h:110",
        "smtps://h:465",
        "smtp://h:587",
        "smtp+plain://h:25",
        "imaps://[::1]:993",
    ] {
        let e: Endpoint = url.parse().unwrap();
        assert_eq!(e.to_string(), url);
    }
}

#[test]
fn default_ports_follow_rfc8314() {
    let e: Endpoint = "smtp://MAIL.Example.com".parse().unwrap();
    assert_eq!(
        (e.port, e.security, e.host.as_str()),
        (587, Security::StartTls, "mail.example.com")
    );
    let e: Endpoint = "pop3s://h".parse().unwrap();
    assert_eq!(e.port, 995);
}

#[test]
fn bad_urls_are_refused_with_a_reason() {
    for bad in [
        "mail.example.com",
        "http://h",
        "imaps://user@h",
        "imaps://h:0",
        "imaps://h:99999",
        "imaps://h/path",
        "imaps://::1:993",
        "imaps://bad host",
        "imaps://h\r\n:993",
    ] {
        assert!(bad.parse::<Endpoint>().is_err(), "{bad} accepted");
    }
}

#[test]
fn standard_endpoints_are_the_six_documented_ones() {
    let urls: Vec<String> = Endpoint::standard("h").iter().map(|e| e.url()).collect();
    assert_eq!(
        urls,
        [
            "imaps://h:993",
            "imap://h:143",
            "pop3s://h:995",
            "pop3://h:110",
            "smtps://h:465",
            "smtp://h:587"
        ]
    );
}

#[test]
fn secret_never_formats() {
    let s = Secret::new("hunter2".into());
    assert_eq!(format!("{s} {s:?}"), "<redacted> Secret(<redacted>)");
    assert_eq!(s.expose(), "hunter2");
}

#[test]
fn addresses_parse_at_last_at() {
    let a: Address = "\"a@b\"@Example.COM".parse().unwrap();
    assert_eq!(a.domain, "example.com");
    assert!("nobody".parse::<Address>().is_err());
    assert!("a b@c".parse::<Address>().is_err());
}
