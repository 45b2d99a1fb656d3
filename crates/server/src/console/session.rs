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

    /// A form post: the session's token first (a forged post learns
    /// nothing, not even the role it lacks), then the role.
    pub fn check_form(&self, token: Option<&str>, roles: &[UserRole]) -> Result<(), Refusal> {
        self.check_csrf(token)?;
        self.require(roles)
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
        let cfg = &state.console.console;
        let hours =
            |h: u64| i64::try_from(h.max(1).saturating_mul(3_600_000)).unwrap_or(i64::MAX / 2);
        let now = now_ms();
        let extend = now.saturating_add(hours(cfg.session_hours));
        let signed_in_after = now.saturating_sub(hours(cfg.max_session_hours));
        match state
            .store
            .session(&token_hash(token), extend, signed_in_after)
            .await
        {
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

/// The client's address: the socket's peer, or, when that peer is one of
/// `[server] trusted_proxies`, the nearest untrusted address in its
/// `X-Forwarded-For` (the entries before it could be forged by the client).
pub struct ClientIp(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(ClientIp(client_address(
            peer,
            &parts.headers,
            &state.trusted_proxies,
        )))
    }
}

pub fn client_address(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &[IpAddr],
) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .take(64)
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    // Walk from the proxy back towards the client; the first address no
    // trusted proxy vouches for is the client.
    Some(
        hops.iter()
            .rev()
            .find(|a| !trusted.contains(a))
            .copied()
            .unwrap_or(peer),
    )
}

/// Login attempts, counted three ways. An (account, address) pair locks at
/// the configured limit; an address guessing across accounts at four times
/// it; an account, from everywhere together, only at ten times it, so no
/// one address can keep someone else's account locked. Addresses are IPv4
/// or an IPv6 /64 (a subscriber holds a whole /64). In memory: a restart
/// forgets them, which costs an attacker a restart they cannot cause.
pub struct LoginLimiter {
    entries: Mutex<HashMap<String, Attempts>>,
    /// Password checks at once: each argon2 check takes 19 MiB and a thread
    /// of the blocking pool moderation also runs on.
    checks: tokio::sync::Semaphore,
    max_keys: usize,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter::with_cap(100_000)
    }
}

struct Attempts {
    count: u32,
    locked_until: Option<Instant>,
    last: Instant,
}

/// The counters of one login attempt, each with the failures it allows.
pub fn login_keys(name: &str, ip: Option<IpAddr>, max: u32) -> [(String, u32); 3] {
    let net = cleanweb_reports::rate_key(ip);
    [
        (format!("pair:{net}|{name}"), max),
        (format!("ip:{net}"), max.saturating_mul(4)),
        (format!("user:{name}"), max.saturating_mul(10)),
    ]
}

impl LoginLimiter {
    /// Quiet this long and the count starts again.
    const WINDOW: Duration = Duration::from_secs(15 * 60);
    /// Lockouts double at most this many times (×32).
    const MAX_DOUBLINGS: u32 = 5;
    /// Password checks running at once.
    const MAX_CHECKS: usize = 4;

    /// A limiter tracking at most about `max_keys` counters.
    pub fn with_cap(max_keys: usize) -> LoginLimiter {
        LoginLimiter {
            entries: Mutex::new(HashMap::new()),
            checks: tokio::sync::Semaphore::new(Self::MAX_CHECKS),
            max_keys: max_keys.max(16),
        }
    }

    /// Counts an attempt for every key before the password is checked, so
    /// parallel guesses cannot exceed the limit; or says how long to wait.
    fn begin(&self, keys: &[(String, u32)], lockout: Duration) -> Result<(), Duration> {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if map.len() + keys.len() > self.max_keys {
            self.evict(&mut map, now);
        }
        let mut wait = Duration::ZERO;
        for (k, max) in keys {
            if let Some(a) = map.get(k) {
                match a.locked_until {
                    Some(u) if u > now => wait = wait.max(u - now),
                    // Attempts in flight already reach the limit.
                    None if a.count >= *max && now.duration_since(a.last) < Self::WINDOW => {
                        wait = wait.max(lockout);
                    }
                    _ => {}
                }
            }
        }
        if wait > Duration::ZERO {
            return Err(wait);
        }
        for (k, _) in keys {
            let a = map.entry(k.clone()).or_insert(Attempts {
                count: 0,
                locked_until: None,
                last: now,
            });
            if now.duration_since(a.last) >= Self::WINDOW {
                a.count = 0;
                a.locked_until = None;
            }
            a.count += 1;
            a.last = now;
        }
        Ok(())
    }

    /// Drops what has expired, then the least recently used, down to nine
    /// tenths of the cap: a flood of new keys pushes out the oldest, not
    /// whatever happens to be locked.
    fn evict(&self, map: &mut HashMap<String, Attempts>, now: Instant) {
        map.retain(|_, a| {
            now.duration_since(a.last) < Self::WINDOW || a.locked_until.is_some_and(|u| u > now)
        });
        let keep = self.max_keys * 9 / 10;
        if map.len() > keep {
            let mut by_age: Vec<(Instant, String)> =
                map.iter().map(|(k, a)| (a.last, k.clone())).collect();
            by_age.sort_unstable();
            for (_, k) in by_age.into_iter().take(map.len() - keep) {
                map.remove(&k);
            }
        }
    }

    /// The attempt failed: each key at its limit locks (doubling each time
    /// after).
    fn fail(&self, keys: &[(String, u32)], lockout: Duration) {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        for (k, max) in keys {
            if let Some(a) = map.get_mut(k)
                && a.count >= *max
            {
                let doublings = (a.count - max).min(Self::MAX_DOUBLINGS);
                a.locked_until = Some(now + lockout * (1u32 << doublings));
            }
        }
    }

    /// The attempt succeeded: the pair and the account start afresh; the
    /// address's count drops this attempt (its failures against other
    /// accounts stay).
    fn succeed(&self, keys: &[(String, u32); 3]) {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&keys[0].0);
        map.remove(&keys[2].0);
        if let Some(a) = map.get_mut(&keys[1].0) {
            a.count = a.count.saturating_sub(1);
        }
    }

    /// A slot for one password check, or `None` when the checks in flight
    /// stay full for a few seconds.
    async fn check_slot(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        tokio::time::timeout(Duration::from_secs(5), self.checks.acquire())
            .await
            .ok()?
            .ok()
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
    let cfg = &state.console.console;
    let (max, lockout) = (
        cfg.max_failed_logins.max(1),
        Duration::from_secs(cfg.lockout_secs),
    );
    let keys = login_keys(&name, ip, max);
    if let Err(wait) = state.console.logins.begin(&keys, lockout) {
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
    let Some(slot) = state.console.logins.check_slot().await else {
        return page_error(locale, StatusCode::SERVICE_UNAVAILABLE, "error_busy", &[]);
    };
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &phc))
        .await
        .unwrap_or(false);
    drop(slot);
    let known = user.is_some();
    let Some(user) = user.filter(|_| ok) else {
        state.console.logins.fail(&keys, lockout);
        // A name that is no account may be a password typed in the wrong
        // field: the log keeps only a digest of it.
        let subject = if known {
            name.clone()
        } else {
            format!("unknown:{}", &token_hash(&name)[..16])
        };
        super::audit(
            &state,
            "anonymous",
            "login.failed",
            &subject,
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

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn lockout_starts_at_the_limit_doubles_and_spares_other_accounts() {
        let l = LoginLimiter::default();
        let min = Duration::from_secs(60);
        let keys = login_keys("a", ip("192.0.2.1"), 5);
        for _ in 0..4 {
            l.begin(&keys, min).unwrap();
            l.fail(&keys, min);
        }
        l.begin(&keys, min).unwrap();
        l.fail(&keys, min);
        let first = l.begin(&keys, min).unwrap_err();
        assert!(first > Duration::from_secs(55) && first <= min, "{first:?}");
        // Parallel attempts cannot get past the limit: the count is taken first.
        let other = login_keys("b", ip("192.0.2.2"), 3);
        for _ in 0..3 {
            l.begin(&other, min).unwrap();
        }
        assert!(
            l.begin(&other, min).is_err(),
            "three in flight, the fourth waits"
        );
        // Success clears the pair and the account.
        let mine = login_keys("c", ip("192.0.2.3"), 2);
        l.begin(&mine, min).unwrap();
        l.fail(&mine, min);
        l.begin(&mine, min).unwrap();
        l.succeed(&mine);
        l.begin(&mine, min).expect("a fresh start after success");
        // An address guessing across accounts stops at four times the limit.
        for i in 0..4 {
            let k = login_keys(&format!("u{i}"), ip("192.0.2.4"), 1);
            l.begin(&k, min).unwrap();
            l.fail(&k, min);
        }
        assert!(
            l.begin(&login_keys("u9", ip("192.0.2.4"), 1), min).is_err(),
            "the address failed four times across accounts"
        );
    }

    #[test]
    fn one_address_cannot_lock_an_account_for_everyone() {
        let l = LoginLimiter::default();
        let min = Duration::from_secs(60);
        let attacker = login_keys("alice", ip("203.0.113.9"), 3);
        for _ in 0..3 {
            l.begin(&attacker, min).unwrap();
            l.fail(&attacker, min);
        }
        assert!(
            l.begin(&attacker, min).is_err(),
            "the attacker's pair is locked"
        );
        let owner = login_keys("alice", ip("198.51.100.4"), 3);
        l.begin(&owner, min)
            .expect("the owner, elsewhere, may still sign in");
        // Addresses in one IPv6 /64 are one client.
        let a = login_keys("bob", ip("2001:db8:1:2::1"), 2);
        let b = login_keys("bob", ip("2001:db8:1:2:ffff::7"), 2);
        l.begin(&a, min).unwrap();
        l.fail(&a, min);
        l.begin(&b, min).unwrap();
        l.fail(&b, min);
        assert!(l.begin(&a, min).is_err(), "the /64 shares its pair counter");
    }

    #[test]
    fn a_flood_of_keys_evicts_the_least_recently_used() {
        let l = LoginLimiter::with_cap(100);
        let min = Duration::from_secs(60);
        let locked = login_keys("target", ip("192.0.2.50"), 1);
        l.begin(&locked, min).unwrap();
        l.fail(&locked, min);
        for i in 0..200u32 {
            let k = login_keys(
                &format!("n{i}"),
                ip(&format!("10.0.{}.{}", i / 250, i % 250)),
                5,
            );
            let _ = l.begin(&k, min);
            // The locked pair is touched again, so it stays recent.
            if i % 10 == 0 {
                let _ = l.begin(&locked, min);
            }
        }
        let map = l.entries.lock().unwrap();
        assert!(map.len() <= 100, "{}", map.len());
        assert!(
            map.contains_key(&locked[0].0),
            "the recently used lock stays"
        );
    }

    #[tokio::test]
    async fn password_checks_are_bounded() {
        let l = LoginLimiter::default();
        let mut held = Vec::new();
        for _ in 0..LoginLimiter::MAX_CHECKS {
            held.push(l.check_slot().await.unwrap());
        }
        assert_eq!(l.checks.available_permits(), 0);
        drop(held);
        assert!(l.check_slot().await.is_some());
    }

    #[test]
    fn forwarded_addresses_count_only_behind_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "1.2.3.4, 198.51.100.7".parse().unwrap());
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert_eq!(
            client_address(Some(proxy), &h, &[]),
            Some(proxy),
            "untrusted: the peer"
        );
        assert_eq!(
            client_address(Some(proxy), &h, &[proxy]),
            ip("198.51.100.7"),
            "the nearest hop"
        );
        let inner: IpAddr = "198.51.100.7".parse().unwrap();
        assert_eq!(
            client_address(Some(proxy), &h, &[proxy, inner]),
            ip("1.2.3.4"),
            "two proxies"
        );
        assert_eq!(
            client_address(Some(proxy), &HeaderMap::new(), &[proxy]),
            Some(proxy)
        );
        assert_eq!(client_address(None, &h, &[proxy]), None);
    }

    #[test]
    fn the_dummy_hash_is_a_valid_hash_nobody_matches() {
        assert!(DUMMY_HASH.starts_with("$argon2id$"));
        assert!(!verify_password("", &DUMMY_HASH));
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }
}
