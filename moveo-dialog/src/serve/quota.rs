//! A lock-free count of something held (requests in flight, body bytes in memory) against a
//! limit. Nothing ever waits for room: a call that does not fit is refused at once, so a
//! semaphore's waiter queue (and the lock it takes on every release) is not needed.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A limit and what is held of it; cheap to clone (one `Arc`).
#[derive(Clone, Debug)]
pub(crate) struct Quota(Arc<Counter>);

#[derive(Debug)]
struct Counter {
    limit: usize,
    held: AtomicUsize,
}

/// `amount` of a quota, given back when dropped.
#[derive(Debug)]
#[must_use = "the amount is given back as soon as the share is dropped"]
pub(crate) struct Share {
    quota: Quota,
    amount: usize,
}

impl Quota {
    pub(crate) fn new(limit: usize) -> Self {
        Self(Arc::new(Counter { limit, held: AtomicUsize::new(0) }))
    }

    /// Takes `amount`, or `None` when it does not fit under the limit now.
    pub(crate) fn try_take(&self, amount: usize) -> Option<Share> {
        let counter = &self.0;
        let mut held = counter.held.load(Ordering::Relaxed);
        loop {
            let after = held.checked_add(amount).filter(|after| *after <= counter.limit)?;
            match counter.held.compare_exchange_weak(held, after, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return Some(Share { quota: self.clone(), amount }),
                Err(actual) => held = actual,
            }
        }
    }
}

impl Drop for Share {
    fn drop(&mut self) {
        self.quota.0.held.fetch_sub(self.amount, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_fit_under_the_limit_and_come_back_when_dropped() {
        let quota = Quota::new(10);
        let six = quota.try_take(6).unwrap();
        assert!(quota.try_take(5).is_none());
        let four = quota.try_take(4).unwrap();
        assert!(quota.try_take(1).is_none());
        drop(six);
        assert!(quota.try_take(6).is_some());
        drop(four);
        assert!(quota.try_take(usize::MAX).is_none(), "no overflow");
        assert!(quota.try_take(10).is_some());
    }
}
