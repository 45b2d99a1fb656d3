//! ONNX Runtime, loaded once per process from a library file, and a pool of
//! single-threaded sessions.
//!
//! One intra-op thread per session and no spinning: ONNX Runtime's
//! busy-waiting pool ran twice as slow here when another process held a
//! core, and single-threaded sessions side by side scale across cores while
//! decoding of the next image overlaps inference of this one.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ort::environment::Environment;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::Tensor;

use crate::NudityError;

static ENV: OnceLock<Result<(PathBuf, Environment), String>> = OnceLock::new();

/// Loads the runtime library (first call wins for the process).
fn environment(lib: &Path) -> Result<&'static Environment, NudityError> {
    let entry = ENV.get_or_init(|| {
        let builder = ort::init_from(lib)
            .map_err(|e| format!("cannot load ONNX Runtime from {}: {e}", lib.display()))?;
        let env = builder
            .with_name("cleanweb")
            .build()
            .map_err(|e| format!("cannot start ONNX Runtime: {e}"))?;
        Ok((lib.to_owned(), env))
    });
    match entry {
        Ok((loaded, env)) if loaded == lib => Ok(env),
        Ok((loaded, _)) => Err(NudityError::Runtime(format!(
            "ONNX Runtime is already loaded from {} in this process; cannot switch to {}",
            loaded.display(),
            lib.display()
        ))),
        Err(e) => Err(NudityError::Runtime(e.clone())),
    }
}

/// The model's output for a batch: `[batch, rows, anchors]`.
pub struct Output {
    pub rows: usize,
    pub anchors: usize,
    pub data: Vec<f32>,
}

pub struct Pool {
    sessions: Vec<Mutex<Session>>,
    /// Class names from the model's metadata.
    pub classes: Vec<String>,
}

impl Pool {
    pub fn new(lib: &Path, model: &Path, sessions: usize) -> Result<Pool, NudityError> {
        let env = environment(lib)?;
        let bytes = std::fs::read(model)
            .map_err(|e| NudityError::Runtime(format!("cannot read {}: {e}", model.display())))?;
        let open = || -> Result<Session, String> {
            let text = |e: ort::Error<_>| e.to_string();
            Session::builder(env)
                .map_err(|e| e.to_string())?
                .with_optimization_level(GraphOptimizationLevel::All)
                .map_err(text)?
                .with_intra_threads(1)
                .map_err(text)?
                .with_inter_threads(1)
                .map_err(text)?
                .with_intra_op_spinning(false)
                .map_err(text)?
                .with_inter_op_spinning(false)
                .map_err(text)?
                .commit_from_memory(&bytes)
                .map_err(|e| e.to_string())
        };
        let mut pool = Vec::with_capacity(sessions.max(1));
        for _ in 0..sessions.max(1) {
            let s = open().map_err(|e| {
                NudityError::Runtime(format!("cannot load the model {}: {e}", model.display()))
            })?;
            pool.push(Mutex::new(s));
        }
        let classes = pool
            .first()
            .and_then(|s| s.lock().ok())
            .and_then(|s| s.metadata().ok()?.custom("names"))
            .map(|names| parse_names(&names))
            .unwrap_or_default();
        Ok(Pool {
            sessions: pool,
            classes,
        })
    }

    /// Runs a batch of `n` inputs of `3 × size × size`.
    pub fn run(&self, n: usize, size: usize, input: Vec<f32>) -> Result<Output, NudityError> {
        let fail = |e: ort::Error| NudityError::Runtime(format!("inference failed: {e}"));
        let shape = [n as i64, 3, size as i64, size as i64];
        let tensor = Tensor::from_array((shape, input)).map_err(fail)?;
        let mut session = self.acquire();
        let outputs = session.run(ort::inputs![tensor]).map_err(fail)?;
        let (shape, data) = outputs[0].try_extract_tensor::<f32>().map_err(fail)?;
        let dims: Vec<usize> = shape.iter().map(|&d| d.max(0) as usize).collect();
        match dims.as_slice() {
            [b, rows, anchors] if *b == n && data.len() == b * rows * anchors => Ok(Output {
                rows: *rows,
                anchors: *anchors,
                data: data.to_vec(),
            }),
            _ => Err(NudityError::Runtime(format!(
                "the model's output has shape {dims:?}; expected [{n}, 4 + classes, anchors] (YOLOv8)"
            ))),
        }
    }

    /// A free session if there is one, else waits on one.
    fn acquire(&self) -> std::sync::MutexGuard<'_, Session> {
        for s in &self.sessions {
            if let Ok(guard) = s.try_lock() {
                return guard;
            }
        }
        // Spread waiters by thread so they do not all queue on the first.
        let i = thread_slot() % self.sessions.len();
        self.sessions[i]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn thread_slot() -> usize {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    std::thread::current().id().hash(&mut h);
    h.finish() as usize
}

/// Parses Ultralytics' `names` metadata, a Python dict literal such as
/// `{0: 'FACE', 1: 'FEET'}`, into names by index.
pub fn parse_names(text: &str) -> Vec<String> {
    let mut out: Vec<(usize, String)> = Vec::new();
    let body = text.trim().trim_start_matches('{').trim_end_matches('}');
    for pair in body.split(',') {
        let Some((k, v)) = pair.split_once(':') else {
            continue;
        };
        let Ok(k) = k.trim().parse::<usize>() else {
            continue;
        };
        let v = v.trim().trim_matches(|c| c == '\'' || c == '"');
        out.push((k, v.to_owned()));
    }
    out.sort_by_key(|(k, _)| *k);
    if out.iter().enumerate().any(|(i, (k, _))| i != *k) {
        return Vec::new();
    }
    out.into_iter().map(|(_, v)| v).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_metadata_parses() {
        assert_eq!(
            super::parse_names("{0: 'FACE_FEMALE', 1: \"FEET\"}"),
            vec!["FACE_FEMALE", "FEET"]
        );
        assert!(super::parse_names("{1: 'A'}").is_empty());
        assert!(super::parse_names("garbage").is_empty());
    }
}
