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
fn kill_is_reported_and_a_kill_after_the_exit_counts_as_sent_but_not_for_a_failed_launch() {
    let (child, rx) = start(request("sleep", &["30"]));
    assert!(child.kill(libc::SIGTERM).unwrap());
    let events = run_to_end(&rx);
    assert_eq!(exit_of(&events).signal, Some(libc::SIGTERM));
    // The handle cannot know whether its owner has seen the exit yet (the JS
    // side answers `false` itself once it has): to the owner it may still run.
    assert!(child.kill(libc::SIGTERM).unwrap());

    let (never, rx) = start(request("/nonexistent/offload-test", &[]));
    run_to_end(&rx);
    assert!(!never.kill(libc::SIGTERM).unwrap());
}

#[test]
fn children_get_the_normal_scheduling_policy_not_the_spawners_batch() {
    // Field 41 of /proc/<pid>/stat is the policy: 0 is SCHED_OTHER, 3 SCHED_BATCH.
    let (child, rx) = start(request("cut", &["-d", " ", "-f", "41", "/proc/self/stat"]));
    child.collect(Stream::Stdout);
    let events = run_to_end(&rx);
    assert_eq!(outcome_of(&events).stdout.as_deref(), Some(&b"0\n"[..]));
}

#[test]
fn a_pipe_beyond_stderr_is_a_two_way_channel_at_the_descriptor_asked_for() {
    use std::io::{Read, Write};
    let mut req = sh("echo ping >&4; read answer <&4; echo \"got $answer\"");
    let ours = req.pipe_at(4).expect("socket pair");
    let (child, rx) = start(req);
    child.collect(Stream::Stdout);
    let mut ours = std::os::unix::net::UnixStream::from(ours);
    let mut line = [0u8; 5];
    ours.read_exact(&mut line).unwrap();
    assert_eq!(&line, b"ping\n");
    ours.write_all(b"pong\n").unwrap();
    let events = run_to_end(&rx);
    assert_eq!(exit_of(&events).code, Some(0));
    assert_eq!(
        outcome_of(&events).stdout.as_deref(),
        Some(&b"got pong\n"[..])
    );
    // The child's end was dropped after the launch: the child gone, ours reads end of file.
    let mut rest = Vec::new();
    ours.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());
}

#[test]
fn descriptors_between_stderr_and_the_highest_one_asked_for_are_closed_in_the_child() {
    let mut req = sh("for fd in 3 4 5 6; do [ -e /proc/self/fd/$fd ] && printf $fd; done; true");
    let _ours = req.pipe_at(6).expect("socket pair");
    let (child, rx) = start(req);
    child.collect(Stream::Stdout);
    let events = run_to_end(&rx);
    assert_eq!(outcome_of(&events).stdout.as_deref(), Some(&b"6"[..]));
}

#[test]
fn the_ipc_channel_can_be_at_any_descriptor() {
    let mut req = sh("printf '{\"at\":5}\\n' >&5");
    req.ipc = Some(super::ipc::Serialization::Json);
    req.ipc_fd = 5;
    let (_child, rx) = start(req);
    let events = run_to_end(&rx);
    assert!(
        events.iter().any(
            |e| matches!(e, ChildEvent::Message(super::events::Message::Json(m)) if m == "{\"at\":5}")
        ),
        "{events:?}"
    );
}

#[test]
fn a_timeout_is_reported_before_the_exit_it_causes() {
    let mut req = request("sleep", &["5"]);
    req.timeout = Some(Duration::from_millis(50));
    let (_child, rx) = start(req);
    let events = run_to_end(&rx);
    let timed_out = events
        .iter()
        .position(|e| matches!(e, ChildEvent::TimedOut));
    let exit = events.iter().position(|e| matches!(e, ChildEvent::Exit(_)));
    assert!(timed_out.is_some() && timed_out < exit, "{events:?}");
    assert_eq!(exit_of(&events).signal, Some(libc::SIGTERM));
    assert!(outcome_of(&events).timed_out);
}

#[test]
fn streamed_output_past_max_buffer_is_reported_and_the_child_killed() {
    // 300 000 bytes, then a wait that only the kill ends.
    let mut req = sh("head -c 300000 /dev/zero; exec sleep 30");
    req.max_buffer = 100_000;
    req.limit_streamed_output = true;
    let (child, rx) = start(req);
    child.stream(Stream::Stdout);
    child.read(Stream::Stdout);
    let mut streamed = 0;
    let mut last = 0;
    let mut events = Vec::new();
    loop {
        let event = rx.recv_timeout(Duration::from_secs(20)).expect("no end");
        match &event {
            ChildEvent::Output { data, .. } => {
                streamed += data.len();
                last = data.len();
                child.read(Stream::Stdout);
            }
            ChildEvent::OutputOverflow { stream, kept } => {
                assert_eq!(*stream, Stream::Stdout);
                assert!(streamed > 100_000, "reported at {streamed} bytes");
                assert_eq!(*kept, 100_000 - (streamed - last));
            }
            _ => {}
        }
        let end = matches!(event, ChildEvent::Closed(_));
        events.push(event);
        if end {
            break;
        }
    }
    assert!(events
        .iter()
        .any(|e| matches!(e, ChildEvent::OutputOverflow { .. })));
    assert_eq!(exit_of(&events).signal, Some(libc::SIGTERM));
    assert_eq!(
        outcome_of(&events).max_buffer_exceeded,
        Some(Stream::Stdout)
    );
}

#[test]
fn streamed_output_is_not_limited_unless_asked() {
    let mut req = sh("head -c 300000 /dev/zero");
    req.max_buffer = 1000;
    let (child, rx) = start(req);
    child.stream(Stream::Stdout);
    child.read(Stream::Stdout);
    let mut streamed = 0;
    loop {
        match rx.recv_timeout(Duration::from_secs(20)).expect("no end") {
            ChildEvent::Output { data, .. } => {
                streamed += data.len();
                child.read(Stream::Stdout);
            }
            ChildEvent::OutputOverflow { .. } => panic!("limited"),
            ChildEvent::Closed(_) => break,
            _ => {}
        }
    }
    assert_eq!(streamed, 300_000);
}

/// The bug: a Node socket's descriptor, non-blocking as libuv makes it, given as
/// stdin made `cat` fail with EAGAIN ("Resource temporarily unavailable") when
/// it read before the data came.
#[test]
fn a_non_blocking_descriptor_given_as_stdin_is_blocking_in_the_child() {
    let (read, _write) = fds::pipe().unwrap();
    fds::set_nonblocking(&read).unwrap();
    let mut req = sh("grep flags /proc/self/fdinfo/0");
    req.stdin = Input::Fd(read);
    let (child, rx) = start(req);
    child.collect(Stream::Stdout);
    let events = run_to_end(&rx);
    let out = outcome_of(&events).stdout.clone().unwrap();
    let line = String::from_utf8(out).unwrap();
    let flags = i64::from_str_radix(line.trim().trim_start_matches("flags:").trim(), 8).unwrap();
    assert_eq!(flags & libc::O_NONBLOCK as i64, 0, "{line}");
}

/// The bug: an executable file without `#!` failed with ENOEXEC, where Node's
/// spawn (execvp) runs it with /bin/sh.
#[test]
fn an_executable_without_a_shebang_runs_as_a_shell_script() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("offload-noshebang-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("script");
    std::fs::write(&script, "echo \"ran as a script: $1\"\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (child, rx) = start(request(script.to_str().unwrap(), &["arg"]));
    child.collect(Stream::Stdout);
    let events = run_to_end(&rx);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(
        outcome_of(&events).stdout.as_deref(),
        Some(&b"ran as a script: arg\n"[..])
    );
}
