//! Bearer-key authentication as a layer: handlers receive the caller as an
//! extension and never parse headers themselves.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cleanweb_core::auth::Role;
use cleanweb_store::ApiKey;

use crate::AppState;
use crate::problem::Problem;

/// The authenticated caller of a request.
#[derive(Clone, Debug)]
pub struct Caller(pub ApiKey);

impl Caller {
    /// The caller as the audit log names it: key names need not be unique
    /// (the default is "unnamed"), so the key's id goes with it.
    pub fn actor(&self) -> String {
        format!("key:{}/{}", self.0.name, self.0.id)
    }
}

/// Requires a valid bearer key; puts [`Caller`] in the request extensions.
pub async fn require_key(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let secret = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let Some(secret) = secret else {
        return Problem::unauthorized(
            "missing API key: send it as 'Authorization: Bearer <key>' (serve prints the first admin key; create more with 'cleanweb key create')",
        )
        .into_response();
    };
    match state.store.api_key_by_secret(secret).await {
        Ok(Some(key)) => {
            req.extensions_mut().insert(Caller(key));
            next.run(req).await
        }
        Ok(None) => Problem::unauthorized("unknown or revoked API key").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "key lookup failed");
            Problem::unavailable("cannot check the API key right now").into_response()
        }
    }
}

/// Requires the caller (already authenticated) to be an admin.
pub async fn require_admin(req: Request, next: Next) -> Response {
    match req.extensions().get::<Caller>() {
        Some(Caller(key)) if key.role == Role::Admin => next.run(req).await,
        Some(Caller(key)) => Problem::forbidden(format!(
            "this route needs an admin key; key {:?} has role {}",
            key.name, key.role
        ))
        .into_response(),
        None => Problem::unauthorized("missing API key").into_response(),
    }
}
