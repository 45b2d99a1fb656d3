//! ONNX Runtime, loaded once per process from a library file, and pools of
//! single-threaded sessions shared by the model crates (nudity, OCR).
//!
//! One intra-op thread per session and no spinning: ONNX Runtime's
//! busy-waiting pool ran twice as slow here when another process held a
//! core, and single-threaded sessions side by side scale across cores while
//! the preprocessing of the next input overlaps inference of this one.
#![deny(missing_docs)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};

use ort::environment::Environment;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::Tensor;

/// Why the runtime or a model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum OnnxError {
    /// The library, the model or an inference failed, or an output had an
    /// unexpected shape.
    #[error("{0}")]
    Runtime(String),
}

static ENV: OnceLock<Result<(PathBuf, Environment), String>> = OnceLock::new();

/// Loads the runtime library (the first call wins for the process).
fn environment(lib: &Path) -> Result<&'static Environment, OnnxError> {
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
        Ok((loaded, _)) => Err(OnnxError::Runtime(format!(
            "ONNX Runtime is already loaded from {} in this process; cannot switch to {}",
            loaded.display(),
            lib.display()
        ))),
        Err(e) => Err(OnnxError::Runtime(e.clone())),
    }
}

/// A model's first output: its shape and values.
#[derive(Debug)]
pub struct Output {
    /// The dimensions, as the model reported them.
    pub dims: Vec<usize>,
    /// The values, row-major.
    pub data: Vec<f32>,
}

/// Sessions of one model, each single-threaded, used by whoever is free.
pub struct Pool {
    sessions: Vec<Mutex<Session>>,
    metadata: BTreeMap<String, String>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("sessions", &self.sessions.len())
            .finish_non_exhaustive()
    }
}

impl Pool {
    /// Opens `sessions` sessions (0: one per core) of the model file on the
    /// runtime library `lib`, keeping the model's custom metadata `keys`.
    pub fn new(
        lib: &Path,
        model: &Path,
        sessions: usize,
        keys: &[&str],
    ) -> Result<Pool, OnnxError> {
        let sessions = if sessions == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            sessions
        };
        let env = environment(lib)?;
        let bytes = std::fs::read(model)
            .map_err(|e| OnnxError::Runtime(format!("cannot read {}: {e}", model.display())))?;
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
        let mut pool = Vec::with_capacity(sessions);
        for _ in 0..sessions {
            let s = open().map_err(|e| {
                OnnxError::Runtime(format!("cannot load the model {}: {e}", model.display()))
            })?;
            pool.push(Mutex::new(s));
        }
        let mut metadata = BTreeMap::new();
        if let Some(session) = pool.first().and_then(|s| s.lock().ok())
            && let Ok(meta) = session.metadata()
        {
            for key in keys {
                if let Some(value) = meta.custom(key) {
                    metadata.insert((*key).to_owned(), value);
                }
            }
        }
        Ok(Pool {
            sessions: pool,
            metadata,
        })
    }

    /// A custom metadata value the pool was asked to keep.
    pub fn metadata(&self, key: &str) -> Option<&str> {
        self.metadata.get(key).map(String::as_str)
    }

    /// Runs one f32 input of `shape` and returns the first output.
    pub fn run(&self, shape: &[usize], input: Vec<f32>) -> Result<Output, OnnxError> {
        let fail = |e: ort::Error| OnnxError::Runtime(format!("inference failed: {e}"));
        let shape: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
        let tensor = Tensor::from_array((shape, input)).map_err(fail)?;
        let mut session = self.acquire();
        let outputs = session.run(ort::inputs![tensor]).map_err(fail)?;
        let (shape, data) = outputs[0].try_extract_tensor::<f32>().map_err(fail)?;
        Ok(Output {
            dims: shape.iter().map(|&d| d.max(0) as usize).collect(),
            data: data.to_vec(),
        })
    }

    /// A free session if there is one, else waits on one.
    fn acquire(&self) -> MutexGuard<'_, Session> {
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
