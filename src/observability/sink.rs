//! The log sink: formatted lines go to a dedicated writer thread through a bounded queue, so a
//! request does not wait for the file, pipe or terminal behind stdout while the queue has room (a
//! `write` per line on the HTTP worker was ~5% of its CPU under load). Lines are never dropped:
//! when the reader is so slow that the queue fills, the worker logging the next line blocks until
//! the writer thread has made room. The thread writes everything queued, then flushes;
//! [`LogFlush`] drains it when the process ends.

use std::{
    io::{self, Write},
    sync::mpsc::{Receiver, SyncSender, sync_channel},
    time::Duration,
};

use tracing_subscriber::fmt::MakeWriter;

/// Lines queued before a logging request waits for the writer thread.
const QUEUE_LINES: usize = 16_384;

/// How long the writer lets lines gather after the first of a batch.
const BATCH_WINDOW: Duration = Duration::from_millis(5);

/// Longest wait for the queue to drain at exit.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

enum Message {
    Line(Vec<u8>),
    Flush(SyncSender<()>),
}

/// A `MakeWriter` for the fmt layer that hands each line to the writer thread.
#[derive(Clone)]
pub struct LogSink {
    queue: SyncSender<Message>,
}

/// Drains the sink when dropped (keep it alive until the process ends).
pub struct LogFlush {
    queue: SyncSender<Message>,
}

impl LogSink {
    /// Starts the writer thread over `out` (stdout in the binary).
    pub fn start(out: impl Write + Send + 'static) -> io::Result<(Self, LogFlush)> {
        let (queue, lines) = sync_channel(QUEUE_LINES);
        std::thread::Builder::new()
            .name("log-writer".to_owned())
            .spawn(move || write_lines(&lines, out))?;
        Ok((
            Self {
                queue: queue.clone(),
            },
            LogFlush { queue },
        ))
    }
}

fn write_lines(lines: &Receiver<Message>, out: impl Write) {
    let mut out = io::BufWriter::with_capacity(64 * 1024, out);
    while let Ok(first) = lines.recv() {
        // Under load, let lines gather first: a writer that woke for every line would cost each
        // request a thread wake-up (more than the write it saves). Idle, the first line of a
        // burst waits this long at most.
        std::thread::sleep(BATCH_WINDOW);
        let mut next = Some(first);
        while let Some(message) = next {
            match message {
                // A failed write has nowhere to be reported; the line is skipped.
                Message::Line(line) => drop(out.write_all(&line)),
                Message::Flush(done) => {
                    drop(out.flush());
                    let _ = done.send(());
                }
            }
            next = lines.try_recv().ok();
        }
        drop(out.flush());
    }
}

impl Drop for LogFlush {
    fn drop(&mut self) {
        let (done, flushed) = sync_channel(1);
        if self.queue.send(Message::Flush(done)).is_ok() {
            let _ = flushed.recv_timeout(FLUSH_TIMEOUT);
        }
    }
}

/// One event's line, sent whole when the fmt layer drops it.
pub struct LineWriter {
    queue: SyncSender<Message>,
    line: Vec<u8>,
}

impl Write for LineWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.line.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            // The thread only ends with the process; a send error has no one left to tell.
            drop(self.queue.send(Message::Line(line)));
        }
    }
}

impl<'a> MakeWriter<'a> for LogSink {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            queue: self.queue.clone(),
            line: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_arrives_whole_and_in_order_by_the_flush() {
        let out = Shared::default();
        let (sink, flush) = LogSink::start(out.clone()).unwrap();
        let writers: Vec<_> = (0..4)
            .map(|t| {
                let sink = sink.clone();
                std::thread::spawn(move || {
                    for i in 0..5_000 {
                        let mut w = sink.make_writer();
                        write!(w, "t{t} ").unwrap();
                        writeln!(w, "line {i}").unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        drop(flush);
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 20_000);
        for t in 0..4 {
            let own: Vec<_> = text
                .lines()
                .filter(|l| l.starts_with(&format!("t{t} ")))
                .collect();
            let expected: Vec<_> = (0..5_000).map(|i| format!("t{t} line {i}")).collect();
            assert_eq!(own, expected, "thread {t}: lines whole and in order");
        }
    }
}
