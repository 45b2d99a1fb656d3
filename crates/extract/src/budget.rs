//! What one outermost file may still cost, and readers that enforce it.

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::Limits;

/// Spending so far for one outermost file: bytes inflated, members, time.
#[derive(Debug)]
pub struct Budget {
    max_total: u64,
    max_entries: u64,
    total: u64,
    entries: u64,
    deadline: Instant,
    seconds: u64,
}

impl Budget {
    /// A fresh budget that ends at `limits.time` from now.
    pub fn new(limits: &Limits) -> Self {
        Budget {
            max_total: limits.max_total_bytes,
            max_entries: limits.max_entries,
            total: 0,
            entries: 0,
            deadline: Instant::now() + limits.time,
            seconds: limits.time.as_secs(),
        }
    }

    /// Counts one member; an error once there are too many.
    pub fn count_entry(&mut self) -> Result<(), String> {
        self.entries += 1;
        if self.entries > self.max_entries {
            return Err(format!(
                "more than {} members: the rest were not read",
                self.max_entries
            ));
        }
        Ok(())
    }

    /// Counts `n` inflated bytes; an error past the total or the deadline.
    pub fn spend(&mut self, n: usize) -> Result<(), String> {
        self.total += n as u64;
        if self.total > self.max_total {
            return Err(format!(
                "more than {} bytes uncompressed in all: the rest were not read",
                self.max_total
            ));
        }
        self.check_time()
    }

    /// An error once the file's time is up.
    pub fn check_time(&self) -> Result<(), String> {
        if Instant::now() > self.deadline {
            return Err(format!(
                "took longer than {} s: the rest were not read",
                self.seconds
            ));
        }
        Ok(())
    }

    /// Whether the file's total or time is spent, so nothing more can be read.
    pub fn spent(&self) -> bool {
        self.total > self.max_total || Instant::now() > self.deadline
    }
}

/// Counts the bytes read through it into a shared counter: the compressed
/// side of a stream, for its ratio.
pub(crate) struct Counting<R> {
    pub inner: R,
    pub count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// The inflated side of a compressed stream: fails the read once the
/// stream inflates past `ratio` times what it consumed (after `slack`), so
/// a bomb is stopped at the first megabytes, skipped members included.
pub(crate) struct RatioGuard<R> {
    pub inner: R,
    pub compressed: Arc<AtomicU64>,
    pub out: u64,
    pub ratio: u64,
    pub slack: u64,
}

impl<R: Read> Read for RatioGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.out += n as u64;
        let consumed = self.compressed.load(Ordering::Relaxed).max(1);
        if self.out > self.slack && self.out / consumed > self.ratio {
            return Err(io::Error::other(format!(
                "inflates more than {}:1: a compression bomb?",
                self.ratio
            )));
        }
        Ok(n)
    }
}

/// Reads one member into memory: at most `max` bytes, and, when its
/// compressed size is known, at most `ratio` times that (past `slack`).
/// Every byte is spent from `budget`. `Err((message, fatal))`: a fatal
/// error ends the whole file.
pub(crate) fn read_member(
    reader: &mut dyn Read,
    declared: Option<u64>,
    compressed: Option<u64>,
    limits: &Limits,
    budget: &mut Budget,
) -> Result<Vec<u8>, (String, bool)> {
    let max = limits.max_member_bytes;
    if let Some(d) = declared
        && d > max as u64
    {
        return Err((
            format!("{d} bytes uncompressed, over the {max}-byte limit for a member"),
            false,
        ));
    }
    let mut bytes = Vec::with_capacity(declared.unwrap_or(0).min(max as u64).min(1 << 20) as usize);
    let mut chunk = vec![0u8; 64 << 10];
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err((format!("cannot read: {e}"), false)),
        };
        budget.spend(n).map_err(|e| (e, true))?;
        if bytes.len() + n > max {
            return Err((format!("larger than {max} bytes uncompressed"), false));
        }
        if let Some(c) = compressed {
            let out = (bytes.len() + n) as u64;
            if out > limits.ratio_slack && out / c.max(1) > limits.max_ratio {
                return Err((
                    format!(
                        "inflates more than {}:1: a compression bomb?",
                        limits.max_ratio
                    ),
                    false,
                ));
            }
        }
        bytes.extend_from_slice(&chunk[..n]);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_stops_at_its_limits() {
        let limits = Limits {
            max_member_bytes: 10,
            ..Limits::default()
        };
        let mut budget = Budget::new(&limits);
        let mut small: &[u8] = b"0123456789";
        assert_eq!(
            read_member(&mut small, None, None, &limits, &mut budget).unwrap(),
            b"0123456789"
        );
        let mut big: &[u8] = b"0123456789a";
        let (e, fatal) = read_member(&mut big, None, None, &limits, &mut budget).unwrap_err();
        assert!(e.contains("larger than 10"), "{e}");
        assert!(!fatal);
        let mut lying: &[u8] = b"";
        let (e, _) = read_member(&mut lying, Some(11), None, &limits, &mut budget).unwrap_err();
        assert!(e.contains("over the 10-byte limit"), "{e}");
    }

    #[test]
    fn the_total_is_fatal() {
        let limits = Limits {
            max_total_bytes: 15,
            ..Limits::default()
        };
        let mut budget = Budget::new(&limits);
        let mut a: &[u8] = b"0123456789";
        read_member(&mut a, None, None, &limits, &mut budget).unwrap();
        let mut b: &[u8] = b"0123456789";
        let (e, fatal) = read_member(&mut b, None, None, &limits, &mut budget).unwrap_err();
        assert!(fatal && e.contains("in all"), "{e}");
        assert!(budget.spent());
    }

    #[test]
    fn a_ratio_past_the_slack_is_refused() {
        let limits = Limits {
            max_ratio: 10,
            ratio_slack: 100,
            ..Limits::default()
        };
        let mut budget = Budget::new(&limits);
        let zeros = vec![0u8; 1000];
        let (e, _) =
            read_member(&mut zeros.as_slice(), None, Some(50), &limits, &mut budget).unwrap_err();
        assert!(e.contains("bomb"), "{e}");
        assert!(read_member(&mut zeros.as_slice(), None, Some(100), &limits, &mut budget).is_ok());
    }
}
