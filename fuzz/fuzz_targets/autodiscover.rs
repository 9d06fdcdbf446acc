//! Microsoft Autodiscover (POX) response parser, then candidates from its settings. Whatever
//! the response says, a candidate has a valid host, a port, and a username with no control
//! characters, and a host outside the address's domain is never marked as inside it (the fact
//! the trust policy decides from).

#![no_main]

use libfuzzer_sys::fuzz_target;
use mailsetup::discover::autodiscover::{self, Response};
use mailsetup::model::{validate_host, Address, Transport};

fuzz_target!(|data: &[u8]| {
    let body = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let text = String::from_utf8_lossy(body);
    let Ok(resp) = autodiscover::parse(&text) else {
        return;
    };
    let Response::Settings { servers, .. } = resp else {
        return;
    };
    assert!(!servers.is_empty());
    let address: Address = "alice@example.com".parse().expect("valid address");
    for c in autodiscover::candidates(&servers, &address, "alice@example.com", Transport::Https) {
        let host = &c.endpoint.host;
        assert!(validate_host(host).is_ok(), "invalid host {host:?}");
        assert!(c.endpoint.port > 0);
        assert!(!c.username.chars().any(char::is_control));
        assert!(!c.trusted, "discovery decides no trust (the policy does)");
        if c.in_domain {
            assert!(
                host == "example.com" || host.ends_with(".example.com"),
                "foreign host {host:?} marked in-domain"
            );
        }
    }
});
