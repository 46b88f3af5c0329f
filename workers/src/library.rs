//! Lesson 10's library: lines counted on threads, in plain Rust, which
//! knows nothing of Python. The lesson and its PyO3 twin both compile this
//! file.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread;

/// What the library says as it goes, from any of its threads.
pub trait Progress: Sync {
    type Error: Send;
    fn chunk_done(&self, total: usize) -> Result<(), Self::Error>;
}

/// The number of lines in each chunk, counted on `threads` threads. The
/// first error from `progress` stops every thread, and is returned.
pub fn count_lines<P: Progress>(
    chunks: &[&[u8]],
    threads: usize,
    progress: &P,
) -> Result<Vec<usize>, P::Error> {
    let counts: Vec<AtomicUsize> = chunks.iter().map(|_| AtomicUsize::new(0)).collect();
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let first_error = Mutex::new(None);
    thread::scope(|scope| {
        for _ in 0..threads.min(chunks.len()) {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(chunk) = chunks.get(index) else {
                        break;
                    };
                    let lines = chunk.iter().filter(|&&byte| byte == b'\n').count();
                    counts[index].store(lines, Ordering::Relaxed);
                    if let Err(error) = progress.chunk_done(chunks.len()) {
                        stop.store(true, Ordering::Relaxed);
                        first_error.lock().unwrap().get_or_insert(error);
                    }
                }
            });
        }
    });
    match first_error.into_inner().unwrap() {
        Some(error) => Err(error),
        None => Ok(counts.into_iter().map(AtomicUsize::into_inner).collect()),
    }
}
