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
    pub review: ReviewConfig,
    pub console: ConsoleConfig,
    /// Where violations are sent: each reviewer `violation` posts a signed
    /// takedown event to every webhook.
    pub webhooks: Vec<WebhookConfig>,
    pub reports: ReportsConfig,
    pub rewards: RewardsConfig,
    pub evidence: EvidenceConfig,
    pub policy: Policy,
}

/// Evidence captures (WARC of crawls and report triage) and their retention.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvidenceConfig {
    /// Keep a WARC capture of every report triage fetch.
    pub capture_triage: bool,
    /// Days a capture is kept; `cleanweb evidence prune` and the server's
    /// daily run delete older ones, except under the legal hold (an open
    /// case, a site in the registry not restored).
    pub retain_days: u32,
}

impl Default for EvidenceConfig {
    fn default() -> Self {
        EvidenceConfig {
            capture_triage: true,
            retain_days: 730,
        }
    }
}

/// The public report form and API.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportsConfig {
    /// Take reports at all (`/report`, `POST /v1/reports`).
    pub enabled: bool,
    /// Reports per client address per minute without a challenge.
    pub free_per_minute: u32,
    /// Reports per client address per hour, challenge or not.
    pub max_per_hour: u32,
    /// Leading zero bits the burst challenge asks for (18: a few seconds
    /// in a phone browser).
    pub pow_difficulty: u8,
    /// URLs in one report.
    pub max_urls: usize,
    /// Characters of description and of reported text.
    pub max_text_chars: usize,
    /// Bytes of an uploaded image.
    pub max_image_bytes: usize,
    /// Fetching reported pages for triage: bytes, seconds, redirects.
    pub fetch_max_bytes: u64,
    pub fetch_timeout_secs: u64,
    pub fetch_max_redirects: u32,
}

impl Default for ReportsConfig {
    fn default() -> Self {
        ReportsConfig {
            enabled: true,
            free_per_minute: 3,
            max_per_hour: 30,
            pow_difficulty: 18,
            max_urls: 10,
            max_text_chars: 5_000,
            max_image_bytes: 8 << 20,
            fetch_max_bytes: 4 << 20,
            fetch_timeout_secs: 10,
            fetch_max_redirects: 5,
        }
    }
}

/// Rewards for the first reporter of a confirmed case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RewardsConfig {
    pub enabled: bool,
    /// ISO 4217 code; amounts are in its smallest unit (fen, cents).
    pub currency: String,
    /// Per category: the amount for a standard and a severe case (the
    /// engine also blocked it, or it is `sexual.minors`).
    pub amounts: BTreeMap<String, RewardRule>,
    /// Most one reporter is granted in a calendar month (UTC).
    pub per_reporter_month: Option<i64>,
    /// Most granted to everyone in a calendar month.
    pub per_month: Option<i64>,
}

impl Default for RewardsConfig {
    fn default() -> Self {
        RewardsConfig {
            enabled: false,
            currency: "CNY".into(),
            amounts: BTreeMap::new(),
            per_reporter_month: None,
            per_month: None,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RewardRule {
    pub standard: i64,
    pub severe: i64,
}

/// The review queue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReviewConfig {
    /// Share of machine `block` decisions sampled into the queue for
    /// quality control, in percent (0 to 100).
    pub block_sample_percent: f64,
    /// How long a claim keeps other reviewers off an item.
    pub claim_minutes: u64,
    /// The target from intake to a reviewer's decision, in hours; the
    /// compliance report counts reviews past it (reviewers answer for it).
    pub target_hours: u64,
    /// The same for escalated items (`sexual.minors` and escalations;
    /// admins answer for it).
    pub escalated_target_hours: u64,
}

impl Default for ReviewConfig {
    fn default() -> Self {
        ReviewConfig {
            block_sample_percent: 2.0,
            claim_minutes: 15,
            target_hours: 24,
            escalated_target_hours: 4,
        }
    }
}

impl ReviewConfig {
    /// The sample as a per-10,000 threshold for [`crate::review::in_queue`].
    pub fn block_sample_per_10k(&self) -> u32 {
        (self.block_sample_percent.clamp(0.0, 100.0) * 100.0).round() as u32
    }
}

/// The review console's sessions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsoleConfig {
    /// Mark session cookies `Secure` (sent over HTTPS only; browsers also
    /// accept them on http://localhost). Turn off only behind a trusted
    /// plain-HTTP hop.
    pub secure_cookies: bool,
    /// Idle sessions end after this long.
    pub session_hours: u64,
    /// Every session ends this long after sign-in, however active.
    pub max_session_hours: u64,
    /// Failed logins of one client address at one account before a lockout
    /// (four times this across accounts, ten times at one account from
    /// everywhere).
    pub max_failed_logins: u32,
    /// How long a lockout lasts; it doubles with each further failure.
    pub lockout_secs: u64,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        ConsoleConfig {
            secure_cookies: true,
            session_hours: 12,
            max_session_hours: 24,
            max_failed_logins: 5,
            lockout_secs: 60,
        }
    }
}

/// One takedown receiver on the platform's side.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Names the webhook in the delivery log.
    pub name: String,
    pub url: String,
    /// The HMAC-SHA256 key, or `env:VAR` to read it from the environment.
    pub secret: String,
    /// Attempts before a delivery goes to the dead-letter list.
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// Seconds before each attempt times out.
    #[serde(default = "default_webhook_timeout")]
    pub timeout_secs: u64,
    /// Seconds before the first retry; each further wait doubles (at most
    /// an hour), give or take a fifth so retries after an outage spread.
    #[serde(default = "default_retry_secs")]
    pub retry_secs: u64,
}

fn default_retry_secs() -> u64 {
    5
}

impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("secret", &"<hidden>")
            .finish()
    }
}

impl WebhookConfig {
    /// The secret, resolving `env:VAR`.
    pub fn secret(&self) -> Result<String, String> {
        match self.secret.strip_prefix("env:") {
            Some(var) => std::env::var(var).map_err(|_| {
                format!(
                    "webhook {}: environment variable {var} is not set",
                    self.name
                )
            }),
            None => Ok(self.secret.clone()),
        }
    }
}

fn default_attempts() -> u32 {
    8
}

fn default_webhook_timeout() -> u64 {
    10
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
    /// When text in pictures and video frames is read (OCR): `always`,
    /// `when_flagged` (only for items something else already flagged) or
    /// `off`. The models are fetched on first use, like the nudity model.
    pub ocr: OcrMode,
    /// The size OCR finds text at: `reference` (RapidOCR's default, the
    /// short side scaled up to 736) or `fast` (the long side down to 960,
    /// never up: about four times cheaper; small text in large pictures is
    /// found less often).
    pub ocr_detect: OcrDetect,
    /// Text lines read per picture, at most.
    pub ocr_max_lines: usize,
    /// Frames of one item read, at most, after near-duplicates are skipped.
    pub ocr_max_frames: usize,
    /// Milliseconds OCR may spend on one item; it keeps what it read.
    pub ocr_budget_ms: u64,
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
            ocr: OcrMode::Always,
            ocr_detect: OcrDetect::Reference,
            ocr_max_lines: 100,
            ocr_max_frames: 8,
            ocr_budget_ms: 5_000,
            classes: BTreeMap::new(),
        }
    }
}

/// The size OCR finds text at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OcrDetect {
    /// RapidOCR 3.10's default: the short side scaled up to 736 px.
    #[default]
    Reference,
    /// The long side scaled down to 960 px, never up.
    Fast,
}

/// When text in pictures is read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OcrMode {
    /// For every picture and video.
    #[default]
    Always,
    /// Only when another detector flagged the item (saves the cost on the
    /// clean majority, misses ads whose only signal is their text).
    WhenFlagged,
    /// Never.
    Off,
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
    /// Longest video decoded, in seconds; a longer one is read up to here.
    pub max_video_seconds: u64,
    /// Most pixels in a video frame (checked by probing, before decoding).
    pub max_video_pixels: u64,
    /// Frames of a video the image detectors look at, spread over it.
    pub max_video_frames: usize,
    /// Longest time decoding one video may take, in milliseconds; the
    /// decoder process is killed then.
    pub max_video_decode_ms: u64,
    /// Videos decoded at once; more wait for a slot.
    pub max_video_decodes: usize,
    /// Longest client `id`, in bytes.
    pub max_id_bytes: usize,
    /// Most items in one batch request.
    pub max_batch_items: usize,
    /// Longest line `check --jsonl` accepts, in bytes.
    pub max_jsonl_line_bytes: usize,
    /// Largest upload to `POST /v1/moderate/file`, in bytes.
    pub max_file_bytes: usize,
    /// Bytes one archive or document may inflate to, all members together.
    pub max_archive_bytes: u64,
    /// Members one archive, document, package or playlist may hold, at every depth.
    pub max_archive_members: u64,
    /// Containers inside containers that are opened.
    pub max_archive_depth: u32,
    /// Inflated bytes per compressed byte, past the first 4 MiB of a stream.
    pub max_compression_ratio: u64,
    /// PDF pages read; later pages are reported as not read.
    pub max_pdf_pages: usize,
    /// Longest time reading one archive or document may take, in seconds.
    pub max_archive_seconds: u64,
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
            max_video_seconds: 3 * 3600,
            max_video_pixels: 3840 * 2160,
            max_video_frames: 32,
            max_video_decode_ms: 120_000,
            max_video_decodes: 2,
            max_id_bytes: 512,
            max_batch_items: 256,
            max_jsonl_line_bytes: 32 << 20,
            max_file_bytes: 256 << 20,
            max_archive_bytes: 1 << 30,
            max_archive_members: 20_000,
            max_archive_depth: 4,
            max_compression_ratio: 200,
            max_pdf_pages: 500,
            max_archive_seconds: 120,
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
    /// Reverse proxies whose `X-Forwarded-For` names the client (for the
    /// login lockout and the report rate limits). Empty: the socket's peer
    /// is the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Moderation requests the engine runs at once (a bulkhead); 0: twice
    /// the cores.
    pub engine_tasks: usize,
    /// How long a moderation request waits for the engine before it is
    /// answered 503 with `Retry-After`, in milliseconds.
    pub engine_wait_ms: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            addr: "127.0.0.1:8080".into(),
            request_timeout_secs: 30,
            trusted_proxies: Vec::new(),
            engine_tasks: 0,
            engine_wait_ms: 250,
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
    #[error("invalid config {path}: {message}")]
    Invalid { path: String, message: String },
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
            ("max_file_bytes", l.max_file_bytes),
            ("max_pdf_pages", l.max_pdf_pages),
        ] {
            if v == 0 {
                return Err(ConfigError::ZeroLimit {
                    path: origin.to_owned(),
                    name,
                });
            }
        }
        let invalid = |message: String| ConfigError::Invalid {
            path: origin.to_owned(),
            message,
        };
        let mut names = std::collections::BTreeSet::new();
        for w in &config.webhooks {
            if !(w.url.starts_with("http://") || w.url.starts_with("https://")) {
                return Err(invalid(format!(
                    "webhook {:?}: url must be http:// or https://, got {:?}",
                    w.name, w.url
                )));
            }
            if w.secret.is_empty() || w.max_attempts == 0 {
                return Err(invalid(format!(
                    "webhook {:?}: secret must be set and max_attempts at least 1",
                    w.name
                )));
            }
            if !names.insert(w.name.as_str()) {
                return Err(invalid(format!("webhook {:?} is defined twice", w.name)));
            }
        }
        for name in config.rewards.amounts.keys() {
            if name.parse::<Category>().is_err() {
                return Err(invalid(format!(
                    "rewards.amounts: unknown category {name:?}"
                )));
            }
        }
        if !(0.0..=100.0).contains(&config.review.block_sample_percent) {
            return Err(invalid(
                "review.block_sample_percent must be between 0 and 100".into(),
            ));
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
