//! What a worker's process and channels say, in the pool's terms: it is
//! spawned, ready, answered a task, broke the protocol, exited, is gone. The
//! scheduler (`dispatch.rs`) hears only these; real workers' events reach it
//! through [`PoolState::worker_event`], here.

use std::vec;

use super::channel::{ChannelEvent, Reading};
use super::config::{READY_MESSAGE, READY_MESSAGE_V8};
use super::dispatch::PoolState;
use super::events::{Answer, FailureKind, TaskFailure};
use super::frame::{self, Frame};
use super::worker_io::{Launcher, ProcessIo, WorkerEvent};
use crate::process::{ChildEvent, Message, Stream};

/// One thing a worker said, as the scheduler hears it.
pub(crate) enum News {
    Spawned {
        pid: u32,
    },
    /// Its process could not be created.
    SpawnFailed {
        why: String,
    },
    /// It is ready for tasks; `serve`: it runs `serve()` (frames from now on).
    Ready {
        serve: bool,
    },
    /// The answer to task `id` (`None`: its oldest, for a worker that answers
    /// in order).
    Answered {
        id: Option<u32>,
        result: Result<Answer, TaskFailure>,
    },
    /// It wrote something that is no frame or message.
    Malformed(&'static str),
    /// Its process was reaped.
    Exited {
        code: Option<i32>,
        signal: Option<i32>,
    },
    /// Reaped and its pipes drained (its stderr tail is complete).
    Gone,
}

/// The news in one event, lazily, so that the scheduler hears each in turn.
pub(crate) enum Decoded {
    Nothing,
    One(News),
    Frames(vec::IntoIter<Frame>),
    Messages(vec::IntoIter<Message>),
    /// A command worker's stdout lines, each an answer.
    Lines(vec::IntoIter<String>),
}

impl Iterator for Decoded {
    type Item = News;

    fn next(&mut self) -> Option<News> {
        match self {
            Decoded::Nothing => None,
            Decoded::One(_) => match std::mem::replace(self, Decoded::Nothing) {
                Decoded::One(news) => Some(news),
                _ => unreachable!("matched above"),
            },
            Decoded::Frames(frames) => frames.next().map(frame_news),
            Decoded::Messages(messages) => messages.next().map(message_news),
            Decoded::Lines(lines) => lines.next().map(|line| News::Answered {
                id: None,
                result: Ok(Answer::json(line)),
            }),
        }
    }
}

impl PoolState<Launcher> {
    /// What a worker's process or channel said.
    pub fn worker_event(&mut self, wid: u64, event: WorkerEvent) {
        for news in decode(event, self.worker_io_mut(wid)) {
            self.hear(wid, news);
        }
        self.after_news();
    }

    /// What a watcher read from worker `id`'s channel.
    pub fn channel_read(&mut self, id: u64, got: Reading) {
        if !got.frames.is_empty() {
            self.worker_event(id, WorkerEvent::Channel(ChannelEvent::Frames(got.frames)));
        }
        if !got.messages.is_empty() {
            let messages = ChannelEvent::Messages(got.messages);
            self.worker_event(id, WorkerEvent::Channel(messages));
        }
        if let Some(what) = got.malformed {
            self.worker_event(id, WorkerEvent::Channel(ChannelEvent::Malformed(what)));
        }
    }
}

/// Decodes an event of worker whose I/O is `io` (`None`: already dropped).
/// Output is consumed here: stderr joins the worker's tail, stdout is cut
/// into lines.
pub(crate) fn decode(event: WorkerEvent, io: Option<&mut ProcessIo>) -> Decoded {
    match event {
        WorkerEvent::Channel(ChannelEvent::Frames(frames)) => Decoded::Frames(frames.into_iter()),
        WorkerEvent::Channel(ChannelEvent::Messages(messages)) => {
            Decoded::Messages(messages.into_iter())
        }
        WorkerEvent::Channel(ChannelEvent::Malformed(what)) => Decoded::One(News::Malformed(what)),
        WorkerEvent::Child(event) => child_news(event, io),
    }
}

fn child_news(event: ChildEvent, io: Option<&mut ProcessIo>) -> Decoded {
    match event {
        ChildEvent::Spawned { pid } => Decoded::One(News::Spawned { pid }),
        ChildEvent::SpawnFailed(f) => Decoded::One(News::SpawnFailed {
            why: format!("{} ({})", f.error, f.path),
        }),
        ChildEvent::Output {
            stream: Stream::Stdout,
            data,
        } => match io {
            Some(io) => Decoded::Lines(io.stdout_lines(&data).into_iter()),
            None => Decoded::Nothing,
        },
        ChildEvent::Output {
            stream: Stream::Stderr,
            data,
        } => {
            if let Some(io) = io {
                io.add_stderr(data);
            }
            Decoded::Nothing
        }
        ChildEvent::Exit(info) => Decoded::One(News::Exited {
            code: info.code,
            signal: info.signal,
        }),
        // Pipes drained (so the stderr tail is complete): the worker is gone.
        ChildEvent::Closed(_) => Decoded::One(News::Gone),
        // A Node worker's IPC channel is the pool's own (see `message_news`).
        ChildEvent::Message(_)
        | ChildEvent::OutputEnd { .. }
        | ChildEvent::Disconnect
        | ChildEvent::WriteDone { .. }
        // Workers have neither a timeout nor a streamed output limit.
        | ChildEvent::OutputOverflow { .. }
        | ChildEvent::TimedOut => Decoded::Nothing,
    }
}

/// A `serve()` worker's frame: its hello, or an answer.
fn frame_news(f: Frame) -> News {
    match f.kind {
        frame::HELLO => News::Ready { serve: true },
        frame::RESULT => News::Answered {
            id: Some(f.id),
            result: Ok(Answer {
                json: f.json,
                bytes: f.bytes,
                serialized: false,
            }),
        },
        frame::ERROR => {
            let mut thrown = TaskFailure::new(FailureKind::Thrown, "the worker's handler threw");
            thrown.error_json = Some(f.json);
            News::Answered {
                id: Some(f.id),
                result: Err(thrown),
            }
        }
        _ => News::Malformed("a frame of an unknown kind"),
    }
}

/// What a plain Node worker sent with `process.send()`: that it is ready, or
/// the answer to its task.
fn message_news(message: Message) -> News {
    if message.is(READY_MESSAGE, READY_MESSAGE_V8) {
        return News::Ready { serve: false };
    }
    let answer = match message {
        Message::Json(text) => Answer::json(text),
        Message::Serialized(bytes) => Answer::serialized(bytes),
    };
    News::Answered {
        id: None,
        result: Ok(answer),
    }
}
