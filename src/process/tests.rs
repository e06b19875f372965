//! Engine tests with real children: each collects the events of one launch.

use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;

struct ChannelSink(Mutex<Sender<ChildEvent>>);

impl EventSink for ChannelSink {
    fn emit(&self, event: ChildEvent) {
        let _ = self.0.lock().unwrap().send(event);
    }
}

fn start(request: SpawnRequest) -> (ChildHandle, Receiver<ChildEvent>) {
    let (tx, rx) = channel();
    let handle = spawn(request, Arc::new(ChannelSink(Mutex::new(tx)))).expect("spawn");
    (handle, rx)
}

fn request(file: &str, args: &[&str]) -> SpawnRequest {
    let mut request = SpawnRequest::new(file, args.iter().map(|a| a.to_string()).collect());
    request.env = current_env();
    request
}

fn sh(script: &str) -> SpawnRequest {
    request("sh", &["-c", script])
}

/// Every event up to and including `Closed` (or `SpawnFailed`).
fn run_to_end(rx: &Receiver<ChildEvent>) -> Vec<ChildEvent> {
    let mut events = Vec::new();
    loop {
        let event = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the child never finished");
        let last = matches!(event, ChildEvent::Closed(_) | ChildEvent::SpawnFailed(_));
        events.push(event);
        if last {
            return events;
        }
    }
}

fn exit_of(events: &[ChildEvent]) -> &ExitInfo {
    events
        .iter()
        .find_map(|e| {
            if let ChildEvent::Exit(x) = e {
                Some(x)
            } else {
                None
            }
        })
        .expect("no Exit event")
}

fn outcome_of(events: &[ChildEvent]) -> &Outcome {
    match events.last() {
        Some(ChildEvent::Closed(o)) => o,
        other => panic!("expected Closed last, got {other:?}"),
    }
}

#[test]
fn collects_output_and_exit_code_in_event_order() {
    let (child, rx) = start(sh("echo out; echo err >&2; exit 3"));
    child.collect(Stream::Stdout);
    child.collect(Stream::Stderr);
    let events = run_to_end(&rx);
    assert!(matches!(events[0], ChildEvent::Spawned { pid } if pid == child.pid().unwrap()));
    assert_eq!(exit_of(&events).code, Some(3));
    let outcome = outcome_of(&events);
    assert_eq!(outcome.stdout.as_deref(), Some(&b"out\n"[..]));
    assert_eq!(outcome.stderr.as_deref(), Some(&b"err\n"[..]));
}

#[test]
fn output_nobody_asked_for_is_collected_when_the_child_exits() {
    let (_child, rx) = start(sh("echo late"));
    let events = run_to_end(&rx);
    assert_eq!(outcome_of(&events).stdout.as_deref(), Some(&b"late\n"[..]));
}

#[test]
fn missing_program_fails_with_enoent_at_the_exec_step() {
    let (child, rx) = start(request("offload-no-such-program", &[]));
    let events = run_to_end(&rx);
    let ChildEvent::SpawnFailed(f) = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(
        (f.step, f.error.raw_os_error()),
        (Step::Exec, Some(libc::ENOENT))
    );
    assert_eq!(child.pid(), None);
}

#[test]
fn missing_cwd_is_reported_as_a_cwd_failure() {
    let mut req = sh("true");
    req.cwd = Some("/offload/no/such/dir".into());
    let (_child, rx) = start(req);
    let events = run_to_end(&rx);
    let ChildEvent::SpawnFailed(f) = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(f.step, Step::Chdir);
    assert_eq!(f.path, "/offload/no/such/dir");
}

#[test]
fn stdin_data_is_written_then_closed() {
    let mut req = request("cat", &[]);
    req.stdin = Input::Data(b"fed through stdin".to_vec());
    let (child, rx) = start(req);
    child.collect(Stream::Stdout);
    let events = run_to_end(&rx);
    assert_eq!(
        outcome_of(&events).stdout.as_deref(),
        Some(&b"fed through stdin"[..])
    );
}

#[test]
fn streamed_output_arrives_one_chunk_per_read() {
    // The child waits for a line first: a stdout nobody has asked for yet is
    // collected when the child exits, so `stream` must come before the exit
    // even when this thread is descheduled (it once was, on a loaded machine).
    let (child, rx) = start(sh("read go; printf hello"));
    child.stream(Stream::Stdout);
    child.read(Stream::Stdout);
    assert!(child.write_stdin(1, b"go\n".to_vec()));
    child.end_stdin();
    let mut got = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_secs(20)).unwrap() {
            ChildEvent::Output { data, .. } => {
                got.extend(data);
                child.read(Stream::Stdout);
            }
            ChildEvent::OutputEnd { .. } => break,
            _ => {}
        }
    }
    assert_eq!(got, b"hello");
}

#[test]
fn timeout_escalates_to_sigkill_when_sigterm_is_ignored() {
    let mut req = sh("trap '' TERM; echo ready; while :; do :; done");
    req.timeout = Some(Duration::from_millis(200));
    req.force_kill_after = Some(Duration::from_millis(200));
    let (_child, rx) = start(req);
    let events = run_to_end(&rx);
    assert_eq!(exit_of(&events).signal, Some(libc::SIGKILL));
    assert!(outcome_of(&events).timed_out);
}

#[test]
fn limits_and_nice_apply_before_exec() {
    let mut req = sh("ulimit -n; ulimit -f; nice");
    req.limits = Limits {
        open_files: Some(77),
        file_size_bytes: Some(1024 * 512),
        nice: Some(7),
        ..Limits::default()
    };
    let (child, rx) = start(req);
    child.collect(Stream::Stdout);
    let events = run_to_end(&rx);
    // `ulimit -f` counts 512-byte blocks.
    assert_eq!(
        outcome_of(&events).stdout.as_deref(),
        Some(&b"77\n1024\n7\n"[..])
    );
}

#[test]
fn stdout_can_be_handed_to_another_child_untouched() {
    let (first, first_rx) = start(sh("printf 'a\\nnode\\nb\\n'"));
    assert!(first.reserve_stdout());
    assert!(
        !first.reserve_stdout(),
        "stdout can go to one next stage only"
    );
    let mut req = request("grep", &["node"]);
    req.stdin = Input::ChildStdout(first.shared().clone());
    let (second, second_rx) = start(req);
    second.collect(Stream::Stdout);
    let events = run_to_end(&second_rx);
    assert_eq!(outcome_of(&events).stdout.as_deref(), Some(&b"node\n"[..]));
    assert_eq!(outcome_of(&run_to_end(&first_rx)).stdout, None);
}

#[test]
fn kill_is_reported_and_a_second_kill_finds_no_child() {
    let (child, rx) = start(request("sleep", &["30"]));
    assert!(child.kill(libc::SIGTERM).unwrap());
    let events = run_to_end(&rx);
    assert_eq!(exit_of(&events).signal, Some(libc::SIGTERM));
    assert!(!child.kill(libc::SIGTERM).unwrap());
}

#[test]
fn children_get_the_normal_scheduling_policy_not_the_spawners_batch() {
    // Field 41 of /proc/<pid>/stat is the policy: 0 is SCHED_OTHER, 3 SCHED_BATCH.
    let (child, rx) = start(request("cut", &["-d", " ", "-f", "41", "/proc/self/stat"]));
    child.collect(Stream::Stdout);
    let events = run_to_end(&rx);
    assert_eq!(outcome_of(&events).stdout.as_deref(), Some(&b"0\n"[..]));
}
