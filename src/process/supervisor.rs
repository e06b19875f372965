//! One task per child: waits for its exit on the pidfd, enforces the timeout,
//! escalates kills to SIGKILL, and reports `Exit` then `Closed`.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use tokio::sync::watch;
use tokio::time::{sleep_until, Instant};

use super::events::{ChildEvent, EventSink, ExitInfo, Outcome, Stream};
use super::handle::{ChildShared, Control, OutputControl, WriteControl};
use super::{output, reap, stdin};

/// The pidfd, shared with [`ChildShared`] (which signals through it).
struct PidFd(Arc<OwnedFd>);

impl AsRawFd for PidFd {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

/// What the supervisor needs of the request.
pub(crate) struct Policy {
    pub timeout: Option<Duration>,
    pub kill_signal: i32,
    pub force_kill_after: Option<Duration>,
    pub max_buffer: usize,
    pub limit_streamed_output: bool,
    pub started: std::time::Instant,
}

/// The parent's ends of a running child and the receivers for the caller's requests.
pub(crate) struct Running {
    pub pidfd: Arc<OwnedFd>,
    pub shared: Arc<ChildShared>,
    pub sink: Arc<dyn EventSink>,
    pub policy: Policy,
    pub control: UnboundedReceiver<Control>,
    /// Receivers for stdout and stderr, when they are pipes.
    pub outputs: [Option<UnboundedReceiver<OutputControl>>; 2],
    /// Our own senders to the output readers, to tell them the child exited.
    pub output_notify: [UnboundedSender<OutputControl>; 2],
    pub stdin: Option<(OwnedFd, UnboundedReceiver<WriteControl>, Option<Vec<u8>>)>,
    pub ipc: Option<(
        OwnedFd,
        super::ipc::Serialization,
        UnboundedReceiver<WriteControl>,
    )>,
}

pub(crate) async fn supervise(run: Running) {
    let Running {
        pidfd,
        shared,
        sink,
        policy,
        mut control,
        outputs,
        output_notify,
        stdin,
        ipc,
    } = run;
    let (exited_tx, exited_rx) = watch::channel(false);
    let (overflow_tx, mut overflow_rx) = mpsc::unbounded_channel();

    if let Some((fd, rx, data)) = stdin {
        tokio::spawn(stdin::run(fd, rx, sink.clone(), exited_rx, data));
    }
    // Like Node, a child with an IPC channel is closed only once the channel is.
    let ipc = ipc.map(|(fd, serialization, rx)| {
        tokio::spawn(super::ipc::run(fd, serialization, rx, sink.clone()))
    });
    let readers: Vec<_> = outputs
        .into_iter()
        .zip([Stream::Stdout, Stream::Stderr])
        .map(|(rx, stream)| {
            rx.map(|rx| {
                tokio::spawn(output::run(
                    stream,
                    shared.clone(),
                    rx,
                    sink.clone(),
                    output::Limit {
                        max_buffer: policy.max_buffer,
                        streamed: policy.limit_streamed_output,
                    },
                    overflow_tx.clone(),
                ))
            })
        })
        .collect();
    drop(overflow_tx);

    // SAFETY: the Arc keeps the pidfd open, unchanged, for as long as this AsyncFd.
    let pid_ready =
        unsafe { AsyncFd::register_with_interest(PidFd(pidfd.clone()), Interest::READABLE) };
    let mut outcome = Outcome::default();
    let mut deadline = policy
        .timeout
        .map(|t| Instant::from_std(policy.started) + t);
    let mut force_at: Option<Instant> = None;
    let mut control_open = true;
    let far = Instant::now() + Duration::from_secs(86400 * 365);

    let arm_force = |force_at: &mut Option<Instant>| {
        if let (None, Some(after)) = (*force_at, policy.force_kill_after) {
            *force_at = Some(Instant::now() + after);
        }
    };
    let kill_now = |force_at: &mut Option<Instant>| {
        if let Ok(true) = shared.signal(policy.kill_signal) {
            if policy.kill_signal != libc::SIGKILL {
                arm_force(force_at);
            }
        }
    };

    let mut exit = loop {
        // Neither can fail for a pidfd of our own child; if one does, report the
        // child as ended with an unknown status rather than never settle.
        let Ok(pid_ready) = &pid_ready else {
            break ExitInfo::default();
        };
        tokio::select! {
            guard = pid_ready.readable() => {
                let Ok(mut guard) = guard else { break ExitInfo::default() };
                match reap::try_reap(&pidfd) {
                    Ok(Some(info)) => break info,
                    Ok(None) => guard.clear_ready(),
                    Err(_) => break ExitInfo::default(),
                }
            }
            _ = sleep_until(deadline.unwrap_or(far)), if deadline.is_some() => {
                deadline = None;
                outcome.timed_out = true;
                kill_now(&mut force_at);
                sink.emit(ChildEvent::TimedOut);
            }
            _ = sleep_until(force_at.unwrap_or(far)), if force_at.is_some() => {
                force_at = None;
                let _ = shared.signal(libc::SIGKILL);
            }
            ctl = control.recv(), if control_open => match ctl {
                Some(Control::Killed) => arm_force(&mut force_at),
                Some(Control::Cancel) => {
                    outcome.canceled = true;
                    kill_now(&mut force_at);
                }
                None => control_open = false,
            },
            Some(_) = overflow_rx.recv() => kill_now(&mut force_at),
        }
    };
    exit.duration_ms = policy.started.elapsed().as_secs_f64() * 1000.0;
    drop(pid_ready);
    drop(pidfd);
    shared.set_exited();
    let _ = exited_tx.send(true);
    sink.emit(ChildEvent::Exit(exit));

    // Wait for the pipes to drain. A grandchild may hold them open; once the
    // child timed out or was cancelled (now or while we wait), stop waiting.
    for notify in &output_notify {
        let _ = notify.send(OutputControl::ChildExited);
    }
    let abandon = |outcome: &Outcome| {
        if outcome.timed_out || outcome.canceled {
            for notify in &output_notify {
                let _ = notify.send(OutputControl::Abandon);
            }
        }
    };
    abandon(&outcome);
    let mut drained = std::pin::pin!(async {
        let mut collected = Vec::with_capacity(2);
        for reader in readers {
            collected.push(match reader {
                Some(reader) => reader.await.ok(),
                None => None,
            });
        }
        if let Some(ipc) = ipc {
            let _ = ipc.await;
        }
        collected
    });
    let collected = loop {
        tokio::select! {
            collected = &mut drained => break collected,
            _ = sleep_until(deadline.unwrap_or(far)), if deadline.is_some() => {
                deadline = None;
                outcome.timed_out = true;
                abandon(&outcome);
            }
            ctl = control.recv(), if control_open => match ctl {
                Some(Control::Cancel) => {
                    outcome.canceled = true;
                    abandon(&outcome);
                }
                Some(Control::Killed) => {}
                None => control_open = false,
            },
        }
    };
    for (i, result) in collected.into_iter().enumerate() {
        let Some(result) = result else { continue };
        if result.overflowed && outcome.max_buffer_exceeded.is_none() {
            outcome.max_buffer_exceeded = Some(if i == 0 {
                Stream::Stdout
            } else {
                Stream::Stderr
            });
        }
        if i == 0 {
            outcome.stdout = result.data;
        } else {
            outcome.stderr = result.data;
        }
    }
    sink.emit(ChildEvent::Closed(outcome));
}
