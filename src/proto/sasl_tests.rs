//! SASL mechanisms against the RFC test vectors, and their bounds.

use super::*;

#[test]
fn plain_initial_response() {
    let mut c = SaslClient::new(Mechanism::Plain, "tim", "tanstaaftanstaaf", "h", 1);
    assert_eq!(&**c.initial_response().unwrap(), b"\0tim\0tanstaaftanstaaf");
}

#[test]
fn cram_md5_rfc2195_vector() {
    let mut c = SaslClient::new(Mechanism::CramMd5, "tim", "tanstaaftanstaaf", "h", 1);
    assert!(c.initial_response().is_none());
    let r = c
        .step(b"<1896.697170952@postoffice.reston.mci.net>")
        .unwrap();
    assert_eq!(&**r, b"tim b913a602c7eda7a495b4e6e7334d3890");
    assert!(c.step(b"again").is_err());
}

#[test]
fn apop_rfc1939_vector() {
    assert_eq!(
        &*apop_digest("<1896.697170952@dbc.mtview.ca.us>", "tanstaaf"),
        "c4c9334bac560ecc979e58001b3e22fb"
    );
}

#[test]
fn scram_sha1_rfc5802_vector() {
    let mut c = SaslClient::new(Mechanism::ScramSha1, "user", "pencil", "h", 1)
        .with_nonce("fyko+d2lbbFgONRv9qkxdawL");
    assert_eq!(
        &**c.initial_response().unwrap(),
        b"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL"
    );
    let r = c
        .step(b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096")
        .unwrap();
    assert_eq!(
        std::str::from_utf8(&r).unwrap(),
        "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
    );
    assert_eq!(c.check_success(), Err(SaslError::ServerNotVerified));
    assert!(c.step(b"v=rmF9pqV8S7suAoZWja4dJRkFsKQ=").is_ok());
    assert!(c.check_success().is_ok());
}

#[test]
fn scram_sha256_rfc7677_vector() {
    let mut c = SaslClient::new(Mechanism::ScramSha256, "user", "pencil", "h", 1)
        .with_nonce("rOprNGfwEbeRWgbNEkqO");
    c.initial_response();
    let r = c
            .step(b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
            .unwrap();
    assert_eq!(
            std::str::from_utf8(&r).unwrap(),
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
    assert_eq!(
        c.step(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
            .err(),
        None
    );
}

#[test]
fn scram_rejects_a_server_that_does_not_know_the_password() {
    let mut c = SaslClient::new(Mechanism::ScramSha1, "user", "pencil", "h", 1).with_nonce("abc");
    c.initial_response();
    c.step(b"r=abcdef,s=QSXCR+Q6sek8bf92,i=4096").unwrap();
    assert_eq!(
        c.step(b"v=AAAA").err(),
        Some(SaslError::ServerSignatureMismatch)
    );
    let mut c = SaslClient::new(Mechanism::ScramSha1, "user", "pencil", "h", 1).with_nonce("abc");
    c.initial_response();
    assert!(
        c.step(b"r=xyz,s=QSXCR+Q6sek8bf92,i=4096").is_err(),
        "nonce must extend ours"
    );
    let mut c = SaslClient::new(Mechanism::ScramSha1, "user", "pencil", "h", 1).with_nonce("abc");
    c.initial_response();
    assert!(
        c.step(b"r=abcd,s=QSXC,i=999999999").is_err(),
        "iteration bound"
    );
}

#[test]
fn login_and_bounded_round_trips() {
    let mut c = SaslClient::new(Mechanism::Login, "u", "p", "h", 1);
    assert_eq!(&**c.step(b"Username:").unwrap(), b"u");
    assert_eq!(&**c.step(b"Password:").unwrap(), b"p");
    assert!(c.step(b"More:").is_err());
}

#[test]
fn oauth_error_gets_one_dummy_answer() {
    let mut c = SaslClient::new(Mechanism::OAuthBearer, "u@x", "tok", "imap.x", 993);
    let ir = c.initial_response().unwrap();
    assert_eq!(
        &**ir,
        b"n,a=u@x,\x01host=imap.x\x01port=993\x01auth=Bearer tok\x01\x01"
    );
    assert_eq!(
        &**c.step(b"{\"status\":\"invalid_token\"}").unwrap(),
        b"\x01"
    );
    assert!(c.step(b"{}").is_err());
    let mut c = SaslClient::new(Mechanism::XOAuth2, "u", "tok", "h", 1);
    assert_eq!(
        &**c.initial_response().unwrap(),
        b"user=u\x01auth=Bearer tok\x01\x01"
    );
}

#[test]
fn challenges_decode() {
    assert_eq!(decode_challenge("").unwrap(), b"");
    assert_eq!(decode_challenge("=").unwrap(), b"");
    assert_eq!(decode_challenge("VXNlcm5hbWU6").unwrap(), b"Username:");
    assert!(decode_challenge("***").is_err());
}
