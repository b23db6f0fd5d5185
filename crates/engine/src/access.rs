//! Who may come in: the engine's door for sign-in and machine access. Tokens (machine
//! credentials), browser sessions and one-time login codes are read and written here, so the
//! server checks a caller through the engine and never reaches the store itself.

use crate::{Engine, Result};
use tandem_core::role::Role;
use tandem_store::{LoginCodeRow, NewSession, SessionRow, TokenRow};

impl Engine {
    /// The token whose secret is `secret`, live or not (the caller judges expiry and revocation).
    pub async fn find_token(&self, secret: &str) -> Result<Option<TokenRow>> {
        Ok(self.store.find_token(secret).await?)
    }

    /// The session whose secret is `secret`, live or not (the caller judges its idle time).
    pub async fn find_session(&self, secret: &str) -> Result<Option<SessionRow>> {
        Ok(self.store.find_session(secret).await?)
    }

    /// Records that token `id` was used at `at` (Unix ms).
    pub async fn touch_token(&self, id: i64, at: i64) -> Result<()> {
        Ok(self.store.touch_token(id, at).await?)
    }

    /// Records that session `id` was used at `at` (Unix ms).
    pub async fn touch_session(&self, id: i64, at: i64) -> Result<()> {
        Ok(self.store.touch_session(id, at).await?)
    }

    /// Opens a browser session.
    pub async fn insert_session(&self, new: &NewSession<'_>) -> Result<SessionRow> {
        Ok(self.store.insert_session(new).await?)
    }

    /// Ends the session whose secret is `secret`; gives its id when there was one.
    pub async fn revoke_session(&self, secret: &str) -> Result<Option<i64>> {
        Ok(self.store.revoke_session(secret).await?)
    }

    /// Consumes a one-time login code: it is gone once read, whether it was still valid or not.
    pub async fn take_login_code(&self, secret: &str) -> Result<Option<LoginCodeRow>> {
        Ok(self.store.take_login_code(secret).await?)
    }

    /// Records a one-time login code for `name` with `role`, valid until `expires_at` (Unix ms).
    pub async fn insert_login_code(
        &self,
        secret: &str,
        name: &str,
        role: Role,
        token_id: Option<i64>,
        expires_at: i64,
    ) -> Result<()> {
        Ok(self
            .store
            .insert_login_code(secret, name, role, token_id, expires_at)
            .await?)
    }

    /// Every token, without secrets.
    pub async fn list_tokens(&self) -> Result<Vec<TokenRow>> {
        Ok(self.store.list_tokens().await?)
    }

    /// Issues a token for `name` with `role`, expiring at `expires_at` (Unix ms) or never.
    pub async fn insert_token_expiring(
        &self,
        name: &str,
        role: Role,
        secret: &str,
        expires_at: Option<i64>,
    ) -> Result<TokenRow> {
        Ok(self.store.insert_token_expiring(name, role, secret, expires_at).await?)
    }

    /// Revokes token `id`; `None` when there is no such token.
    pub async fn revoke_token(&self, id: i64) -> Result<Option<TokenRow>> {
        Ok(self.store.revoke_token(id).await?)
    }

    /// Records, in the audit trail, a request refused before it reached a handler.
    pub async fn record_refusal(
        &self,
        kind: &str,
        subject: &str,
        data: serde_json::Value,
        outcome: &str,
    ) -> Result<()> {
        Ok(self.store.record_refusal(kind, subject, data, outcome).await?)
    }
}
