//! A small element builder over quick-xml's writer, used by the XML-based formats
//! (Thunderbird autoconfig, Outlook Autodiscover, K-9 settings, Apple plist).
//!
//! quick-xml escapes text and attribute values; this wrapper additionally refuses
//! characters XML cannot carry at all, so every value is escaped or refused.

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use super::quote;
use super::WriteError;

pub struct XmlDoc {
    writer: Writer<Vec<u8>>,
}

/// The value of a write into the document's `Vec<u8>`.
fn in_memory<T, E: std::fmt::Debug>(written: Result<T, E>) -> T {
    // invariant: quick-xml's writer fails only when its sink does (its error type is the
    // generic writer's io::Result), and the sink here is a Vec<u8>, which grows or aborts.
    written.expect("writing XML into memory cannot fail")
}

impl XmlDoc {
    /// A document with the `<?xml version="1.0" encoding="UTF-8"?>` declaration.
    pub fn new() -> Self {
        let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
        in_memory(writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None))));
        XmlDoc { writer }
    }

    /// A fixed, trusted `<!DOCTYPE …>` (never user data).
    pub fn doctype(&mut self, raw: &'static str) {
        in_memory(
            self.writer
                .write_event(Event::DocType(BytesText::from_escaped(raw))),
        );
    }

    /// `<name attr="…">`; attribute values are checked and escaped.
    pub fn open(&mut self, name: &str, attrs: &[(&str, &str)]) -> Result<(), WriteError> {
        let mut start = BytesStart::new(name);
        for (key, value) in attrs {
            quote::xml_text(&format!("{name} {key}"), value)?;
            start.push_attribute((*key, *value));
        }
        in_memory(self.writer.write_event(Event::Start(start)));
        Ok(())
    }

    pub fn close(&mut self, name: &str) {
        in_memory(self.writer.write_event(Event::End(BytesEnd::new(name))));
    }

    /// `<name>text</name>`; the text is checked and escaped.
    pub fn text(&mut self, name: &str, text: &str) -> Result<(), WriteError> {
        self.text_with(name, &[], text)
    }

    /// `<name attr="…">text</name>`.
    pub fn text_with(
        &mut self,
        name: &str,
        attrs: &[(&str, &str)],
        text: &str,
    ) -> Result<(), WriteError> {
        quote::xml_text(name, text)?;
        let mut element = self.writer.create_element(name);
        for (key, value) in attrs {
            quote::xml_text(&format!("{name} {key}"), value)?;
            element = element.with_attribute((*key, *value));
        }
        in_memory(element.write_text_content(BytesText::new(text)));
        Ok(())
    }

    /// `<name/>`.
    pub fn empty(&mut self, name: &str) {
        in_memory(self.writer.write_event(Event::Empty(BytesStart::new(name))));
    }

    /// The finished document, newline-terminated.
    pub fn finish(self) -> String {
        // invariant: every byte came from a &str (names, escaped text and attributes, the
        // declaration), so the document is UTF-8.
        let mut text = String::from_utf8(self.writer.into_inner())
            .expect("quick-xml writes UTF-8 for &str input");
        text.push('\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_attributes_are_escaped() {
        let mut doc = XmlDoc::new();
        doc.open("a", &[("k", "\"<&>'")]).unwrap();
        doc.text("b", "]]></b><c>&amp;").unwrap();
        doc.close("a");
        let out = doc.finish();
        assert!(out.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
        assert!(
            out.contains("<b>]]&gt;&lt;/b&gt;&lt;c&gt;&amp;amp;</b>"),
            "{out}"
        );
        assert!(!out.contains("\"<&>'\""), "{out}");
    }

    #[test]
    fn control_characters_are_refused() {
        let mut doc = XmlDoc::new();
        assert!(doc.text("b", "a\nb").is_err());
        assert!(doc.open("a", &[("k", "\u{1}")]).is_err());
    }
}
