//! What a real worker's process and channels say, in the scheduler's terms
//! ([`News`]: spawned, ready, answered a task, broke the protocol, exited,
//! gone); real workers' events reach the scheduler through
//! [`PoolState::worker_event`], here. This sits above the scheduler, which
//! knows nothing of frames or messages.

use std::vec;

use super::channel::{ChannelEvent, Reading};
use super::config::{READY_MESSAGE, READY_MESSAGE_V8};
use super::dispatch::{News, PoolState};
use super::events::{Answer, FailureKind, TaskFailure};
use super::task_frame::{self, TaskFrame};
use super::worker_io::{Launcher, ProcessIo, WorkerEvent};
use crate::process::{ChildEvent, Message, Stream};

/// The news in one event, lazily, so that the scheduler hears each in turn.
pub(crate) enum Decoded {
    Nothing,
    /// Taken by the first `next`.
    One(Option<News>),
    Frames(vec::IntoIter<TaskFrame>),
    Messages(vec::IntoIter<Message>),
    /// A command worker's stdout lines, each an answer.
    Lines(vec::IntoIter<String>),
}

impl Iterator for Decoded {
    type Item = News;

    fn next(&mut self) -> Option<News> {
        match self {
            Decoded::Nothing => None,
            Decoded::One(news) => news.take(),
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
        WorkerEvent::Channel(ChannelEvent::Malformed(what)) => {
            Decoded::One(Some(News::Malformed(what)))
        }
        WorkerEvent::Child(event) => child_news(event, io),
    }
}

fn child_news(event: ChildEvent, io: Option<&mut ProcessIo>) -> Decoded {
    match event {
        ChildEvent::Spawned { pid } => Decoded::One(Some(News::Spawned { pid })),
        ChildEvent::SpawnFailed(f) => Decoded::One(Some(News::SpawnFailed {
            why: format!("{} ({})", f.error, f.path),
        })),
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
        ChildEvent::Exit(info) => Decoded::One(Some(News::Exited {
            code: info.code,
            signal: info.signal,
        })),
        // Pipes drained (so the stderr tail is complete): the worker is gone.
        ChildEvent::Closed(_) => Decoded::One(Some(News::Gone)),
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
fn frame_news(f: TaskFrame) -> News {
    match f.kind {
        task_frame::HELLO => News::Ready { serve: true },
        task_frame::RESULT => News::Answered {
            id: Some(f.id),
            result: Ok(Answer {
                json: f.json,
                bytes: f.bytes,
                serialized: false,
            }),
        },
        task_frame::ERROR => {
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
