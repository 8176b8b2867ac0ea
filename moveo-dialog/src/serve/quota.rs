//! A lock-free count of something held (requests in flight, body bytes in memory) against a
//! limit. Nothing ever waits for room: a call that does not fit is refused at once, so a
//! semaphore's waiter queue (and the lock it takes on every release) is not needed. What a call
//! holds is recorded by the call ([`CallLimits`](super::body::CallLimits)), which gives it back:
//! no reference count per share.

use std::sync::atomic::{AtomicUsize, Ordering};

/// A limit and what is held of it.
#[derive(Debug)]
pub(crate) struct Quota {
    limit: usize,
    held: AtomicUsize,
}

impl Quota {
    pub(crate) fn new(limit: usize) -> Self {
        Self { limit, held: AtomicUsize::new(0) }
    }

    /// Takes `amount`; `false` when it does not fit under the limit now.
    #[must_use = "what is taken must be given back"]
    pub(crate) fn try_take(&self, amount: usize) -> bool {
        let mut held = self.held.load(Ordering::Relaxed);
        loop {
            let Some(after) = held.checked_add(amount).filter(|after| *after <= self.limit) else { return false };
            match self.held.compare_exchange_weak(held, after, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return true,
                Err(actual) => held = actual,
            }
        }
    }

    /// Gives back `amount` taken with [`try_take`](Self::try_take).
    pub(crate) fn give_back(&self, amount: usize) {
        self.held.fetch_sub(amount, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_fit_under_the_limit_and_room_comes_back_when_given_back() {
        let quota = Quota::new(10);
        assert!(quota.try_take(6));
        assert!(!quota.try_take(5));
        assert!(quota.try_take(4));
        assert!(!quota.try_take(1));
        quota.give_back(6);
        assert!(quota.try_take(6));
        quota.give_back(6);
        quota.give_back(4);
        assert!(!quota.try_take(usize::MAX), "no overflow");
        assert!(quota.try_take(10));
    }
}
