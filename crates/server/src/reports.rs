//! The public reporting centre: the form (`/report`, no JavaScript needed),
//! the JSON API (`POST /v1/reports`, no key), receipts and status, abuse
//! limits, and automatic triage of what was reported.
//!
//! Intake seals the reporter's contact before it reaches the store, files
//! the report into one case per target (merging by canonical URL or content
//! hash), and triages each new case in the background: the page is fetched
//! as the reporter gave it through `cleanweb-fetch` (public addresses only,
//! checked after DNS and on every redirect), the content is moderated, and
//! the decision enters the review queue, with the report count raising its
//! priority. Each triage has one time budget; uploaded content is kept in
//! the store, so cases a restart left untriaged are triaged at the next
//! start (`ReportDesk::resume_triage`). The use cases live in
//! `cleanweb_service::reports`; this module is the door: the form, the API,
//! the wording of refusals and the status pages.

use std::net::IpAddr;

use axum::Json;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cleanweb_core::Category;
use cleanweb_core::review::CaseStatus;
use cleanweb_reports::{Contact, ContactError, Receipt, TargetError, normalize_receipt};
use cleanweb_service::reports::{Intake, Invalid, MAX_URL_BYTES, Refusal};
use cleanweb_store::now_ms;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::console::session::ClientIp;
use crate::console::{Page, locale_of};
use crate::problem::Problem;

/// A report as the JSON API takes it.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    /// Pages to report.
    #[serde(default)]
    pub urls: Vec<String>,
    /// Text to report (a message, a post).
    pub text: Option<String>,
    /// An image to report, base64.
    #[schema(value_type = Option<String>)]
    #[serde(default, with = "b64")]
    pub image: Option<Vec<u8>>,
    /// `sexual.explicit`, `sexual.suggestive`, `sexual.services`, `sexual.minors` or `link.blocked`.
    pub category: Option<String>,
    #[serde(default)]
    pub description: String,
    /// Optional; sealed at once, needed only for a reward.
    #[schema(value_type = Option<Object>)]
    pub contact: Option<Contact>,
}

mod b64 {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        let s: Option<String> = Option::deserialize(d)?;
        s.map(|s| {
            base64::engine::general_purpose::STANDARD
                .decode(s.trim())
                .map_err(serde::de::Error::custom)
        })
        .transpose()
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReceiptResponse {
    /// Keep it: it is the only way to follow the report.
    pub receipt: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReportStatus {
    /// `received`, `in_review`, `confirmed` or `not_confirmed`: the best
    /// news across the report's targets.
    pub status: String,
    pub targets: Vec<TargetStatus>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TargetStatus {
    /// `url`, `image` or `text`.
    pub kind: String,
    pub status: String,
    /// The address, for a reported page (as first reported).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// When the case was opened (RFC 3339).
    pub received_at: String,
    /// When it last changed (RFC 3339).
    pub updated_at: String,
}

/// How the form words a refusal, in the reader's language.
trait Worded {
    fn catalogue(&self) -> (&'static str, Vec<(&'static str, String)>);
    fn message(&self, locale: &str) -> String;
}

impl Worded for Invalid {
    /// The message catalogue's key and its arguments. A `field` argument
    /// names another key (the field's label), shown in the reader's
    /// language too.
    fn catalogue(&self) -> (&'static str, Vec<(&'static str, String)>) {
        match self {
            Invalid::Category { given, .. } => {
                ("report_bad_category", vec![("category", given.clone())])
            }
            Invalid::TooManyUrls(max) => ("report_too_many_urls", vec![("max", max.to_string())]),
            Invalid::TextTooLong(max) => ("report_text_too_long", vec![("max", max.to_string())]),
            Invalid::DescriptionTooLong(max) => (
                "report_description_too_long",
                vec![("max", max.to_string())],
            ),
            Invalid::ImageTooLarge(_) => ("report_image_too_large", Vec::new()),
            Invalid::NotAnImage => ("report_not_an_image", Vec::new()),
            Invalid::UrlTooLong => (
                "report_url_too_long",
                vec![("max", MAX_URL_BYTES.to_string())],
            ),
            Invalid::Url(TargetError::Scheme(u)) => ("report_url_scheme", vec![("url", u.clone())]),
            Invalid::Url(TargetError::Invalid(u, _)) => {
                ("report_url_invalid", vec![("url", u.clone())])
            }
            Invalid::Empty => ("report_empty", Vec::new()),
            Invalid::Contact(e) => {
                let key = match e {
                    ContactError::TooLong(_) => "report_contact_too_long",
                    ContactError::Control(_) => "report_contact_control",
                    ContactError::NotEmail(_) => "report_contact_email",
                };
                (key, vec![("field", format!("report_{}", e.field()))])
            }
        }
    }

    /// For the form, in the reader's language.
    fn message(&self, locale: &str) -> String {
        let (key, args) = self.catalogue();
        let args: Vec<(&str, String)> = args
            .into_iter()
            .map(|(k, v)| match k {
                "field" => (k, crate::console::message(locale, &v, &[])),
                _ => (k, v),
            })
            .collect();
        let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        crate::console::message(locale, key, &args)
    }
}

/// A refusal as the API's problem details.
fn problem(refusal: &Refusal, difficulty: u8) -> Problem {
    match refusal {
            Refusal::Invalid(i) if i.too_large() => Problem::too_large(i.english()),
            Refusal::Invalid(i) => {
                Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-report", i.english())
            }
            Refusal::Challenge(c) => Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "challenge-required",
                format!(
                    "too many reports from this address: solve the challenge (find N so that SHA-256(\"{c}:N\") starts with {difficulty} zero bits) and send it as 'X-Cleanweb-Pow: {c}:N'"
                ),
            )
            .with("challenge", c.clone().into())
            .with("difficulty", difficulty.into()),
            Refusal::RateLimited => Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "too many reports from this address; try again in an hour",
            ),
            Refusal::Unavailable => Problem::unavailable("reports cannot be taken right now"),
        }
}

/// Takes a report through the reporting centre's desk.
async fn take(state: &AppState, ip: Option<IpAddr>, intake: Intake) -> Result<Receipt, Refusal> {
    match state.report_desk() {
        Some(desk) => desk.take(ip, intake).await,
        None => Err(Refusal::Unavailable),
    }
}

fn parse_pow(v: &str) -> Option<(String, u64)> {
    let (c, n) = v.trim().rsplit_once(':')?;
    Some((c.to_owned(), n.parse().ok()?))
}

/// File a report (no key needed).
#[utoipa::path(post, path = "/v1/reports", tag = "reports",
    request_body = ReportRequest,
    params(("X-Cleanweb-Pow" = Option<String>, Header, description = "challenge:counter, when a 429 asked for one")),
    responses(
        (status = 201, description = "Filed; keep the receipt", body = ReceiptResponse),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Nothing to report, or a bad field", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many reports: solve the challenge, or wait", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn file_report(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<ReceiptResponse>), Problem> {
    let difficulty = state.reports.as_ref().map_or(0, |r| r.pow.difficulty);
    // JSON only: a browser cannot send it from another site without a CORS
    // preflight, which this route never grants.
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    if !json {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "send the report as JSON with Content-Type: application/json",
        ));
    }
    let req: ReportRequest = serde_json::from_slice(&body).map_err(|e| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "bad-json",
            format!("malformed report: {e}"),
        )
    })?;
    let pow = headers
        .get("x-cleanweb-pow")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_pow);
    let intake = Intake {
        urls: req.urls,
        text: req.text,
        image: req.image,
        category: req.category,
        description: req.description,
        contact: req.contact.unwrap_or_default(),
        pow,
    };
    let receipt = take(&state, ip, intake)
        .await
        .map_err(|r| problem(&r, difficulty))?;
    Ok((
        StatusCode::CREATED,
        Json(ReceiptResponse {
            receipt: receipt.to_string(),
        }),
    ))
}

async fn status_of(state: &AppState, typed: &str) -> Result<Option<ReportStatus>, Problem> {
    let Some(receipt) = normalize_receipt(typed) else {
        return Ok(None);
    };
    let cases = state
        .store
        .cases_for_receipt(&receipt.hash())
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "receipt lookup failed");
            Problem::unavailable("cannot look the receipt up right now")
        })?;
    Ok(cases.map(|cases| ReportStatus {
        status: CaseStatus::overall(cases.iter().map(|c| c.status))
            .as_str()
            .to_owned(),
        targets: cases
            .iter()
            .map(|c| TargetStatus {
                kind: c.kind.clone(),
                status: c.status.as_str().to_owned(),
                url: c.url.clone(),
                received_at: crate::console::when(c.created_at_ms),
                updated_at: crate::console::when(c.updated_at_ms),
            })
            .collect(),
    }))
}

/// A report's status by its receipt (no key needed; never shows other
/// reporters or internal notes).
#[utoipa::path(get, path = "/v1/reports/{receipt}", tag = "reports",
    params(("receipt" = String, Path, description = "The receipt code, as given (dashes optional)")),
    responses(
        (status = 200, body = ReportStatus),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn report_status(State(state): State<AppState>, Path(receipt): Path<String>) -> Response {
    let mut resp = match status_of(&state, &receipt).await {
        Ok(Some(status)) => Json(status).into_response(),
        Ok(None) => Problem::not_found("no report has this receipt code").into_response(),
        Err(p) => p.into_response(),
    };
    no_store(&mut resp);
    resp
}

/// The receipt is in the URL: no cache along the way may keep the answer.
fn no_store(resp: &mut Response) {
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
}

/// The report form. It works without JavaScript; with it, a script solves
/// the burst challenge in the background.
pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
) -> Response {
    form_page(
        &state,
        locale_of(&headers),
        StatusCode::OK,
        None,
        &FormValues::default(),
        ip,
    )
}

#[derive(Default, Serialize)]
struct FormValues {
    urls: String,
    text: String,
    category: String,
    description: String,
    name: String,
    phone: String,
    email: String,
    account: String,
}

fn form_page(
    state: &AppState,
    locale: &'static str,
    status: StatusCode,
    error: Option<String>,
    values: &FormValues,
    ip: Option<std::net::IpAddr>,
) -> Response {
    let Some(rs) = &state.reports else {
        return crate::console::page_error(locale, StatusCode::NOT_FOUND, "report_disabled", &[]);
    };
    // The challenge is solved (seconds of a phone's time) only when this
    // address is at its free rate, or was just asked for a solution.
    let solve = status == StatusCode::TOO_MANY_REQUESTS
        || rs
            .limiter
            .near_limit(cleanweb_reports::rate_key(ip), rs.config.free_per_minute);
    let categories: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
    Page::new("report.html", locale)
        .with("categories", &categories)
        .with("challenge", &rs.pow.challenge(now_ms() / 1000))
        .with("difficulty", &rs.pow.difficulty)
        .with("solve", &solve)
        .with("error", &error)
        .with("v", values)
        .with("max_image_mb", &(rs.config.max_image_bytes >> 20).max(1))
        .status(status)
        .into_response()
}

/// What the form posted.
#[derive(Default)]
struct PostedForm {
    values: FormValues,
    image: Option<Vec<u8>>,
    challenge: String,
    pow: String,
}

/// Reads the form's fields into `form` (so a refusal can show them again),
/// or says why it cannot.
async fn read_form(
    multipart: &mut Multipart,
    max_image: usize,
    locale: &'static str,
    form: &mut PostedForm,
) -> Result<(), (StatusCode, Option<String>)> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        (StatusCode::BAD_REQUEST, Some(e.body_text()))
    };
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_owned();
        if name == "image" {
            let bytes = field.bytes().await.map_err(bad)?;
            if bytes.len() > max_image {
                let msg = crate::console::message(locale, "report_image_too_large", &[]);
                return Err((StatusCode::PAYLOAD_TOO_LARGE, Some(msg)));
            }
            if !bytes.is_empty() {
                form.image = Some(bytes.to_vec());
            }
            continue;
        }
        let text = field.text().await.map_err(bad)?;
        let v = &mut form.values;
        match name.as_str() {
            "urls" => v.urls = text,
            "text" => v.text = text,
            "category" => v.category = text,
            "description" => v.description = text,
            "name" => v.name = text,
            "phone" => v.phone = text,
            "email" => v.email = text,
            "account" => v.account = text,
            "challenge" => form.challenge = text,
            "pow" => form.pow = text,
            _ => {}
        }
    }
    Ok(())
}

/// The form's POST (multipart, for the image).
pub async fn submit_form(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    let locale = locale_of(&headers);
    // Another site's page may not file reports from its visitors' browsers.
    let cross_site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site");
    if cross_site {
        return crate::console::page_error(locale, StatusCode::FORBIDDEN, "error_csrf", &[]);
    }
    let max_image = state
        .reports
        .as_ref()
        .map_or(0, |r| r.config.max_image_bytes);
    let mut form = PostedForm::default();
    if let Err((status, msg)) = read_form(&mut multipart, max_image, locale, &mut form).await {
        return form_page(&state, locale, status, msg, &form.values, ip);
    }
    let PostedForm {
        values: v,
        image,
        challenge,
        pow,
    } = form;
    let intake = Intake {
        urls: v.urls.lines().map(str::to_owned).collect(),
        text: Some(v.text.clone()),
        image,
        category: Some(v.category.clone()),
        description: v.description.clone(),
        contact: Contact {
            name: Some(v.name.clone()),
            phone: Some(v.phone.clone()),
            email: Some(v.email.clone()),
            account: Some(v.account.clone()),
        },
        pow: pow
            .trim()
            .parse::<u64>()
            .ok()
            .map(|n| (challenge.clone(), n)),
    };
    match take(&state, ip, intake).await {
        Ok(receipt) => Page::new("receipt.html", locale)
            .with("receipt", &receipt.to_string())
            .status(StatusCode::CREATED)
            .into_response(),
        Err(refusal) => {
            let said = |key: &str| crate::console::message(locale, key, &[]);
            let (status, msg) = match &refusal {
                Refusal::Invalid(i) if i.too_large() => {
                    (StatusCode::PAYLOAD_TOO_LARGE, i.message(locale))
                }
                Refusal::Invalid(i) => (StatusCode::UNPROCESSABLE_ENTITY, i.message(locale)),
                Refusal::Challenge(_) => (StatusCode::TOO_MANY_REQUESTS, said("report_challenge")),
                Refusal::RateLimited => {
                    (StatusCode::TOO_MANY_REQUESTS, said("report_rate_limited"))
                }
                Refusal::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, said("error_store")),
            };
            form_page(&state, locale, status, Some(msg), &v, ip)
        }
    }
}

#[derive(Deserialize)]
pub struct StatusQuery {
    receipt: Option<String>,
}

/// The status page for a receipt code.
pub async fn status_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<StatusQuery>,
) -> Response {
    let locale = locale_of(&headers);
    let typed = q.receipt.unwrap_or_default();
    let (status, code) = if typed.trim().is_empty() {
        (None, StatusCode::OK)
    } else {
        match status_of(&state, &typed).await {
            Ok(Some(s)) => (Some(s), StatusCode::OK),
            Ok(None) => (None, StatusCode::NOT_FOUND),
            Err(p) => return p.into_response(),
        }
    };
    let mut resp = Page::new("report_status.html", locale)
        .with("receipt", &typed)
        .with("found", &status.is_some())
        .with("asked", &!typed.trim().is_empty())
        .with("status", &status)
        .status(code)
        .into_response();
    // The receipt is in the query string: keep it out of referrers and
    // out of every cache.
    resp.headers_mut().insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    no_store(&mut resp);
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use cleanweb_core::config::ReportsConfig;
    use cleanweb_reports::ReportKey;
    use cleanweb_service::reports::ReportsState;
    use std::sync::Arc;

    #[tokio::test]
    async fn report_bodies_past_one_images_worth_are_refused_before_parsing() {
        use tower::ServiceExt;
        let dir = tempfile::tempdir().unwrap();
        let store = cleanweb_store::open(None, dir.path()).await.unwrap();
        let engine = cleanweb_engine::Engine::new(Default::default(), Default::default());
        let mut state = AppState::new(engine, store);
        let cfg = ReportsConfig {
            max_image_bytes: 3000,
            ..Default::default()
        };
        let key = ReportKey::from_hex(&"ab".repeat(32)).unwrap();
        state.reports = Some(Arc::new(ReportsState::new(cfg, Default::default(), key)));
        let limit = 3000 / 3 * 4 + (256 << 10);
        // Valid JSON padded with spaces: only the size can refuse it.
        let send = |size: usize| {
            let json = r#"{"text":"约炮"}"#;
            let body = format!("{json}{}", " ".repeat(size - json.len()));
            axum::http::Request::post("/v1/reports")
                .header("content-type", "application/json")
                .header("content-length", body.len())
                .body(axum::body::Body::from(body))
                .unwrap()
        };
        let over = crate::router(state.clone())
            .oneshot(send(limit + 1))
            .await
            .unwrap();
        assert_eq!(over.status(), StatusCode::PAYLOAD_TOO_LARGE);
        // The unread rest of the body spoils the connection: the client is
        // told not to reuse it.
        assert_eq!(over.headers()[header::CONNECTION], "close");
        let under = crate::router(state).oneshot(send(limit - 1)).await.unwrap();
        assert_eq!(under.status(), StatusCode::CREATED);
        assert!(!under.headers().contains_key(header::CONNECTION));
    }

    #[test]
    fn pow_headers_parse() {
        assert_eq!(parse_pow("v1.1.ab.cd:42"), Some(("v1.1.ab.cd".into(), 42)));
        assert_eq!(parse_pow("nonsense"), None);
    }

    #[test]
    fn form_refusals_are_in_every_catalogue() {
        let all = [
            Invalid::Category {
                given: "politics".into(),
                error: "unknown category".into(),
            },
            Invalid::TooManyUrls(10),
            Invalid::TextTooLong(5000),
            Invalid::DescriptionTooLong(5000),
            Invalid::ImageTooLarge(1 << 20),
            Invalid::NotAnImage,
            Invalid::UrlTooLong,
            Invalid::Url(TargetError::Scheme("javascript:x".into())),
            Invalid::Url(TargetError::Invalid("http://".into(), "empty host".into())),
            Invalid::Empty,
            Invalid::Contact(ContactError::TooLong("name")),
            Invalid::Contact(ContactError::Control("account")),
        ];
        for invalid in &all {
            let (key, args) = invalid.catalogue();
            for locale in ["en", "zh"] {
                let shown = invalid.message(locale);
                assert_ne!(shown, key, "{locale} lacks {key}");
                assert!(!shown.contains('{'), "{locale} {key}: {shown}");
                for (name, value) in &args {
                    if *name != "field" {
                        assert!(shown.contains(value.as_str()), "{locale} {key}: {shown}");
                    }
                }
            }
        }
        let field = Invalid::Contact(ContactError::TooLong("phone"));
        assert!(
            field.message("zh").contains("电话"),
            "the field's label, translated"
        );
        assert!(
            field.english().contains("contact.phone"),
            "the API stays English"
        );
    }
}
