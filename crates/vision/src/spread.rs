//! Keeping a bounded, evenly spread subset of a stream whose length is not
//! known in advance (an animation's frames, a video's samples).

/// Holds at most `2 × want` items: every `stride`-th item offered is kept,
/// and when the holding is full the stride doubles and every other kept
/// item is dropped. [`Spread::finish`] then picks `want` evenly spaced ones,
/// the first included.
#[derive(Debug)]
pub struct Spread<T> {
    want: usize,
    stride: usize,
    offered: usize,
    kept: Vec<(usize, T)>,
}

impl<T> Spread<T> {
    /// A spread that finishes with at most `want` items (at least one).
    pub fn new(want: usize) -> Spread<T> {
        Spread {
            want: want.max(1),
            stride: 1,
            offered: 0,
            kept: Vec::new(),
        }
    }

    /// Whether the next item offered would be kept: callers skip the work
    /// of preparing an item that would be dropped.
    pub fn wants_next(&self) -> bool {
        self.offered.is_multiple_of(self.stride)
    }

    /// Offers the next item; `make` runs only if it is kept.
    pub fn offer(&mut self, make: impl FnOnce() -> T) {
        if self.wants_next() {
            self.kept.push((self.offered, make()));
            if self.kept.len() >= 2 * self.want {
                self.stride *= 2;
                let stride = self.stride;
                self.kept.retain(|(i, _)| i.is_multiple_of(stride));
            }
        }
        self.offered += 1;
    }

    /// Items offered so far.
    pub fn offered(&self) -> usize {
        self.offered
    }

    /// Whether nothing was kept.
    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    /// The kept items so far, in order (at most `2 × want`).
    pub fn kept(&self) -> impl Iterator<Item = &T> {
        self.kept.iter().map(|(_, t)| t)
    }

    /// At most `want` of the kept items, evenly spaced, first one included,
    /// in order.
    pub fn finish(self) -> Vec<T> {
        let n = self.kept.len();
        let want = self.want;
        self.kept
            .into_iter()
            .enumerate()
            .filter(|(pos, _)| n <= want || (0..want).any(|k| k * n / want == *pos))
            .map(|(_, (_, t))| t)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_an_even_spread_in_bounded_memory() {
        let mut s = Spread::new(8);
        for i in 0..1000 {
            s.offer(|| i);
            assert!(s.kept().count() < 16);
        }
        let out = s.finish();
        assert_eq!(out.len(), 8);
        assert_eq!(out[0], 0);
        assert!(out.windows(2).all(|w| w[1] > w[0]), "{out:?}");
        assert!(*out.last().unwrap() >= 800, "{out:?}");
        let mut short = Spread::new(8);
        (0..3).for_each(|i| short.offer(|| i));
        assert_eq!(short.finish(), vec![0, 1, 2]);
    }
}
