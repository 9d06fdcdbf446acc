//! A small, bounded XML tree for the two formats discovery reads (config-v1.1, Autodiscover).
//!
//! Input comes from the network, so everything is capped: input size, nesting depth, element
//! count, attributes per element and per document, text per element. Every bound makes the
//! parser stop at once, so the work done is linear in the input and bounded whatever the
//! document (quick-xml's duplicate-attribute check is quadratic in a tag's attribute count
//! before 0.41, RUSTSEC-2026-0194; we stop after [`MAX_ATTRIBUTES`] anyway). Only the five
//! predefined entities and character references are resolved; a DOCTYPE is ignored and custom
//! entities are refused, so entity-expansion attacks have nothing to expand. Element names are
//! local names (namespace prefixes dropped) because Autodiscover responses use default
//! namespaces freely; namespaces are never resolved (no `NsReader`, RUSTSEC-2026-0195), so an
//! `xmlns` declaration is just an attribute, counted like the others.
//!
//! The bounds are far above real documents: the largest file of Thunderbird's ISPDB has 231
//! elements, 22 attributes, at most 2 on one element, nesting depth 5.

use quick_xml::events::Event;
use quick_xml::Reader;
use quick_xml::XmlVersion;

/// Largest document accepted (bytes).
pub const MAX_INPUT: usize = 1024 * 1024;
/// Deepest element nesting accepted.
pub const MAX_DEPTH: usize = 32;
/// Most elements in one document (a config file then lists at most ~1,360 servers).
pub const MAX_ELEMENTS: usize = 4096;
/// Most attributes (`xmlns` declarations included) on one element.
pub const MAX_ATTRIBUTES: usize = 32;
/// Most attributes in one document.
pub const MAX_DOCUMENT_ATTRIBUTES: usize = 1024;
/// Most text (bytes) collected inside one element.
pub const MAX_TEXT: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    #[error("document larger than {} KiB", MAX_INPUT / 1024)]
    TooLarge,
    #[error("elements nested deeper than {MAX_DEPTH}")]
    TooDeep,
    #[error("more than {MAX_ELEMENTS} elements")]
    TooManyElements,
    #[error("more than {MAX_ATTRIBUTES} attributes on one element")]
    TooManyAttributes,
    #[error("more than {MAX_DOCUMENT_ATTRIBUTES} attributes in the document")]
    TooManyDocumentAttributes,
    #[error("more than {} KiB of text in one element", MAX_TEXT / 1024)]
    TooMuchText,
    #[error("no root element")]
    Empty,
    #[error("malformed XML: {0}")]
    Malformed(String),
}

impl XmlError {
    /// The document exceeded one of our bounds (as opposed to being malformed): a sign of a
    /// hostile or broken server, reported as such.
    pub fn is_bound(&self) -> bool {
        !matches!(self, XmlError::Empty | XmlError::Malformed(_))
    }
}

/// One element: its local name, attributes, child elements and its own text (concatenated,
/// untrimmed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    /// The first child with this local name (ASCII case-insensitive).
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// Every child with this local name (ASCII case-insensitive).
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children
            .iter()
            .filter(move |c| c.name.eq_ignore_ascii_case(name))
    }

    /// Trimmed text of the first child with this name, when present and not empty.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name)
            .map(|c| c.text.trim())
            .filter(|t| !t.is_empty())
    }

    /// An attribute's value by local name.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Decodes network bytes: a UTF-8 BOM is dropped, invalid UTF-8 replaced.
pub fn decode_body(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    String::from_utf8_lossy(bytes).into_owned()
}

fn malformed(e: impl std::fmt::Display) -> XmlError {
    XmlError::Malformed(e.to_string())
}

fn local(name: &str) -> String {
    match name.rsplit_once(':') {
        Some((_, local)) => local.to_string(),
        None => name.to_string(),
    }
}

fn push_text(stack: &mut [Element], text: &str) -> Result<(), XmlError> {
    // Text outside the root element (whitespace) has nowhere to go and is ignored.
    if let Some(top) = stack.last_mut() {
        if top.text.len() + text.len() > MAX_TEXT {
            return Err(XmlError::TooMuchText);
        }
        top.text.push_str(text);
    }
    Ok(())
}

fn predefined_entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        _ => return None,
    })
}

/// Parses a whole document into its root element.
pub fn parse(input: &str) -> Result<Element, XmlError> {
    if input.len() > MAX_INPUT {
        return Err(XmlError::TooLarge);
    }
    let mut reader = Reader::from_str(input);
    let config = reader.config_mut();
    config.expand_empty_elements = true;
    config.check_end_names = true;

    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    let mut attributes = 0usize;
    loop {
        let event = reader.read_event().map_err(malformed)?;
        match event {
            Event::Start(start) => {
                if root.is_some() {
                    return Err(XmlError::Malformed("more than one root element".into()));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError::TooDeep);
                }
                count += 1;
                if count > MAX_ELEMENTS {
                    return Err(XmlError::TooManyElements);
                }
                let mut el = Element {
                    name: local(start.name().as_ref()),
                    ..Element::default()
                };
                // Counted before each is checked or stored: parsing stops at the first one over.
                for attr in start.attributes() {
                    if el.attrs.len() >= MAX_ATTRIBUTES {
                        return Err(XmlError::TooManyAttributes);
                    }
                    attributes += 1;
                    if attributes > MAX_DOCUMENT_ATTRIBUTES {
                        return Err(XmlError::TooManyDocumentAttributes);
                    }
                    let attr = attr.map_err(malformed)?;
                    let value = attr
                        .normalized_value(XmlVersion::Implicit1_0)
                        .map_err(malformed)?;
                    el.attrs
                        .push((local(attr.key.as_ref()), value.into_owned()));
                }
                stack.push(el);
            }
            Event::End(_) => {
                let el = stack
                    .pop()
                    .ok_or_else(|| XmlError::Malformed("unexpected end tag".into()))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => push_text(&mut stack, &t.xml10_content())?,
            Event::CData(c) => push_text(&mut stack, &c.xml10_content())?,
            Event::GeneralRef(r) => {
                let ch = match r.resolve_char_ref().map_err(malformed)? {
                    Some(ch) => ch,
                    None => {
                        let name: &str = r.as_ref();
                        predefined_entity(name).ok_or_else(|| {
                            XmlError::Malformed(format!("unknown entity &{name};"))
                        })?
                    }
                };
                push_text(&mut stack, ch.encode_utf8(&mut [0u8; 4]))?;
            }
            Event::Eof => break,
            // Declarations, comments, processing instructions and DOCTYPE carry nothing we read.
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Malformed(
            "unclosed element at end of input".into(),
        ));
    }
    root.ok_or(XmlError::Empty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_small_tree_with_namespaces_and_entities() {
        let doc = r#"<?xml version="1.0"?>
            <a:Root xmlns:a="urn:x" id="r&amp;1"><B>x &lt; y &#x41;<![CDATA[<raw>]]></B><c/></a:Root>"#;
        let root = parse(doc).unwrap();
        assert_eq!(root.name, "Root");
        assert_eq!(root.attr("id"), Some("r&1"));
        assert_eq!(root.child_text("b"), Some("x < y A<raw>"));
        assert!(root.child("c").is_some());
        assert_eq!(root.child_text("c"), None);
    }

    #[test]
    fn refuses_hostile_documents() {
        let deep = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert_eq!(parse(&deep), Err(XmlError::TooDeep));
        let many = format!("<r>{}</r>", "<x/>".repeat(MAX_ELEMENTS + 1));
        assert_eq!(parse(&many), Err(XmlError::TooManyElements));
        let big = format!("<r>{}</r>", "a".repeat(MAX_INPUT));
        assert_eq!(parse(&big), Err(XmlError::TooLarge));
        let text = format!("<r>{}</r>", "&amp;".repeat(MAX_TEXT + 1));
        assert_eq!(parse(&text), Err(XmlError::TooMuchText));
        let laughs =
            r#"<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><r>&b;</r>"#;
        assert!(matches!(parse(laughs), Err(XmlError::Malformed(_))));
        for bad in [
            "",
            "   ",
            "<a>",
            "<a></b>",
            "</a>",
            "<a/><b/>",
            "<a x='1' x='2'/>",
            "<a>&#0;</a>",
            "<a>&#xFFFFFFFF;</a>",
            "<<<<",
            "<a b=\"unterminated/>",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    /// `<tag a0="" a1="" …/>` with `n` distinct attributes (`xmlns:` ones when `ns`).
    fn tag_with_attributes(tag: &str, n: usize, ns: bool) -> String {
        let prefix = if ns { "xmlns:" } else { "" };
        let attrs: String = (0..n).map(|i| format!(" {prefix}a{i}=\"\"")).collect();
        format!("<{tag}{attrs}/>")
    }

    #[test]
    fn attributes_are_bounded_per_element() {
        let ok = parse(&tag_with_attributes("r", MAX_ATTRIBUTES, false)).unwrap();
        assert_eq!(ok.attrs.len(), MAX_ATTRIBUTES);
        assert_eq!(
            ok.attrs[MAX_ATTRIBUTES - 1].0,
            format!("a{}", MAX_ATTRIBUTES - 1)
        );
        assert_eq!(
            parse(&tag_with_attributes("r", MAX_ATTRIBUTES + 1, false)),
            Err(XmlError::TooManyAttributes)
        );
        // Namespace declarations are attributes like the others.
        assert_eq!(
            parse(&tag_with_attributes("r", MAX_ATTRIBUTES + 1, true)),
            Err(XmlError::TooManyAttributes)
        );
        // On a nested element too, and on a start tag that is not self-closing.
        let nested = format!(
            "<clientConfig><emailProvider>{}</emailProvider></clientConfig>",
            tag_with_attributes("incomingServer", MAX_ATTRIBUTES + 1, false)
        );
        assert_eq!(parse(&nested), Err(XmlError::TooManyAttributes));
        let open = tag_with_attributes("r", MAX_ATTRIBUTES + 1, false).replace("/>", "></r>");
        assert_eq!(parse(&open), Err(XmlError::TooManyAttributes));
        // A duplicate among the first ones is still malformed.
        assert!(matches!(
            parse("<r a=\"1\" b=\"2\" a=\"3\"/>"),
            Err(XmlError::Malformed(_))
        ));
    }

    #[test]
    fn the_issue_document_is_refused_at_the_attribute_bound() {
        // ~95,000 attributes on one tag, just under the input cap (the measured attack).
        let mut doc = String::from("<clientConfig version=\"1.1\"><emailProvider");
        let mut i = 0;
        while doc.len() < MAX_INPUT - 64 {
            doc.push_str(&format!(" a{i:x}=\"\""));
            i += 1;
        }
        doc.push_str("/></clientConfig>");
        assert!(
            doc.len() <= MAX_INPUT && i > 90_000,
            "{} bytes, {i}",
            doc.len()
        );
        let err = parse(&doc).unwrap_err();
        assert_eq!(err, XmlError::TooManyAttributes);
        assert!(err.is_bound());
    }

    #[test]
    fn attributes_are_bounded_per_document() {
        let per = MAX_ATTRIBUTES;
        let full = MAX_DOCUMENT_ATTRIBUTES / per;
        let doc = |elements: usize| {
            let inner: String = (0..elements)
                .map(|_| tag_with_attributes("s", per, false))
                .collect();
            format!("<r>{inner}</r>")
        };
        assert!(parse(&doc(full)).is_ok());
        assert_eq!(
            parse(&doc(full + 1)),
            Err(XmlError::TooManyDocumentAttributes)
        );
    }

    #[test]
    fn bounds_are_told_apart_from_malformed_input() {
        for e in [
            XmlError::TooLarge,
            XmlError::TooDeep,
            XmlError::TooManyElements,
            XmlError::TooManyAttributes,
            XmlError::TooManyDocumentAttributes,
            XmlError::TooMuchText,
        ] {
            assert!(e.is_bound(), "{e}");
        }
        assert!(!XmlError::Empty.is_bound());
        assert!(!XmlError::Malformed("x".into()).is_bound());
    }

    #[test]
    fn never_panics_on_truncations_of_a_valid_document() {
        let doc = r#"<?xml version="1.0"?><clientConfig version="1.1"><emailProvider id="e">
            <domain>e.com</domain><incomingServer type="imap"><hostname>h</hostname>
            <port>993</port><!-- c --><socketType>SSL</socketType></incomingServer>
            </emailProvider></clientConfig>"#;
        for end in 0..doc.len() {
            if doc.is_char_boundary(end) {
                let _ = parse(&doc[..end]);
            }
        }
        assert!(parse(doc).is_ok());
    }

    #[test]
    fn decodes_bom_and_invalid_utf8() {
        assert_eq!(decode_body(b"\xEF\xBB\xBF<a/>"), "<a/>");
        assert_eq!(decode_body(b"<a>\xFF</a>"), "<a>\u{FFFD}</a>");
    }
}
