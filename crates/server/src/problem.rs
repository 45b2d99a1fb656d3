//! RFC 9457 problem details: every error the API returns is
//! `application/problem+json` with a `detail` that says what to fix.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cleanweb_core::ItemError;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Extension members (RFC 9457 §3.2), e.g. a challenge to solve.
    #[serde(flatten, skip_serializing_if = "serde_json::Map::is_empty")]
    #[schema(value_type = Object)]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

impl Problem {
    pub fn new(status: StatusCode, slug: &str, detail: impl Into<String>) -> Self {
        Problem {
            kind: format!("urn:cleanweb:problem:{slug}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            extensions: serde_json::Map::new(),
        }
    }

    /// Adds an extension member.
    pub fn with(mut self, key: &str, value: serde_json::Value) -> Self {
        self.extensions.insert(key.to_owned(), value);
        self
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::NOT_FOUND, "not-found", detail)
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::BAD_REQUEST, "bad-request", detail)
    }

    pub fn too_large(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "too-large", detail)
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", detail)
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", detail)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = (status, Json(&self)).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = self.extensions.get("retry_after").and_then(|v| v.as_u64())
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

impl From<ItemError> for Problem {
    fn from(e: ItemError) -> Self {
        match e {
            ItemError::Empty => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "empty-item",
                e.to_string(),
            ),
            _ => Problem::too_large(e.to_string()),
        }
    }
}

impl From<JsonRejection> for Problem {
    fn from(r: JsonRejection) -> Self {
        let status = r.status();
        let slug = match status {
            StatusCode::PAYLOAD_TOO_LARGE => "too-large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported-media-type",
            _ => "invalid-json",
        };
        let detail = match status {
            StatusCode::PAYLOAD_TOO_LARGE => {
                "the request body is larger than limits.max_body_bytes".to_owned()
            }
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                "send the body as JSON with Content-Type: application/json".to_owned()
            }
            _ => r.body_text(),
        };
        // Axum answers syntax errors 400 and shape errors 422; both are the
        // client's JSON being wrong, and clients handle one code more easily.
        let status = if status == StatusCode::UNPROCESSABLE_ENTITY {
            StatusCode::BAD_REQUEST
        } else {
            status
        };
        Problem::new(status, slug, detail)
    }
}

/// `axum::Json`, but its rejections are problem+json.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Json::<T>::from_request(req, state)
            .await
            .map(|Json(v)| ApiJson(v))
            .map_err(Problem::from)
    }
}

/// An item from a JSON body, or from `multipart/form-data` (an upload form):
/// the file parts `image` and `video`, and text parts `id`, `text`, `html`,
/// `url`, `base_url`. The body limit bounds the parts; a file part is kept
/// once (the buffer the form read becomes the item's bytes).
pub struct ItemBody(pub cleanweb_core::Item);

impl<S> FromRequest<S> for ItemBody
where
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        if !multipart {
            return ApiJson::from_request(req, state)
                .await
                .map(|ApiJson(item)| ItemBody(item));
        }
        let bad = |e: axum::extract::multipart::MultipartError| {
            Problem::new(e.status(), "bad-form", e.body_text())
        };
        let mut form = axum::extract::Multipart::from_request(req, state)
            .await
            .map_err(|e| Problem::bad_request(e.body_text()))?;
        let mut item = cleanweb_core::Item::default();
        while let Some(field) = form.next_field().await.map_err(bad)? {
            let name = field.name().unwrap_or_default().to_owned();
            if name == "image" || name == "video" {
                let bytes: Vec<u8> = field.bytes().await.map_err(bad)?.into();
                if name == "image" {
                    item.image = Some(bytes);
                } else {
                    item.video = Some(bytes);
                }
                continue;
            }
            let value = Some(field.text().await.map_err(bad)?);
            match name.as_str() {
                "id" => item.id = value,
                "text" => item.text = value,
                "html" => item.html = value,
                "url" => item.url = value,
                "base_url" => item.base_url = value,
                other => {
                    return Err(Problem::bad_request(format!(
                        "unknown form field {other:?}: use image, video, id, text, html, url or base_url"
                    )));
                }
            }
        }
        Ok(ItemBody(item))
    }
}
