//! The monthly accountability report: what came in, how fast people
//! decided, who missed their targets, how reviewers' decisions held up,
//! what happened to sites, and what the public reported. Gathered from the
//! store for one calendar month (UTC) and rendered as HTML with
//! server-drawn SVG charts (no script), CSV or JSON.

use std::collections::BTreeMap;

use cleanweb_core::config::ReviewConfig;
use cleanweb_core::review::{Outcome, names_minors};
use cleanweb_core::{SiteEventKind, SiteStatus};
use cleanweb_store::{Store, StoreError};
use serde::Serialize;

use crate::time::{format_ms, month_start_ms, parse_time};

/// A calendar month, UTC: `[start, end)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Month {
    /// `2026-11`.
    pub label: String,
    /// First millisecond.
    pub start_ms: i64,
    /// First millisecond of the next month.
    pub end_ms: i64,
}

impl Month {
    /// Parses `YYYY-MM`.
    pub fn parse(s: &str) -> Result<Month, String> {
        let ok = s.len() == 7
            && s.as_bytes()[4] == b'-'
            && s.bytes()
                .enumerate()
                .all(|(i, b)| i == 4 || b.is_ascii_digit());
        if !ok {
            return Err(format!("{s:?} is not a month: give YYYY-MM"));
        }
        let start_ms = parse_time(&format!("{s}-01"))?;
        let end_ms = month_start_ms(start_ms + 32 * 86_400_000);
        Ok(Month {
            label: s.to_owned(),
            start_ms,
            end_ms,
        })
    }

    fn holds(&self, ms: i64) -> bool {
        (self.start_ms..self.end_ms).contains(&ms)
    }
}

/// A count under a name.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Count {
    /// What is counted.
    pub name: String,
    /// How many.
    pub count: u64,
}

/// Decision times of one queue.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QueueTimes {
    /// `review` (machine review), `quality-control` (sampled blocks),
    /// `escalated` (minors and escalations).
    pub queue: String,
    /// Reviews decided in the month.
    pub reviews: u64,
    /// Intake to decision, minutes.
    pub median_minutes: f64,
    /// Intake to decision, minutes, 95th percentile.
    pub p95_minutes: f64,
    /// The queue's target, hours.
    pub target_hours: u64,
    /// Reviews decided after the target.
    pub past_target: u64,
    /// Who answers for the target.
    pub responsible: String,
}

/// One reviewer's month.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReviewerRow {
    /// The reviewer's name.
    pub reviewer: String,
    /// Decisions made.
    pub decisions: u64,
    /// Of them, violations.
    pub violations: u64,
    /// Of them, not violations.
    pub not_violations: u64,
    /// Of them, escalations.
    pub escalations: u64,
    /// Decisions a later review of the same item changed.
    pub overturned: u64,
    /// `overturned / decisions`.
    pub overturn_rate: f64,
}

/// A rectification whose deadline passed without a decision in time.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LateRectification {
    /// The site.
    pub domain: String,
    /// Its deadline.
    pub deadline: String,
    /// When it was decided (closed, restored, warned), if it was.
    pub decided: Option<String>,
    /// Days past the deadline (to the decision, or to the month's end).
    pub days_late: f64,
    /// Who answers for it.
    pub responsible: String,
}

/// A site closed in the month.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Closure {
    /// The site.
    pub domain: String,
    /// Its first report (or, with none, its first registry event).
    pub first_seen: String,
    /// Its closure.
    pub closed: String,
    /// Days between.
    pub days: f64,
}

/// Public reports in the month.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReportCounts {
    /// Reports received.
    pub received: u64,
    /// Cases opened (reports of one target merge into one case).
    pub cases_opened: u64,
    /// Cases confirmed.
    pub confirmed: u64,
    /// Rewards granted.
    pub rewarded: u64,
    /// Their total, in the smallest unit, per currency.
    pub reward_totals: Vec<Count>,
}

/// The report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Compliance {
    /// `2026-11`.
    pub month: String,
    /// The month's bounds.
    pub from: String,
    /// The first instant after the month.
    pub until: String,
    /// When and by whom it was made.
    pub generated_at: String,
    /// Who made it.
    pub generated_by: String,
    /// Decisions per category (a decision counts once per category it
    /// carries; `none` for decisions with no label).
    pub by_category: Vec<Count>,
    /// Decisions per source (api, cli, sweep, report).
    pub by_source: Vec<Count>,
    /// Decisions per verdict.
    pub by_verdict: Vec<Count>,
    /// Intake to decision, per queue.
    pub queues: Vec<QueueTimes>,
    /// Per reviewer.
    pub reviewers: Vec<ReviewerRow>,
    /// Sites by their status at the month's end.
    pub sites_by_status: Vec<Count>,
    /// Rectifications past their deadline in the month.
    pub late_rectifications: Vec<LateRectification>,
    /// Sites closed in the month.
    pub closures: Vec<Closure>,
    /// Public reports.
    pub reports: ReportCounts,
}

fn counts(map: BTreeMap<String, u64>) -> Vec<Count> {
    map.into_iter()
        .map(|(name, count)| Count { name, count })
        .collect()
}

/// The value at `q` (0..1) of sorted `v`, nearest rank.
fn quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

fn days(ms: i64) -> f64 {
    (ms as f64 / 86_400_000.0 * 10.0).round() / 10.0
}

/// Most reviews read for one month.
const MAX_REVIEWS: u32 = 1_000_000;

/// Gathers the month's report.
pub async fn gather(
    store: &dyn Store,
    month: &Month,
    review: &ReviewConfig,
    actor: &str,
) -> Result<Compliance, StoreError> {
    let (mut by_category, mut by_source, mut by_verdict) =
        (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    for (source, categories, verdict, n) in
        store.decision_volume(month.start_ms, month.end_ms).await?
    {
        *by_source.entry(source).or_insert(0) += n;
        *by_verdict.entry(verdict).or_insert(0) += n;
        let mut any = false;
        for c in categories.split_whitespace() {
            *by_category.entry(c.to_owned()).or_insert(0) += n;
            any = true;
        }
        if !any {
            *by_category.entry("none".to_owned()).or_insert(0) += n;
        }
    }

    // Reviews: decided in the month; a later review (up to now) of the
    // same item with another outcome overturns the earlier one.
    let all = store.reviews_since(month.start_ms, MAX_REVIEWS).await?;
    let mut by_item: BTreeMap<uuid::Uuid, Vec<&cleanweb_store::ReviewRecord>> = BTreeMap::new();
    for r in &all {
        by_item.entry(r.decision_id).or_default().push(r);
    }
    let mut times: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut late: BTreeMap<&str, u64> = BTreeMap::new();
    let mut reviewers: BTreeMap<String, ReviewerRow> = BTreeMap::new();
    for reviews in by_item.values() {
        for (i, r) in reviews.iter().enumerate() {
            if !month.holds(r.at_ms) {
                continue;
            }
            let escalated = r.outcome == Outcome::Escalate
                || names_minors(r.category)
                || reviews[..i].iter().any(|e| e.outcome == Outcome::Escalate);
            let queue = if escalated {
                "escalated"
            } else if r.machine_verdict == cleanweb_core::Verdict::Block {
                "quality-control"
            } else {
                "review"
            };
            let target = if escalated {
                review.escalated_target_hours
            } else {
                review.target_hours
            };
            let waited = (r.at_ms - r.decided_at_ms).max(0);
            times
                .entry(queue)
                .or_default()
                .push(waited as f64 / 60_000.0);
            if waited > i64::try_from(target.saturating_mul(3_600_000)).unwrap_or(i64::MAX) {
                *late.entry(queue).or_insert(0) += 1;
            }
            let row = reviewers
                .entry(r.reviewer.clone())
                .or_insert_with(|| ReviewerRow {
                    reviewer: r.reviewer.clone(),
                    decisions: 0,
                    violations: 0,
                    not_violations: 0,
                    escalations: 0,
                    overturned: 0,
                    overturn_rate: 0.0,
                });
            row.decisions += 1;
            match r.outcome {
                Outcome::Violation => row.violations += 1,
                Outcome::NotViolation => row.not_violations += 1,
                Outcome::Escalate => row.escalations += 1,
            }
            let final_word = reviews[i + 1..]
                .iter()
                .rev()
                .find(|l| l.outcome != Outcome::Escalate);
            if r.outcome != Outcome::Escalate && final_word.is_some_and(|l| l.outcome != r.outcome)
            {
                row.overturned += 1;
            }
        }
    }
    let mut reviewers: Vec<ReviewerRow> = reviewers.into_values().collect();
    for r in &mut reviewers {
        r.overturn_rate = if r.decisions == 0 {
            0.0
        } else {
            (r.overturned as f64 / r.decisions as f64 * 1000.0).round() / 1000.0
        };
    }
    let queues = ["review", "quality-control", "escalated"]
        .into_iter()
        .map(|q| {
            let mut v = times.remove(q).unwrap_or_default();
            v.sort_by(f64::total_cmp);
            let round = |x: f64| (x * 10.0).round() / 10.0;
            QueueTimes {
                queue: q.to_owned(),
                reviews: v.len() as u64,
                median_minutes: round(quantile(&v, 0.5)),
                p95_minutes: round(quantile(&v, 0.95)),
                target_hours: if q == "escalated" {
                    review.escalated_target_hours
                } else {
                    review.target_hours
                },
                past_target: late.get(q).copied().unwrap_or(0),
                responsible: if q == "escalated" {
                    "admin"
                } else {
                    "reviewer"
                }
                .to_owned(),
            }
        })
        .collect();

    // Sites: status at the month's end, late rectifications, closures.
    let mut by_status = BTreeMap::new();
    let mut late_rectifications = Vec::new();
    let mut closures = Vec::new();
    for latest in store.sites(None).await? {
        let history = store.site_history(&latest.domain).await?;
        let at_end = history.iter().rfind(|e| e.at_ms < month.end_ms);
        if let Some(e) = at_end {
            *by_status.entry(e.status.as_str().to_owned()).or_insert(0) += 1;
        }
        for (i, e) in history.iter().enumerate() {
            if e.kind != SiteEventKind::Status {
                continue;
            }
            if e.status == SiteStatus::Rectification
                && let Some(deadline) = e.deadline_ms
                && deadline < month.end_ms
            {
                let decided = history[i + 1..]
                    .iter()
                    .find(|l| l.kind == SiteEventKind::Status)
                    .map(|l| l.at_ms);
                let end = decided.unwrap_or(month.end_ms).min(month.end_ms);
                // Late within this month: past the deadline at some point of it.
                if end > deadline && end > month.start_ms {
                    late_rectifications.push(LateRectification {
                        domain: e.domain.clone(),
                        deadline: format_ms(deadline),
                        decided: decided.map(format_ms),
                        days_late: days(end - deadline),
                        responsible: "admin".into(),
                    });
                }
            }
            if e.status == SiteStatus::Closed && month.holds(e.at_ms) {
                let reported = store
                    .cases_with_url(&e.domain, 10_000)
                    .await?
                    .into_iter()
                    .filter(|c| {
                        c.url
                            .as_deref()
                            .and_then(cleanweb_url::registrable_domain)
                            .as_deref()
                            == Some(e.domain.as_str())
                    })
                    .map(|c| c.created_at_ms)
                    .min();
                let first = reported
                    .unwrap_or_else(|| history.first().map_or(e.at_ms, |f| f.at_ms))
                    .min(e.at_ms);
                closures.push(Closure {
                    domain: e.domain.clone(),
                    first_seen: format_ms(first),
                    closed: format_ms(e.at_ms),
                    days: days(e.at_ms - first),
                });
            }
        }
    }

    let (received, cases_opened, confirmed) =
        store.report_counts(month.start_ms, month.end_ms).await?;
    let mut totals = BTreeMap::new();
    let mut rewarded = 0;
    for r in store.rewards(None).await? {
        if month.holds(r.created_at_ms) && r.status != "void" {
            rewarded += 1;
            *totals.entry(r.currency).or_insert(0u64) += r.amount.max(0) as u64;
        }
    }
    Ok(Compliance {
        month: month.label.clone(),
        from: format_ms(month.start_ms),
        until: format_ms(month.end_ms),
        generated_at: format_ms(cleanweb_store::now_ms()),
        generated_by: actor.to_owned(),
        by_category: counts(by_category),
        by_source: counts(by_source),
        by_verdict: counts(by_verdict),
        queues,
        reviewers,
        sites_by_status: counts(by_status),
        late_rectifications,
        closures,
        reports: ReportCounts {
            received,
            cases_opened,
            confirmed,
            rewarded,
            reward_totals: counts(totals),
        },
    })
}

/// A horizontal bar chart as inline SVG: one bar per count, labelled, no
/// script or style, sized to its rows (also drawn by the console's
/// statistics page).
pub fn svg_bars(title: &str, rows: &[Count]) -> String {
    const W: f64 = 560.0;
    const LABEL: f64 = 180.0;
    const ROW: f64 = 22.0;
    let max = rows.iter().map(|r| r.count).max().unwrap_or(0).max(1) as f64;
    let h = ROW * rows.len().max(1) as f64 + 8.0;
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"{W}\" height=\"{h}\" viewBox=\"0 0 {W} {h}\" aria-label=\"{}\">",
        esc(title)
    );
    for (i, r) in rows.iter().enumerate() {
        let y = 4.0 + i as f64 * ROW;
        let w = ((W - LABEL - 60.0) * r.count as f64 / max).max(1.0);
        svg.push_str(&format!(
            "<text x=\"0\" y=\"{ty}\" font-size=\"12\">{name}</text><rect x=\"{LABEL}\" y=\"{y}\" width=\"{w:.1}\" height=\"{bh}\" fill=\"#1f5fad\"/><text x=\"{tx:.1}\" y=\"{ty}\" font-size=\"12\">{n}</text>",
            ty = y + 14.0,
            name = esc(&r.name),
            bh = ROW - 6.0,
            tx = LABEL + w + 6.0,
            n = r.count,
        ));
    }
    svg.push_str("</svg>");
    svg
}

const TEMPLATE: &str = include_str!("../templates/compliance.html");

/// The report as a standalone HTML page (English and Chinese), charts as
/// inline SVG beside their tables.
pub fn render_html(c: &Compliance) -> Result<String, minijinja::Error> {
    let mut env = minijinja::Environment::new();
    env.add_template("compliance.html", TEMPLATE)?;
    let charts = BTreeMap::from([
        (
            "category",
            svg_bars("Decisions by category", &c.by_category),
        ),
        ("source", svg_bars("Decisions by source", &c.by_source)),
        ("sites", svg_bars("Sites by status", &c.sites_by_status)),
        (
            "reviewers",
            svg_bars(
                "Decisions per reviewer",
                &c.reviewers
                    .iter()
                    .map(|r| Count {
                        name: r.reviewer.clone(),
                        count: r.decisions,
                    })
                    .collect::<Vec<_>>(),
            ),
        ),
    ]);
    let charts: BTreeMap<&str, minijinja::Value> = charts
        .into_iter()
        .map(|(k, v)| (k, minijinja::Value::from_safe_string(v)))
        .collect();
    env.get_template("compliance.html")?
        .render(minijinja::context! { c => c, charts => charts })
}

/// The report as CSV: one row per figure (`section,name,field,value`).
pub fn render_csv(c: &Compliance) -> String {
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut row = |section: &str, name: &str, field: &str, value: String| {
        // Writing to memory cannot fail.
        let _ = out.write_record([section, name, field, value.as_str()]);
    };
    row("section", "name", "field", "value".to_owned());
    for (section, list) in [
        ("category", &c.by_category),
        ("source", &c.by_source),
        ("verdict", &c.by_verdict),
        ("site_status", &c.sites_by_status),
    ] {
        for r in list {
            row(section, &r.name, "count", r.count.to_string());
        }
    }
    for t in &c.queues {
        row("queue", &t.queue, "reviews", t.reviews.to_string());
        row(
            "queue",
            &t.queue,
            "median_minutes",
            t.median_minutes.to_string(),
        );
        row("queue", &t.queue, "p95_minutes", t.p95_minutes.to_string());
        row(
            "queue",
            &t.queue,
            "target_hours",
            t.target_hours.to_string(),
        );
        row("queue", &t.queue, "past_target", t.past_target.to_string());
        row("queue", &t.queue, "responsible", t.responsible.clone());
    }
    for r in &c.reviewers {
        row(
            "reviewer",
            &r.reviewer,
            "decisions",
            r.decisions.to_string(),
        );
        row(
            "reviewer",
            &r.reviewer,
            "overturned",
            r.overturned.to_string(),
        );
        row(
            "reviewer",
            &r.reviewer,
            "overturn_rate",
            r.overturn_rate.to_string(),
        );
    }
    for l in &c.late_rectifications {
        row(
            "late_rectification",
            &l.domain,
            "deadline",
            l.deadline.clone(),
        );
        row(
            "late_rectification",
            &l.domain,
            "days_late",
            l.days_late.to_string(),
        );
    }
    for cl in &c.closures {
        row(
            "closure",
            &cl.domain,
            "days_from_first_report",
            cl.days.to_string(),
        );
    }
    let r = &c.reports;
    row("reports", "all", "received", r.received.to_string());
    row("reports", "all", "cases_opened", r.cases_opened.to_string());
    row("reports", "all", "confirmed", r.confirmed.to_string());
    row("reports", "all", "rewarded", r.rewarded.to_string());
    for t in &r.reward_totals {
        row("reward_total", &t.name, "amount", t.count.to_string());
    }
    String::from_utf8(out.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// The report as a signed bundle (`compliance.html`, `.csv` and `.json`
/// under a manifest signed by the evidence key, checked by `cleanweb
/// evidence verify`), audited as `compliance.export`. Returns the output
/// and the manifest's SHA-256.
pub async fn signed<W: std::io::Write + std::io::Seek>(
    store: &dyn Store,
    c: &Compliance,
    key: &cleanweb_evidence::key::EvidenceKey,
    out: W,
) -> Result<(W, String), crate::evidence::ExportError> {
    use cleanweb_evidence::bundle::{BundleError, BundleWriter};
    let bad = |e: String| crate::evidence::ExportError::Bundle(BundleError::Manifest(e));
    let mut bundle = BundleWriter::new(out);
    let html = render_html(c).map_err(|e| bad(e.to_string()))?;
    let json = serde_json::to_vec_pretty(c).map_err(|e| bad(e.to_string()))?;
    bundle.add("compliance.html", html.as_bytes())?;
    bundle.add("compliance.csv", render_csv(c).as_bytes())?;
    bundle.add("compliance.json", &json)?;
    let mut manifest = serde_json::Map::new();
    manifest.insert(
        "subject".into(),
        serde_json::json!({"kind": "compliance", "id": c.month}),
    );
    manifest.insert("created_at".into(), c.generated_at.clone().into());
    manifest.insert("created_by".into(), c.generated_by.clone().into());
    let (out, sha) = bundle.finish(manifest, key)?;
    store
        .append_audit(&cleanweb_core::AuditEvent {
            actor: c.generated_by.clone(),
            action: "compliance.export".into(),
            subject: c.month.clone(),
            details: serde_json::json!({
                "manifest_sha256": sha, "fingerprint": key.public().fingerprint(),
            }),
        })
        .await?;
    Ok((out, sha))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_and_quantiles() {
        let m = Month::parse("2026-11").unwrap();
        assert_eq!(format_ms(m.start_ms), "2026-11-01T00:00:00Z");
        assert_eq!(format_ms(m.end_ms), "2026-12-01T00:00:00Z");
        let d = Month::parse("2026-12").unwrap();
        assert_eq!(format_ms(d.end_ms), "2027-01-01T00:00:00Z");
        for bad in ["2026-1", "26-11-01", "2026/11", "abcd-ef"] {
            assert!(Month::parse(bad).is_err(), "{bad}");
        }
        let v = [1.0, 2.0, 3.0, 4.0, 100.0];
        assert_eq!(quantile(&v, 0.5), 3.0);
        assert_eq!(quantile(&v, 0.95), 100.0);
        assert_eq!(quantile(&[], 0.5), 0.0);
    }

    #[test]
    fn charts_are_script_free_svg_with_escaped_labels() {
        let svg = svg_bars(
            "t",
            &[
                Count {
                    name: "<b>&".into(),
                    count: 3,
                },
                Count {
                    name: "x".into(),
                    count: 0,
                },
            ],
        );
        assert!(svg.starts_with("<svg") && svg.contains("&lt;b&gt;&amp;"));
        assert!(!svg.contains("<script") && svg.matches("<rect").count() == 2);
    }
}
