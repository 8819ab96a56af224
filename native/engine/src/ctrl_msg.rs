//! Control-channel text messages from the server (wire-protocol §7).

use base64::Engine as _;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerMessage<'a> {
    PushReply(&'a str),
    AuthFailed(&'a str),
    Restart(&'a str),
    Halt(&'a str),
    /// INFO_PRE / INFO extra text.
    Info(&'a str),
    AuthPending(&'a str),
    Exit,
    Unknown,
}

/// Classifies one NUL-delimited message (prefix match, in 2.6's order).
pub fn classify(msg: &str) -> ServerMessage<'_> {
    fn after<'a>(msg: &'a str, prefix: &str) -> Option<&'a str> {
        msg.strip_prefix(prefix)
            .map(|r| r.strip_prefix(',').unwrap_or(r))
    }
    if let Some(r) = after(msg, "AUTH_FAILED") {
        ServerMessage::AuthFailed(r)
    } else if let Some(r) = msg.strip_prefix("PUSH_REPLY") {
        ServerMessage::PushReply(r)
    } else if let Some(r) = after(msg, "RESTART") {
        ServerMessage::Restart(r)
    } else if let Some(r) = after(msg, "HALT") {
        ServerMessage::Halt(r)
    } else if let Some(r) = after(msg, "INFO_PRE").or_else(|| after(msg, "INFO")) {
        ServerMessage::Info(r)
    } else if let Some(r) = after(msg, "AUTH_PENDING") {
        ServerMessage::AuthPending(r)
    } else if msg.starts_with("EXIT") {
        ServerMessage::Exit
    } else {
        ServerMessage::Unknown
    }
}

/// A CRV1 dynamic challenge: `CRV1:<flags>:<state_id>:<username_b64>:<text>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crv1 {
    pub echo: bool,
    pub response_required: bool,
    pub state_id: String,
    pub username: String,
    pub text: String,
}

pub fn parse_crv1(reason: &str) -> Option<Crv1> {
    let rest = reason.strip_prefix("CRV1:")?;
    let mut it = rest.splitn(4, ':');
    let flags = it.next()?;
    let state_id = it.next()?.to_string();
    let user_field = it.next()?;
    let text = it.next()?.to_string();
    Some(Crv1 {
        echo: flags.split(',').any(|f| f == "E"),
        response_required: flags.split(',').any(|f| f == "R"),
        state_id,
        username: decode_username(user_field),
        text,
    })
}

/// Decodes the CRV1 username field tolerantly: AWS sends it as `b'<base64>'`.
fn decode_username(field: &str) -> String {
    let inner = field
        .strip_prefix("b'")
        .and_then(|s| s.strip_suffix('\''))
        .unwrap_or(field);
    let e = &base64::engine::general_purpose::STANDARD;
    e.decode(inner)
        .ok()
        .and_then(|d| String::from_utf8(d).ok())
        .unwrap_or_else(|| inner.to_string())
}

/// `AUTH_PENDING[,timeout N]` → timeout seconds, if given.
pub fn auth_pending_timeout(args: &str) -> Option<u32> {
    args.split(',').find_map(|kw| {
        kw.trim()
            .strip_prefix("timeout ")
            .and_then(|v| v.trim().parse().ok())
    })
}

/// What INFO_PRE / INFO asks the user to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InfoRequest {
    WebAuth(String),
    OpenUrl(String),
    CrText { echo: bool, text: String },
}

pub fn parse_info(extra: &str) -> Option<InfoRequest> {
    if let Some(rest) = extra.strip_prefix("WEB_AUTH:") {
        let (_flags, url) = rest.split_once(':')?;
        Some(InfoRequest::WebAuth(url.to_string()))
    } else if let Some(url) = extra.strip_prefix("OPEN_URL:") {
        Some(InfoRequest::OpenUrl(url.to_string()))
    } else if let Some(rest) = extra.strip_prefix("CR_TEXT:") {
        let (flags, text) = rest.split_once(':')?;
        Some(InfoRequest::CrText {
            echo: flags.split(',').any(|f| f == "E"),
            text: text.to_string(),
        })
    } else {
        None
    }
}

/// `AUTH_FAILED,TEMP[backoff 10,advance no]:msg` → backoff seconds.
pub fn temp_backoff(reason: &str) -> Option<Option<u32>> {
    let rest = reason.strip_prefix("TEMP")?;
    let flags = rest
        .strip_prefix('[')
        .and_then(|r| r.split_once(']'))
        .map(|(f, _)| f)
        .unwrap_or("");
    Some(flags.split(',').find_map(|f| {
        f.trim()
            .strip_prefix("backoff ")
            .and_then(|v| v.trim().parse().ok())
    }))
}

/// Static-challenge password: `SCRV1:<b64 password>:<b64 response>`.
pub fn scrv1(password: &str, response: &str) -> String {
    let e = &base64::engine::general_purpose::STANDARD;
    format!("SCRV1:{}:{}", e.encode(password), e.encode(response))
}

/// The CRV1 answer: `CRV1::<state_id>::<response>`.
pub fn crv1_password(state_id: &str, response: &str) -> String {
    format!("CRV1::{state_id}::{response}")
}

/// `CR_RESPONSE,<base64(response)>`.
pub fn cr_response(response: &str) -> String {
    format!(
        "CR_RESPONSE,{}",
        base64::engine::general_purpose::STANDARD.encode(response)
    )
}

/// Control strings must be printable (bytes ≥ 0x20 except 0x7F; UTF-8 allowed); trailing
/// CR/LF stripped. Returns None for a message that must be discarded.
pub fn sanitize(raw: &[u8]) -> Option<&str> {
    let s = std::str::from_utf8(raw).ok()?;
    let s = s.trim_end_matches(['\r', '\n']);
    (!s.chars().any(|c| (c as u32) < 0x20 || c == '\u{7f}')).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_messages() {
        assert_eq!(
            classify("PUSH_REPLY,ping 10"),
            ServerMessage::PushReply(",ping 10")
        );
        assert_eq!(classify("AUTH_FAILED"), ServerMessage::AuthFailed(""));
        assert_eq!(
            classify("AUTH_FAILED,bad pw"),
            ServerMessage::AuthFailed("bad pw")
        );
        assert_eq!(
            classify("RESTART,[P]:bye"),
            ServerMessage::Restart("[P]:bye")
        );
        assert_eq!(classify("HALT"), ServerMessage::Halt(""));
        assert_eq!(
            classify("INFO_PRE,WEB_AUTH::https://x"),
            ServerMessage::Info("WEB_AUTH::https://x")
        );
        assert_eq!(
            classify("AUTH_PENDING,timeout 300"),
            ServerMessage::AuthPending("timeout 300")
        );
        assert_eq!(classify("EXIT"), ServerMessage::Exit);
        assert_eq!(classify("WHATEVER"), ServerMessage::Unknown);
    }

    #[test]
    fn crv1_including_aws_username_form() {
        let c = parse_crv1("CRV1:R,E:abc123:dGVzdA==:Enter PIN: now").unwrap();
        assert!(c.echo && c.response_required);
        assert_eq!(
            (c.state_id.as_str(), c.username.as_str(), c.text.as_str()),
            ("abc123", "test", "Enter PIN: now")
        );
        let aws =
            parse_crv1("CRV1:R:instance-1/123/uuid:b'Ti9B':https://idp.example/saml?x=1").unwrap();
        assert_eq!(aws.username, "N/A");
        assert_eq!(aws.text, "https://idp.example/saml?x=1");
        assert!(parse_crv1("plain reason").is_none());
    }

    #[test]
    fn info_pending_and_passwords() {
        assert_eq!(
            parse_info("WEB_AUTH:external:https://sso/x"),
            Some(InfoRequest::WebAuth("https://sso/x".into()))
        );
        assert_eq!(
            parse_info("OPEN_URL:https://a"),
            Some(InfoRequest::OpenUrl("https://a".into()))
        );
        assert_eq!(
            parse_info("CR_TEXT:E,R:Code?"),
            Some(InfoRequest::CrText {
                echo: true,
                text: "Code?".into()
            })
        );
        assert_eq!(auth_pending_timeout("timeout 120"), Some(120));
        assert_eq!(auth_pending_timeout(""), None);
        assert_eq!(scrv1("pw", "123"), "SCRV1:cHc=:MTIz");
        assert_eq!(crv1_password("s", "r"), "CRV1::s::r");
        assert_eq!(
            temp_backoff("TEMP[backoff 30,advance no]:busy"),
            Some(Some(30))
        );
        assert_eq!(temp_backoff("nope"), None);
        assert_eq!(sanitize(b"ok\r\n"), Some("ok"));
        assert_eq!(sanitize(b"bad\x01"), None);
    }
}
