//! `GET /v1/evidence/export`: a signed evidence bundle about a site, a case
//! or a sweep, for admins; the export is audited by the use case. The
//! bundle is written to a temporary file and streamed from it, so a large
//! one never sits in memory.

use std::io::Read;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use cleanweb_service::evidence::{ExportError, ExportLimits, Subject, export};
use serde::Deserialize;

use crate::AppState;
use crate::problem::Problem;

/// Exactly one of the three names the subject.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// A site: a domain or URL (its registrable domain).
    site: Option<String>,
    /// A report case id.
    case: Option<uuid::Uuid>,
    /// A sweep or crawl id.
    sweep: Option<String>,
}

/// Chunks streamed from the bundle file.
const CHUNK: usize = 256 << 10;

/// A signed evidence bundle (zip): the WARC captures, pictures, manifest.json,
/// manifest.sig, the public key and report.html (admin; audited).
#[utoipa::path(get, path = "/v1/evidence/export", tag = "evidence", params(ExportQuery),
    responses(
        (status = 200, description = "The bundle; `X-Manifest-SHA256` and `X-Evidence-Key` name its manifest and signing key", content_type = "application/zip"),
        (status = 400, description = "Not exactly one of site, case, sweep", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such site, case or sweep", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "This server has no evidence key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn export_bundle(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::Caller>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, Problem> {
    let subject = match (q.site, q.case, q.sweep) {
        (Some(s), None, None) => Subject::Site(s),
        (None, Some(c), None) => Subject::Case(c),
        (None, None, Some(w)) => Subject::Sweep(w),
        _ => {
            return Err(Problem::bad_request(
                "give exactly one of site, case and sweep",
            ));
        }
    };
    stream_bundle(&state, subject, &caller.actor()).await
}

/// Writes the bundle about `subject` to a temporary file and answers it as
/// a download, streamed; shared by the API and the console.
pub async fn stream_bundle(
    state: &AppState,
    subject: Subject,
    actor: &str,
) -> Result<Response, Problem> {
    let key = state.evidence_key.clone().ok_or_else(|| {
        Problem::unavailable(
            "this server has no evidence key (CLEANWEB_EVIDENCE_KEY or --evidence-key-file)",
        )
    })?;
    let file = tempfile::NamedTempFile::new().map_err(|e| Problem::internal(e.to_string()))?;
    let out = file
        .reopen()
        .map_err(|e| Problem::internal(e.to_string()))?;
    let (written, exported) = export(
        state.store.as_ref(),
        &subject,
        actor,
        &key,
        &ExportLimits::default(),
        std::io::BufWriter::new(out),
    )
    .await
    .map_err(|e| match e {
        ExportError::NotFound(m) => Problem::not_found(m),
        ExportError::TooLarge(m) => Problem::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            format!("{m}; export it with the CLI"),
        ),
        e => Problem::internal(e.to_string()),
    })?;
    written
        .into_inner()
        .map_err(|e| Problem::internal(e.error().to_string()))?;
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Vec<u8>>>(4);
    tokio::task::spawn_blocking(move || {
        // The temporary file lives until the last chunk is read.
        let mut f = match file.reopen() {
            Ok(f) => f,
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        };
        loop {
            let mut buf = vec![0; CHUNK];
            match f.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    buf.truncate(n);
                    if tx.blocking_send(Ok(buf)).is_err() {
                        break;
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    break;
                }
            }
        }
        drop(file);
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    let name = format!(
        "attachment; filename=\"evidence-{}.zip\"",
        &exported.manifest_sha256[..16]
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (header::CONTENT_DISPOSITION, name),
            (
                header::HeaderName::from_static("x-manifest-sha256"),
                exported.manifest_sha256,
            ),
            (
                header::HeaderName::from_static("x-evidence-key"),
                exported.fingerprint,
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}
