//! `POST /v1/moderate/file`: one upload (an archive, a document, an app
//! package, a playlist, or any single file), streamed to a temporary file,
//! moderated member by member, answered as one decision.

use std::io::Write;

use axum::Json;
use axum::extract::{Multipart, State};
use cleanweb_core::FileDecision;

use crate::AppState;
use crate::api::{persist, with_engine};
use crate::problem::Problem;

/// Moderate a whole file: its members, and one answer for the file.
#[utoipa::path(post, path = "/v1/moderate/file", tag = "moderation",
    request_body(content_type = "multipart/form-data",
        description = "The part `file` (its filename starts the members' paths) and, optionally, a text part `id`"),
    responses(
        (status = 200, description = "The file's decision: the worst member's verdict, labels naming their members, and the flagged members", body = FileDecision),
        (status = 400, description = "No `file` part, or a malformed form", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong key", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The file is over limits.max_file_bytes", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The engine is full: retry after the Retry-After seconds", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn moderate_file(
    State(state): State<AppState>,
    mut form: Multipart,
) -> Result<Json<FileDecision>, Problem> {
    let config = state.engine.load().limits().clone();
    let bad = |e: axum::extract::multipart::MultipartError| {
        Problem::new(e.status(), "bad-form", e.body_text())
    };
    let mut id = None;
    let mut upload: Option<(tempfile::NamedTempFile, String)> = None;
    while let Some(mut field) = form.next_field().await.map_err(bad)? {
        match field.name().unwrap_or_default() {
            "id" => id = Some(field.text().await.map_err(bad)?),
            "file" => {
                let name = shown_name(field.file_name());
                let mut file = tempfile::NamedTempFile::new()
                    .map_err(|e| Problem::internal(format!("cannot hold the upload: {e}")))?;
                let mut size = 0usize;
                while let Some(chunk) = field.chunk().await.map_err(bad)? {
                    size += chunk.len();
                    if size > config.max_file_bytes {
                        return Err(Problem::too_large(format!(
                            "the file is larger than {} bytes (limits.max_file_bytes)",
                            config.max_file_bytes
                        )));
                    }
                    file.write_all(&chunk)
                        .map_err(|e| Problem::internal(format!("cannot hold the upload: {e}")))?;
                }
                upload = Some((file, name));
            }
            other => {
                return Err(Problem::bad_request(format!(
                    "unknown form field {other:?}: use file and id"
                )));
            }
        }
    }
    let (file, name) = upload.ok_or_else(|| Problem::bad_request("the form has no file part"))?;
    let mut limits = cleanweb_extract::Limits::from_config(&config);
    // The work stops when the request would.
    limits.time = limits.time.min(state.request_timeout);
    let mut run = with_engine(&state, move |engine| {
        let run = cleanweb_service::files::moderate_file(engine, file.path(), &name, id, &limits);
        drop(file);
        run
    })
    .await?;
    let (indices, made): (Vec<usize>, Vec<_>) = std::mem::take(&mut run.flagged)
        .into_iter()
        .map(|(i, item, d)| (i, (item, d)))
        .unzip();
    let stored = persist(&state, made).await;
    for (i, d) in indices.into_iter().zip(stored) {
        if let Some(outcome) = run.decision.flagged.get_mut(i) {
            outcome.decision_id = d.decision_id;
        }
    }
    Ok(Json(run.decision))
}

/// The upload's own name, without any directories or container marks a
/// client put in it, so member paths start with what the client sent.
fn shown_name(file_name: Option<&str>) -> String {
    let name = file_name.unwrap_or("upload");
    let name = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let name = name.replace(cleanweb_extract::SEP, "_");
    if name.is_empty() || name == "." || name == ".." {
        "upload".to_owned()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_names_lose_their_directories() {
        assert_eq!(shown_name(Some("../../etc/a.zip")), "a.zip");
        assert_eq!(shown_name(Some("C:\\x\\b.epub")), "b.epub");
        assert_eq!(shown_name(None), "upload");
        assert_eq!(shown_name(Some("a.zip!/b")), "b");
        assert_eq!(shown_name(Some("..")), "upload");
    }
}
