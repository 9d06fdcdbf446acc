//! Thunderbird autoconfig (`config-v1.1.xml`) parser, then the expansion of its templates into
//! candidates for two addresses (ASCII and IDN). Whatever the file says, a candidate has a
//! valid host, a port, and a username with no control characters.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mailsetup::discover::config_v11;
use mailsetup::discover::Source;
use mailsetup::model::{validate_host, Address, Transport};

fuzz_target!(|data: &[u8]| {
    // As discovery decodes a body: BOM dropped, invalid UTF-8 replaced.
    let body = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let text = String::from_utf8_lossy(body);
    let Ok(cfg) = config_v11::parse(&text) else {
        return;
    };
    assert!(!cfg.incoming.is_empty() || !cfg.outgoing.is_empty());
    let _ = cfg.name();
    for s in cfg.incoming.iter().chain(&cfg.outgoing) {
        assert!(s.port > 0);
        assert!(!s.auth.is_empty());
    }
    for addr in ["alice@example.com", "jörg@bücher.example"] {
        let address: Address = addr.parse().expect("valid address");
        for transport in [Transport::Https, Transport::Http, Transport::Builtin] {
            for c in cfg.candidates(&address, Source::Autoconfig, transport) {
                let host = &c.endpoint.host;
                assert!(validate_host(host).is_ok(), "invalid host {host:?}");
                assert!(host.is_ascii(), "non-ASCII host {host:?}");
                assert!(c.endpoint.port > 0);
                assert!(!c.username.chars().any(char::is_control));
                let _ = c.endpoint.url();
            }
        }
    }
});
