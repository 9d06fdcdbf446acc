//! Mail clients as command-line values (`write CLIENT…`, `--client`, `check --write`).
//!
//! [`Client`] lives in the writer layer, which stays free of clap; its `ValueEnum` is
//! implemented here instead of derived there. Rust's orphan rule allows the impl anywhere in
//! this crate, so no newtype is needed, and the spellings come from [`Client::as_str`], the one
//! place they are written.

use clap::builder::PossibleValue;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_client_parses_from_its_id_exactly() {
        for c in Client::ALL {
            assert_eq!(<Client as ValueEnum>::from_str(c.as_str(), false), Ok(c));
        }
        assert!(<Client as ValueEnum>::from_str("pine", false).is_err());
        assert!(<Client as ValueEnum>::from_str("Mbsync", false).is_err());
    }
}
