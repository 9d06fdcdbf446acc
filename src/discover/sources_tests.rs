//! Unit tests of the discovery sources (src/discover/sources.rs).

use super::*;

#[test]
fn config_urls_follow_thunderbird() {
    let u: Vec<String> = config_urls(Source::Autoconfig, "d.org", "a+b@d.org")
        .iter()
        .map(Url::to_string)
        .collect();
    assert_eq!(
        u,
        [
            "https://autoconfig.d.org/mail/config-v1.1.xml?emailaddress=a%2Bb%40d.org",
            "http://autoconfig.d.org/mail/config-v1.1.xml?emailaddress=a%2Bb%40d.org"
        ]
    );
    let w = config_urls(Source::AutoconfigWellknown, "d.org", "u@d.org");
    assert_eq!(
        w[0].as_str(),
        "https://d.org/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=u%40d.org"
    );
    assert_eq!(w[1].scheme(), "http");
    let i = config_urls(Source::Ispdb, "xn--bcher-kva.example", "");
    assert_eq!(
        i[0].as_str(),
        "https://autoconfig.thunderbird.net/v1.1/xn--bcher-kva.example"
    );
    assert!(config_urls(Source::Srv, "d.org", "").is_empty());
}

#[test]
fn mx_domains_strip_a_label_then_use_the_registrable_domain() {
    assert_eq!(
        mx_domains("mx1.mail.protection.outlook.com.", "customer.org"),
        ["mail.protection.outlook.com", "outlook.com"]
    );
    assert_eq!(
        mx_domains("aspmx.l.google.com", "x.org"),
        ["l.google.com", "google.com"]
    );
    assert_eq!(mx_domains("mx.provider.co.uk", "x.org"), ["provider.co.uk"]);
    // Own domain and public suffixes are skipped.
    assert!(mx_domains("mx.x.org", "x.org").is_empty());
    assert_eq!(mx_domains("mx.co.uk", "x.org"), ["mx.co.uk"]);
    assert!(mx_domains("localhost", "x.org").is_empty());
}
