//! The connections a server holds: how many at most, how long one may sit idle (no request in
//! flight, from the moment it is accepted, during protocol detection, a partial HTTP/2
//! preface, a slow request head, or between keep-alive requests), and which idle one to close
//! when a new one arrives at the cap. A connection with a request in flight is never closed
//! for a newcomer. At shutdown, every connection is drained: it takes no new request and closes
//! once those in flight are answered.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::sync::Notify;
use tokio::time::Instant;

use super::protocol::Drain;

/// What a connection's idle time is until the sweep first sees it idle: a request's end is not
/// timed (a clock read per request): the sweep stamps it with the time it sees it idle.
const UNSTAMPED: u64 = u64::MAX;

/// One connection's activity, shared by its requests and its watchdog.
pub(crate) struct Activity {
    /// Requests whose response is not fully sent yet.
    in_flight: AtomicUsize,
    /// When the connection last became idle, in milliseconds since the server started: its
    /// acceptance, else the first sweep that saw it idle after a request ([`UNSTAMPED`] until
    /// then), never earlier than it became idle.
    idle_since_ms: AtomicU64,
    /// Asks the watchdog to close the connection if it is idle, or to drain it.
    evict: CloseRequest,
    /// Set at shutdown: the connection is to finish its requests in flight and close.
    draining: AtomicBool,
    /// Set when it is asked to close to make room; cleared if it was busy by then. A burst of
    /// newcomers at the cap each make a different connection close, not all the same one.
    making_room: AtomicBool,
}

impl Activity {
    /// When the connection became idle (milliseconds since the server started, [`UNSTAMPED`]
    /// when not stamped yet); `None` while a request is in flight.
    fn idle_since_ms(&self) -> Option<u64> {
        (self.in_flight.load(Ordering::Acquire) == 0).then(|| self.idle_since_ms.load(Ordering::Acquire))
    }

    /// Completes when the connection is asked to close (idle past the timeout, to make room,
    /// or at shutdown): for the wait before it has a protocol.
    pub(crate) fn asked_to_close(&self) -> impl std::future::Future<Output = ()> + '_ {
        let mut registered = None;
        std::future::poll_fn(move |cx| self.evict.poll_asked(cx, &mut registered))
    }

    /// Marks a request as started; the returned guard marks it finished when dropped.
    pub(crate) fn begin(self: &Arc<Self>) -> RequestGuard {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        RequestGuard { activity: Arc::clone(self) }
    }
}

/// A request to close one connection, to its task: like a `Notify` with one waiter and one
/// permit, but a wake of the task that was not asked costs an atomic load, not a lock.
#[derive(Default)]
struct CloseRequest {
    asked: AtomicBool,
    waker: atomic_waker::AtomicWaker,
}

impl CloseRequest {
    /// Asks (the request is kept until the task takes it).
    fn ask(&self) {
        self.asked.store(true, Ordering::Release);
        self.waker.wake();
    }

    /// Ready, taking the request, once asked; `registered` is the waker this task last left
    /// (it is left again only when the task's waker changed, or after a request was taken).
    fn poll_asked(&self, cx: &mut Context<'_>, registered: &mut Option<std::task::Waker>) -> Poll<()> {
        if !self.take() {
            if registered.as_ref().is_some_and(|waker| waker.will_wake(cx.waker())) {
                return Poll::Pending;
            }
            self.waker.register(cx.waker());
            *registered = Some(cx.waker().clone());
            if !self.take() {
                return Poll::Pending;
            }
        }
        // `ask` took the waker to wake it: leave it again on the next wait.
        *registered = None;
        Poll::Ready(())
    }

    /// Takes the request, if there is one (an atomic load when there is none).
    fn take(&self) -> bool {
        self.asked.load(Ordering::Acquire) && self.asked.swap(false, Ordering::AcqRel)
    }
}

/// Held while a request is in flight: from its head to the last byte of its response.
pub(crate) struct RequestGuard {
    activity: Arc<Activity>,
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        // Unstamp before the count reaches 0, so an idle connection is never seen with the time
        // it became idle before this request.
        self.activity.idle_since_ms.store(UNSTAMPED, Ordering::Release);
        self.activity.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

fn millis_since(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_millis()).map_or(UNSTAMPED - 1, |millis| millis.min(UNSTAMPED - 1))
}

/// Every live connection of one server.
pub(crate) struct Connections {
    max: usize,
    idle_timeout: Duration,
    epoch: Instant,
    next_id: AtomicU64,
    live: Mutex<HashMap<u64, Arc<Activity>>>,
    /// Connections asked to drain that have not ended yet.
    draining: AtomicUsize,
    /// Told when the last draining connection ends.
    drained: Notify,
}

/// What to do with a newly accepted connection.
pub(crate) enum Admission {
    /// Serve it, under this id and activity record.
    Serve(u64, Arc<Activity>),
    /// Every connection is busy: close the new one.
    Full,
}

impl Connections {
    pub(crate) fn new(max: usize, idle_timeout: Duration) -> Self {
        Self {
            max: max.max(1),
            idle_timeout,
            epoch: Instant::now(),
            next_id: AtomicU64::new(0),
            live: Mutex::new(HashMap::new()),
            draining: AtomicUsize::new(0),
            drained: Notify::new(),
        }
    }

    fn now_ms(&self) -> u64 {
        millis_since(self.epoch)
    }

    fn live(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Activity>>> {
        self.live.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Admits a new connection; at the cap, the longest-idle connection is asked to close to
    /// make room, and when none is idle the new one is refused.
    pub(crate) fn admit(&self) -> Admission {
        let mut live = self.live();
        if live.len() >= self.max && !Self::evict_oldest_idle(&live) {
            return Admission::Full;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let activity = Arc::new(Activity {
            in_flight: AtomicUsize::new(0),
            idle_since_ms: AtomicU64::new(self.now_ms()),
            evict: CloseRequest::default(),
            draining: AtomicBool::new(false),
            making_room: AtomicBool::new(false),
        });
        live.insert(id, Arc::clone(&activity));
        Admission::Serve(id, activity)
    }

    /// Asks the longest-idle connection to close (when the process is out of file
    /// descriptors, say). Returns whether there was one.
    pub(crate) fn evict_one(&self) -> bool {
        Self::evict_oldest_idle(&self.live())
    }

    fn evict_oldest_idle(live: &HashMap<u64, Arc<Activity>>) -> bool {
        // Idle the longest; of those idle since the same millisecond (or not stamped yet: idle
        // since the last sweep, the shortest), the one accepted first.
        let oldest = live
            .iter()
            .filter(|(_, activity)| !activity.making_room.load(Ordering::Acquire))
            .filter_map(|(id, activity)| activity.idle_since_ms().map(|since| ((since, *id), activity)))
            .min_by_key(|(key, _)| *key);
        match oldest {
            Some((_, activity)) => {
                activity.making_room.store(true, Ordering::Release);
                activity.evict.ask();
                true
            }
            None => false,
        }
    }

    pub(crate) fn remove(&self, id: u64) {
        let removed = self.live().remove(&id);
        if removed.is_some_and(|activity| activity.draining.load(Ordering::Acquire))
            && self.draining.fetch_sub(1, Ordering::AcqRel) == 1
        {
            self.drained.notify_one();
        }
    }

    /// Asks every connection held now to finish its requests in flight and close (one still
    /// idle closes at once); completes when they all have. Connections admitted afterwards
    /// are not waited for.
    pub(crate) async fn drain(&self) {
        {
            let live = self.live();
            self.draining.store(live.len(), Ordering::Release);
            for activity in live.values() {
                activity.draining.store(true, Ordering::Release);
                activity.evict.ask();
            }
            if live.is_empty() {
                return;
            }
        }
        // `notify_one` keeps a permit when the last connection ends before this waits.
        self.drained.notified().await;
    }

    /// How often [`sweep`](Self::sweep) should run: an eighth of the idle timeout, at least
    /// twice a second. A connection idle after a request is stamped by the first sweep that
    /// sees it idle, so it is closed at most two intervals late (one second for a timeout of
    /// 4 s or more), never early.
    pub(crate) fn sweep_interval(&self) -> Duration {
        (self.idle_timeout / 8).clamp(Duration::from_millis(10), Duration::from_millis(500))
    }

    /// Sweeps every [`sweep_interval`](Self::sweep_interval), until dropped: the server's one
    /// idle timer.
    pub(crate) async fn sweep_forever(&self) -> ! {
        let mut every = tokio::time::interval(self.sweep_interval());
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            self.sweep();
        }
    }

    /// Stamps every connection that became idle since the last sweep with the time it is seen
    /// idle, and asks every one idle for the idle timeout or longer to close. One timer for the
    /// whole server (this sweep), and a clock read per connection gone idle, rather than a timer
    /// per connection (a wake-up on the request path) or a clock read at the end of each
    /// request.
    pub(crate) fn sweep(&self) {
        let now = self.now_ms();
        let timeout = u64::try_from(self.idle_timeout.as_millis()).unwrap_or(u64::MAX);
        for activity in self.live().values() {
            match activity.idle_since_ms() {
                // The clock read here, not `now`: a connection that went idle while the sweep
                // ran is not stamped before it did. (A request that begins and ends between
                // this read and the store is stamped early by that gap, nanoseconds.)
                Some(UNSTAMPED) => activity.idle_since_ms.store(self.now_ms(), Ordering::Release),
                Some(since) if since.saturating_add(timeout) <= now => activity.evict.ask(),
                _ => {}
            }
        }
    }

    /// Runs `connection` until it ends, or until it is asked to close (by the sweep, or to
    /// make room for a newcomer) while idle, then drops it, which closes the socket; asked to
    /// drain, it is told to finish and runs until it does.
    pub(crate) fn watch<'a, F>(&'a self, activity: &'a Activity, connection: F) -> Watched<'a, F>
    where
        F: Drain,
    {
        Watched { connection, registered: None, activity, drained: false }
    }
}

pin_project_lite::pin_project! {
    /// [`Connections::watch`]: a struct rather than an `async fn`, so the connection's state
    /// (the largest part of a connection's task) is held once, not also as the call's argument.
    pub(crate) struct Watched<'a, F> {
        #[pin]
        connection: F,
        // The waker left with the connection's close request.
        registered: Option<std::task::Waker>,
        activity: &'a Activity,
        drained: bool,
    }
}

impl<F: Drain> std::future::Future for Watched<'_, F> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            // The connection first on every wake (a request's bytes).
            if let Poll::Ready(output) = this.connection.as_mut().poll(cx) {
                return Poll::Ready(Some(output));
            }
            if this.activity.evict.poll_asked(cx, this.registered).is_pending() {
                return Poll::Pending;
            }
            if this.activity.draining.load(Ordering::Acquire) && !*this.drained {
                tracing::debug!("draining a connection");
                *this.drained = true;
                this.connection.as_mut().drain();
            } else if this.activity.idle_since_ms().is_some() {
                tracing::debug!("closing an idle connection");
                return Poll::Ready(None);
            }
            // Asked while busy, or drained: listen again (and be one that can make room again),
            // and look at the connection once more.
            this.activity.making_room.store(false, Ordering::Release);
        }
    }
}

pin_project_lite::pin_project! {
    /// A response body that keeps its request counted as in flight until it is sent.
    pub(crate) struct GuardedBody<B> {
        #[pin]
        inner: B,
        guard: Option<RequestGuard>,
    }
}

impl<B> GuardedBody<B> {
    pub(crate) fn new(inner: B, guard: RequestGuard) -> Self {
        Self { inner, guard: Some(guard) }
    }
}

impl<B> Body for GuardedBody<B>
where
    B: Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) {
            this.guard.take();
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The default connection cap: the process's open-file limit less room for the listener,
/// logs, databases and outgoing calls (Linux: read from `/proc/self/limits`; elsewhere 1024).
pub(crate) fn default_max_connections() -> usize {
    let soft = std::fs::read_to_string("/proc/self/limits").ok().and_then(|limits| {
        limits
            .lines()
            .find(|line| line.starts_with("Max open files"))
            .and_then(|line| line.split_whitespace().nth(3))
            .and_then(|soft| soft.parse::<usize>().ok())
    });
    let soft = soft.unwrap_or(1024);
    soft.saturating_sub(soft / 8).saturating_sub(32).max(16)
}

#[cfg(test)]
mod tests {
    use super::*;

    pin_project_lite::pin_project! {
        /// A connection for these tests: it ends when `end` does; draining it sends on
        /// `on_drain`.
        struct Stub<F> {
            #[pin]
            end: F,
            on_drain: Option<tokio::sync::oneshot::Sender<()>>,
        }
    }

    /// A connection that ends when `end` does, and ignores being drained.
    fn stub<F: std::future::Future>(end: F) -> Stub<F> {
        Stub { end, on_drain: None }
    }

    impl<F: std::future::Future> std::future::Future for Stub<F> {
        type Output = Result<(), Box<dyn std::error::Error + Send + Sync>>;

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            self.project().end.poll(cx).map(|_| Ok(()))
        }
    }

    impl<F: std::future::Future> Drain for Stub<F> {
        fn drain(self: Pin<&mut Self>) {
            if let Some(drained) = self.project().on_drain.take() {
                let _ = drained.send(());
            }
        }
    }

    /// Serves a stub connection on its own task, which removes it at its end like the server's.
    fn serve_stub(
        connections: &Arc<Connections>,
        id: u64,
        activity: Arc<Activity>,
        end: impl std::future::Future<Output = ()> + Send + 'static,
        on_drain: tokio::sync::oneshot::Sender<()>,
    ) -> tokio::task::JoinHandle<Option<Result<(), Box<dyn std::error::Error + Send + Sync>>>> {
        let connections = Arc::clone(connections);
        tokio::spawn(async move {
            let ended = connections.watch(&activity, Stub { end, on_drain: Some(on_drain) }).await;
            connections.remove(id);
            ended
        })
    }

    /// Whether `activity` has been asked to close (a permit is waiting).
    fn asked(activity: &Activity) -> bool {
        let asked = std::pin::pin!(activity.asked_to_close());
        asked.poll(&mut Context::from_waker(std::task::Waker::noop())).is_ready()
    }

    /// Counts its wakes.
    struct Wakes(AtomicUsize);

    impl std::task::Wake for Wakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// A close request is kept until taken, wakes the task that waits for it (the newest waker
    /// it left), and is taken once: two asks before a wait are one, as a `Notify`'s permit.
    #[test]
    fn a_close_request_wakes_its_task_and_is_taken_once() {
        let wakes = Arc::new(Wakes(AtomicUsize::new(0)));
        let waker = std::task::Waker::from(Arc::clone(&wakes));
        let mut cx = Context::from_waker(&waker);
        let request = CloseRequest::default();
        let mut registered = None;
        assert!(request.poll_asked(&mut cx, &mut registered).is_pending());
        assert!(request.poll_asked(&mut cx, &mut registered).is_pending(), "a wake that was not a request");
        request.ask();
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1, "the waiting task is woken");
        assert!(request.poll_asked(&mut cx, &mut registered).is_ready());
        assert!(request.poll_asked(&mut cx, &mut registered).is_pending(), "taken once");
        request.ask();
        assert_eq!(wakes.0.load(Ordering::SeqCst), 2, "waiting again, the task is woken again");
        request.ask();
        assert!(request.poll_asked(&mut cx, &mut registered).is_ready());
        assert!(request.poll_asked(&mut cx, &mut registered).is_pending(), "two asks before a wait are one");
        // Asked before anyone waits: ready on the first wait, as a stored permit.
        let early = CloseRequest::default();
        early.ask();
        assert!(early.poll_asked(&mut cx, &mut None).is_ready());
        // A task whose waker changed leaves its new one.
        let other = Arc::new(Wakes(AtomicUsize::new(0)));
        let other_waker = std::task::Waker::from(Arc::clone(&other));
        let mut other_cx = Context::from_waker(&other_waker);
        assert!(request.poll_asked(&mut other_cx, &mut registered).is_pending());
        request.ask();
        assert_eq!(other.0.load(Ordering::SeqCst), 1, "the newest waker is the one woken");
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_of_newcomers_at_the_cap_makes_as_many_idle_connections_close() {
        let connections = Connections::new(3, Duration::from_secs(10));
        let Admission::Serve(_, first) = connections.admit() else { panic!() };
        let Admission::Serve(_, second) = connections.admit() else { panic!() };
        let Admission::Serve(_, third) = connections.admit() else { panic!() };
        // Two newcomers before any closed connection's task has run: two different ones close.
        let Admission::Serve(_, _fourth) = connections.admit() else { panic!() };
        let Admission::Serve(_, _fifth) = connections.admit() else { panic!() };
        let asked = [&first, &second, &third].map(|activity| asked(activity));
        assert_eq!(asked, [true, true, false], "the two accepted first (all idle since the same moment)");
    }

    #[tokio::test]
    async fn drain_finishes_the_connections_held_then_and_waits_for_each_to_end() {
        use tokio::sync::oneshot;
        let connections = Arc::new(Connections::new(8, Duration::from_secs(10)));
        let Admission::Serve(idle_id, idle) = connections.admit() else { panic!() };
        let Admission::Serve(busy_id, busy) = connections.admit() else { panic!() };
        let guard = busy.begin();
        // The idle one ends as soon as it is drained; the busy one once its request is answered.
        let (drained_idle, idle_told) = oneshot::channel();
        let idle_task = serve_stub(&connections, idle_id, idle, async { idle_told.await.unwrap() }, drained_idle);
        let (drained_busy, busy_told) = oneshot::channel();
        let (answer, answered) = oneshot::channel::<()>();
        let busy_task = serve_stub(
            &connections,
            busy_id,
            Arc::clone(&busy),
            async move {
                busy_told.await.unwrap();
                answered.await.unwrap();
            },
            drained_busy,
        );
        let drain = tokio::spawn({
            let connections = Arc::clone(&connections);
            async move { connections.drain().await }
        });
        assert!(matches!(idle_task.await.unwrap(), Some(Ok(()))), "the idle connection is drained and ends");
        // One admitted after the drain began is neither drained nor waited for.
        let Admission::Serve(_, late) = connections.admit() else { panic!() };
        assert!(!late.draining.load(Ordering::Acquire));
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(!drain.is_finished() && !busy_task.is_finished(), "the busy connection still has a request");
        answer.send(()).unwrap();
        drop(guard);
        assert!(matches!(busy_task.await.unwrap(), Some(Ok(()))));
        tokio::time::timeout(Duration::from_secs(10), drain).await.expect("drained").unwrap();
    }

    #[tokio::test]
    async fn draining_no_connection_is_done_at_once() {
        let connections = Connections::new(8, Duration::from_secs(10));
        tokio::time::timeout(Duration::from_secs(10), connections.drain()).await.expect("nothing to wait for");
    }

    #[tokio::test(start_paused = true)]
    async fn the_sweep_closes_a_connection_idle_past_the_timeout_and_never_a_busy_one() {
        let connections = Arc::new(Connections::new(4, Duration::from_secs(10)));
        let Admission::Serve(_, idle) = connections.admit() else { panic!() };
        let Admission::Serve(_, busy) = connections.admit() else { panic!() };
        let guard = busy.begin();
        let sweeper = tokio::spawn({
            let connections = Arc::clone(&connections);
            async move { connections.sweep_forever().await }
        });
        let started = Instant::now();
        let closed = connections.watch(&idle, stub(std::future::pending::<()>())).await;
        assert!(closed.is_none(), "an idle connection is closed");
        let waited = started.elapsed();
        assert!(waited >= Duration::from_secs(10) && waited <= Duration::from_millis(11_000), "{waited:?}");

        let finished = connections.watch(&busy, stub(tokio::time::sleep(Duration::from_secs(60)))).await;
        assert!(finished.is_some(), "a connection with a request in flight runs to its end");
        drop(guard);
        sweeper.abort();
    }

    /// After a request, a connection is idle from the first sweep that sees it so: closed no
    /// earlier than the timeout after the request's end, and no later than two sweeps after it.
    #[tokio::test(start_paused = true)]
    async fn after_a_request_the_idle_time_counts_from_the_sweep_that_first_sees_it_idle() {
        let connections = Arc::new(Connections::new(4, Duration::from_secs(10)));
        let interval = connections.sweep_interval();
        assert_eq!(interval, Duration::from_millis(500));
        let Admission::Serve(_, activity) = connections.admit() else { panic!() };
        // A request runs from 9.3 s to 9.8 s after acceptance (sweeps at every 500 ms).
        let sweeper = tokio::spawn({
            let connections = Arc::clone(&connections);
            async move { connections.sweep_forever().await }
        });
        let accepted = Instant::now();
        tokio::time::sleep(Duration::from_millis(9_300)).await;
        let guard = activity.begin();
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(!asked(&activity), "never closed while busy, though idle 9.3 s first");
        drop(guard);
        let ended = Instant::now();
        assert_eq!(activity.idle_since_ms(), Some(UNSTAMPED), "a request's end is not timed");
        let closed = connections.watch(&activity, stub(std::future::pending::<()>())).await;
        assert!(closed.is_none(), "an idle connection is closed");
        let idle = ended.elapsed();
        assert!(idle >= Duration::from_secs(10), "not before the timeout: {idle:?}");
        assert!(idle <= Duration::from_secs(10) + 2 * interval, "at most two sweeps late: {idle:?}");
        // The sweep at 10.0 s stamped it (the first to see it idle); the one at 20.0 s closed it.
        assert_eq!(accepted.elapsed(), Duration::from_secs(20));
        sweeper.abort();
    }

    /// Of two idle connections, the one a sweep has stamped has been idle longer than one whose
    /// request ended after that sweep, whatever their order of acceptance.
    #[tokio::test(start_paused = true)]
    async fn a_connection_idle_since_a_sweep_makes_room_before_one_idle_since_a_later_request() {
        let connections = Connections::new(2, Duration::from_secs(10));
        let Admission::Serve(_, first) = connections.admit() else { panic!() };
        let Admission::Serve(_, second) = connections.admit() else { panic!() };
        drop(second.begin());
        tokio::time::advance(Duration::from_secs(1)).await;
        connections.sweep();
        drop(first.begin());
        let Admission::Serve(_, _third) = connections.admit() else { panic!() };
        assert_eq!([asked(&first), asked(&second)], [false, true]);
    }

    #[tokio::test(start_paused = true)]
    async fn at_the_cap_the_oldest_idle_connection_makes_room_and_busy_ones_stay() {
        let connections = Arc::new(Connections::new(2, Duration::from_secs(10)));
        let Admission::Serve(first, oldest) = connections.admit() else { panic!() };
        tokio::time::advance(Duration::from_millis(5)).await;
        let Admission::Serve(_, busy) = connections.admit() else { panic!() };
        let _guard = busy.begin();
        // A third connection asks the oldest idle one to close.
        let Admission::Serve(_, _third) = connections.admit() else { panic!() };
        let closed = connections.watch(&oldest, stub(std::future::pending::<()>()));
        assert!(tokio::time::timeout(Duration::from_millis(1), closed).await.unwrap().is_none());
        connections.remove(first);
        // With every connection busy, a newcomer is refused.
        let _busy_too = _third.begin();
        assert!(matches!(connections.admit(), Admission::Full));
    }

    #[test]
    fn the_default_cap_stays_below_the_file_limit() {
        let cap = default_max_connections();
        assert!((16..20_000_000).contains(&cap), "{cap}");
    }
}
