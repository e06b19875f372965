//! The scheduler with fake workers: what it writes, kills and settles when
//! workers answer, die, time out or are aborted, in the orders that race in
//! a real pool. The fakes stand where processes would (as tokio tests its
//! reaper with a mock wait); `pool/tests.rs` runs the same engine on real ones.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::super::channel::ChannelEnd;
use super::super::config::{PoolConfig, Program, TaskTimeout};
use super::super::events::{Answer, FailureKind, PoolEvent, PoolSink, TaskFailure, TaskId};
use super::super::stats::Shared;
use super::super::worker::{Launch, Mode, Task, WorkerIo};
use super::{News, PoolState, CANCEL_GRACE};

/// What the scheduler did to the fake workers, per worker id.
#[derive(Default)]
struct Log {
    launched: u64,
    /// Task ids written, in order.
    sent: HashMap<u64, Vec<TaskId>>,
    cancelled: HashMap<u64, Vec<TaskId>>,
    killed: Vec<u64>,
    terminated: Vec<u64>,
    /// Workers whose channel is closed: writes to them fail.
    broken: Vec<u64>,
}

struct FakeIo {
    id: u64,
    log: Arc<Mutex<Log>>,
}

impl WorkerIo for FakeIo {
    fn send(&self, _mode: Mode, tasks: &[Task]) -> bool {
        let mut log = self.log.lock().unwrap();
        if log.broken.contains(&self.id) {
            return false;
        }
        let sent = log.sent.entry(self.id).or_default();
        sent.extend(tasks.iter().map(|t| t.id));
        true
    }

    fn cancel(&self, id: TaskId) {
        let mut log = self.log.lock().unwrap();
        log.cancelled.entry(self.id).or_default().push(id);
    }

    fn kill(&self) {
        self.log.lock().unwrap().killed.push(self.id);
    }

    fn terminate(&self, _mode: Mode) {
        self.log.lock().unwrap().terminated.push(self.id);
    }

    fn rss_bytes(&self, _pid: u32) -> Option<u64> {
        None
    }

    fn channels(&self) -> Vec<Arc<ChannelEnd>> {
        Vec::new()
    }

    fn expect_answers(&self, _expecting: bool) {}

    fn finish(&self) {}

    fn stderr_tail(&self) -> Vec<u8> {
        format!("stderr of {}", self.id).into_bytes()
    }

    fn stderr_lines(&self, _lines: usize, _max_bytes: usize) -> Vec<u8> {
        self.stderr_tail()
    }
}

struct FakeLauncher {
    mode: Mode,
    log: Arc<Mutex<Log>>,
}

impl Launch for FakeLauncher {
    type Io = FakeIo;

    fn launch(&mut self, _config: &PoolConfig, id: u64) -> io::Result<(FakeIo, Mode)> {
        self.log.lock().unwrap().launched += 1;
        let log = self.log.clone();
        Ok((FakeIo { id, log }, self.mode))
    }
}

#[derive(Default)]
struct Sink(Mutex<Vec<PoolEvent>>);

impl PoolSink for Sink {
    fn emit(&self, event: PoolEvent) {
        self.0.lock().unwrap().push(event);
    }
}

struct Fixture {
    pool: PoolState<FakeLauncher>,
    log: Arc<Mutex<Log>>,
    sink: Arc<Sink>,
    stats: Arc<Mutex<Shared>>,
}

/// A pool of fake workers speaking `mode`; none is ready until told.
fn fixture(mode: Mode, tweak: impl FnOnce(&mut PoolConfig)) -> Fixture {
    let program = Program::Command {
        file: "worker".into(),
        args: vec![],
    };
    let mut config = PoolConfig::new(program, 1);
    tweak(&mut config);
    let log = Arc::new(Mutex::new(Log::default()));
    let sink = Arc::new(Sink::default());
    let stats = Arc::new(Mutex::new(Shared::default()));
    let launcher = FakeLauncher {
        mode,
        log: log.clone(),
    };
    let pool = PoolState::new(config, sink.clone(), stats.clone(), launcher);
    Fixture {
        pool,
        log,
        sink,
        stats,
    }
}

fn task(id: TaskId) -> Task {
    Task {
        id,
        payload: format!("{{\"n\":{id}}}").into_bytes(),
        buffers: Vec::new(),
        handler: None,
        timeout: TaskTimeout::Pool,
        queued_at: Instant::now(),
        crashes: 0,
    }
}

/// A task already past its timeout once a worker starts it.
fn task_due_at_once(id: TaskId) -> Task {
    Task {
        timeout: TaskTimeout::After(Duration::ZERO),
        ..task(id)
    }
}

fn answer(id: Option<u32>, text: &str) -> News {
    News::Answered {
        id,
        result: Ok(Answer::json(text.to_owned())),
    }
}

impl Fixture {
    /// Worker `wid` says something, as the driver passes it on.
    fn hear(&mut self, wid: u64, news: News) {
        self.pool.hear(wid, news);
        self.pool.after_news();
        self.pool.publish();
    }

    /// Worker `wid` was spawned (as pid 100 + wid) and says it is ready.
    fn start(&mut self, wid: u64, serve: bool) {
        let pid = 100 + wid as u32;
        self.hear(wid, News::Spawned { pid });
        self.hear(wid, News::Ready { serve });
    }

    /// Worker `wid` died of `signal`, and its pipes drained.
    fn dies(&mut self, wid: u64, signal: i32) {
        let signal = Some(signal);
        self.hear(wid, News::Exited { code: None, signal });
        self.hear(wid, News::Gone);
    }

    fn sent_to(&self, wid: u64) -> Vec<TaskId> {
        let log = self.log.lock().unwrap();
        log.sent.get(&wid).cloned().unwrap_or_default()
    }

    /// Every task settled so far, by id, in order; a second settlement of
    /// the same task fails the test.
    fn settled(&self) -> Vec<(TaskId, Result<String, TaskFailure>)> {
        let mut seen = Vec::new();
        for event in self.sink.0.lock().unwrap().iter() {
            if let PoolEvent::TaskDone { id, result } = event {
                assert!(
                    !seen.iter().any(|(s, _)| s == id),
                    "task {id} settled twice"
                );
                let result = match result {
                    Ok(answer) => Ok(answer.json.clone()),
                    Err(f) => Err(f.clone()),
                };
                seen.push((*id, result));
            }
        }
        seen
    }

    fn failure_of(&self, id: TaskId) -> TaskFailure {
        let settled = self.settled();
        let (_, result) = settled.iter().find(|(s, _)| *s == id).expect("settled");
        result.clone().expect_err("a failure")
    }
}

#[test]
fn a_task_answered_in_the_step_it_times_out_settles_once_as_a_timeout() {
    let mut f = fixture(Mode::Plain, |_| {});
    f.start(0, false);
    f.pool.run(vec![task_due_at_once(1)]);
    assert_eq!(f.sent_to(0), [1]);
    // The deadline passes, and the answer was already on its way.
    f.pool.timers();
    f.hear(0, answer(None, "late"));
    let failure = f.failure_of(1);
    assert_eq!(failure.kind, FailureKind::Timeout);
    assert!(
        failure.message.contains("its worker was killed"),
        "{}",
        failure.message
    );
    assert_eq!(f.settled().len(), 1);
    assert_eq!(f.log.lock().unwrap().killed, [0]);
    // Killed by the pool: its death is no crash.
    f.dies(0, libc::SIGKILL);
    assert_eq!(f.stats.lock().unwrap().crashed, 0);
}

#[test]
fn a_task_answered_before_its_deadline_is_looked_at_is_no_timeout() {
    let mut f = fixture(Mode::Plain, |_| {});
    f.start(0, false);
    f.pool.run(vec![task_due_at_once(1)]);
    f.hear(0, answer(None, "in time"));
    f.pool.timers();
    let settled = f.settled();
    assert_eq!(settled.len(), 1);
    assert_eq!(
        settled[0].1.as_ref().ok().map(String::as_str),
        Some("in time")
    );
    assert!(f.log.lock().unwrap().killed.is_empty());
}

#[test]
fn a_serve_worker_answering_a_timed_out_task_frees_its_slot_without_a_second_settlement() {
    let mut f = fixture(Mode::Plain, |_| {});
    f.start(0, true);
    f.pool.run(vec![task_due_at_once(1), task(2)]);
    assert_eq!(f.sent_to(0), [1]);
    f.pool.timers();
    assert_eq!(f.log.lock().unwrap().cancelled[&0], [1]);
    assert_eq!(f.failure_of(1).kind, FailureKind::Timeout);
    // The slot stays taken until the worker answers the cancelled task.
    assert_eq!(f.sent_to(0), [1]);
    f.hear(0, answer(Some(1), "too late"));
    assert_eq!(f.sent_to(0), [1, 2]);
    f.hear(0, answer(Some(2), "two"));
    assert_eq!(f.settled().len(), 2);
    assert!(f.log.lock().unwrap().killed.is_empty());
}

#[test]
fn a_task_aborted_while_its_write_fails_is_aborted_from_the_queue() {
    let mut f = fixture(Mode::Plain, |_| {});
    f.start(0, false);
    // Its channel closed under the write: the worker is dying.
    f.log.lock().unwrap().broken.push(0);
    f.pool.run(vec![task(1)]);
    assert!(f.sent_to(0).is_empty());
    f.pool.cancel(1);
    let failure = f.failure_of(1);
    assert_eq!(failure.kind, FailureKind::Aborted);
    assert_eq!(failure.message, "the task was aborted before it ran");
    // Its death, expected once the write failed, is no crash.
    f.dies(0, libc::SIGPIPE);
    assert_eq!(f.stats.lock().unwrap().crashed, 0);
    assert_eq!(f.settled().len(), 1);
}

#[test]
fn a_task_aborted_while_being_written_kills_a_plain_worker_and_settles_once() {
    let mut f = fixture(Mode::Plain, |_| {});
    f.start(0, false);
    f.pool.run(vec![task(1), task(2)]);
    f.pool.cancel(1);
    assert_eq!(f.failure_of(1).kind, FailureKind::Aborted);
    assert_eq!(f.log.lock().unwrap().killed, [0]);
    // A replacement starts for the task that waits; the killed worker's
    // death fails nothing more.
    assert_eq!(f.log.lock().unwrap().launched, 2);
    f.dies(0, libc::SIGKILL);
    f.start(1, false);
    assert_eq!(f.sent_to(1), [2]);
    f.hear(1, answer(None, "two"));
    assert_eq!(f.settled().len(), 2);
    assert_eq!(f.stats.lock().unwrap().crashed, 0);
}

#[test]
fn a_serve_worker_gets_a_cancel_frame_for_an_aborted_task_and_keeps_its_slot() {
    let mut f = fixture(Mode::Plain, |c| c.concurrency = 2);
    f.start(0, true);
    f.pool.run(vec![task(1), task(2), task(3)]);
    assert_eq!(f.sent_to(0), [1, 2]);
    f.pool.cancel(2);
    assert_eq!(f.log.lock().unwrap().cancelled[&0], [2]);
    assert!(f.failure_of(2).message.contains("AbortSignal fired"));
    // Aborting it again, or its late answer, changes nothing.
    f.pool.cancel(2);
    f.hear(0, answer(Some(2), "aborted anyway"));
    assert_eq!(f.sent_to(0), [1, 2, 3]);
    f.hear(0, answer(Some(1), "one"));
    f.hear(0, answer(Some(3), "three"));
    let ids: Vec<TaskId> = f.settled().iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, [2, 1, 3]);
}

#[test]
fn a_worker_gone_with_tasks_in_flight_has_them_retried_then_failed_as_crashed() {
    let mut f = fixture(Mode::Plain, |c| {
        c.concurrency = 2;
        c.retries = 1;
        c.wait_for_ready = true;
    });
    f.start(0, true);
    f.pool.run(vec![task(1), task(2), task(3)]);
    assert_eq!(f.sent_to(0), [1, 2]);
    f.dies(0, libc::SIGSEGV);
    // Nothing failed yet: both run again first in line, before task 3.
    assert!(f.settled().is_empty());
    assert_eq!(f.log.lock().unwrap().launched, 2);
    f.start(1, true);
    assert_eq!(f.sent_to(1), [1, 2]);
    f.dies(1, libc::SIGSEGV);
    let crash = f.failure_of(1);
    assert_eq!(crash.kind, FailureKind::WorkerCrashed);
    assert_eq!(
        crash.message,
        "the worker (pid 101) was killed by signal 11 while running the task (after 1 retries on fresh workers)"
    );
    assert_eq!(crash.signal, Some(libc::SIGSEGV));
    assert_eq!(crash.stderr_tail.as_deref(), Some(&b"stderr of 1"[..]));
    assert_eq!(f.failure_of(2).kind, FailureKind::WorkerCrashed);
    // Task 3 never ran on a dead worker: it waits for the next one.
    f.start(2, true);
    assert_eq!(f.sent_to(2), [3]);
    assert_eq!(f.stats.lock().unwrap().crashed, 2);
}

#[test]
fn a_serve_workers_pipelined_tasks_run_elsewhere_without_counting_as_retries() {
    let mut f = fixture(Mode::Plain, |c| c.wait_for_ready = true);
    f.start(0, true);
    // A short task makes the pool send ahead.
    f.pool.run(vec![task(1)]);
    f.hear(0, answer(Some(1), "one"));
    f.pool.run(vec![task(2), task(3), task(4)]);
    assert_eq!(f.sent_to(0), [1, 2, 3, 4]);
    f.dies(0, libc::SIGKILL);
    // Task 2 ran and crashed (no retries); 3 and 4 never started.
    assert_eq!(f.failure_of(2).kind, FailureKind::WorkerCrashed);
    f.start(1, true);
    assert_eq!(f.sent_to(1), [3, 4]);
}

#[test]
fn recycling_after_max_tasks_per_worker_with_a_task_queued() {
    let mut f = fixture(Mode::Plain, |c| c.max_tasks_per_worker = Some(1));
    f.start(0, false);
    f.pool.run(vec![task(1), task(2)]);
    // Worn out by its one task: a fresh worker is launched at once, and the
    // queued task waits for it rather than for the retiring one.
    assert_eq!(f.sent_to(0), [1]);
    assert_eq!(f.log.lock().unwrap().launched, 2);
    f.hear(0, answer(None, "one"));
    assert_eq!(f.sent_to(0), [1]);
    assert_eq!(f.log.lock().unwrap().terminated, [0]);
    f.start(1, false);
    assert_eq!(f.sent_to(1), [2]);
    // The retired worker's exit is no crash.
    f.dies(0, libc::SIGTERM);
    f.hear(1, answer(None, "two"));
    let stats = f.stats.lock().unwrap();
    assert_eq!((stats.crashed, stats.restarted, stats.completed), (0, 2, 2));
}

#[test]
fn a_retiring_worker_that_crashes_fails_its_task_as_crashed() {
    let mut f = fixture(Mode::Plain, |c| c.max_tasks_per_worker = Some(1));
    f.start(0, false);
    f.pool.run(vec![task(1)]);
    f.dies(0, libc::SIGABRT);
    assert_eq!(f.failure_of(1).kind, FailureKind::WorkerCrashed);
    assert_eq!(f.stats.lock().unwrap().crashed, 1);
}

#[test]
fn workers_that_die_before_ready_trip_the_pool_and_queued_tasks_are_refused() {
    let mut f = fixture(Mode::Plain, |c| c.wait_for_ready = true);
    f.pool.run(vec![task(1)]);
    for wid in 0..3 {
        f.hear(wid, News::Spawned { pid: 100 });
        let code = Some(1);
        f.hear(wid, News::Exited { code, signal: None });
        f.hear(wid, News::Gone);
    }
    let refusal = f.failure_of(1);
    assert_eq!(refusal.kind, FailureKind::WorkerStartFailed);
    assert!(
        refusal.message.contains("exited with code 1")
            && refusal.message.contains("before it was ready"),
        "{}",
        refusal.message
    );
    let events = f.sink.0.lock().unwrap();
    let reported = events
        .iter()
        .filter(|e| matches!(e, PoolEvent::StartFailed(_)));
    assert_eq!(reported.count(), 1);
    drop(events);
    // Backing off: no fourth worker yet, and new tasks are refused at once.
    assert_eq!(f.log.lock().unwrap().launched, 3);
    f.pool.run(vec![task(2)]);
    assert_eq!(f.failure_of(2).kind, FailureKind::WorkerStartFailed);
}

#[test]
fn a_worker_that_breaks_the_protocol_is_killed_and_its_task_crashes() {
    let mut f = fixture(Mode::Plain, |_| {});
    f.start(0, true);
    f.pool.run(vec![task(1)]);
    f.hear(0, News::Malformed("a frame of an unknown kind"));
    assert_eq!(f.log.lock().unwrap().killed, [0]);
    f.dies(0, libc::SIGKILL);
    assert_eq!(f.failure_of(1).kind, FailureKind::WorkerCrashed);
    let events = f.sink.0.lock().unwrap();
    assert!(events.iter().any(|e| matches!(
        e,
        PoolEvent::Error { code: "ERR_OFFLOAD_WORKER_PROTOCOL", message }
            if message == "a worker (pid 100) wrote a frame of an unknown kind on its task channel; it was killed and replaced"
    )));
}

#[test]
fn destroy_fails_queued_and_running_tasks_once_and_kills_every_worker() {
    let mut f = fixture(Mode::Plain, |_| {});
    f.start(0, true);
    f.pool.run(vec![task_due_at_once(1), task(2), task(3)]);
    // Task 1 timed out and was cancelled in the worker: already settled.
    f.pool.timers();
    f.pool.destroy();
    let settled = f.settled();
    assert_eq!(settled.len(), 3);
    for id in [2, 3] {
        assert_eq!(f.failure_of(id).kind, FailureKind::PoolClosed);
    }
    assert_eq!(f.log.lock().unwrap().killed, [0]);
    assert!(!f.pool.finished());
    f.dies(0, libc::SIGKILL);
    assert!(f.pool.finished());
}

#[test]
fn close_waits_for_the_running_task_then_stops_the_workers() {
    let mut f = fixture(Mode::Command, |c| c.size = 2);
    f.start(0, false);
    f.pool.run(vec![task(1)]);
    f.pool.close(Duration::from_secs(5));
    f.pool.run(vec![task(2)]);
    assert_eq!(f.failure_of(2).kind, FailureKind::PoolClosed);
    assert!(f.log.lock().unwrap().terminated.is_empty());
    f.hear(0, answer(None, "one"));
    assert_eq!(f.log.lock().unwrap().terminated, [0]);
    f.dies(0, libc::SIGTERM);
    assert!(f.pool.finished());
    assert_eq!(f.stats.lock().unwrap().crashed, 0);
}

/// Lets `time` pass on tokio's paused clock, then runs what is due, as the
/// driver does when it wakes.
async fn wait(f: &mut Fixture, time: Duration) {
    tokio::time::advance(time).await;
    f.pool.timers();
    f.pool.publish();
}

fn pool_errors(f: &Fixture) -> Vec<&'static str> {
    let events = f.sink.0.lock().unwrap();
    (events.iter())
        .filter_map(|e| match e {
            PoolEvent::Error { code, .. } => Some(*code),
            _ => None,
        })
        .collect()
}

const MS: Duration = Duration::from_millis(1);

#[tokio::test(start_paused = true)]
async fn an_aborted_tasks_serve_worker_gets_its_cancel_grace_then_is_killed() {
    let mut f = fixture(Mode::Plain, |_| {});
    f.start(0, true);
    f.pool.run(vec![task(1)]);
    f.pool.cancel(1);
    assert_eq!(f.log.lock().unwrap().cancelled[&0], [1]);
    assert_eq!(f.failure_of(1).kind, FailureKind::Aborted);
    // The driver sleeps until the grace ends, not less and not more.
    let now = tokio::time::Instant::now();
    assert_eq!(f.pool.next_wake(), Some(now + CANCEL_GRACE));
    wait(&mut f, CANCEL_GRACE - MS).await;
    assert!(
        f.log.lock().unwrap().killed.is_empty(),
        "killed within its grace"
    );
    wait(&mut f, MS).await;
    assert_eq!(f.log.lock().unwrap().killed, [0]);
    assert_eq!(pool_errors(&f), ["ERR_OFFLOAD_WORKER_UNRESPONSIVE"]);
    // Its death settles nothing again, and is the pool's doing, not a crash.
    f.dies(0, libc::SIGKILL);
    assert_eq!(f.settled().len(), 1);
    assert_eq!(f.stats.lock().unwrap().crashed, 0);
}

#[tokio::test(start_paused = true)]
async fn a_serve_worker_that_answers_within_its_cancel_grace_lives_and_takes_the_next_task() {
    let mut f = fixture(Mode::Plain, |_| {});
    f.start(0, true);
    f.pool.run(vec![task(1), task(2)]);
    f.pool.cancel(1);
    wait(&mut f, CANCEL_GRACE / 2).await;
    assert_eq!(f.sent_to(0), [1], "the cancelled task holds the slot");
    f.hear(0, answer(Some(1), "too late"));
    assert_eq!(f.sent_to(0), [1, 2]);
    wait(&mut f, CANCEL_GRACE).await;
    assert!(f.log.lock().unwrap().killed.is_empty());
    assert!(pool_errors(&f).is_empty());
    f.hear(0, answer(Some(2), "two"));
    let settled = f.settled();
    assert_eq!(settled.len(), 2);
    assert_eq!(f.failure_of(1).kind, FailureKind::Aborted);
    assert_eq!(settled[1].1.as_ref().ok().map(String::as_str), Some("two"));
}

#[tokio::test(start_paused = true)]
async fn a_serve_task_past_its_timeout_is_cancelled_and_an_abort_after_it_changes_nothing() {
    let mut f = fixture(Mode::Plain, |c| c.task_timeout = Some(100 * MS));
    f.start(0, true);
    f.pool.run(vec![task(1)]);
    wait(&mut f, 99 * MS).await;
    assert!(f.settled().is_empty());
    wait(&mut f, MS).await;
    let failure = f.failure_of(1);
    assert_eq!(failure.kind, FailureKind::Timeout);
    assert!(
        failure.message.contains("timed out after 100 ms"),
        "{}",
        failure.message
    );
    assert_eq!(f.log.lock().unwrap().cancelled[&0], [1]);
    // The caller's abort arrives in the same tick as the timeout.
    f.pool.cancel(1);
    assert_eq!(f.log.lock().unwrap().cancelled[&0], [1]);
    wait(&mut f, CANCEL_GRACE).await;
    assert_eq!(f.log.lock().unwrap().killed, [0]);
    assert_eq!(f.settled().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_serve_worker_that_crashes_during_a_cancel_grace_fails_only_its_other_tasks() {
    let mut f = fixture(Mode::Plain, |c| c.concurrency = 2);
    f.start(0, true);
    f.pool.run(vec![task(1), task(2)]);
    f.pool.cancel(1);
    wait(&mut f, CANCEL_GRACE / 2).await;
    f.dies(0, libc::SIGSEGV);
    assert_eq!(f.failure_of(1).kind, FailureKind::Aborted);
    assert_eq!(f.failure_of(2).kind, FailureKind::WorkerCrashed);
    assert_eq!(f.stats.lock().unwrap().crashed, 1);
    // The grace of a worker that is gone kills nothing.
    wait(&mut f, CANCEL_GRACE).await;
    assert!(f.log.lock().unwrap().killed.is_empty());
    assert!(pool_errors(&f).is_empty());
}
