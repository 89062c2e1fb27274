//! What the crate's property tests share: a small deterministic generator, byte-level
//! mutations of seed inputs, and an allocation counter, so a test can say "no panic, and
//! no allocation beyond a bound relative to the input" without a fuzzing crate.
//! Test builds only; `DDP_FUZZ_CASES` and `DDP_FUZZ_SEED` scale and reseed every test.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// A xorshift64 generator: tiny, deterministic for a seed, and good enough to drive inputs.
pub struct Xorshift(u64);

impl Xorshift {
    /// The generator for this seed (a zero seed, which xorshift cannot leave, becomes one).
    pub fn new(seed: u64) -> Xorshift {
        Xorshift(seed.max(1))
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number below `n` (which must not be 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// One of `items` (which must not be empty).
    pub fn pick<'a, T: ?Sized>(&mut self, items: &[&'a T]) -> &'a T {
        items[self.below(items.len())]
    }

    /// Up to `max` random bytes.
    pub fn bytes(&mut self, max: usize) -> Vec<u8> {
        let n = self.below(max + 1);
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// How many cases a property test runs: `DDP_FUZZ_CASES`, else `default`.
pub fn cases(default: usize) -> usize {
    std::env::var("DDP_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The generator a property test starts from: `DDP_FUZZ_SEED`, else a fixed seed, so a
/// failure (which prints its input) reproduces.
pub fn rng() -> Xorshift {
    let seed = std::env::var("DDP_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|s| *s != 0)
        .unwrap_or(0x9E37_79B9_7F4A_7C15);
    Xorshift::new(seed)
}

/// `seed` changed in one to four places: a byte flipped, set to one of `interesting`,
/// inserted or deleted, a run duplicated, or the end cut off.
pub fn mutate(rng: &mut Xorshift, seed: &[u8], interesting: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(v.len() + 1);
        match rng.below(6) {
            0 if at < v.len() => v[at] ^= 1 << rng.below(8),
            1 if at < v.len() && !interesting.is_empty() => {
                v[at] = interesting[rng.below(interesting.len())];
            }
            2 => v.insert(at, rng.next() as u8),
            3 if at < v.len() => {
                v.remove(at);
            }
            4 if at < v.len() => {
                let end = (at + 1 + rng.below(16)).min(v.len());
                let run = v[at..end].to_vec();
                v.splice(at..at, run);
            }
            _ => v.truncate(at),
        }
    }
    v
}

thread_local! {
    /// Bytes this thread asked the allocator for, ever.
    static ALLOCATED: Cell<usize> = const { Cell::new(0) };
}

/// The system allocator, counting what each thread asks of it.
struct Counting;

fn count(bytes: usize) {
    // `try_with`: a thread being torn down has no counter left, and must still allocate.
    let _ = ALLOCATED.try_with(|n| n.set(n.get().saturating_add(bytes)));
}

// SAFETY: every call is passed on unchanged to `System`; the counter is a const-initialised
// thread-local `Cell` without a destructor, so reading it never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: the caller's contract for `alloc` is `System.alloc`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through this allocator, with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size.saturating_sub(layout.size()));
        // SAFETY: as for `dealloc`, and the caller's contract for `realloc` is `System`'s.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// What `f` returns, and how many bytes it asked the allocator for on this thread (growth
/// counted in full; frees not subtracted, so this bounds the peak from above).
pub fn allocated_by<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let before = ALLOCATED.with(Cell::get);
    let out = f();
    (out, ALLOCATED.with(Cell::get).saturating_sub(before))
}

mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic_and_spreads() {
        let (mut a, mut b) = (Xorshift::new(7), Xorshift::new(7));
        let seq: Vec<u64> = (0..8).map(|_| a.next()).collect();
        assert_eq!(seq, (0..8).map(|_| b.next()).collect::<Vec<_>>());
        assert!(seq.windows(2).all(|w| w[0] != w[1]), "{seq:?}");
        let mut zero = Xorshift::new(0);
        assert_ne!(zero.next(), 0, "a zero seed would stay zero");
        let mut r = Xorshift::new(1);
        let mut seen = [false; 5];
        for _ in 0..200 {
            seen[r.below(5)] = true;
        }
        assert!(seen.iter().all(|s| *s), "below(5) missed a value: {seen:?}");
        assert!((0..100).all(|_| r.bytes(3).len() <= 3));
    }

    #[test]
    fn mutations_change_the_seed_but_not_beyond_a_few_runs() {
        let mut r = Xorshift::new(3);
        let seed = b"0123456789abcdef";
        let mut changed = 0;
        for _ in 0..500 {
            let m = mutate(&mut r, seed, b"\0\xff");
            changed += usize::from(m != seed);
            assert!(m.len() <= seed.len() + 4 * 16, "{m:?}");
        }
        assert!(
            changed > 400,
            "only {changed} of 500 mutations changed anything"
        );
    }

    #[test]
    fn allocations_are_counted_on_this_thread() {
        let (v, n) = allocated_by(|| vec![0u8; 4096]);
        assert_eq!(v.len(), 4096);
        assert!(n >= 4096, "{n}");
        let ((), none) = allocated_by(|| {});
        assert_eq!(none, 0);
        let (_, grown) = allocated_by(|| {
            let mut v: Vec<u8> = Vec::with_capacity(16);
            v.extend(std::iter::repeat_n(1u8, 1000));
            v
        });
        assert!((1000..4000).contains(&grown), "{grown}");
    }
}
