//! The review console: server-rendered HTML (minijinja templates with
//! autoescaping, compiled into the binary), a little JS for shortcuts and
//! revealing media, and no build step.
//!
//! Every page sends a strict Content-Security-Policy (no inline script, no
//! framing), so markup that slips into an item's text still cannot run.

mod i18n;
mod pages;
mod review;
pub mod session;
mod sites;

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cleanweb_core::AuditEvent;
use cleanweb_core::config::{ConsoleConfig, ReviewConfig};
use minijinja::{Environment, Value};

use crate::AppState;
pub use i18n::message;
pub use session::LoginLimiter;

/// What the console needs beyond the API's state.
#[derive(Clone, Default)]
pub struct ConsoleState {
    pub review: ReviewConfig,
    pub console: ConsoleConfig,
    /// Sends takedown webhooks; `None` when none are configured.
    pub webhooks: Option<Arc<cleanweb_webhook::Sender>>,
    pub logins: Arc<LoginLimiter>,
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console", get(pages::home))
        .route("/console/", get(pages::home))
        .route(
            "/console/login",
            get(session::login_form).post(session::login),
        )
        .route("/console/logout", post(session::logout))
        .route("/console/prefs", post(pages::prefs))
        .route("/console/queue", get(review::queue))
        .route("/console/next", get(review::next))
        .route("/console/bulk", post(review::bulk))
        .route("/console/items/{id}", get(review::item))
        .route("/console/items/{id}/decide", post(review::decide))
        .route("/console/items/{id}/release", post(review::release))
        .route("/console/items/{id}/takeover", post(review::takeover))
        .route("/console/media/{id}", get(review::media))
        .route("/console/stats", get(pages::stats))
        .route("/console/audit", get(pages::audit_log))
        .route("/console/webhooks", get(pages::webhooks))
        .route("/console/webhooks/{id}/retry", post(pages::retry_webhook))
        .route("/console/suggestions", get(pages::suggestions))
        .route(
            "/console/suggestions/{id}/decide",
            post(pages::decide_suggestion),
        )
        .route("/console/reports/{id}/disclose", post(pages::disclose))
        .route("/console/rewards", get(pages::rewards))
        .route("/console/compliance", get(pages::compliance))
        .route("/console/sites", get(sites::list))
        .route("/console/sites/{domain}", get(sites::site))
        .route("/console/sites/{domain}/status", post(sites::change))
        .route("/console/sites/{domain}/confirm", post(sites::confirm))
        .route("/console/sites/{domain}/inspect", post(sites::inspect))
        .route("/console/sites/{domain}/evidence.zip", get(sites::bundle))
        .route("/console/rewards/{id}/paid", post(pages::reward_paid))
        .route("/console/static/console.js", get(static_js))
        .route("/console/static/report.js", get(static_report_js))
        .route("/console/static/console.css", get(static_css))
        .route("/console/{*rest}", axum::routing::any(no_such_page))
}

/// The `ago` filter: an RFC 3339 time as a `<time>` element reading "3 h
/// ago" (or "in 2 days") in the reader's language, UTC on hover; anything
/// else is shown as it is.
fn ago(value: String, locale: String) -> Value {
    let Ok(t) = humantime::parse_rfc3339_weak(&value) else {
        return Value::from(value);
    };
    let now = std::time::SystemTime::now();
    let (secs, future) = match now.duration_since(t) {
        Ok(d) => (d.as_secs(), false),
        Err(e) => (e.duration().as_secs(), true),
    };
    let zh = locale == "zh";
    let (n, unit) = match secs {
        0..60 => (0, ""),
        60..3600 => (secs / 60, if zh { "分钟" } else { "min" }),
        3600..86_400 => (secs / 3600, if zh { "小时" } else { "h" }),
        _ => (secs / 86_400, if zh { "天" } else { "d" }),
    };
    let text = match (n, future, zh) {
        _ if secs >= 45 * 86_400 => value.get(..10).unwrap_or(&value).to_owned(),
        (0, _, true) => "刚刚".to_owned(),
        (0, _, false) => "just now".to_owned(),
        (n, false, true) => format!("{n} {unit}前"),
        (n, true, true) => format!("{n} {unit}后"),
        (n, false, false) => format!("{n} {unit} ago"),
        (n, true, false) => format!("in {n} {unit}"),
    };
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('"', "&quot;")
    };
    Value::from_safe_string(format!(
        "<time datetime=\"{v}\" title=\"{v} UTC\">{text}</time>",
        v = esc(&value),
        text = esc(&text)
    ))
}

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.add_filter("ago", ago);
    for (name, text) in [
        (
            "base.html",
            include_str!("../../console/templates/base.html"),
        ),
        (
            "login.html",
            include_str!("../../console/templates/login.html"),
        ),
        (
            "error.html",
            include_str!("../../console/templates/error.html"),
        ),
        (
            "queue.html",
            include_str!("../../console/templates/queue.html"),
        ),
        (
            "item.html",
            include_str!("../../console/templates/item.html"),
        ),
        (
            "stats.html",
            include_str!("../../console/templates/stats.html"),
        ),
        (
            "audit.html",
            include_str!("../../console/templates/audit.html"),
        ),
        (
            "webhooks.html",
            include_str!("../../console/templates/webhooks.html"),
        ),
        (
            "suggestions.html",
            include_str!("../../console/templates/suggestions.html"),
        ),
        (
            "report.html",
            include_str!("../../console/templates/report.html"),
        ),
        (
            "receipt.html",
            include_str!("../../console/templates/receipt.html"),
        ),
        (
            "report_status.html",
            include_str!("../../console/templates/report_status.html"),
        ),
        (
            "disclosure.html",
            include_str!("../../console/templates/disclosure.html"),
        ),
        (
            "rewards.html",
            include_str!("../../console/templates/rewards.html"),
        ),
        (
            "sites.html",
            include_str!("../../console/templates/sites.html"),
        ),
        (
            "site.html",
            include_str!("../../console/templates/site.html"),
        ),
    ] {
        // Templates are compiled in; a unit test renders each, so an error
        // here cannot ship.
        if let Err(e) = env.add_template(name, text) {
            tracing::error!(template = name, error = %e, "console template does not compile");
        }
    }
    env
});

/// The language for a request without a session.
pub fn locale_of(headers: &HeaderMap) -> &'static str {
    i18n::negotiate(
        None,
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

/// A page to render: a template and its context.
pub struct Page {
    template: &'static str,
    locale: &'static str,
    status: StatusCode,
    ctx: BTreeMap<String, Value>,
}

impl Page {
    pub fn new(template: &'static str, locale: &'static str) -> Page {
        let mut ctx = BTreeMap::new();
        ctx.insert("t".into(), Value::from_serialize(i18n::catalogue(locale)));
        ctx.insert("locale".into(), Value::from(locale));
        Page {
            template,
            locale,
            status: StatusCode::OK,
            ctx,
        }
    }

    /// A page for a signed-in user: the menu, the CSRF token, preferences.
    pub fn for_user(template: &'static str, u: &session::ConsoleUser) -> Page {
        use cleanweb_core::auth::UserRole::*;
        let role = u.user.role;
        Page::new(template, u.locale)
            .with("user", &u.user.name)
            .with("role", role.as_str())
            .with("csrf", &u.csrf)
            .with("show_media", &u.user.show_media)
            .with("pref_locale", &u.user.locale)
            .with("can_review", &matches!(role, Admin | Reviewer))
            .with("can_audit", &matches!(role, Admin | Auditor))
            .with("is_admin", &(role == Admin))
    }

    pub fn with(mut self, key: &str, value: &(impl serde::Serialize + ?Sized)) -> Page {
        self.ctx.insert(key.into(), Value::from_serialize(value));
        self
    }

    /// Markup made by the server (charts), inserted as is.
    pub fn with_markup(mut self, key: &str, html: String) -> Page {
        self.ctx.insert(key.into(), Value::from_safe_string(html));
        self
    }

    pub fn status(mut self, status: StatusCode) -> Page {
        self.status = status;
        self
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let rendered = TEMPLATES
            .get_template(self.template)
            .and_then(|t| t.render(&self.ctx));
        match rendered {
            Ok(html) => html_response(self.status, html),
            Err(e) => {
                tracing::error!(template = self.template, error = %e, "console page failed to render");
                let msg = i18n::message(self.locale, "error_internal", &[]);
                html_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("<!doctype html><title>500</title><p>{msg}</p>"),
                )
            }
        }
    }
}

fn html_response(status: StatusCode, html: String) -> Response {
    let mut resp = (status, html).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    secure_headers(h);
    resp
}

/// No inline script or style, no framing, nothing cached, no referrer.
fn secure_headers(h: &mut HeaderMap) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// The page for a store that did not answer (the cause goes to the log).
pub fn store_error(u: &session::ConsoleUser, e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "console store call failed");
    page_error(
        u.locale,
        StatusCode::SERVICE_UNAVAILABLE,
        "error_store",
        &[],
    )
}

/// A time for people: RFC 3339, to the second, UTC.
pub fn when(ms: i64) -> String {
    let d = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0).unsigned_abs());
    humantime::format_rfc3339_seconds(d).to_string()
}

/// An error page in the user's language.
pub fn page_error(
    locale: &'static str,
    status: StatusCode,
    key: &str,
    args: &[(&str, &str)],
) -> Response {
    Page::new("error.html", locale)
        .with("code", &status.as_u16())
        .with("message", &i18n::message(locale, key, args))
        .status(status)
        .into_response()
}

/// `Query` for console pages: a query string the page cannot read gets the
/// console's error page (400, in the reader's language), not plain text.
pub struct ConsoleQuery<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for ConsoleQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ConsoleQuery(v)),
            Err(_) => Err(page_error(
                locale_of(&parts.headers),
                StatusCode::BAD_REQUEST,
                "error_bad_query",
                &[],
            )),
        }
    }
}

/// Any other `/console/…` address: the console's 404 page.
async fn no_such_page(headers: HeaderMap) -> Response {
    page_error(
        locale_of(&headers),
        StatusCode::NOT_FOUND,
        "error_no_page",
        &[],
    )
}

/// A form whose only field is the session's CSRF token (a button).
#[derive(serde::Deserialize)]
pub struct CsrfOnly {
    pub csrf: Option<String>,
}

/// Appends to the audit log; a failure is logged, never shown as success
/// silently: the caller's action has already happened.
pub async fn audit(
    state: &AppState,
    actor: &str,
    action: &str,
    subject: &str,
    details: serde_json::Value,
) {
    let event = AuditEvent {
        actor: actor.into(),
        action: action.into(),
        subject: subject.into(),
        details,
    };
    if let Err(e) = state.store.append_audit(&event).await {
        tracing::error!(error = %e, action, subject, "the audit log could not be written");
    }
}

async fn static_js() -> Response {
    static_file(
        "text/javascript; charset=utf-8",
        include_str!("../../console/static/console.js"),
    )
}

async fn static_report_js() -> Response {
    static_file(
        "text/javascript; charset=utf-8",
        include_str!("../../console/static/report.js"),
    )
}

async fn static_css() -> Response {
    static_file(
        "text/css; charset=utf-8",
        include_str!("../../console/static/console.css"),
    )
}

fn static_file(content_type: &'static str, body: &'static str) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_relative_with_utc_on_hover() {
        let at = |secs_ago: i64| {
            let t = std::time::SystemTime::now()
                - std::time::Duration::from_secs(secs_ago.max(0) as u64)
                + std::time::Duration::from_secs((-secs_ago).max(0) as u64);
            humantime::format_rfc3339_seconds(t).to_string()
        };
        let show = |v: String, l: &str| ago(v, l.into()).to_string();
        assert!(show(at(10), "en").contains(">just now</time>"));
        assert!(show(at(3 * 3600 + 5), "en").contains(">3 h ago<"));
        assert!(show(at(3 * 3600 + 5), "zh").contains(">3 小时前<"));
        assert!(show(at(-2 * 86_400 - 60), "en").contains(">in 2 d<"));
        assert!(show(at(-2 * 86_400 - 60), "zh").contains(">2 天后<"));
        let old = at(90 * 86_400);
        let shown = show(old.clone(), "en");
        assert!(shown.contains(&format!(">{}<", &old[..10])) && shown.contains(" UTC\""));
        assert_eq!(
            show("<b>not a time".into(), "en"),
            "<b>not a time",
            "left as it is"
        );
    }

    #[test]
    fn every_template_compiles() {
        for name in [
            "base.html",
            "login.html",
            "error.html",
            "queue.html",
            "item.html",
            "stats.html",
            "audit.html",
            "webhooks.html",
            "suggestions.html",
            "report.html",
            "receipt.html",
            "report_status.html",
            "disclosure.html",
            "rewards.html",
            "sites.html",
            "site.html",
        ] {
            assert!(TEMPLATES.get_template(name).is_ok(), "{name}");
        }
    }
}
