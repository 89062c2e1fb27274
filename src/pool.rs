//! The one bounded pool of scoped threads that DNS lookups and engine actions share. It only
//! runs work and keeps results in input order; it never decides what runs or what a failure
//! means. No async runtime: plain `std::thread::scope`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs `f` over `items` on at most `threads` scoped threads (at least one); results keep the
/// input order. A panic in `f` is a bug and propagates to the caller.
pub fn map<T, R, F>(items: &[T], threads: usize, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    let threads = threads.clamp(1, items.len().max(1));
    if threads == 1 {
        return items.iter().map(&f).collect();
    }
    // Each result goes to its item's slot, so no sort puts them back in order; and the
    // threads run in `run_indexed`, which is not generic: spawning and the sort were
    // several KiB of code for every caller's types.
    let slots: Vec<Mutex<Option<R>>> = items.iter().map(|_| Mutex::new(None)).collect();
    run_indexed(items.len(), threads, &|i| {
        if let (Some(item), Some(slot)) = (items.get(i), slots.get(i)) {
            let r = f(item);
            *slot
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(r);
        }
    });
    // Every index below the length was taken by exactly one thread, so every slot is full.
    slots
        .into_iter()
        .filter_map(|s| {
            s.into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        })
        .collect()
}

/// Runs `work(i)` for each `i` in `0..n` on `threads` scoped threads, each index once.
fn run_indexed(n: usize, threads: usize, work: &(dyn Fn(usize) + Sync)) {
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= n {
                            break;
                        }
                        work(i);
                    }
                })
            })
            .collect();
        for w in workers {
            if let Err(p) = w.join() {
                std::panic::resume_unwind(p);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_input_order_for_any_pool_size() {
        let items: Vec<u32> = (0..50).collect();
        for threads in [0, 1, 3, 50, 200] {
            let got = map(&items, threads, |x| x * 2);
            assert_eq!(
                got,
                items.iter().map(|x| x * 2).collect::<Vec<_>>(),
                "{threads}"
            );
        }
        assert!(map(&[] as &[u32], 4, |x| *x).is_empty());
    }

    #[test]
    fn never_more_threads_than_asked() {
        let running = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let items: Vec<u32> = (0..40).collect();
        map(&items, 3, |_| {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(std::time::Duration::from_millis(2));
            running.fetch_sub(1, Ordering::SeqCst);
        });
        assert!(most.load(Ordering::SeqCst) <= 3);
    }
}
