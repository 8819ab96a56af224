//! Property-list values as the SystemConfiguration dynamic store holds them, in a form the
//! journal can keep (serde): the DNS dictionaries the helper writes and the ones it replaces,
//! so that another process can put the originals back after a crash.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Plist {
    String(String),
    Integer(i64),
    Bool(bool),
    Array(Vec<Plist>),
    Dict(BTreeMap<String, Plist>),
}

impl Plist {
    pub fn strings<'a>(items: impl IntoIterator<Item = &'a String>) -> Plist {
        Plist::Array(items.into_iter().cloned().map(Plist::String).collect())
    }

    pub fn get(&self, key: &str) -> Option<&Plist> {
        match self {
            Plist::Dict(d) => d.get(key),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Plist::String(s) => Some(s),
            _ => None,
        }
    }

    /// The strings of an array (other elements skipped).
    pub fn string_items(&self) -> Vec<String> {
        match self {
            Plist::Array(items) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_through_the_journal_format_and_are_read_back() {
        let d = Plist::Dict(BTreeMap::from([
            (
                "ServerAddresses".to_owned(),
                Plist::strings(&["10.8.0.1".to_owned()]),
            ),
            ("SearchOrder".to_owned(), Plist::Integer(1)),
            ("Flag".to_owned(), Plist::Bool(true)),
        ]));
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(serde_json::from_str::<Plist>(&json).unwrap(), d);
        assert_eq!(
            d.get("ServerAddresses").unwrap().string_items(),
            ["10.8.0.1"]
        );
        assert_eq!(d.get("missing"), None);
        assert_eq!(Plist::Integer(1).get("x"), None);
        assert_eq!(Plist::Integer(1).string_items(), Vec::<String>::new());
        assert_eq!(Plist::String("a".into()).as_str(), Some("a"));
    }
}
