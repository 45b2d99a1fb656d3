//! Console sign-in: argon2 passwords, server-side sessions behind an
//! HttpOnly SameSite=Strict cookie, a CSRF token per session, and lockouts
//! against password guessing.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use cleanweb_core::auth::{UserRole, verify_password};
use cleanweb_store::{User, now_ms};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{Page, page_error};
use crate::AppState;

pub const SESSION_COOKIE: &str = "cw_session";
const LOGIN_COOKIE: &str = "cw_login";

/// A random token, hex (256 bits from the OS generator).
fn token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Equal strings, compared in time independent of where they differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| cookie::Cookie::parse(c.trim()).ok())
        .find(|c| c.name() == name)
        .and_then(|c| c.value_raw())
}

fn set_cookie(state: &AppState, name: &str, value: &str, max_age: Option<Duration>) -> String {
    let mut c = cookie::Cookie::build((name.to_owned(), value.to_owned()))
        .path("/console")
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .secure(state.console.console.secure_cookies);
    if let Some(age) = max_age {
        c = c.max_age(cookie::time::Duration::seconds(
            i64::try_from(age.as_secs()).unwrap_or(i64::MAX),
        ));
    }
    c.build().to_string()
}

/// The signed-in console user of a request.
#[derive(Clone, Debug)]
pub struct ConsoleUser {
    pub user: User,
    pub csrf: String,
    pub locale: &'static str,
}

impl ConsoleUser {
    /// Refuses (403) unless the user has one of `roles`.
    pub fn require(&self, roles: &[UserRole]) -> Result<(), Refusal> {
        if roles.contains(&self.user.role) {
            Ok(())
        } else {
            Err(Refusal::Role(self.locale, self.user.role))
        }
    }

    /// Refuses (403) a form whose token is missing or not this session's.
    pub fn check_csrf(&self, token: Option<&str>) -> Result<(), Refusal> {
        match token {
            Some(t) if same(t, &self.csrf) => Ok(()),
            _ => Err(Refusal::Csrf(self.locale)),
        }
    }

    pub fn actor(&self) -> String {
        format!("user:{}", self.user.name)
    }
}

/// Why a signed-in user's request is refused (both 403).
#[derive(Debug)]
pub enum Refusal {
    Role(&'static str, UserRole),
    Csrf(&'static str),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Role(locale, role) => page_error(
                locale,
                StatusCode::FORBIDDEN,
                "error_forbidden",
                &[("role", role.as_str())],
            ),
            Refusal::Csrf(locale) => page_error(locale, StatusCode::FORBIDDEN, "error_csrf", &[]),
        }
    }
}

impl FromRequestParts<AppState> for ConsoleUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let accept = parts
            .headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok());
        let to_login = || Redirect::to("/console/login").into_response();
        let Some(token) = cookie_value(&parts.headers, SESSION_COOKIE) else {
            return Err(to_login());
        };
        let hours = state.console.console.session_hours.max(1);
        let extend = now_ms() + i64::try_from(hours * 3_600_000).unwrap_or(i64::MAX / 2);
        match state.store.session(&token_hash(token), extend).await {
            Ok(Some(s)) => Ok(ConsoleUser {
                locale: super::i18n::negotiate(s.user.locale.as_deref(), accept),
                user: s.user,
                csrf: s.csrf,
            }),
            Ok(None) => Err(to_login()),
            Err(e) => {
                tracing::error!(error = %e, "session lookup failed");
                Err(page_error(
                    super::i18n::negotiate(None, accept),
                    StatusCode::SERVICE_UNAVAILABLE,
                    "error_store",
                    &[],
                ))
            }
        }
    }
}

/// The client's address as the socket saw it (proxies' headers are not
/// trusted: a client could forge them to dodge the lockout).
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// Failed-login counters per account and per address. In memory: a restart
/// forgets them, which costs an attacker a restart they cannot cause.
#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, (u32, Option<Instant>)>>,
}

impl LoginLimiter {
    const MAX_KEYS: usize = 100_000;

    /// How long until `keys` may try again, if any is locked.
    fn locked_for(&self, keys: &[String]) -> Option<Duration> {
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        keys.iter()
            .filter_map(|k| map.get(k).and_then(|(_, until)| *until))
            .filter(|until| *until > now)
            .map(|until| until - now)
            .max()
    }

    fn fail(&self, keys: &[String], max: u32, lockout: Duration) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if map.len() > Self::MAX_KEYS {
            map.retain(|_, (_, until)| until.is_some_and(|u| u > now));
        }
        for k in keys {
            let e = map.entry(k.clone()).or_insert((0, None));
            e.0 += 1;
            if e.0 >= max {
                let doublings = (e.0 - max).min(10);
                e.1 = Some(now + lockout * (1u32 << doublings));
            }
        }
    }

    fn succeed(&self, keys: &[String]) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for k in keys {
            map.remove(k);
        }
    }
}

fn login_page(
    state: &AppState,
    locale: &'static str,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let csrf = token();
    let mut resp = Page::new("login.html", locale)
        .with("login_csrf", &csrf)
        .with("error", &error)
        .status(status)
        .into_response();
    if let Ok(v) = set_cookie(state, LOGIN_COOKIE, &csrf, None).parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

pub async fn login_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let locale = super::locale_of(&headers);
    login_page(&state, locale, StatusCode::OK, None)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    csrf: Option<String>,
}

pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    axum::extract::Form(form): axum::extract::Form<LoginForm>,
) -> Response {
    let locale = super::locale_of(&headers);
    // Login CSRF: the form must come from our own login page.
    let cookie_token = cookie_value(&headers, LOGIN_COOKIE);
    if !matches!((cookie_token, form.csrf.as_deref()), (Some(a), Some(b)) if same(a, b)) {
        return page_error(locale, StatusCode::FORBIDDEN, "error_csrf", &[]);
    }
    let name = form.name.trim().chars().take(64).collect::<String>();
    let keys = [
        format!("user:{name}"),
        format!("ip:{}", ip.map_or("unknown".into(), |i| i.to_string())),
    ];
    let cfg = &state.console.console;
    if let Some(wait) = state.console.logins.locked_for(&keys) {
        let secs = wait.as_secs().max(1).to_string();
        let msg = super::i18n::message(locale, "login_locked", &[("secs", &secs)]);
        return login_page(&state, locale, StatusCode::TOO_MANY_REQUESTS, Some(msg));
    }
    let user = match state.store.user(&name).await {
        Ok(u) => u.filter(|u| u.disabled_at_ms.is_none()),
        Err(e) => {
            tracing::error!(error = %e, "user lookup failed");
            return page_error(locale, StatusCode::SERVICE_UNAVAILABLE, "error_store", &[]);
        }
    };
    // Verify against a dummy hash for unknown names, so timing does not
    // tell which accounts exist.
    let phc = user
        .as_ref()
        .map_or_else(|| DUMMY_HASH.clone(), |u| u.password_hash.clone());
    let password = form.password;
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &phc))
        .await
        .unwrap_or(false);
    let Some(user) = user.filter(|_| ok) else {
        state.console.logins.fail(
            &keys,
            cfg.max_failed_logins.max(1),
            Duration::from_secs(cfg.lockout_secs),
        );
        super::audit(
            &state,
            "anonymous",
            "login.failed",
            &name,
            serde_json::json!({"ip": ip.map(|i| i.to_string())}),
        )
        .await;
        let msg = super::i18n::message(locale, "login_failed", &[]);
        return login_page(&state, locale, StatusCode::UNAUTHORIZED, Some(msg));
    };
    state.console.logins.succeed(&keys);
    let session = token();
    let csrf = token();
    let hours = cfg.session_hours.max(1);
    let expires = now_ms() + i64::try_from(hours * 3_600_000).unwrap_or(i64::MAX / 2);
    if let Err(e) = state
        .store
        .create_session(&token_hash(&session), &user.name, &csrf, expires)
        .await
    {
        tracing::error!(error = %e, "session could not be stored");
        return page_error(locale, StatusCode::SERVICE_UNAVAILABLE, "error_store", &[]);
    }
    super::audit(
        &state,
        &format!("user:{}", user.name),
        "login",
        &user.name,
        serde_json::json!({"ip": ip.map(|i| i.to_string())}),
    )
    .await;
    let home = if user.role == UserRole::Auditor {
        "/console/stats"
    } else {
        "/console/queue"
    };
    let mut resp = Redirect::to(home).into_response();
    for c in [
        set_cookie(
            &state,
            SESSION_COOKIE,
            &session,
            Some(Duration::from_secs(hours * 3600)),
        ),
        set_cookie(&state, LOGIN_COOKIE, "", Some(Duration::ZERO)),
    ] {
        if let Ok(v) = c.parse() {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

/// An argon2id hash of a random password nobody knows, made on first use.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| cleanweb_core::auth::hash_password(&token()).unwrap_or_default());

#[derive(Deserialize)]
pub struct CsrfForm {
    pub csrf: Option<String>,
}

pub async fn logout(
    State(state): State<AppState>,
    user: ConsoleUser,
    headers: HeaderMap,
    axum::extract::Form(form): axum::extract::Form<CsrfForm>,
) -> Response {
    if let Err(r) = user.check_csrf(form.csrf.as_deref()) {
        return r.into_response();
    }
    if let Some(token) = cookie_value(&headers, SESSION_COOKIE)
        && let Err(e) = state.store.delete_session(&token_hash(token)).await
    {
        tracing::error!(error = %e, "session could not be deleted");
    }
    super::audit(
        &state,
        &user.actor(),
        "logout",
        &user.user.name,
        serde_json::json!({}),
    )
    .await;
    let mut resp = Redirect::to("/console/login").into_response();
    if let Ok(v) = set_cookie(&state, SESSION_COOKIE, "", Some(Duration::ZERO)).parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockout_starts_at_the_limit_and_doubles() {
        let l = LoginLimiter::default();
        let keys = ["user:a".to_owned()];
        for _ in 0..4 {
            l.fail(&keys, 5, Duration::from_secs(60));
        }
        assert!(l.locked_for(&keys).is_none());
        l.fail(&keys, 5, Duration::from_secs(60));
        let first = l.locked_for(&keys).unwrap();
        assert!(first > Duration::from_secs(55) && first <= Duration::from_secs(60));
        l.fail(&keys, 5, Duration::from_secs(60));
        assert!(l.locked_for(&keys).unwrap() > Duration::from_secs(110));
        l.succeed(&keys);
        assert!(l.locked_for(&keys).is_none());
    }

    #[test]
    fn the_dummy_hash_is_a_valid_hash_nobody_matches() {
        assert!(DUMMY_HASH.starts_with("$argon2id$"));
        assert!(!verify_password("", &DUMMY_HASH));
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }
}
