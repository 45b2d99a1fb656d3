//! Building the engine from what configures it: the config (policy,
//! limits, detectors), lexicon files, the terms admins accepted, the URL
//! lists, the hash banks and, when configured, the nudity detector. Every
//! door builds it here, and every reload does the same; the engine records
//! a digest of each source so an audited reload can name what changed.

use std::sync::Arc;

use cleanweb_core::{Category, Config, Detector};
use cleanweb_engine::Engine;
use cleanweb_engine::text::{Lexicon, LexiconDetector, LexiconError};
use cleanweb_match::{HashDetector, SharedBanks};
use cleanweb_store::sha256_hex;
use cleanweb_url::{Lists, UrlDetector};

/// Why the engine could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A lexicon file, or its rules, do not parse.
    #[error(transparent)]
    Lexicon(#[from] LexiconError),
}

/// What the engine is built from.
pub struct EngineSources<'a> {
    /// Policy, limits and which detectors run.
    pub config: &'a Config,
    /// Extra lexicon files as `(name, text)`, loaded on top of the built-in
    /// one in order (the config's, then the command line's).
    pub lexicon_files: Vec<(String, String)>,
    /// Terms admins accepted from reviewers' suggestions (from the store).
    pub accepted: Vec<(String, Category, bool)>,
    /// The URL lists of the data directory.
    pub lists: Lists,
    /// The live hash banks: the engine matches against this handle, so bank
    /// changes reach it without a rebuild.
    pub banks: SharedBanks,
    /// The nudity detector, when configured (its model loader lives with
    /// the model files, outside this crate).
    pub nudity: Option<Arc<dyn Detector>>,
    /// The process's video decoder, when ffmpeg is installed.
    pub video: Option<Arc<cleanweb_engine::video::Decoder>>,
    /// The OCR models, loaded on first use (their loader lives with the
    /// model files, outside this crate); `[image] ocr` says when they run.
    pub ocr: Option<Arc<cleanweb_engine::ocr_models::LazyOcr>>,
}

/// What building found worth a warning: the engine still runs.
#[derive(Debug, Default)]
pub struct Built {
    /// Accepted terms the lexicon format could not hold, skipped.
    pub skipped_terms: usize,
}

/// Builds the engine.
pub fn build(s: EngineSources<'_>) -> Result<(Engine, Built), BuildError> {
    let config = s.config;
    let mut lexicon = if config.text.builtin_lexicon {
        Lexicon::builtin()
    } else {
        Lexicon::default()
    };
    let policy = serde_json::to_string(&config.policy).unwrap_or_default();
    let mut sources = vec![("policy".to_owned(), sha256_hex(policy.as_bytes()))];
    if config.text.builtin_lexicon {
        let version = concat!("builtin ", env!("CARGO_PKG_VERSION"));
        sources.push(("lexicon:builtin".into(), sha256_hex(version.as_bytes())));
    }
    for (name, text) in &s.lexicon_files {
        lexicon.extend(Lexicon::parse(text, name)?);
        sources.push((format!("lexicon:{name}"), sha256_hex(text.as_bytes())));
    }
    let mut built = Built::default();
    if !s.accepted.is_empty() {
        let (accepted, skipped) = Lexicon::accepted(&s.accepted);
        built.skipped_terms = skipped;
        let digest: String = s
            .accepted
            .iter()
            .map(|(t, c, b)| format!("{c}\t{b}\t{t}\n"))
            .collect();
        sources.push(("lexicon:store".into(), sha256_hex(digest.as_bytes())));
        lexicon.extend(accepted);
    }
    lexicon.check_rules(None)?;
    let mut engine = Engine::new(config.policy.clone(), config.limits.clone())
        .with_detector(Arc::new(LexiconDetector::new(lexicon)));
    for (name, sha) in sources {
        engine = engine.with_source(name, sha);
    }
    if !s.lists.lists.is_empty() {
        engine = engine.with_detector(Arc::new(UrlDetector::new(s.lists)));
    }
    if let Some(nudity) = s.nudity {
        engine = engine.with_detector(nudity);
    }
    if let Some(video) = s.video {
        engine = engine.with_video(video);
    }
    if let Some(reader) = s.ocr {
        engine = engine.with_ocr(cleanweb_engine::OcrStage::from_config(
            reader,
            &config.image,
        ));
    }
    // Always present, so a bank created later matches without a rebuild;
    // with no banks it returns at once.
    let engine = engine.with_detector(Arc::new(HashDetector::new(s.banks)));
    Ok((engine, built))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cleanweb_core::{Item, Verdict};

    fn sources(config: &Config) -> EngineSources<'_> {
        EngineSources {
            config,
            lexicon_files: Vec::new(),
            accepted: Vec::new(),
            lists: Lists::load(&tempfile::tempdir().unwrap().path().join("none")).unwrap(),
            banks: SharedBanks::default(),
            nudity: None,
            video: None,
            ocr: None,
        }
    }

    #[test]
    fn files_and_accepted_terms_join_the_builtin_lexicon() {
        let config = Config::default();
        let mut s = sources(&config);
        s.lexicon_files = vec![(
            "mine.txt".into(),
            "[sexual.explicit block]\nzorblax\n".into(),
        )];
        s.accepted = vec![("quuxword".into(), Category::SexualServices, true)];
        let (engine, built) = build(s).unwrap();
        assert_eq!(built.skipped_terms, 0);
        for text in ["zorblax here", "quuxword here", "色情网站"] {
            let d = engine.moderate(&Item::text(text)).unwrap();
            assert_eq!(d.verdict, Verdict::Block, "{text}");
        }
        let names: Vec<&str> = engine.sources().keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "lexicon:builtin",
                "lexicon:mine.txt",
                "lexicon:store",
                "policy"
            ]
        );
    }

    #[test]
    fn a_bad_lexicon_or_rule_is_refused() {
        let config = Config::default();
        let mut s = sources(&config);
        s.lexicon_files = vec![("bad.txt".into(), "no section\n".into())];
        assert!(build(s).is_err());
        let mut s = sources(&config);
        s.lexicon_files = vec![(
            "rules.txt".into(),
            "[rule sexual.explicit block]\nx: nosuch + term\n".into(),
        )];
        let e = build(s).unwrap_err();
        assert!(e.to_string().contains("nosuch"), "{e}");
    }
}
