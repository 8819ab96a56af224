//! The credentials of a session's next attempt, as the server will see them.

use crate::config::EngineConfig;
use crate::ctrl_msg;
use crate::secret::Secret;

/// What a NeedCredentials prompt was answered with.
pub struct Answer {
    pub username: Option<String>,
    pub password: Option<String>,
    pub response: Option<String>,
}

#[derive(Default)]
pub struct Creds {
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// Pushed auth-token (+ user): preferred for reconnects; dropped on any AUTH_FAILED.
    pub token: Option<(Secret, Option<String>)>,
    /// A CRV1 answer is used once: if that attempt fails, the session fails.
    pub one_shot: bool,
    /// The credentials a CRV1 answer stands in for. They come back as soon as the answer has
    /// been sent, so a later fallback (say, a refused auth-token) never replays the answer —
    /// for AWS SAML that would resend a single-use assertion instead of starting a new login.
    pub before_answer: Option<(Option<String>, Option<Secret>)>,
}

impl Creds {
    /// The profile's own credentials, before any prompt.
    pub fn from_profile(cfg: &EngineConfig) -> Creds {
        let mut creds = Creds::default();
        if let Some(c) = &cfg.credentials {
            creds.username = Some(c.username.clone());
            creds.password = Some(Secret::from_text(&c.password));
        }
        creds
    }

    /// Takes the answer to the static-challenge prompt: the password (typed, or the profile's)
    /// and the one-time code go out together as SCRV1.
    pub fn answer_static_challenge(&mut self, cfg: &EngineConfig, a: Answer) {
        let password = a
            .password
            .or_else(|| cfg.credentials.as_ref().map(|c| c.password.clone()))
            .unwrap_or_default();
        self.username = a.username.or(self.username.take());
        self.password = Some(Secret::from_text(&ctrl_msg::scrv1(
            &password,
            a.response.as_deref().unwrap_or(""),
        )));
    }

    pub fn answer_password(&mut self, a: Answer) {
        self.username = a.username.or(self.username.take());
        self.password = Some(Secret::from_text(&a.password.unwrap_or_default()));
    }

    /// A profile without auth-user-pass sends no credentials at all.
    pub fn drop_unless_asked_for(&mut self, cfg: &EngineConfig) {
        if !cfg.auth_user_pass && cfg.credentials.is_none() {
            self.username = None;
            self.password = None;
        }
    }

    /// Stands the answer to a CRV1 challenge in for the credentials, for one attempt.
    pub fn answer_crv1(&mut self, c: &ctrl_msg::Crv1, response: Option<String>) {
        self.before_answer = Some((self.username.take(), self.password.take()));
        self.username = Some(c.username.clone());
        self.password = Some(Secret::from_text(&ctrl_msg::crv1_password(
            &c.state_id,
            response.as_deref().unwrap_or(""),
        )));
        self.token = None;
        self.one_shot = true;
    }

    /// What the next attempt authenticates with: the auth-token when there is one.
    pub fn for_attempt(&self) -> (Option<String>, Option<Secret>) {
        match &self.token {
            Some((t, u)) => (u.clone().or(self.username.clone()), Some(t.clone())),
            None => (self.username.clone(), self.password.clone()),
        }
    }

    /// An attempt ended: a CRV1 answer has been spent, the credentials it stood in for come
    /// back. Returns whether the attempt was a CRV1 answer that never got established.
    pub fn attempt_ended(&mut self, established: bool) -> bool {
        let one_shot = std::mem::take(&mut self.one_shot) && !established;
        if let Some((username, password)) = self.before_answer.take() {
            self.username = username;
            self.password = password;
        }
        one_shot
    }
}
