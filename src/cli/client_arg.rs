//! Mail clients as command-line values (`write CLIENT…`, `--client`, `check --write`).
//!
//! [`Client`] lives in the writer layer, which stays free of clap; its `ValueEnum` is
//! implemented here instead of derived there. Rust's orphan rule allows the impl anywhere in
//! this crate, so no newtype is needed, and the spellings come from [`Client::as_str`], the one
//! place they are written. Arguments take [`ClientParser`]: clap's parser for the enum, whose
//! refusal of an unknown name also points to `mailsetup write --list`.

use std::ffi::OsStr;

use clap::builder::{EnumValueParser, PossibleValue, StyledStr, TypedValueParser};
use clap::error::{ContextKind, ContextValue};
use clap::ValueEnum;

use crate::clients::Client;

impl ValueEnum for Client {
    fn value_variants<'a>() -> &'a [Self] {
        &Client::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        // The description shows where shells complete values with help (fish, zsh); `--help`
        // and the man pages hide the list (`hide_possible_values`): `write --list` shows it.
        Some(PossibleValue::new(self.as_str()).help(self.info().description))
    }
}

/// Parses a [`Client`] by its exact id, as `EnumValueParser` does (so shells complete the
/// ids); an unknown name is refused with the ids, a close match, and `write --list`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientParser;

impl TypedValueParser for ClientParser {
    type Value = Client;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<Client, clap::Error> {
        EnumValueParser::<Client>::new()
            .parse_ref(cmd, arg, value)
            .map_err(|mut err| {
                let mut tips = match err.get(ContextKind::Suggested) {
                    Some(ContextValue::StyledStrs(tips)) => tips.clone(),
                    _ => Vec::new(),
                };
                tips.push(StyledStr::from(
                    "run `mailsetup write --list` to see the supported clients",
                ));
                err.insert(ContextKind::Suggested, ContextValue::StyledStrs(tips));
                err
            })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            Client::ALL.iter().filter_map(ValueEnum::to_possible_value),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Args {
        #[arg(long, value_parser = ClientParser)]
        client: Vec<Client>,
    }

    #[test]
    fn every_client_parses_from_its_id_exactly() {
        for c in Client::ALL {
            assert_eq!(<Client as ValueEnum>::from_str(c.as_str(), false), Ok(c));
            let args = Args::try_parse_from(["x", "--client", c.as_str()]).unwrap();
            assert_eq!(args.client, [c]);
        }
        assert!(<Client as ValueEnum>::from_str("Mbsync", false).is_err());
    }

    #[test]
    fn an_unknown_client_is_refused_pointing_to_the_list() {
        let err = Args::try_parse_from(["x", "--client", "mbsyn"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::InvalidValue);
        let text = err.to_string();
        assert!(text.contains("mailsetup write --list"), "{text}");
        assert!(text.contains("'mbsync'"), "{text}");
        assert!(text.contains("claws-mail"), "{text}");
    }
}
