//! The main <-> helper protocol, version 1: the one definition of its messages. Main's
//! TypeScript types and validator (app/helper-protocol/generated/) are generated from the JSON
//! Schema of these types (`npm run gen:protocol`; `schema::tests` fails while they are stale).
//! Closed sets everywhere: unknown message types, unknown fields and unknown enum values are
//! rejected. Nullable fields must be present: every item with an `Option` field carries
//! `serde_with_macros::apply(Option => deserialize_with = "nullable")`, which turns off
//! serde's "missing Option means None" default for all of them at once.
//!
//! Framing (codec.rs): each message is a u32 big-endian byte length followed by that many
//! bytes of UTF-8 JSON (one object). Secrets (keys, passwords, SAML responses, tokens) travel
//! only in `connect.config`, `credentials` and `crResponse`, and are never echoed back in any
//! helper message.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use causeway_engine::config::nullable;
use causeway_engine::limits::MAX_SESSION_ID_CHARS;
use causeway_engine::{EngineConfig, ErrorCode, Proto, PushedSettings, SessionPhase};

pub const PROTOCOL_VERSION: u32 = 1;

/// Session ids are chosen by the client: non-empty and at most `MAX_SESSION_ID_CHARS` long.
fn session_id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    check_session_id(&s).map_err(serde::de::Error::custom)?;
    Ok(s)
}

fn nullable_session_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let s = Option::<String>::deserialize(d)?;
    if let Some(s) = &s {
        check_session_id(s).map_err(serde::de::Error::custom)?;
    }
    Ok(s)
}

fn check_session_id(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("session must not be empty".into());
    }
    let len = s.chars().count();
    if len > MAX_SESSION_ID_CHARS {
        return Err(format!(
            "session has {len} characters; at most {MAX_SESSION_ID_CHARS} are allowed"
        ));
    }
    Ok(())
}

/// main -> helper.
#[serde_with_macros::apply(crate = "serde_with_macros", Option => #[serde(deserialize_with = "nullable")])]
#[derive(Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
pub enum ClientMessage {
    Hello {
        version: u32,
        client: String,
    },
    Connect {
        #[serde(deserialize_with = "session_id")]
        #[schemars(length(min = 1, max = MAX_SESSION_ID_CHARS))]
        session: String,
        config: Box<EngineConfig>,
    },
    /// password: username+password; static-challenge: also `response`; crv1: only `response`.
    Credentials {
        #[serde(deserialize_with = "session_id")]
        #[schemars(length(min = 1, max = MAX_SESSION_ID_CHARS))]
        session: String,
        username: Option<String>,
        password: Option<String>,
        response: Option<String>,
    },
    CrResponse {
        #[serde(deserialize_with = "session_id")]
        #[schemars(length(min = 1, max = MAX_SESSION_ID_CHARS))]
        session: String,
        response: String,
    },
    Disconnect {
        #[serde(deserialize_with = "session_id")]
        #[schemars(length(min = 1, max = MAX_SESSION_ID_CHARS))]
        session: String,
    },
    Status {},
}

impl ClientMessage {
    /// The message's type and session, for logs: never any payload.
    pub fn describe(&self) -> String {
        match self {
            ClientMessage::Hello { version, .. } => format!("hello v{version}"),
            ClientMessage::Connect { session, .. } => format!("connect {session:?}"),
            ClientMessage::Credentials { session, .. } => format!("credentials {session:?}"),
            ClientMessage::CrResponse { session, .. } => format!("crResponse {session:?}"),
            ClientMessage::Disconnect { session } => format!("disconnect {session:?}"),
            ClientMessage::Status {} => "status".into(),
        }
    }
}

/// Secrets (config keys, passwords, responses) stay out of Debug output.
impl std::fmt::Debug for ClientMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoteWire {
    pub host: String,
    pub address: String,
    #[schemars(range(min = 1))]
    pub port: u16,
    pub proto: Proto,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorWire {
    pub code: ErrorCode,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CredentialKindWire {
    Password,
    StaticChallenge,
    Crv1,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PendingMethodWire {
    Webauth,
    Openurl,
    Crtext,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LogLevelWire {
    Error,
    Warn,
    Info,
    Debug,
}

/// messages.ts `PushedSettings`: the engine's settings plus the device the helper created.
/// (serde's `flatten` cannot be combined with `deny_unknown_fields`, hence the manual impls.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedWire {
    pub settings: PushedSettings,
    pub device: String,
}

impl Serialize for PushedWire {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut value = serde_json::to_value(&self.settings).map_err(serde::ser::Error::custom)?;
        let map = value
            .as_object_mut()
            .ok_or_else(|| serde::ser::Error::custom("settings are not an object"))?;
        map.insert("device".into(), self.device.clone().into());
        value.serialize(s)
    }
}

/// The engine's `PushedSettings` object with `device` added: the schema main validates.
impl JsonSchema for PushedWire {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "PushedSettings".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let mut schema = PushedSettings::json_schema(generator);
        if let Some(properties) = schema
            .get_mut("properties")
            .and_then(serde_json::Value::as_object_mut)
        {
            properties.insert(
                "device".into(),
                serde_json::json!({
                    "description": "Device the helper created (e.g. \"cw0\").",
                    "type": "string"
                }),
            );
        }
        if let Some(required) = schema
            .get_mut("required")
            .and_then(serde_json::Value::as_array_mut)
        {
            required.push("device".into());
        }
        schema
    }
}

impl<'de> Deserialize<'de> for PushedWire {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut map = serde_json::Map::deserialize(d)?;
        let device = match map.remove("device") {
            Some(serde_json::Value::String(s)) => s,
            Some(_) => return Err(serde::de::Error::custom("device must be a string")),
            None => return Err(serde::de::Error::missing_field("device")),
        };
        let settings = serde_json::from_value(map.into()).map_err(serde::de::Error::custom)?;
        Ok(PushedWire { settings, device })
    }
}

#[serde_with_macros::apply(crate = "serde_with_macros", Option => #[serde(deserialize_with = "nullable")])]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionStatus {
    #[serde(deserialize_with = "session_id")]
    #[schemars(length(min = 1, max = MAX_SESSION_ID_CHARS))]
    pub session: String,
    pub phase: SessionPhase,
    pub uid: Option<u32>,
    pub device: Option<String>,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    /// RFC 3339 UTC timestamp.
    pub connected_since: Option<String>,
}

/// helper -> main.
#[serde_with_macros::apply(crate = "serde_with_macros", Option => #[serde(deserialize_with = "nullable")])]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum HelperMessage {
    Hello {
        version: u32,
        helper: String,
    },
    State {
        #[serde(deserialize_with = "session_id")]
        #[schemars(length(min = 1, max = MAX_SESSION_ID_CHARS))]
        session: String,
        phase: SessionPhase,
        /// The remote being tried or used: hostname as configured and resolved address.
        remote: Option<RemoteWire>,
        /// Set when phase is 'failed' (or 'reconnecting' after an error).
        error: Option<ErrorWire>,
    },
    NeedCredentials {
        #[serde(deserialize_with = "session_id")]
        #[schemars(length(min = 1, max = MAX_SESSION_ID_CHARS))]
        session: String,
        kind: CredentialKindWire,
        /// Static challenge or CRV1 text shown to the user (for AWS SAML: the IdP URL).
        challenge: Option<String>,
        echo: bool,
        /// Username to show/keep (CRV1 carries one).
        username: Option<String>,
    },
    AuthPending {
        #[serde(deserialize_with = "session_id")]
        #[schemars(length(min = 1, max = MAX_SESSION_ID_CHARS))]
        session: String,
        method: PendingMethodWire,
        /// URL for webauth/openurl; challenge text for crtext.
        payload: String,
        echo: bool,
        timeout_sec: u32,
    },
    Pushed {
        #[serde(deserialize_with = "session_id")]
        #[schemars(length(min = 1, max = MAX_SESSION_ID_CHARS))]
        session: String,
        settings: PushedWire,
    },
    Echo {
        #[serde(deserialize_with = "session_id")]
        #[schemars(length(min = 1, max = MAX_SESSION_ID_CHARS))]
        session: String,
        text: String,
    },
    Stats {
        #[serde(deserialize_with = "session_id")]
        #[schemars(length(min = 1, max = MAX_SESSION_ID_CHARS))]
        session: String,
        rx_bytes: u64,
        tx_bytes: u64,
    },
    Log {
        #[serde_with(skip_apply)]
        #[serde(deserialize_with = "nullable_session_id")]
        #[schemars(length(min = 1, max = MAX_SESSION_ID_CHARS))]
        session: Option<String>,
        level: LogLevelWire,
        text: String,
    },
    Error {
        #[serde_with(skip_apply)]
        #[serde(deserialize_with = "nullable_session_id")]
        #[schemars(length(min = 1, max = MAX_SESSION_ID_CHARS))]
        session: Option<String>,
        code: ErrorCode,
        message: String,
    },
    StatusReply {
        sessions: Vec<SessionStatus>,
    },
    /// The helper removed a route the local network added to the main table while the
    /// session was connected, because it would take tunnel traffic outside the tunnel.
    RouteRemoved {
        #[serde(deserialize_with = "session_id")]
        #[schemars(length(min = 1, max = MAX_SESSION_ID_CHARS))]
        session: String,
        /// The network, as address/prefix.
        destination: String,
        gateway: Option<String>,
        device: Option<String>,
    },
}

impl HelperMessage {
    pub fn error(session: Option<&str>, code: ErrorCode, message: impl Into<String>) -> Self {
        HelperMessage::Error {
            session: session.map(str::to_owned),
            code,
            message: message.into(),
        }
    }
}

/// Turns a JSON parse error into a message safe to send back and log: anything the error
/// quotes from the input (which may be a password) is elided; field names, which serde
/// quotes in backticks, and the position are kept.
pub fn describe_parse_error(err: &serde_json::Error) -> String {
    let mut out = String::new();
    let mut in_quotes = false;
    for c in err.to_string().chars() {
        if c == '"' {
            in_quotes = !in_quotes;
            out.push_str(if in_quotes { "\"…" } else { "\"" });
        } else if !in_quotes {
            out.push(c);
        }
    }
    format!("malformed message: {out}")
}

/// The protocol's JSON Schema, from which main's TypeScript side is generated.
#[cfg(test)]
mod schema {
    use super::*;
    use crate::codec::MAX_FRAME_BYTES;

    const SCHEMA_PATH: &str = "../../app/helper-protocol/generated/protocol.schema.json";

    /// schemars marks `Option` fields optional; the protocol's are all `nullable` (present,
    /// maybe null), which `omitting_any_field_is_rejected` checks on the Rust side.
    fn every_field_required(schema: &mut schemars::Schema) {
        let names: Option<Vec<serde_json::Value>> = schema
            .get("properties")
            .and_then(serde_json::Value::as_object)
            .map(|properties| properties.keys().cloned().map(Into::into).collect());
        if let Some(names) = names {
            schema.insert("required".into(), names.into());
        }
    }

    /// Both directions and every type they use, under `$defs`, with the protocol's constants.
    fn protocol_schema() -> serde_json::Value {
        let mut generator = schemars::generate::SchemaSettings::draft2020_12()
            .with_transform(schemars::transform::RecursiveTransform(
                every_field_required,
            ))
            .into_generator();
        generator.subschema_for::<ClientMessage>();
        generator.subschema_for::<HelperMessage>();
        let definitions = generator.take_definitions(true);
        serde_json::json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Causeway helper protocol",
            "description": "Generated from native/helper/src/protocol.rs and native/engine/src/config.rs by `npm run gen:protocol`. Do not edit.",
            "x-constants": {
                "PROTOCOL_VERSION": PROTOCOL_VERSION,
                "MAX_FRAME_BYTES": MAX_FRAME_BYTES,
                "LIMITS": causeway_engine::limits::exported(),
            },
            "$defs": definitions,
        })
    }

    /// Fails while the committed schema differs from the Rust types; `npm run gen:protocol`
    /// runs it with CAUSEWAY_WRITE_PROTOCOL_SCHEMA=1, which first rewrites the file.
    #[test]
    fn committed_schema_matches_the_rust_types() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(SCHEMA_PATH);
        let text = serde_json::to_string_pretty(&protocol_schema()).unwrap() + "\n";
        if std::env::var_os("CAUSEWAY_WRITE_PROTOCOL_SCHEMA").is_some() {
            std::fs::write(&path, &text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == text,
            "{} is stale: run `npm run gen:protocol` and commit the result",
            path.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::MAX_FRAME_BYTES;

    /// test/vectors/helper-protocol: files the TypeScript validator checks too.
    fn vectors(kind: &str) -> Vec<(String, serde_json::Value)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../test/vectors/helper-protocol")
            .join(kind);
        let mut out: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .map(|p| {
                let v: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
                (p.file_name().unwrap().to_string_lossy().into_owned(), v)
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        assert!(!out.is_empty(), "no vectors in {}", dir.display());
        out
    }

    /// Parses a vector's message in its direction and serializes it back.
    fn round_trip(vector: &serde_json::Value) -> Result<serde_json::Value, serde_json::Error> {
        let message = vector["message"].clone();
        match vector["direction"].as_str() {
            Some("toHelper") => {
                serde_json::to_value(serde_json::from_value::<ClientMessage>(message)?)
            }
            Some("fromHelper") => {
                serde_json::to_value(serde_json::from_value::<HelperMessage>(message)?)
            }
            other => panic!("bad direction {other:?}"),
        }
    }

    #[test]
    fn every_valid_vector_parses_and_reserializes_identically() {
        let mut types = std::collections::BTreeSet::new();
        for (name, v) in vectors("valid") {
            let back =
                round_trip(&v).unwrap_or_else(|e| panic!("{name}: {}", describe_parse_error(&e)));
            assert_eq!(back, v["message"], "{name} changed in a round trip");
            types.insert(format!(
                "{}:{}",
                v["direction"].as_str().unwrap(),
                v["message"]["type"].as_str().unwrap()
            ));
        }
        // Every message type of both directions is covered.
        for t in [
            "hello",
            "connect",
            "credentials",
            "crResponse",
            "disconnect",
            "status",
        ] {
            assert!(
                types.contains(&format!("toHelper:{t}")),
                "no valid vector for toHelper {t}"
            );
        }
        for t in [
            "hello",
            "state",
            "needCredentials",
            "authPending",
            "pushed",
            "echo",
            "stats",
            "log",
            "error",
            "statusReply",
        ] {
            assert!(
                types.contains(&format!("fromHelper:{t}")),
                "no valid vector for fromHelper {t}"
            );
        }
    }

    #[test]
    fn the_128_kib_password_vector_is_carried_whole() {
        let v = vectors("valid")
            .into_iter()
            .find(|(n, _)| n == "to-credentials-128k-password.json")
            .unwrap()
            .1;
        let ClientMessage::Credentials {
            password: Some(p), ..
        } = serde_json::from_value(v["message"].clone()).unwrap()
        else {
            panic!("not credentials with a password");
        };
        assert_eq!(p.len(), 128 * 1024);
        assert!(serde_json::to_vec(&v["message"]).unwrap().len() < MAX_FRAME_BYTES);
    }

    /// Every field of every object in a message, as a path of keys (arrays: every element).
    fn field_paths(
        value: &serde_json::Value,
        prefix: &mut Vec<String>,
        out: &mut Vec<Vec<String>>,
    ) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, child) in map {
                    prefix.push(key.clone());
                    out.push(prefix.clone());
                    field_paths(child, prefix, out);
                    prefix.pop();
                }
            }
            serde_json::Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    prefix.push(i.to_string());
                    field_paths(child, prefix, out);
                    prefix.pop();
                }
            }
            _ => {}
        }
    }

    fn without(value: &serde_json::Value, path: &[String]) -> serde_json::Value {
        let mut copy = value.clone();
        let (last, parents) = path.split_last().unwrap();
        let mut node = &mut copy;
        for key in parents {
            node = match node {
                serde_json::Value::Array(items) => &mut items[key.parse::<usize>().unwrap()],
                other => &mut other[key.as_str()],
            };
        }
        node.as_object_mut().unwrap().remove(last);
        copy
    }

    /// The generated schema (and so main's validator) requires every field; the Rust side must
    /// agree, so no `Option` field may fall back to serde's "missing means None".
    #[test]
    fn omitting_any_field_is_rejected() {
        let mut checked = 0;
        for (name, v) in vectors("valid") {
            let mut paths = Vec::new();
            field_paths(&v["message"], &mut Vec::new(), &mut paths);
            for path in paths {
                let mut vector = v.clone();
                vector["message"] = without(&v["message"], &path);
                assert!(
                    round_trip(&vector).is_err(),
                    "{name}: accepted without {}",
                    path.join(".")
                );
                checked += 1;
            }
        }
        assert!(checked > 300, "only {checked} fields checked");
    }

    #[test]
    fn every_invalid_vector_is_rejected() {
        for (name, v) in vectors("invalid") {
            assert!(
                round_trip(&v).is_err(),
                "{name} was accepted: {}",
                v["reason"]
            );
        }
    }

    #[test]
    fn parse_errors_never_echo_values() {
        let secret = "hunter2-very-secret";
        let raw = format!(r#"{{"type":"crResponse","session":"s","response":{{"x":"{secret}"}}}}"#);
        let err = serde_json::from_str::<ClientMessage>(&raw).unwrap_err();
        let text = describe_parse_error(&err);
        assert!(!text.contains(secret), "{text}");
        let raw = format!(r#"{{"type":"hello","version":"{secret}","client":"x"}}"#);
        let text = describe_parse_error(&serde_json::from_str::<ClientMessage>(&raw).unwrap_err());
        assert!(!text.contains(secret), "{text}");
        assert!(
            text.starts_with("malformed message: invalid type"),
            "{text}"
        );
    }

    #[test]
    fn debug_output_has_no_secrets() {
        let m = ClientMessage::Credentials {
            session: "s1".into(),
            username: Some("alice".into()),
            password: Some("pa55word".into()),
            response: Some("123456".into()),
        };
        let dbg = format!("{m:?}");
        assert!(
            !dbg.contains("pa55word") && !dbg.contains("123456"),
            "{dbg}"
        );
    }

    #[test]
    fn status_refuses_extra_fields_and_nullable_fields_are_required() {
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"status"}"#).is_ok());
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"status","x":1}"#).is_err());
        let missing = r#"{"type":"credentials","session":"s","username":null,"password":"p"}"#;
        assert!(serde_json::from_str::<ClientMessage>(missing).is_err());
    }
}
