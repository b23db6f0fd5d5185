//! Credentials: API tokens (kept hashed) with a role, checked on every route by the extractors
//! below. A token comes as `Authorization: Bearer …` or, for the web UI, the `tandem_token`
//! cookie set at sign-in. Anonymous callers read only when the operator turned it on.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use rand::RngCore;
use std::marker::PhantomData;
use tandem_core::role::Role;

pub const COOKIE: &str = "tandem_token";

/// Who is calling, and with which role.
#[derive(Debug, Clone)]
pub struct Caller {
    pub name: String,
    pub role: Role,
}

/// The least role a route needs.
pub trait MinRole: Send + Sync {
    const ROLE: Role;
}

macro_rules! min_role {
    ($name:ident, $role:expr) => {
        #[derive(Debug)]
        pub struct $name;
        impl MinRole for $name {
            const ROLE: Role = $role;
        }
    };
}
min_role!(Viewer, Role::Viewer);
min_role!(Developer, Role::Developer);
min_role!(Operator, Role::Operator);
min_role!(Admin, Role::Admin);

/// A caller holding at least role `R`; a route taking it cannot run for anyone less.
#[derive(Debug)]
pub struct Auth<R: MinRole>(pub Caller, PhantomData<R>);

/// A page's caller: like [`Auth`], but a missing credential sends the browser to sign-in.
#[derive(Debug)]
pub struct PageAuth<R: MinRole>(pub Caller, PhantomData<R>);

/// Why a request was refused.
#[derive(Debug)]
pub enum AuthRejection {
    Missing,
    Forbidden { needed: Role, had: Role },
    Internal(ApiError),
    SignIn(String),
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        match self {
            AuthRejection::Missing => ApiError::unauthorized().into_response(),
            AuthRejection::Forbidden { needed, had } => ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("this needs the {needed} role; your credential has {had}"),
            )
            .into_response(),
            AuthRejection::Internal(e) => e.into_response(),
            AuthRejection::SignIn(next) => Redirect::to(&format!("/login?next={}", url_encode(&next))).into_response(),
        }
    }
}

fn bearer(parts: &Parts) -> Option<String> {
    if let Some(value) = parts.headers.get(axum::http::header::AUTHORIZATION) {
        let value = value.to_str().ok()?;
        return value.strip_prefix("Bearer ").map(|t| t.trim().to_string());
    }
    let cookies = parts.headers.get(axum::http::header::COOKIE)?.to_str().ok()?;
    cookies
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

async fn identify(parts: &Parts, state: &AppState, needed: Role) -> Result<Caller, AuthRejection> {
    let caller = match bearer(parts) {
        Some(secret) => match state.tokens.get(&secret) {
            Some(caller) => caller,
            None => {
                let token = state
                    .engine
                    .store
                    .find_token(&secret)
                    .await
                    .map_err(|e| AuthRejection::Internal(e.into()))?
                    .ok_or(AuthRejection::Missing)?;
                let caller = Caller {
                    role: token.role.parse().unwrap_or(Role::Viewer),
                    name: token.name,
                };
                state.tokens.put(secret, caller.clone());
                caller
            }
        },
        None if state.settings.anonymous_read => Caller {
            name: "anonymous".into(),
            role: Role::Viewer,
        },
        None => return Err(AuthRejection::Missing),
    };
    tandem_store::audit::identify(&caller.name, bearer(parts).as_deref());
    if !caller.role.allows(needed) {
        return Err(AuthRejection::Forbidden {
            needed,
            had: caller.role,
        });
    }
    Ok(caller)
}

impl<R: MinRole> FromRequestParts<AppState> for Auth<R> {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        identify(parts, state, R::ROLE).await.map(|c| Auth(c, PhantomData))
    }
}

impl<R: MinRole> FromRequestParts<AppState> for PageAuth<R> {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match identify(parts, state, R::ROLE).await {
            Ok(c) => Ok(PageAuth(c, PhantomData)),
            Err(AuthRejection::Missing) => Err(AuthRejection::SignIn(parts.uri.to_string())),
            Err(other) => Err(other),
        }
    }
}

/// A new token secret: 32 random bytes, hex, with a recognisable prefix.
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("tdm_{}", hex::encode(bytes))
}

pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Credentials recently found in the store, so that a busy client (an OpenFeature SDK
/// evaluating flags thousands of times a second) does not cost a database read per request.
/// An entry lives [`TokenCache::TTL`]: a token deleted from the store stops working within it.
#[derive(Debug, Default)]
pub struct TokenCache {
    entries: std::sync::RwLock<std::collections::HashMap<String, (Caller, std::time::Instant)>>,
}

impl TokenCache {
    pub const TTL: std::time::Duration = std::time::Duration::from_secs(5);
    /// Most entries kept: beyond it the cache starts afresh (guessed tokens cannot grow it,
    /// since only tokens found in the store are kept).
    const MAX: usize = 10_000;

    fn get(&self, secret: &str) -> Option<Caller> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries
            .get(secret)
            .filter(|(_, at)| at.elapsed() < Self::TTL)
            .map(|(c, _)| c.clone())
    }

    fn put(&self, secret: String, caller: Caller) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= Self::MAX {
            entries.clear();
        }
        entries.insert(secret, (caller, std::time::Instant::now()));
    }
}
