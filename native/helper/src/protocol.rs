//! The main <-> helper protocol, version 1: a serde mirror of app/helper-protocol/messages.ts.
//! Closed sets everywhere: unknown message types, unknown fields and unknown enum values are
//! rejected. Nullable fields must be present (as in the TypeScript types), so they use
//! `deserialize_with`, which turns off serde's "missing Option means None" default.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use causeway_engine::{EngineConfig, ErrorCode, Proto, PushedSettings, SessionPhase};

pub const PROTOCOL_VERSION: u32 = 1;

fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    Option::<T>::deserialize(d)
}

/// Session ids are chosen by the client and must be non-empty.
fn session_id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    if s.is_empty() {
        return Err(serde::de::Error::custom("session must not be empty"));
    }
    Ok(s)
}

fn nullable_session_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Option::<String>::deserialize(d)? {
        Some(s) if s.is_empty() => Err(serde::de::Error::custom("session must not be empty")),
        other => Ok(other),
    }
}

/// main -> helper.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
pub enum ClientMessage {
    Hello {
        version: u32,
        client: String,
    },
    Connect {
        #[serde(deserialize_with = "session_id")]
        session: String,
        config: Box<EngineConfig>,
    },
    Credentials {
        #[serde(deserialize_with = "session_id")]
        session: String,
        #[serde(deserialize_with = "nullable")]
        username: Option<String>,
        #[serde(deserialize_with = "nullable")]
        password: Option<String>,
        #[serde(deserialize_with = "nullable")]
        response: Option<String>,
    },
    CrResponse {
        #[serde(deserialize_with = "session_id")]
        session: String,
        response: String,
    },
    Disconnect {
        #[serde(deserialize_with = "session_id")]
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteWire {
    pub host: String,
    pub address: String,
    pub port: u16,
    pub proto: Proto,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorWire {
    pub code: ErrorCode,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CredentialKindWire {
    Password,
    StaticChallenge,
    Crv1,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PendingMethodWire {
    Webauth,
    Openurl,
    Crtext,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionStatus {
    #[serde(deserialize_with = "session_id")]
    pub session: String,
    pub phase: SessionPhase,
    #[serde(deserialize_with = "nullable")]
    pub uid: Option<u32>,
    #[serde(deserialize_with = "nullable")]
    pub device: Option<String>,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    /// RFC 3339 UTC timestamp.
    #[serde(deserialize_with = "nullable")]
    pub connected_since: Option<String>,
}

/// helper -> main.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
        session: String,
        phase: SessionPhase,
        #[serde(deserialize_with = "nullable")]
        remote: Option<RemoteWire>,
        #[serde(deserialize_with = "nullable")]
        error: Option<ErrorWire>,
    },
    NeedCredentials {
        #[serde(deserialize_with = "session_id")]
        session: String,
        kind: CredentialKindWire,
        #[serde(deserialize_with = "nullable")]
        challenge: Option<String>,
        echo: bool,
        #[serde(deserialize_with = "nullable")]
        username: Option<String>,
    },
    AuthPending {
        #[serde(deserialize_with = "session_id")]
        session: String,
        method: PendingMethodWire,
        payload: String,
        echo: bool,
        timeout_sec: u32,
    },
    Pushed {
        #[serde(deserialize_with = "session_id")]
        session: String,
        settings: PushedWire,
    },
    Echo {
        #[serde(deserialize_with = "session_id")]
        session: String,
        text: String,
    },
    Stats {
        #[serde(deserialize_with = "session_id")]
        session: String,
        rx_bytes: u64,
        tx_bytes: u64,
    },
    Log {
        #[serde(deserialize_with = "nullable_session_id")]
        session: Option<String>,
        level: LogLevelWire,
        text: String,
    },
    Error {
        #[serde(deserialize_with = "nullable_session_id")]
        session: Option<String>,
        code: ErrorCode,
        message: String,
    },
    StatusReply {
        sessions: Vec<SessionStatus>,
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
