//! `phoenixctl logs`: a service's recent lines from its ring (or, when it has a file and
//! the ring holds fewer than asked, the file's last lines), at most `HISTORY_BYTES` of
//! them, then `end-of-history`, then with `--follow` every new line as it is read. A
//! follower that stops reading is disconnected by the control server like any client.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::time::SystemTime;

use mio::Registry;

use crate::control::event_log::format_rfc3339;
use crate::control::protocol::{LogRecord, Reply, format_reply};
use crate::control::server::{ClientId, ControlServer};
use crate::output::{Line, Stream};

use super::super::HISTORY_BYTES;
use super::Captures;

/// How much of a log file's end is read back for `logs -n`.
const FILE_TAIL_BYTES: u64 = 512 * 1024;

impl Captures {
    /// Answers a `logs` request.
    pub fn serve(
        &mut self,
        client: ClientId,
        name: &str,
        count: usize,
        follow: bool,
        server: &mut ControlServer,
        registry: &Registry,
    ) {
        let Some(capture) = self.services.get(name) else {
            let message = format!(
                "'{name}' has no captured output: no such service, or no [log] (nor [log] default) and never started with one"
            );
            server.reply(client, &Reply::Error { message }, registry);
            return;
        };
        let from_file = match &capture.file {
            Some(file) if capture.ring.len() < count => {
                file_tail(file.path(), count, capture.config.timestamps, name)
            }
            _ => Vec::new(),
        };
        // The file, when it says more than the ring (it may be missing or unwritable).
        let records: Vec<LogRecord> = if from_file.len() > capture.ring.len() {
            from_file
        } else {
            capture
                .ring
                .last(count)
                .map(|line| record(name, line))
                .collect()
        };
        let mut budget = HISTORY_BYTES;
        let newest: Vec<Reply> = records
            .into_iter()
            .rev()
            .map(Reply::LogLine)
            .take_while(|reply| {
                budget = budget.saturating_sub(format_reply(reply).len());
                budget > 0
            })
            .collect();
        for reply in newest.iter().rev() {
            server.reply(client, reply, registry);
        }
        server.reply(client, &Reply::EndOfHistory, registry);
        if follow {
            self.followers.push((client, name.to_string()));
        }
    }

    /// New lines of `name`, to its followers (those gone are forgotten).
    pub(super) fn send_to_followers(
        &mut self,
        name: &str,
        stream: Stream,
        lines: &[std::borrow::Cow<'_, [u8]>],
        now: SystemTime,
        server: &mut ControlServer,
        registry: &Registry,
    ) {
        if self.followers.is_empty() {
            return;
        }
        self.followers
            .retain(|(client, _)| server.is_connected(*client));
        let time = format_rfc3339(now);
        for (client, _) in self.followers.iter().filter(|(_, of)| of == name) {
            for line in lines {
                let reply = Reply::LogLine(LogRecord {
                    time: time.clone(),
                    service: name.to_string(),
                    stream: stream.name().to_string(),
                    line: String::from_utf8_lossy(line).into_owned(),
                });
                server.reply(*client, &reply, registry);
            }
        }
    }
}

fn record(service: &str, line: &Line) -> LogRecord {
    LogRecord {
        time: format_rfc3339(line.time),
        service: service.to_string(),
        stream: line.stream.name().to_string(),
        line: line.text(),
    }
}

/// The last `count` lines of the file at `path`, stamps split off when it has them.
fn file_tail(path: &Path, count: usize, timestamps: bool, service: &str) -> Vec<LogRecord> {
    let mut text = Vec::new();
    let read = std::fs::File::open(path).and_then(|mut file| {
        let length = file.metadata()?.len();
        let start = length.saturating_sub(FILE_TAIL_BYTES);
        file.seek(SeekFrom::Start(start))?;
        file.take(FILE_TAIL_BYTES).read_to_end(&mut text)?;
        Ok(start > 0)
    });
    let Ok(cut) = read else {
        return Vec::new();
    };
    let mut lines: Vec<&[u8]> = text.split(|&byte| byte == b'\n').collect();
    // The piece after the last newline is empty; the first is partial if the read began
    // inside the file.
    lines.pop();
    if cut && !lines.is_empty() {
        lines.remove(0);
    }
    let skip = lines.len().saturating_sub(count);
    lines
        .into_iter()
        .skip(skip)
        .map(|bytes| {
            let text = String::from_utf8_lossy(bytes).into_owned();
            let (time, line) = match text.split_once(' ') {
                Some((stamp, rest)) if timestamps && stamp.ends_with('Z') => {
                    (stamp.to_string(), rest.to_string())
                }
                _ => (String::new(), text),
            };
            LogRecord {
                time,
                service: service.to_string(),
                stream: "file".to_string(),
                line,
            }
        })
        .collect()
}
