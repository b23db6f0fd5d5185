//! Credentials. A machine presents an API token (`Authorization: Bearer …`); a person in a
//! browser presents the `tandem_session` cookie, whose value is a session's own random id, never
//! a token. The store keeps only hashes of both. The extractors below check one on every route:
//! a token must be neither expired nor revoked, a session neither expired (absolute or idle) nor
//! revoked. Anonymous callers read only when the operator turned it on.
//!
//! Found credentials are cached for [`CredentialCache::TTL`]; revoking one (token revoke,
//! sign-out) drops it from this server's cache at once, so it stops working on the next request.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::RwLock;
use std::time::{Duration, Instant};
use tandem_core::role::Role;
use tandem_store::{NewSession, now_ms};

/// The browser's session cookie.
pub const COOKIE: &str = "tandem_session";
/// A session ends this long after sign-in, however busy.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);
/// A session ends after this long without a request (a working day and a night).
pub const SESSION_IDLE: Duration = Duration::from_secs(12 * 3600);
/// A one-time sign-in code (the demo's link) works once, within this time.
pub const LOGIN_CODE_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// `last_used_at` of a token (`last_seen_at` of a session) is written at most this often.
pub const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// Who is calling, and with which role.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token's name, or the person a session was opened for: what the audit log and the
    /// records (`opened_by`, `decided_by`, …) name as the actor.
    pub name: String,
    /// The role the credential holds; routes compare it with the least role they need.
    pub role: Role,
}

/// What authenticated a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Credential {
    /// A bearer token, by its id.
    Token(i64),
    /// A browser session, and the token it was opened with, if any.
    Session {
        /// The session's id.
        id: i64,
        /// The token signed in with; `None` for a session opened another way (SSO).
        token_id: Option<i64>,
    },
    /// No credential, on a server that lets anonymous callers read.
    Anonymous,
}

impl Credential {
    /// The token behind it: itself, or the one a session was opened with.
    pub fn token_id(self) -> Option<i64> {
        match self {
            Credential::Token(id) | Credential::Session { token_id: Some(id), .. } => Some(id),
            _ => None,
        }
    }
}

/// The least role a route needs.
pub trait MinRole: Send + Sync {
    /// The role: a caller holding it or a higher one passes.
    const ROLE: Role;
}

macro_rules! min_role {
    ($(#[$doc:meta])* $name:ident, $role:expr) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name;
        impl MinRole for $name {
            const ROLE: Role = $role;
        }
    };
}
min_role!(
    /// Any signed-in caller (and, when the server allows it, an anonymous one): reads.
    Viewer,
    Role::Viewer
);
min_role!(
    /// Developers and up: ideas, runs, change requests and their reviews, incidents.
    Developer,
    Role::Developer
);
min_role!(
    /// Operators and up: rollouts and their steering, rollbacks, market launches.
    Operator,
    Role::Operator
);
min_role!(
    /// Admins only: tokens, secrets, the audit log, garbage collection, freeze overrides.
    Admin,
    Role::Admin
);

/// A caller holding at least role `R`; a route taking it cannot run for anyone less.
#[derive(Debug)]
pub struct Auth<R: MinRole>(pub Caller, PhantomData<R>, Credential);

impl<R: MinRole> Auth<R> {
    /// What authenticated the request (the audit log records it beside the caller).
    pub fn credential(&self) -> Credential {
        self.2
    }
}

/// A page's caller: like [`Auth`], but a missing credential sends the browser to sign-in.
#[derive(Debug)]
pub struct PageAuth<R: MinRole>(pub Caller, PhantomData<R>);

/// Why a request was refused.
#[derive(Debug)]
pub enum AuthRejection {
    /// No credential, or one the server does not know: 401.
    Missing,
    /// A credential that once worked: expired or revoked (401, saying which).
    Dead(&'static str),
    /// A credential whose role is below the route's: 403, naming both roles.
    Forbidden {
        /// The least role the route needs.
        needed: Role,
        /// The role the caller holds.
        had: Role,
    },
    /// The credential could not be checked (the store failed): answered as that error.
    Internal(ApiError),
    /// A page asked for without a live session: a redirect to `/login`, coming back to this
    /// path afterwards.
    SignIn(String),
    /// A page (or a page's form post) above the signed-in caller's role: a 403 page naming
    /// them, the role needed, and a link back to the page of the object at `path`.
    PageForbidden {
        /// Who asked.
        caller: Caller,
        /// The least role the page needs.
        needed: Role,
        /// The path asked for, to lead back from.
        path: String,
    },
    /// A page whose credential could not be checked: the error page.
    PageInternal(ApiError),
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        match self {
            AuthRejection::Missing => ApiError::unauthorized().into_response(),
            AuthRejection::Dead(why) => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                format!("this credential {why}: ask an admin for a new token (tandem token create), or sign in again"),
            )
            .into_response(),
            AuthRejection::Forbidden { needed, had } => ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("this needs the {needed} role; your credential has {had}"),
            )
            .into_response(),
            AuthRejection::Internal(e) => e.into_response(),
            AuthRejection::SignIn(next) => see_other(&format!("/login?next={}", url_encode(&next)), None),
            AuthRejection::PageForbidden { caller, needed, path } => crate::ui::forbidden_page(&caller, needed, &path),
            AuthRejection::PageInternal(e) => crate::ui::PageError::from(e).into_response(),
        }
    }
}

/// What a request presents.
enum Presented {
    Bearer(String),
    Session(String),
    Nothing,
}

fn presented(parts: &Parts) -> Presented {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        return match value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")) {
            Some(t) => Presented::Bearer(t.trim().to_string()),
            None => Presented::Nothing,
        };
    }
    match session_cookie(&parts.headers) {
        Some(id) => Presented::Session(id),
        None => Presented::Nothing,
    }
}

/// The session id in a request's cookies, if any.
pub fn session_cookie(headers: &axum::http::HeaderMap) -> Option<String> {
    cookie(headers, COOKIE)
}

/// The value of the cookie `name` in a request's cookies, if it has a non-empty one.
pub(crate) fn cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, v)| *k == name && !v.is_empty())
        .map(|(_, v)| v.to_string())
}

async fn identify(parts: &Parts, state: &AppState, needed: Role) -> Result<(Caller, Credential), AuthRejection> {
    let (caller, credential) = match presented(parts) {
        Presented::Bearer(secret) => check(state, &secret, Kind::Token).await?,
        Presented::Session(secret) => check(state, &secret, Kind::Session).await?,
        Presented::Nothing if state.settings.anonymous_read => (
            Caller {
                name: "anonymous".into(),
                role: Role::Viewer,
            },
            Credential::Anonymous,
        ),
        Presented::Nothing => return Err(AuthRejection::Missing),
    };
    match credential {
        Credential::Token(id) => tandem_store::audit::identify_as(&caller.name, &format!("token/{id}")),
        Credential::Session { id, .. } => tandem_store::audit::identify_as(&caller.name, &format!("session/{id}")),
        Credential::Anonymous => tandem_store::audit::identify(&caller.name, None),
    }
    if !caller.role.allows(needed) {
        return Err(AuthRejection::Forbidden {
            needed,
            had: caller.role,
        });
    }
    Ok((caller, credential))
}

#[derive(Clone, Copy)]
enum Kind {
    Token,
    Session,
}

/// Finds a live token or session by its secret (the cache first), and records its use.
async fn check(state: &AppState, secret: &str, kind: Kind) -> Result<(Caller, Credential), AuthRejection> {
    let key = cache_key(kind, secret);
    let now = now_ms();
    let found = match state.tokens.get(&key, now) {
        Some(hit) => hit,
        None => {
            let engine = &state.engine;
            let internal = |e: tandem_engine::Error| AuthRejection::Internal(e.into());
            let (entry, live) = match kind {
                Kind::Token => {
                    let t = engine
                        .find_token(secret)
                        .await
                        .map_err(internal)?
                        .ok_or(AuthRejection::Missing)?;
                    if t.revoked_at.is_some() {
                        return Err(AuthRejection::Dead("was revoked"));
                    }
                    let caller = Caller {
                        role: parse_role(&t.role),
                        name: t.name.clone(),
                    };
                    ((caller, Credential::Token(t.id), t.expires_at), t.is_live(now))
                }
                Kind::Session => {
                    let idle = SESSION_IDLE.as_millis() as i64;
                    let s = engine
                        .find_session(secret)
                        .await
                        .map_err(internal)?
                        .ok_or(AuthRejection::Missing)?;
                    let caller = Caller {
                        role: parse_role(&s.role),
                        name: s.name.clone(),
                    };
                    let ends = s.expires_at.min(s.last_seen_at.saturating_add(idle));
                    let credential = Credential::Session {
                        id: s.id,
                        token_id: s.token_id,
                    };
                    // A session that ended sends the browser to sign-in, like none at all.
                    if !s.is_live(now, idle) {
                        return Err(AuthRejection::Missing);
                    }
                    ((caller, credential, Some(ends)), true)
                }
            };
            if !live {
                return Err(AuthRejection::Dead("has expired"));
            }
            state.tokens.put(key, entry.clone());
            (entry.0, entry.1)
        }
    };
    if state.tokens.touch_due(found.1) {
        touch(state, found.1, now);
    }
    Ok(found)
}

/// Writes a credential's last use in the background: the request does not wait for it.
fn touch(state: &AppState, credential: Credential, at: i64) {
    let engine = state.engine.clone();
    tokio::spawn(async move {
        let done = match credential {
            Credential::Token(id) => engine.touch_token(id, at).await,
            Credential::Session { id, .. } => engine.touch_session(id, at).await,
            Credential::Anonymous => Ok(()),
        };
        if let Err(e) = done {
            tracing::warn!(?credential, error = %e, "cannot record a credential's last use");
        }
    });
}

fn parse_role(raw: &str) -> Role {
    raw.parse().unwrap_or(Role::Viewer)
}

impl<R: MinRole> FromRequestParts<AppState> for Auth<R> {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        identify(parts, state, R::ROLE)
            .await
            .map(|(c, cred)| Auth(c, PhantomData, cred))
    }
}

impl<R: MinRole> FromRequestParts<AppState> for PageAuth<R> {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // Anyone signed in is identified first, so a page or form post above their role is
        // refused on a page that names them, not with the API's JSON.
        match identify(parts, state, Role::Viewer).await {
            Ok((c, _)) if c.role.allows(R::ROLE) => Ok(PageAuth(c, PhantomData)),
            Ok((caller, _)) => Err(AuthRejection::PageForbidden {
                caller,
                needed: R::ROLE,
                path: parts.uri.path().to_string(),
            }),
            Err(AuthRejection::Missing | AuthRejection::Dead(_)) => Err(AuthRejection::SignIn(parts.uri.to_string())),
            Err(AuthRejection::Internal(e)) => Err(AuthRejection::PageInternal(e)),
            Err(other) => Err(other),
        }
    }
}

/// Opens a browser session for `name` with `role` (`source` says how they proved who they are:
/// `token`, `code`, `sso`, …), sets its cookie and sends the browser, with a 303, to `next` if
/// it is a path on this server, else to `/`.
pub async fn start_session(
    state: &AppState,
    name: &str,
    role: Role,
    source: &str,
    next: Option<&str>,
) -> Result<Response, ApiError> {
    open_session(state, name, role, source, None, next).await
}

/// [`start_session`] for a session opened with a token: revoking the token ends the session.
pub(crate) async fn open_session(
    state: &AppState,
    name: &str,
    role: Role,
    source: &str,
    token_id: Option<i64>,
    next: Option<&str>,
) -> Result<Response, ApiError> {
    let secret = random_hex("tds_");
    let new = NewSession {
        secret: &secret,
        name,
        role,
        source,
        token_id,
        expires_at: now_ms() + SESSION_LIFETIME.as_millis() as i64,
    };
    state.engine.insert_session(&new).await?;
    let secure = if state.settings.is_https() { "; Secure" } else { "" };
    let cookie = format!(
        "{COOKIE}={secret}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}",
        SESSION_LIFETIME.as_secs()
    );
    Ok(see_other(safe_next(next), Some(cookie)))
}

/// Ends the session a request carries, if any, at once on this server; gives the cookie that
/// clears it in the browser.
pub(crate) async fn end_session(state: &AppState, headers: &axum::http::HeaderMap) -> Result<String, ApiError> {
    if let Some(secret) = session_cookie(headers) {
        if let Some(id) = state.engine.revoke_session(&secret).await? {
            state
                .tokens
                .forget(|c| matches!(c, Credential::Session { id: s, .. } if s == id));
        }
        state.tokens.remove(&cache_key(Kind::Session, &secret));
    }
    let secure = if state.settings.is_https() { "; Secure" } else { "" };
    Ok(format!(
        "{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{secure}"
    ))
}

/// A 303 to `location`, optionally setting a cookie, never cached.
pub(crate) fn see_other(location: &str, cookie: Option<String>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::LOCATION,
        HeaderValue::from_str(location).unwrap_or(HeaderValue::from_static("/")),
    );
    if let Some(value) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        headers.insert(header::SET_COOKIE, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Where to go after sign-in: only a path on this server (`/…`, not `//host` or `/\host`, which
/// browsers read as another host), in plain printable ASCII; anything else goes to `/`.
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && n.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            n
        }
        _ => "/",
    }
}

/// A new token secret: 32 random bytes, hex, with a recognisable prefix.
pub fn generate_secret() -> String {
    random_hex("tdm_")
}

/// A new one-time sign-in code.
pub fn generate_code() -> String {
    random_hex("tdc_")
}

pub(crate) fn random_hex(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

/// Percent-encodes `s` for a URL's path or query, leaving unreserved characters and `/` as
/// they are (a `next=` path stays readable).
pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The cache's key for a secret of a kind: its sha256, so the cache (and any debug print of
/// it) holds no credential; the kind keeps a session id from passing for a token.
fn cache_key(kind: Kind, secret: &str) -> String {
    let prefix = match kind {
        Kind::Token => "token:",
        Kind::Session => "session:",
    };
    format!("{prefix}{}", hex::encode(Sha256::digest(secret.as_bytes())))
}

/// One cached credential: who, what, when it ends (ms) and when it was read.
type Entry = (Caller, Credential, Option<i64>);

/// Credentials recently found in the store, so that a busy client (an OpenFeature SDK
/// evaluating flags thousands of times a second) does not cost a database read per request,
/// and when each was last recorded as used.
#[derive(Debug, Default)]
pub struct CredentialCache {
    entries: RwLock<HashMap<String, (Entry, Instant)>>,
    touched: RwLock<HashMap<Credential, Instant>>,
}

/// The old name, kept for callers outside this module.
pub type TokenCache = CredentialCache;

impl CredentialCache {
    /// How long an entry is trusted: a credential revoked on another server sharing the
    /// database stops working here within it (on this server, at once).
    pub const TTL: Duration = Duration::from_secs(5);
    /// Most entries kept: beyond it the cache starts afresh (guessed tokens cannot grow it,
    /// since only credentials found in the store are kept).
    const MAX: usize = 10_000;

    fn get(&self, key: &str, now: i64) -> Option<(Caller, Credential)> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|((_, _, ends), at)| at.elapsed() < Self::TTL && ends.is_none_or(|e| now < e))
            .map(|((caller, credential, _), _)| (caller.clone(), *credential))
    }

    fn put(&self, key: String, entry: Entry) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= Self::MAX {
            entries.clear();
        }
        entries.insert(key, (entry, Instant::now()));
    }

    fn remove(&self, key: &str) {
        self.entries.write().unwrap_or_else(|e| e.into_inner()).remove(key);
    }

    /// Drops every entry whose credential `matches`.
    pub fn forget(&self, matches: impl Fn(Credential) -> bool) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        entries.retain(|_, ((_, credential, _), _)| !matches(*credential));
    }

    /// Drops a token and every session opened with it.
    pub fn forget_token(&self, token_id: i64) {
        self.forget(|c| c.token_id() == Some(token_id));
    }

    /// Whether `credential`'s use should be written now (at most once per [`TOUCH_EVERY`]).
    fn touch_due(&self, credential: Credential) -> bool {
        if credential == Credential::Anonymous {
            return false;
        }
        let mut touched = self.touched.write().unwrap_or_else(|e| e.into_inner());
        if touched.get(&credential).is_some_and(|at| at.elapsed() < TOUCH_EVERY) {
            return false;
        }
        if touched.len() >= Self::MAX {
            touched.clear();
        }
        touched.insert(credential, Instant::now());
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_server() {
        assert_eq!(safe_next(Some("/runs/4?x=1")), "/runs/4?x=1");
        assert_eq!(safe_next(Some("/")), "/");
        assert_eq!(safe_next(None), "/");
        assert_eq!(safe_next(Some("")), "/");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("runs")), "/");
        assert_eq!(safe_next(Some("/runs\r\nSet-Cookie: x=1")), "/", "no header injection");
        assert_eq!(safe_next(Some("/café")), "/");
    }

    #[test]
    fn uses_are_recorded_at_most_once_a_minute_per_credential() {
        let cache = CredentialCache::default();
        assert!(cache.touch_due(Credential::Token(1)));
        assert!(!cache.touch_due(Credential::Token(1)));
        assert!(cache.touch_due(Credential::Token(2)));
        assert!(!cache.touch_due(Credential::Anonymous));
    }

    #[test]
    fn forgetting_a_token_drops_its_sessions() {
        let cache = CredentialCache::default();
        let caller = Caller {
            name: "a".into(),
            role: Role::Admin,
        };
        cache.put("t".into(), (caller.clone(), Credential::Token(1), None));
        cache.put(
            "s".into(),
            (
                caller.clone(),
                Credential::Session {
                    id: 9,
                    token_id: Some(1),
                },
                None,
            ),
        );
        cache.put("o".into(), (caller, Credential::Token(2), None));
        cache.forget_token(1);
        assert!(cache.get("t", 0).is_none() && cache.get("s", 0).is_none());
        assert!(cache.get("o", 0).is_some());
        assert!(cache.get("o", 0).is_some());
    }

    #[test]
    fn the_session_cookie_is_read_among_others() {
        let mut h = axum::http::HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; tandem_session=tds_x; b=2"),
        );
        assert_eq!(session_cookie(&h).as_deref(), Some("tds_x"));
        h.insert(header::COOKIE, HeaderValue::from_static("tandem_token=tdm_x"));
        assert_eq!(session_cookie(&h), None, "the old cookie held a token: it is not read");
    }
}
