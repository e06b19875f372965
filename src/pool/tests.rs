//! Pool engine tests with real workers: Node scripts and a Python command.

use std::collections::HashMap;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;

/// Queues the task `{"n": i}` as task `i`.
fn run_n(pool: &Pool, i: u32) {
    pool.run(
        i,
        format!("{{\"n\":{i}}}").into_bytes(),
        RunOptions::default(),
    );
}

/// The `pid` a Node test worker put in its answer.
fn answer_pid(result: &Result<String, TaskFailure>) -> i64 {
    let value: serde_json::Value = serde_json::from_str(result.as_ref().unwrap()).unwrap();
    value["pid"].as_i64().unwrap()
}

fn timeout(after: Duration) -> RunOptions {
    RunOptions {
        timeout: TaskTimeout::After(after),
        ..RunOptions::default()
    }
}

struct ChannelSink(Mutex<Sender<PoolEvent>>);

impl PoolSink for ChannelSink {
    fn emit(&self, event: PoolEvent) {
        let _ = self.0.lock().unwrap().send(event);
    }
}

/// A Node worker in the style everyone writes, with a few ways to misbehave.
const NODE_WORKER: &str = r#"
process.on('message', (task) => {
  if (task.exit !== undefined) process.exit(task.exit)
  if (task.stall) return
  if (task.throwLater) setTimeout(() => { throw new Error('boom in a timer') }, 1)
  else process.send({ n: task.n * 2, pid: process.pid })
})
"#;

fn node_pool(
    size: usize,
    tweak: impl FnOnce(&mut PoolConfig),
) -> (Pool, Receiver<PoolEvent>, tempdir::Dir) {
    let dir = tempdir::Dir::new();
    let script = dir.write("worker.js", NODE_WORKER);
    let program = Program::Node {
        script,
        args: vec![],
        exec_path: "node".into(),
        exec_argv: vec![],
    };
    start(PoolConfig::new(program, size), tweak, dir)
}

fn start(
    mut config: PoolConfig,
    tweak: impl FnOnce(&mut PoolConfig),
    dir: tempdir::Dir,
) -> (Pool, Receiver<PoolEvent>, tempdir::Dir) {
    tweak(&mut config);
    let (tx, rx) = channel();
    (
        Pool::start(config, Arc::new(ChannelSink(Mutex::new(tx)))),
        rx,
        dir,
    )
}

/// The results of `ids`, in any order, waiting at most 30 s.
fn results(rx: &Receiver<PoolEvent>, ids: usize) -> HashMap<u32, Result<String, TaskFailure>> {
    let mut done = HashMap::new();
    while done.len() < ids {
        match rx
            .recv_timeout(Duration::from_secs(30))
            .expect("tasks never settled")
        {
            PoolEvent::TaskDone { id, result } => {
                assert!(
                    done.insert(id, result.map(|a| a.json)).is_none(),
                    "task {id} settled twice"
                )
            }
            PoolEvent::WorkerExit { .. }
            | PoolEvent::Error { .. }
            | PoolEvent::StartFailed(_)
            | PoolEvent::Closed => {}
        }
    }
    done
}

fn wait_closed(rx: &Receiver<PoolEvent>) -> Vec<PoolEvent> {
    let mut seen = Vec::new();
    loop {
        let event = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the pool never closed");
        if matches!(event, PoolEvent::Closed) {
            return seen;
        }
        seen.push(event);
    }
}

fn doubled(result: &Result<String, TaskFailure>) -> i64 {
    let text = result.as_ref().expect("task failed");
    let value: serde_json::Value = serde_json::from_str(text).unwrap();
    value["n"].as_i64().unwrap()
}

#[test]
fn every_task_settles_once_with_its_own_result_across_workers() {
    let (pool, rx, _dir) = node_pool(2, |_| {});
    for i in 0..2000u32 {
        run_n(&pool, i);
    }
    let done = results(&rx, 2000);
    let mut pids = std::collections::HashSet::new();
    for (id, result) in &done {
        assert_eq!(doubled(result), *id as i64 * 2);
        pids.insert(
            serde_json::from_str::<serde_json::Value>(result.as_ref().unwrap()).unwrap()["pid"]
                .as_i64(),
        );
    }
    assert_eq!(pids.len(), 2, "both workers took tasks");
    let stats = pool.stats();
    assert_eq!((stats.completed, stats.failed, stats.size), (2000, 0, 2));
    pool.close(Duration::from_secs(5));
    wait_closed(&rx);
}

#[test]
fn a_worker_that_exits_mid_task_fails_that_task_and_is_replaced() {
    let (pool, rx, _dir) = node_pool(1, |_| {});
    pool.run(1, br#"{"exit":3}"#.to_vec(), RunOptions::default());
    pool.run(2, br#"{"n":21}"#.to_vec(), RunOptions::default());
    let done = results(&rx, 2);
    let failure = done[&1].as_ref().unwrap_err();
    assert_eq!(
        (failure.kind.code(), failure.exit_code),
        (Some("ERR_OFFLOAD_WORKER_CRASHED"), Some(3))
    );
    assert_eq!(doubled(&done[&2]), 42);
    let stats = pool.stats();
    assert_eq!((stats.crashed, stats.restarted), (1, 1));
    pool.destroy();
    wait_closed(&rx);
}

#[test]
fn an_asynchronous_throw_mid_task_is_a_crash_with_the_stderr_tail() {
    let (pool, rx, _dir) = node_pool(1, |c| c.stderr = StderrMode::Tail(4096));
    pool.run(1, br#"{"throwLater":true}"#.to_vec(), RunOptions::default());
    pool.run(2, br#"{"n":1}"#.to_vec(), RunOptions::default());
    let done = results(&rx, 2);
    let failure = done[&1].as_ref().unwrap_err();
    assert_eq!(failure.kind, FailureKind::WorkerCrashed);
    let tail = String::from_utf8_lossy(failure.stderr_tail.as_deref().unwrap()).into_owned();
    assert!(tail.contains("boom in a timer"), "stderr tail: {tail}");
    assert_eq!(doubled(&done[&2]), 2);
    pool.destroy();
    wait_closed(&rx);
}

#[test]
fn a_task_past_its_timeout_fails_and_its_worker_is_replaced() {
    let (pool, rx, _dir) = node_pool(1, |c| c.task_timeout = Some(Duration::from_millis(300)));
    pool.run(1, br#"{"stall":true}"#.to_vec(), RunOptions::default());
    // The clock runs from dispatch, which for the replacement includes Node's
    // start: give this one a generous timeout of its own.
    pool.run(2, br#"{"n":5}"#.to_vec(), timeout(Duration::from_secs(20)));
    let done = results(&rx, 2);
    assert_eq!(done[&1].as_ref().unwrap_err().kind, FailureKind::Timeout);
    assert_eq!(doubled(&done[&2]), 10);
    pool.destroy();
    wait_closed(&rx);
}

#[test]
fn with_wait_for_ready_a_tasks_timeout_does_not_include_the_workers_start() {
    let dir = tempdir::Dir::new();
    // Ready only after 400 ms, longer than the task timeout.
    let script = dir.write(
        "slow-start.js",
        "setTimeout(() => process.send({ $offload: 'ready' }), 400)\nprocess.on('message', (t) => process.send({ n: t.n * 2 }))\n",
    );
    let program = Program::Node {
        script,
        args: vec![],
        exec_path: "node".into(),
        exec_argv: vec![],
    };
    let (pool, rx, _dir) = start(
        PoolConfig::new(program, 1),
        |c| {
            c.wait_for_ready = true;
            c.task_timeout = Some(Duration::from_millis(250));
        },
        dir,
    );
    pool.run(1, br#"{"n":8}"#.to_vec(), RunOptions::default());
    assert_eq!(doubled(&results(&rx, 1)[&1]), 16);
    pool.destroy();
    wait_closed(&rx);
}

#[test]
fn workers_are_recycled_after_max_tasks_per_worker() {
    let (pool, rx, _dir) = node_pool(1, |c| c.max_tasks_per_worker = Some(3));
    let mut pids = std::collections::BTreeSet::new();
    for i in 0..7u32 {
        run_n(&pool, i);
        pids.insert(answer_pid(&results(&rx, 1)[&i]));
    }
    assert_eq!(pids.len(), 3, "7 tasks at 3 per worker need 3 workers");
    assert_eq!(pool.stats().crashed, 0);
    pool.destroy();
    wait_closed(&rx);
}

#[test]
fn a_worker_past_max_rss_bytes_is_recycled_between_tasks() {
    // Any Node process is well past 1 MiB resident: every task recycles.
    let (pool, rx, _dir) = node_pool(1, |c| c.max_rss_bytes = Some(1 << 20));
    let mut pids = std::collections::BTreeSet::new();
    for i in 0..3u32 {
        run_n(&pool, i);
        pids.insert(answer_pid(&results(&rx, 1)[&i]));
    }
    assert_eq!(pids.len(), 3);
    pool.destroy();
    wait_closed(&rx);
}

#[test]
fn retries_run_a_crashed_task_again_on_a_fresh_worker() {
    let dir = tempdir::Dir::new();
    // Crashes on the first attempt of each task (a marker file remembers it).
    let marker = dir.write("seen", "");
    std::fs::remove_file(&marker).unwrap();
    let script = dir.write(
        "flaky.js",
        &format!(
            "const fs = require('fs')\nprocess.on('message', (t) => {{\n  if (!fs.existsSync({marker:?})) {{ fs.writeFileSync({marker:?}, ''); process.exit(9) }}\n  process.send({{ n: t.n * 2 }})\n}})\n"
        ),
    );
    let program = Program::Node {
        script,
        args: vec![],
        exec_path: "node".into(),
        exec_argv: vec![],
    };
    let (pool, rx, _dir) = start(PoolConfig::new(program, 1), |c| c.retries = 1, dir);
    pool.run(1, br#"{"n":6}"#.to_vec(), RunOptions::default());
    assert_eq!(doubled(&results(&rx, 1)[&1]), 12);
    assert_eq!(pool.stats().crashed, 1);
    pool.destroy();
    wait_closed(&rx);
}

#[test]
fn the_pool_grows_with_demand_and_shrinks_to_min_size_when_idle() {
    let (pool, rx, _dir) = node_pool(3, |c| {
        c.min_size = 1;
        c.idle_timeout = Some(Duration::from_millis(200));
    });
    for i in 0..300u32 {
        run_n(&pool, i);
    }
    results(&rx, 300);
    // Two workers beyond min_size stop once idle for 200 ms.
    let mut exits = 0;
    while exits < 2 {
        match rx
            .recv_timeout(Duration::from_secs(10))
            .expect("idle workers never stopped")
        {
            PoolEvent::WorkerExit { .. } => exits += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((pool.stats().size, pool.stats().crashed), (1, 0));
    pool.run(999, br#"{"n":1}"#.to_vec(), RunOptions::default());
    assert_eq!(doubled(&results(&rx, 1)[&999]), 2);
    pool.destroy();
    wait_closed(&rx);
}

#[test]
fn aborting_a_queued_and_a_running_task() {
    let (pool, rx, _dir) = node_pool(1, |_| {});
    pool.run(1, br#"{"stall":true}"#.to_vec(), RunOptions::default());
    pool.run(2, br#"{"n":1}"#.to_vec(), RunOptions::default());
    pool.cancel(2);
    pool.cancel(1);
    pool.run(3, br#"{"n":4}"#.to_vec(), RunOptions::default());
    let done = results(&rx, 3);
    assert_eq!(done[&1].as_ref().unwrap_err().kind, FailureKind::Aborted);
    assert_eq!(done[&2].as_ref().unwrap_err().kind, FailureKind::Aborted);
    assert_eq!(doubled(&done[&3]), 8);
    pool.destroy();
    wait_closed(&rx);
}

#[test]
fn past_max_queue_a_task_is_refused() {
    let (pool, rx, _dir) = node_pool(1, |c| c.max_queue = Some(1));
    // Let the worker start, so the first task runs and the second waits.
    pool.run(1, br#"{"n":1}"#.to_vec(), RunOptions::default());
    results(&rx, 1);
    pool.run(2, br#"{"stall":true}"#.to_vec(), RunOptions::default());
    pool.run(3, br#"{"n":3}"#.to_vec(), RunOptions::default());
    pool.run(4, br#"{"n":4}"#.to_vec(), RunOptions::default());
    let refused = results(&rx, 1);
    assert_eq!(
        refused[&4].as_ref().unwrap_err().kind,
        FailureKind::QueueFull
    );
    pool.destroy();
    let rest = results(&rx, 2);
    assert!(rest
        .values()
        .all(|r| r.as_ref().unwrap_err().kind == FailureKind::PoolClosed));
    wait_closed(&rx);
}

#[test]
fn close_finishes_the_queue_then_stops_every_worker() {
    let (pool, rx, _dir) = node_pool(2, |_| {});
    for i in 0..50u32 {
        run_n(&pool, i);
    }
    pool.close(Duration::from_secs(5));
    // Accepted, then refused by the pool.
    pool.run(99, b"{}".to_vec(), RunOptions::default());
    let done = results(&rx, 51);
    assert_eq!(done.values().filter(|r| r.is_ok()).count(), 50);
    assert_eq!(
        done[&99].as_ref().unwrap_err().kind,
        FailureKind::PoolClosed
    );
    let exits: Vec<u32> = wait_closed(&rx)
        .into_iter()
        .filter_map(|e| {
            if let PoolEvent::WorkerExit { pid, .. } = e {
                Some(pid)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(exits.len(), 2);
    for pid in exits {
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "worker {pid} is still there"
        );
    }
}

#[test]
fn a_python_worker_through_command() {
    let dir = tempdir::Dir::new();
    let script = dir.write(
        "worker.py",
        "import json, sys\nfor line in sys.stdin:\n    task = json.loads(line)\n    print(json.dumps({'n': task['n'] * 2}), flush=True)\n",
    );
    let program = Program::Command {
        file: "python3".into(),
        args: vec![script],
    };
    let (pool, rx, _dir) = start(PoolConfig::new(program, 2), |_| {}, dir);
    for i in 0..200u32 {
        run_n(&pool, i);
    }
    for (id, result) in results(&rx, 200) {
        assert_eq!(doubled(&result), id as i64 * 2);
    }
    pool.close(Duration::from_secs(5));
    wait_closed(&rx);
}

/// A temporary directory for worker scripts, removed on drop.
mod tempdir {
    use std::path::PathBuf;

    pub struct Dir(PathBuf);

    impl Dir {
        pub fn new() -> Dir {
            static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let path =
                std::env::temp_dir().join(format!("offload-pool-{}-{n}", std::process::id()));
            std::fs::create_dir_all(&path).unwrap();
            Dir(path)
        }

        pub fn write(&self, name: &str, text: &str) -> String {
            let path = self.0.join(name);
            std::fs::write(&path, text).unwrap();
            path.to_string_lossy().into_owned()
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
