//! Fixed-size tables backed by anonymous memory the kernel is asked to map
//! with huge pages. The index's verification reads are random over hundreds
//! of megabytes; with 4 KiB pages nearly each one also misses the TLB, and
//! huge pages took the 10M-hash query from about 2,000 to 3,500–4,000 per
//! second here. Where mapping fails, an ordinary `Vec` is used.

use bytemuck::Pod;

pub(crate) enum HugeBuf<T: Pod> {
    Map { map: memmap2::MmapMut, len: usize },
    Vec(Vec<T>),
}

impl<T: Pod> HugeBuf<T> {
    /// `len` zeroed elements.
    pub(crate) fn zeroed(len: usize) -> HugeBuf<T> {
        let bytes = len * std::mem::size_of::<T>();
        // Small tables gain nothing from their own mapping.
        if bytes < (4 << 20) {
            return HugeBuf::Vec(vec![T::zeroed(); len]);
        }
        match memmap2::MmapOptions::new().len(bytes).map_anon() {
            Ok(map) => {
                #[cfg(target_os = "linux")]
                // Advice only; a kernel without transparent huge pages says no.
                let _ = map.advise(memmap2::Advice::HugePage);
                HugeBuf::Map { map, len }
            }
            Err(_) => HugeBuf::Vec(vec![T::zeroed(); len]),
        }
    }

    pub(crate) fn from_slice(items: &[T]) -> HugeBuf<T> {
        let mut buf = HugeBuf::zeroed(items.len());
        buf.as_mut_slice().copy_from_slice(items);
        buf
    }

    pub(crate) fn as_slice(&self) -> &[T] {
        match self {
            // Page-aligned, so the cast cannot fail on alignment.
            HugeBuf::Map { map, len } => &bytemuck::cast_slice(&map[..])[..*len],
            HugeBuf::Vec(v) => v,
        }
    }

    pub(crate) fn as_mut_slice(&mut self) -> &mut [T] {
        match self {
            HugeBuf::Map { map, len } => &mut bytemuck::cast_slice_mut(&mut map[..])[..*len],
            HugeBuf::Vec(v) => v,
        }
    }
}

impl<T: Pod> std::ops::Deref for HugeBuf<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        self.as_slice()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_and_small_tables_hold_what_is_written() {
        for len in [0usize, 10, 3 << 20] {
            let mut b: HugeBuf<u32> = HugeBuf::zeroed(len);
            assert_eq!(b.len(), len);
            for (i, x) in b.as_mut_slice().iter_mut().enumerate() {
                *x = i as u32;
            }
            assert!(b.iter().enumerate().all(|(i, &x)| x == i as u32));
        }
        let words = HugeBuf::from_slice(&[[1u64, 2, 3, 4]; 3]);
        assert_eq!(words[2], [1, 2, 3, 4]);
    }
}
