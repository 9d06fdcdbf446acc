//! Verifier kinds and dates.

use super::*;

#[test]
fn the_kind_alone_decides() {
    let (cert, key) = ([1u8; 32], [2u8; 32]);
    let a = VerifierKind::Authorities;
    assert_eq!(a.decide(true, &cert, &key), Verdict::Valid);
    assert_eq!(a.decide(false, &cert, &key), Verdict::Refused);
    let i = VerifierKind::Insecure;
    assert_eq!(i.decide(true, &cert, &key), Verdict::Valid);
    assert_eq!(i.decide(false, &cert, &key), Verdict::Insecure);
    // A pin restricts: validity does not matter either way.
    let p = VerifierKind::Pinned(vec![Pin::Spki(key)]);
    for valid in [true, false] {
        assert_eq!(
            p.decide(valid, &cert, &key),
            Verdict::Pinned(PinForm::SpkiSha256)
        );
        assert_eq!(p.decide(valid, &key, &cert), Verdict::PinMismatch);
    }
    assert_eq!(
        VerifierKind::from_flags(false, vec![Pin::Certificate(cert)]),
        VerifierKind::Pinned(vec![Pin::Certificate(cert)])
    );
    assert_eq!(
        VerifierKind::from_flags(true, vec![]),
        VerifierKind::Insecure
    );
    assert_eq!(VerifierKind::from_flags(false, vec![]), a);
    assert!(!Verdict::PinMismatch.accepted() && !Verdict::Refused.accepted());
}

#[test]
fn rfc3339_dates() {
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
    assert_eq!(rfc3339(-86_400), "1969-12-31T00:00:00Z");
}
