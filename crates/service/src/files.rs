//! Moderating a whole file read as its members (an archive, a document, an
//! app package, a playlist): every member through the engine, then one
//! answer for the file. Used by `POST /v1/moderate/file`.

use std::ops::ControlFlow;
use std::path::Path;
use std::time::Instant;

use cleanweb_core::{Decision, FileDecision, Item, MemberOutcome, Verdict};
use cleanweb_engine::Engine;
use cleanweb_extract::Limits;

/// Members moderated together, so the engine's cores share the work.
const BATCH: usize = 32;
/// Flagged members and labels listed in one answer; the rest are counted.
const MAX_LISTED: usize = 1000;
/// Distinct member warnings repeated in the answer.
const MAX_WARNINGS: usize = 20;

/// A file's answer, and the flagged members to keep: each with its index
/// in `decision.flagged`, so a stored id can be written back.
#[derive(Debug, Default)]
pub struct FileRun {
    /// The answer for the file.
    pub decision: FileDecision,
    /// `(index into decision.flagged, member item, member decision)`.
    pub flagged: Vec<(usize, Item, Decision)>,
}

impl FileRun {
    fn add(&mut self, path: String, item: Result<Item, String>, result: Option<Decision>) {
        let d = &mut self.decision;
        d.members += 1;
        let (item, decision) = match (item, result) {
            (Ok(item), Some(decision)) => (item, decision),
            (item, _) => {
                let error = item
                    .err()
                    .unwrap_or_else(|| "the engine refused it".to_owned());
                self.list(MemberOutcome {
                    path,
                    verdict: None,
                    error: Some(error),
                    decision_id: None,
                });
                return;
            }
        };
        d.verdict = d.verdict.max(decision.verdict);
        for w in &decision.warnings {
            if d.warnings.len() < MAX_WARNINGS && !d.warnings.contains(w) {
                d.warnings.push(w.clone());
            }
        }
        if decision.verdict == Verdict::Allow {
            return;
        }
        for label in &decision.labels {
            if d.labels.len() < MAX_LISTED {
                let mut label = label.clone();
                label.member = Some(path.clone());
                d.labels.push(label);
            }
        }
        let listed = self.list(MemberOutcome {
            path,
            verdict: Some(decision.verdict),
            error: None,
            decision_id: None,
        });
        if let Some(index) = listed {
            self.flagged.push((index, item, decision));
        }
    }

    /// Lists a member that is not `allow`; past the cap it is only counted.
    fn list(&mut self, outcome: MemberOutcome) -> Option<usize> {
        let d = &mut self.decision;
        if d.flagged.len() < MAX_LISTED {
            d.flagged.push(outcome);
            return Some(d.flagged.len() - 1);
        }
        if d.flagged.len() == MAX_LISTED {
            d.warnings.push(format!(
                "more than {MAX_LISTED} members flagged: the rest are not listed"
            ));
        }
        None
    }
}

/// Reads the file at `path` (shown as `name`) as its members within
/// `limits` and moderates every one. Blocking: run it off the async runtime.
pub fn moderate_file(
    engine: &Engine,
    path: &Path,
    name: &str,
    id: Option<String>,
    limits: &Limits,
) -> FileRun {
    let started = Instant::now();
    let mut run = FileRun::default();
    run.decision.id = id;
    let mut batch: Vec<(String, Result<Item, String>)> = Vec::with_capacity(BATCH);
    let flush = |batch: &mut Vec<(String, Result<Item, String>)>, run: &mut FileRun| {
        let items: Vec<Item> = batch
            .iter()
            .map(|(_, i)| i.as_ref().cloned().unwrap_or_default())
            .collect();
        let results = engine.moderate_batch(&items);
        for ((path, item), result) in batch.drain(..).zip(results) {
            let decision = match (&item, result) {
                (Ok(_), Ok(d)) => Some(d),
                (Ok(_), Err(e)) => {
                    run.add(path, Err(e.to_string()), None);
                    continue;
                }
                (Err(_), _) => None,
            };
            run.add(path, item, decision);
        }
    };
    cleanweb_extract::read_file(path, name, limits, &mut |m| {
        batch.push((m.path, m.item));
        if batch.len() == BATCH {
            flush(&mut batch, &mut run);
        }
        ControlFlow::Continue(())
    });
    flush(&mut batch, &mut run);
    run.decision
        .labels
        .sort_by(|a, b| b.score.total_cmp(&a.score));
    run.decision.elapsed_us = started.elapsed().as_micros() as u64;
    run
}

#[cfg(test)]
mod tests {
    use super::*;
    use cleanweb_core::{Category, Label};

    fn decision(verdict: Verdict, score: f32) -> Decision {
        Decision {
            id: None,
            verdict,
            labels: vec![Label::new(Category::SexualExplicit, score, "text.lexicon")],
            elapsed_us: 0,
            warnings: vec!["w".into()],
            meta: None,
            decision_id: None,
        }
    }

    #[test]
    fn the_worst_member_decides_and_every_label_names_its_member() {
        let mut run = FileRun::default();
        run.add(
            "a.zip!/ok".into(),
            Ok(Item::text("x")),
            Some(decision(Verdict::Allow, 0.1)),
        );
        run.add(
            "a.zip!/bad".into(),
            Ok(Item::text("y")),
            Some(decision(Verdict::Block, 0.9)),
        );
        run.add("a.zip!/cut".into(), Err("cannot read".into()), None);
        let d = &run.decision;
        assert_eq!((d.members, d.verdict), (3, Verdict::Block));
        assert_eq!(d.labels.len(), 1);
        assert_eq!(d.labels[0].member.as_deref(), Some("a.zip!/bad"));
        assert_eq!(d.flagged.len(), 2);
        assert_eq!(d.flagged[1].error.as_deref(), Some("cannot read"));
        assert_eq!(d.warnings, ["w"]);
        assert_eq!(run.flagged.len(), 1);
        assert_eq!(run.flagged[0].0, 0);
    }
}
