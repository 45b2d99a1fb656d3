//! The TOML config file. Every key is optional; `config/cleanweb.example.toml`
//! documents each one with its default.

use std::path::{Path, PathBuf};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Category, Policy, PolicyError};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub limits: Limits,
    pub store: StoreConfig,
    pub server: ServerConfig,
    pub text: TextConfig,
    pub image: ImageConfig,
    pub policy: Policy,
}

/// The image nudity detector (NudeNet's region detector by default).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImageConfig {
    /// Run the nudity detector on image items. The model and the ONNX
    /// Runtime library are fetched on first use (or by
    /// `cleanweb models install`) into DATA/models.
    pub nudity: bool,
    /// Another ONNX detector with YOLOv8 output, instead of the pinned
    /// NudeNet model (relative paths are relative to the config file).
    pub model_path: Option<PathBuf>,
    /// A libonnxruntime (1.17 or later) instead of the pinned one.
    pub runtime_path: Option<PathBuf>,
    /// Inference sessions, one thread each; 0 means one per core.
    pub sessions: usize,
    /// How each model class counts, overriding the shipped mapping: the
    /// category it raises (leave it out for context-only classes), a weight
    /// on its score and the lowest score that counts.
    pub classes: BTreeMap<String, ClassRule>,
}

impl Default for ImageConfig {
    fn default() -> Self {
        ImageConfig {
            nudity: true,
            model_path: None,
            runtime_path: None,
            sessions: 0,
            classes: BTreeMap::new(),
        }
    }
}

/// How one detector class turns into a label: `score × weight` (capped at 1)
/// for `category`, when the detection scores at least `min_score`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassRule {
    pub category: Option<Category>,
    #[serde(default = "one")]
    pub weight: f32,
    #[serde(default = "default_min_score")]
    pub min_score: f32,
}

fn one() -> f32 {
    1.0
}

fn default_min_score() -> f32 {
    0.3
}

/// The text detector's lexicons.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TextConfig {
    /// Load the lexicon shipped with cleanweb.
    pub builtin_lexicon: bool,
    /// The deployer's own lexicon files, loaded on top (relative paths are
    /// relative to the config file). Reloaded by SIGHUP and
    /// `POST /v1/admin/reload`.
    pub lexicons: Vec<PathBuf>,
}

impl Default for TextConfig {
    fn default() -> Self {
        TextConfig {
            builtin_lexicon: true,
            lexicons: Vec::new(),
        }
    }
}

/// Bounds on everything that comes in. Hostile input gets a clear error
/// naming the limit instead of unbounded work.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest HTTP request body, in bytes.
    pub max_body_bytes: usize,
    /// Longest `text`, in characters.
    pub max_text_chars: usize,
    /// Longest `html`, in characters.
    pub max_html_chars: usize,
    /// Longest `url` or `base_url`, in characters.
    pub max_url_chars: usize,
    /// Largest `image`, in bytes (after base64 decoding).
    pub max_image_bytes: usize,
    /// Most pixels in an image (checked in the header, before decoding).
    pub max_image_pixels: u64,
    /// Frames of an animated GIF or WebP that image detectors look at,
    /// spread across the animation; the item gets the worst frame's labels.
    pub max_image_frames: usize,
    /// Longest time decoding one image may take, in milliseconds.
    pub max_decode_ms: u64,
    /// Largest `video`, in bytes (after base64 decoding).
    pub max_video_bytes: usize,
    /// Longest client `id`, in bytes.
    pub max_id_bytes: usize,
    /// Most items in one batch request.
    pub max_batch_items: usize,
    /// Longest line `check --jsonl` accepts, in bytes.
    pub max_jsonl_line_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 32 << 20,
            max_text_chars: 1 << 20,
            max_html_chars: 4 << 20,
            max_url_chars: 8 << 10,
            max_image_bytes: 16 << 20,
            max_image_pixels: 40_000_000,
            max_image_frames: 8,
            max_decode_ms: 10_000,
            max_video_bytes: 24 << 20,
            max_id_bytes: 512,
            max_batch_items: 256,
            max_jsonl_line_bytes: 32 << 20,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// Also store `allow` decisions (off by default: they are the bulk and
    /// rarely needed later).
    pub store_allow: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address `serve` listens on when `--addr` is not given.
    pub addr: String,
    /// A request taking longer than this is answered 408.
    pub request_timeout_secs: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            addr: "127.0.0.1:8080".into(),
            request_timeout_secs: 30,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid config {path}: {source}")]
    Parse {
        path: String,
        source: Box<toml::de::Error>,
    },
    #[error("invalid config {path}: {source}")]
    Policy { path: String, source: PolicyError },
    #[error("invalid config {path}: limits.{name} must be greater than 0")]
    ZeroLimit { path: String, name: &'static str },
}

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: shown.clone(),
            source,
        })?;
        let mut config = Self::parse(&text, &shown)?;
        let base = path.parent().unwrap_or(Path::new("."));
        let paths = config.text.lexicons.iter_mut().chain(
            config
                .image
                .model_path
                .iter_mut()
                .chain(config.image.runtime_path.iter_mut()),
        );
        for path in paths {
            if path.is_relative() {
                *path = base.join(&*path);
            }
        }
        Ok(config)
    }

    /// Parses and validates config text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: origin.to_owned(),
            source: Box::new(e),
        })?;
        config
            .policy
            .validate()
            .map_err(|source| ConfigError::Policy {
                path: origin.to_owned(),
                source,
            })?;
        let l = &config.limits;
        for (name, v) in [
            ("max_body_bytes", l.max_body_bytes),
            ("max_text_chars", l.max_text_chars),
            ("max_batch_items", l.max_batch_items),
            ("max_jsonl_line_bytes", l.max_jsonl_line_bytes),
            ("max_image_frames", l.max_image_frames),
        ] {
            if v == 0 {
                return Err(ConfigError::ZeroLimit {
                    path: origin.to_owned(),
                    name,
                });
            }
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_parses_to_the_defaults() {
        let text = include_str!("../../../config/cleanweb.example.toml");
        let parsed = Config::parse(text, "example").unwrap();
        assert_eq!(
            parsed,
            Config::default(),
            "the example documents the defaults"
        );
    }

    #[test]
    fn lexicon_paths_are_relative_to_the_config_file() {
        let dir = std::env::temp_dir().join(format!("cw-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("c.toml");
        std::fs::write(&file, "[text]\nlexicons = [\"mine.txt\", \"/abs/x.txt\"]\n").unwrap();
        let c = Config::load(&file).unwrap();
        assert_eq!(
            c.text.lexicons,
            vec![dir.join("mine.txt"), PathBuf::from("/abs/x.txt")]
        );
        assert!(c.text.builtin_lexicon);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn typos_are_reported_with_the_file() {
        let err = Config::parse("[limits]\nmax_txt_chars = 5\n", "x.toml").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("x.toml") && msg.contains("max_txt_chars"),
            "{msg}"
        );
    }
}
