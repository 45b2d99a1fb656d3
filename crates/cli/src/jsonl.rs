//! Line-at-a-time batch moderation: one JSON item per input line, one JSON
//! decision per output line, in input order. Lines are moderated in parallel
//! as they arrive, so both a pipe of millions and an interactive client that
//! waits for each answer work.

use std::io::{self, BufRead, Write};
use std::sync::mpsc;

use cleanweb_core::{Decision, Item};
use cleanweb_engine::Engine;
use cleanweb_service::Keeper;
use cleanweb_store::Store;
use serde::Serialize;

/// Most lines moderated together; also the most answers held back at once.
const BATCH: usize = 256;

/// One line as read: its bytes, or how long it was when over the limit.
enum Line {
    Text(Vec<u8>),
    TooLong(usize),
}

/// The answer for a line that could not be moderated.
#[derive(Serialize)]
struct LineError {
    id: Option<String>,
    line: u64,
    error: String,
}

pub struct Sink<'a> {
    pub store: Option<(&'a dyn Store, &'a tokio::runtime::Runtime)>,
    /// Which decisions the store keeps.
    pub keeper: Keeper,
}

/// Reads `input` to the end. Only I/O failures are errors; a bad line gets an
/// error line of its own and the rest carries on.
pub fn run(
    engine: &Engine,
    input: impl BufRead + Send,
    mut output: impl Write,
    sink: &Sink<'_>,
) -> io::Result<()> {
    let max = engine.limits().max_jsonl_line_bytes;
    let media = cleanweb_sweep::MediaLimits {
        image: engine.limits().max_image_bytes,
        video: engine.limits().max_video_bytes,
    };
    let (tx, rx) = mpsc::sync_channel::<io::Result<Line>>(BATCH * 2);
    std::thread::scope(|scope| {
        scope.spawn(move || read_lines(input, max, tx));
        let mut line_no: u64 = 0;
        // Block for the first line of a batch, then take whatever else is ready.
        while let Ok(first) = rx.recv() {
            let mut lines = vec![first?];
            while lines.len() < BATCH {
                match rx.try_recv() {
                    Ok(l) => lines.push(l?),
                    Err(_) => break,
                }
            }
            let mut items = Vec::with_capacity(lines.len());
            let slots: Vec<Slot> = lines
                .into_iter()
                .map(|l| {
                    line_no += 1;
                    match parse(l, line_no, max, media) {
                        Ok(item) => {
                            items.push(item);
                            Slot::Item(line_no)
                        }
                        Err(e) => Slot::Failed(e),
                    }
                })
                .collect();
            let answers = moderate_lines(engine, items, slots, sink)?;
            for a in answers {
                let json = match a {
                    Ok(d) => serde_json::to_string(&d),
                    Err(e) => serde_json::to_string(&e),
                }
                .map_err(io::Error::other)?;
                output.write_all(json.as_bytes())?;
                output.write_all(b"\n")?;
            }
            output.flush()?;
        }
        Ok(())
    })
}

/// A line of a batch: an item to moderate (with its line number), or its error.
enum Slot {
    Item(u64),
    Failed(LineError),
}

/// Moderates the items of one batch in parallel and stores what the config
/// says to store, before any answer is written.
fn moderate_lines(
    engine: &Engine,
    items: Vec<Item>,
    slots: Vec<Slot>,
    sink: &Sink<'_>,
) -> io::Result<Vec<Result<Decision, LineError>>> {
    let results = engine.moderate_batch(&items);
    let mut made = items.into_iter().zip(results);
    let mut to_store = Vec::new();
    let mut answers = Vec::with_capacity(slots.len());
    for slot in slots {
        let line = match slot {
            Slot::Failed(e) => {
                answers.push(Err(e));
                continue;
            }
            Slot::Item(line) => line,
        };
        let Some((item, result)) = made.next() else {
            break;
        };
        answers.push(match result {
            Ok(d) => match sink.store.and(sink.keeper.keep(&item, &d)) {
                Some(r) => {
                    let d = r.decision.clone();
                    to_store.push(r);
                    Ok(d)
                }
                None => Ok(d),
            },
            Err(e) => Err(LineError {
                id: item.id,
                line,
                error: e.to_string(),
            }),
        });
    }
    if let Some((store, rt)) = sink.store {
        rt.block_on(store.save_decisions(&to_store))
            .map_err(|e| io::Error::other(format!("cannot store decisions: {e}")))?;
    }
    Ok(answers)
}

fn parse(
    line: Line,
    line_no: u64,
    max: usize,
    media: cleanweb_sweep::MediaLimits,
) -> Result<Item, LineError> {
    let fail = |id: Option<String>, error: String| LineError {
        id,
        line: line_no,
        error,
    };
    let bytes = match line {
        Line::Text(b) => b,
        Line::TooLong(len) => {
            return Err(fail(
                None,
                format!(
                    "line too long: {len} bytes, the limit is {max} (limits.max_jsonl_line_bytes)"
                ),
            ));
        }
    };
    // image_path and video_path are relative to the working directory.
    cleanweb_sweep::item_from_json(&bytes, std::path::Path::new(""), media)
        .map_err(|(id, error)| fail(id, error))
}

/// Sends lines, bounded in length: a longer line is skipped to its end
/// without being held in memory. Blank lines are skipped.
fn read_lines(mut input: impl BufRead, max: usize, tx: mpsc::SyncSender<io::Result<Line>>) {
    loop {
        let mut buf = Vec::new();
        let mut len = 0usize;
        let mut eof = false;
        loop {
            let chunk = match input.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            if chunk.is_empty() {
                eof = true;
                break;
            }
            let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (i, true),
                None => (chunk.len(), false),
            };
            if len + take <= max {
                buf.extend_from_slice(&chunk[..take]);
            }
            len += take;
            input.consume(take + usize::from(done));
            if done {
                break;
            }
        }
        if eof && len == 0 {
            return;
        }
        let line = if len > max {
            Line::TooLong(len)
        } else {
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            if buf.iter().all(u8::is_ascii_whitespace) {
                if eof {
                    return;
                }
                continue;
            }
            Line::Text(buf)
        };
        if tx.send(Ok(line)).is_err() || eof {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cleanweb_core::{Limits, Policy, Source};

    fn run_on(input: &str, limits: Limits) -> Vec<serde_json::Value> {
        let engine = Engine::with_default_detectors(Policy::default(), limits);
        let mut out = Vec::new();
        run(
            &engine,
            input.as_bytes(),
            &mut out,
            &Sink {
                store: None,
                keeper: Keeper {
                    source: Source::Cli,
                    store_allow: false,
                },
            },
        )
        .unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn one_answer_per_line_in_order_with_errors_inline() {
        let mut input = String::new();
        for i in 0..600 {
            match i % 4 {
                0 => input.push_str(&format!("{{\"id\":\"{i}\",\"text\":\"hello\"}}\n")),
                1 => input.push_str("not json\n"),
                2 => input.push_str(&format!("{{\"id\":\"{i}\",\"text\":\"看色情视频\"}}\n")),
                _ => input.push_str(&format!("{{\"id\":\"{i}\"}}\n")),
            }
        }
        let out = run_on(&input, Limits::default());
        assert_eq!(out.len(), 600);
        for (i, v) in out.iter().enumerate() {
            match i % 4 {
                0 => assert_eq!(
                    (v["id"].as_str(), v["verdict"].as_str()),
                    (Some(&*i.to_string()), Some("allow"))
                ),
                1 => {
                    assert!(
                        v["id"].is_null()
                            && v["error"].as_str().unwrap().starts_with("invalid JSON")
                    );
                    assert_eq!(v["line"], i as u64 + 1);
                }
                2 => assert_eq!(v["verdict"], "block"),
                _ => assert_eq!(
                    (v["id"].as_str(), v["error"].as_str().is_some()),
                    (Some(&*i.to_string()), true)
                ),
            }
        }
    }

    #[test]
    fn overlong_lines_are_refused_without_losing_the_next() {
        let limits = Limits {
            max_jsonl_line_bytes: 64,
            ..Limits::default()
        };
        let long = format!("{{\"id\":\"big\",\"text\":\"{}\"}}", "a".repeat(10_000));
        let out = run_on(&format!("{long}\n{{\"id\":\"b\",\"text\":\"ok\"}}"), limits);
        assert_eq!(out.len(), 2);
        let expected = format!("line too long: {} bytes, the limit is 64", long.len());
        assert!(
            out[0]["error"].as_str().unwrap().contains(&expected),
            "{}",
            out[0]
        );
        assert_eq!(
            out[1]["id"], "b",
            "a last line without a newline still counts"
        );
    }
}
