//! The caps on everything a client or a server hands the root helper: the one definition.
//!
//! The `EngineConfig` bounds are `#[schemars(length(max = ...))]` attributes naming these
//! constants, so they reach main's generated validator through the protocol schema, and
//! [`check_sizes`] enforces them in the helper by walking the same schema. The whole set is
//! also exported as the schema's `LIMITS` constant, which the profile importer reads
//! (`app/profile/normalizer.ts`). The push caps are enforced by the PUSH_REPLY accumulator
//! and parser (`push.rs`).

use std::sync::OnceLock;

use crate::config::EngineConfig;

/// Routes a profile may carry: its IPv4 and IPv6 routes and `net_gateway` exclusions together
/// (each one is a route in the host's table). Also the most routes of one family a server may
/// push.
pub const MAX_ROUTES: usize = 4096;
/// `remote` entries.
pub const MAX_REMOTES: usize = 64;
/// DNS servers, from the profile or pushed.
pub const MAX_DNS_SERVERS: usize = 16;
/// Search domains, and split-DNS route domains, each list, from the profile or pushed.
pub const MAX_DNS_DOMAINS: usize = 256;
/// A host or domain name (the DNS limit).
pub const MAX_NAME_CHARS: usize = 253;
/// An address or "address/prefix" ("ffff:…:255.255.255.255/128" is 49).
pub const MAX_ADDRESS_CHARS: usize = 64;
/// One PEM or key text (CA bundle, certificate, key, CRL, tls-auth/-crypt keys).
pub const MAX_PEM_CHARS: usize = 512 * 1024;
/// Certificate fingerprints (`peer-fingerprint`, `verify-hash`).
pub const MAX_FINGERPRINTS: usize = 64;
/// Short texts: a fingerprint, an OID, an X.509 name, a challenge prompt, the GUI version,
/// a username.
pub const MAX_TEXT_CHARS: usize = 1024;
/// A password given with the config (a saved password, a token standing in for one).
pub const MAX_PASSWORD_CHARS: usize = 256 * 1024;
/// Small enumerations repeated in a list (`data-ciphers`, `remote-cert-ku` values).
pub const MAX_SMALL_LIST: usize = 16;
/// A session id chosen by the client.
pub const MAX_SESSION_ID_CHARS: usize = 128;
/// Sessions one user (uid on Unix, SID on Windows) may have running at once.
pub const MAX_SESSIONS_PER_USER: usize = 8;
/// PUSH_REPLY messages (the first and its `push-continuation 2` parts) in one push.
pub const MAX_PUSH_MESSAGES: usize = 512;
/// Options in one push, all parts together.
pub const MAX_PUSH_OPTIONS: usize = 16384;
/// Bytes of options in one push, all parts together.
pub const MAX_PUSH_BYTES: usize = 1024 * 1024;

/// Every limit by its name in the protocol schema's `LIMITS` constant (camelCase, as main
/// reads it).
pub fn exported() -> serde_json::Value {
    serde_json::json!({
        "maxRoutes": MAX_ROUTES,
        "maxRemotes": MAX_REMOTES,
        "maxDnsServers": MAX_DNS_SERVERS,
        "maxDnsDomains": MAX_DNS_DOMAINS,
        "maxNameChars": MAX_NAME_CHARS,
        "maxAddressChars": MAX_ADDRESS_CHARS,
        "maxPemChars": MAX_PEM_CHARS,
        "maxFingerprints": MAX_FINGERPRINTS,
        "maxTextChars": MAX_TEXT_CHARS,
        "maxPasswordChars": MAX_PASSWORD_CHARS,
        "maxSmallList": MAX_SMALL_LIST,
        "maxSessionIdChars": MAX_SESSION_ID_CHARS,
        "maxSessionsPerUser": MAX_SESSIONS_PER_USER,
        "maxPushMessages": MAX_PUSH_MESSAGES,
        "maxPushOptions": MAX_PUSH_OPTIONS,
        "maxPushBytes": MAX_PUSH_BYTES,
    })
}

/// A value over one of the caps. It names the field and the limit, never the value (which
/// may be a key or a password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitError {
    /// JSON path of the field, e.g. `config.dns.servers` or `config.remotes[3].host`.
    pub field: String,
    pub actual: usize,
    pub max: usize,
    /// "entries" or "characters".
    pub unit: &'static str,
}

impl std::fmt::Display for LimitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} has {} {}; at most {} are allowed",
            self.field, self.actual, self.unit, self.max
        )
    }
}

impl std::error::Error for LimitError {}

/// The JSON Schema of `EngineConfig`, built once: the bounds its attributes declare.
fn config_schema() -> &'static serde_json::Value {
    static SCHEMA: OnceLock<serde_json::Value> = OnceLock::new();
    SCHEMA.get_or_init(|| schemars::schema_for!(EngineConfig).to_value())
}

/// Checks every string and list of `config` against the `maxLength`/`maxItems` its schema
/// declares, and the routes of all kinds together against [`MAX_ROUTES`].
pub fn check_sizes(config: &EngineConfig) -> Result<(), LimitError> {
    let value = serde_json::to_value(config).map_err(|_| LimitError {
        field: "config".into(),
        actual: 0,
        max: 0,
        unit: "unencodable fields",
    })?;
    let root = config_schema();
    walk(&value, root, root, &mut "config".to_string())?;
    let routes = config.routes.len() + config.routes_ipv6.len() + config.excluded_routes.len();
    if routes > MAX_ROUTES {
        return Err(LimitError {
            field: "config.routes + config.routesIpv6 + config.excludedRoutes".into(),
            actual: routes,
            max: MAX_ROUTES,
            unit: "entries",
        });
    }
    Ok(())
}

/// Follows `schema` (resolving `$ref` and nullable `anyOf`) alongside `value`.
fn walk(
    value: &serde_json::Value,
    schema: &serde_json::Value,
    root: &serde_json::Value,
    path: &mut String,
) -> Result<(), LimitError> {
    use serde_json::Value;
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.trim_start_matches("#/$defs/");
        return match root.pointer(&format!("/$defs/{name}")) {
            Some(def) => walk(value, def, root, path),
            None => Ok(()),
        };
    }
    if let Some(variants) = schema.get("anyOf").and_then(Value::as_array) {
        for variant in variants
            .iter()
            .filter(|v| v.get("type") != Some(&"null".into()))
        {
            walk(value, variant, root, path)?;
        }
    }
    let bound = |key: &str| schema.get(key).and_then(Value::as_u64).map(|m| m as usize);
    let over = |actual: usize, max: Option<usize>, unit| match max {
        Some(max) if actual > max => Err(LimitError {
            field: path.clone(),
            actual,
            max,
            unit,
        }),
        _ => Ok(()),
    };
    match value {
        Value::String(s) => over(s.chars().count(), bound("maxLength"), "characters")?,
        Value::Array(items) => {
            over(items.len(), bound("maxItems"), "entries")?;
            if let Some(item_schema) = schema.get("items") {
                let len = path.len();
                for (i, item) in items.iter().enumerate() {
                    path.push_str(&format!("[{i}]"));
                    walk(item, item_schema, root, path)?;
                    path.truncate(len);
                }
            }
        }
        Value::Object(fields) => {
            if let Some(properties) = schema.get("properties") {
                let len = path.len();
                for (name, field) in fields {
                    if let Some(field_schema) = properties.get(name) {
                        path.push('.');
                        path.push_str(name);
                        walk(field, field_schema, root, path)?;
                        path.truncate(len);
                    }
                }
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests_support::{typical_config, vector_config};
    use serde_json::Value;

    /// Every string and list schema of the config, as (JSON path, its schema), following
    /// `$ref`s and nullable `anyOf`s; array elements are spelled `[0]`.
    fn leaf_schemas() -> Vec<(String, Value)> {
        fn visit(schema: &Value, root: &Value, path: String, out: &mut Vec<(String, Value)>) {
            if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
                let def = root
                    .pointer(&format!("/$defs/{}", r.trim_start_matches("#/$defs/")))
                    .unwrap();
                return visit(def, root, path, out);
            }
            for variant in schema
                .get("anyOf")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                visit(variant, root, path.clone(), out);
            }
            let types: Vec<&str> = match schema.get("type") {
                Some(Value::String(t)) => vec![t.as_str()],
                Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
                _ => vec![],
            };
            let closed = schema.get("enum").is_some() || schema.get("const").is_some();
            if (types.contains(&"string") && !closed) || types.contains(&"array") {
                out.push((path.clone(), schema.clone()));
            }
            if let Some(items) = schema.get("items") {
                visit(items, root, format!("{path}[0]"), out);
            }
            for (name, p) in schema
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                visit(p, root, format!("{path}.{name}"), out);
            }
        }
        let root = config_schema();
        let mut out = Vec::new();
        visit(root, root, "config".into(), &mut out);
        out
    }

    #[test]
    fn every_string_and_list_of_the_config_is_bounded() {
        let leaves = leaf_schemas();
        let unbounded: Vec<&String> = leaves
            .iter()
            .filter(|(_, s)| s.get("maxLength").is_none() && s.get("maxItems").is_none())
            .map(|(p, _)| p)
            .collect();
        assert!(unbounded.is_empty(), "unbounded: {unbounded:?}");
        assert!(leaves.len() > 30, "only {} fields", leaves.len());
    }

    /// The full vector's config (every optional part present) with the field at `path` replaced by `make(current)`; None when the
    /// vector has no such field to replace (a null parent, an empty list) or the result is not
    /// a config.
    fn with_field(path: &str, make: impl Fn(&Value) -> Value) -> Option<EngineConfig> {
        let mut value = serde_json::to_value(vector_config("to-connect-full")).unwrap();
        const ROUTE_LISTS: [&str; 3] = ["routes", "routesIpv6", "excludedRoutes"];
        if ROUTE_LISTS.iter().any(|l| path == format!("config.{l}")) {
            // The lists share one budget (tested on its own): only this one may use it.
            for list in ROUTE_LISTS {
                value[list] = Value::Array(Vec::new());
            }
            value[path.trim_start_matches("config.")] = vec![Value::from("10.0.0.0/8")].into();
        }
        let mut node = &mut value;
        for part in path.trim_start_matches("config.").split('.') {
            let (name, index) = match part.strip_suffix("[0]") {
                Some(n) => (n, true),
                None => (part, false),
            };
            node = node.get_mut(name)?;
            if index {
                node = node.as_array_mut()?.get_mut(0)?;
            }
        }
        *node = make(node);
        serde_json::from_value(value).ok()
    }

    #[test]
    fn a_config_one_over_any_bound_is_refused_naming_the_field_and_one_at_it_passes() {
        let mut checked = 0;
        for (path, schema) in leaf_schemas() {
            let (max, is_string) = match (schema.get("maxLength"), schema.get("maxItems")) {
                (Some(m), _) => (m.as_u64().unwrap() as usize, true),
                (_, Some(m)) => (m.as_u64().unwrap() as usize, false),
                _ => unreachable!("checked by every_string_and_list_of_the_config_is_bounded"),
            };
            let sized = |n: usize| {
                move |current: &Value| -> Value {
                    if is_string {
                        return "a".repeat(n).into();
                    }
                    let first = current.as_array().and_then(|a| a.first().cloned());
                    vec![first.unwrap_or_else(|| "a".into()); n].into()
                }
            };
            let (Some(at), Some(over)) = (
                with_field(&path, sized(max)),
                with_field(&path, sized(max + 1)),
            ) else {
                continue;
            };
            assert_eq!(check_sizes(&at), Ok(()), "{path} at its limit {max}");
            let err = check_sizes(&over).unwrap_err();
            assert_eq!(err.field, path);
            assert_eq!((err.actual, err.max), (max + 1, max), "{path}");
            checked += 1;
        }
        assert!(checked >= 20, "only {checked} bounds exercised");
    }

    #[test]
    fn routes_of_every_kind_share_one_budget() {
        let mut c = typical_config();
        *c.routes = vec!["10.0.0.0/8".into(); MAX_ROUTES / 2];
        *c.routes_ipv6 = vec!["fd00::/8".into(); MAX_ROUTES / 4];
        *c.excluded_routes = vec!["192.168.1.0/24".into(); MAX_ROUTES / 4];
        assert_eq!(check_sizes(&c), Ok(()));
        c.excluded_routes.push("192.168.2.0/24".into());
        let err = check_sizes(&c).unwrap_err();
        assert_eq!((err.actual, err.max), (MAX_ROUTES + 1, MAX_ROUTES));
        assert!(err.to_string().contains("excludedRoutes"), "{err}");
        c.excluded_routes.clear();
        *c.routes = vec!["10.0.0.0/8".into(); MAX_ROUTES + 1];
        assert_eq!(check_sizes(&c).unwrap_err().field, "config.routes");
    }

    #[test]
    fn errors_never_echo_the_value() {
        let mut c = typical_config();
        c.key = Some(format!("SECRET-KEY{}", "x".repeat(MAX_PEM_CHARS)));
        let err = check_sizes(&c).unwrap_err();
        assert_eq!(err.field, "config.key");
        assert_eq!(
            err.to_string(),
            format!(
                "config.key has {} characters; at most {MAX_PEM_CHARS} are allowed",
                MAX_PEM_CHARS + 10
            )
        );
    }
}
