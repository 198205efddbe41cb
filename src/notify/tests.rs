//! Tests of the sd_notify parser: one table row per rule, and properties over random bytes.

use std::time::Duration;

use proptest::prelude::*;

use super::*;
use NotifyMessage::*;

#[test]
fn each_assignment_becomes_its_message_or_nothing() {
    let rows: Vec<(&[u8], Vec<NotifyMessage>)> = vec![
        (b"READY=1", vec![Ready]),
        (b"READY=0", vec![]),
        (b"READY=yes", vec![]),
        (b"READY=1 ", vec![]),
        (b"READY", vec![]),
        (b"ready=1", vec![]),
        (b"RELOADING=1", vec![Reloading]),
        (b"RELOADING=0", vec![]),
        (b"STOPPING=1", vec![Stopping]),
        (b"STOPPING=2", vec![]),
        (b"WATCHDOG=1", vec![Watchdog]),
        (b"WATCHDOG=trigger", vec![WatchdogTrigger]),
        (b"WATCHDOG=0", vec![]),
        (b"WATCHDOG=Trigger", vec![]),
        (
            b"EXTEND_TIMEOUT_USEC=5000000",
            vec![ExtendTimeout(Duration::from_secs(5))],
        ),
        (
            b"EXTEND_TIMEOUT_USEC=0",
            vec![ExtendTimeout(Duration::ZERO)],
        ),
        (
            b"EXTEND_TIMEOUT_USEC=18446744073709551615",
            vec![ExtendTimeout(Duration::from_micros(u64::MAX))],
        ),
        (b"EXTEND_TIMEOUT_USEC=18446744073709551616", vec![]),
        (b"EXTEND_TIMEOUT_USEC=-1", vec![]),
        (b"EXTEND_TIMEOUT_USEC=+1", vec![]),
        (b"EXTEND_TIMEOUT_USEC=1s", vec![]),
        (b"EXTEND_TIMEOUT_USEC=", vec![]),
        (b"MAINPID=4242", vec![MainPid(4242)]),
        (b"MAINPID=0", vec![]),
        (b"MAINPID=-7", vec![]),
        (b"MAINPID=2147483648", vec![]),
        (b"MAINPID= 12", vec![]),
        (b"ERRNO=2", vec![Errno(2)]),
        (b"ERRNO=0", vec![Errno(0)]),
        (b"ERRNO=-2", vec![]),
        (b"ERRNO=ENOENT", vec![]),
        (
            b"STATUS=serving 12 clients",
            vec![Status("serving 12 clients".into())],
        ),
        (b"STATUS=", vec![Status(String::new())]),
        (b"STATUS=a=b", vec![Status("a=b".into())]),
        (b"FDSTORE=1", vec![]),
        (b"BARRIER=1", vec![]),
        (b"WATCHDOG_USEC=100", vec![]),
        (b"no assignment here", vec![]),
        (b"=1", vec![]),
        (b"", vec![]),
        (b"\xff\xfe=1", vec![]),
        (b"MAINPID=\xff", vec![]),
    ];
    for (datagram, expected) in &rows {
        assert_eq!(
            parse_datagram(datagram),
            *expected,
            "{:?}",
            String::from_utf8_lossy(datagram)
        );
    }
}

#[test]
fn a_datagram_keeps_the_order_and_the_repeats_of_its_lines() {
    assert_eq!(
        parse_datagram(b"STATUS=starting\nREADY=1\nnonsense\nSTATUS=up\nMAINPID=9\n"),
        vec![
            Status("starting".into()),
            Ready,
            Status("up".into()),
            MainPid(9)
        ]
    );
}

#[test]
fn the_status_loses_its_trailing_newline() {
    assert_eq!(
        parse_datagram(b"STATUS=hello\n"),
        vec![Status("hello".into())]
    );
    assert_eq!(
        parse_datagram(b"STATUS=hello\r\n"),
        vec![Status("hello".into())]
    );
}

#[test]
fn an_undecodable_status_is_kept_lossily() {
    assert_eq!(
        parse_datagram(b"STATUS=caf\xc3\xa9 \xff!"),
        vec![Status("caf\u{e9} \u{fffd}!".into())]
    );
}

#[test]
fn a_long_status_is_cut_at_a_character_boundary() {
    let long = format!("STATUS={}", "é".repeat(300));
    let messages = parse_datagram(long.as_bytes());
    let [Status(text)] = messages.as_slice() else {
        panic!("one status expected");
    };
    assert_eq!(text.chars().count(), MAX_STATUS_CHARS);
    assert!(text.chars().all(|c| c == 'é'));
}

#[test]
fn a_datagram_over_the_limit_is_ignored_entirely() {
    let mut at_limit = b"READY=1\n".to_vec();
    at_limit.resize(MAX_DATAGRAM, b'x');
    assert_eq!(parse_datagram(&at_limit), vec![Ready]);
    at_limit.push(b'x');
    assert_eq!(parse_datagram(&at_limit), vec![]);
}

fn assignment() -> impl Strategy<Value = (String, NotifyMessage)> {
    prop_oneof![
        Just(("READY=1".to_string(), Ready)),
        Just(("RELOADING=1".to_string(), Reloading)),
        Just(("STOPPING=1".to_string(), Stopping)),
        Just(("WATCHDOG=1".to_string(), Watchdog)),
        Just(("WATCHDOG=trigger".to_string(), WatchdogTrigger)),
        any::<u64>().prop_map(|n| (
            format!("EXTEND_TIMEOUT_USEC={n}"),
            ExtendTimeout(Duration::from_micros(n))
        )),
        (1..=i32::MAX).prop_map(|pid| (format!("MAINPID={pid}"), MainPid(pid))),
        (0..=i32::MAX).prop_map(|errno| (format!("ERRNO={errno}"), Errno(errno))),
        "[^\n\r]{0,40}".prop_map(|text| (format!("STATUS={text}"), Status(text))),
    ]
}

/// The name of a message's kind; a new kind fails to compile here until it is named, and
/// then [`docs_say_what_each_message_does`] until `docs/units.md` says what it does.
fn kind(message: &NotifyMessage) -> &'static str {
    match message {
        Ready => "READY",
        Reloading => "RELOADING",
        Stopping => "STOPPING",
        Status(_) => "STATUS",
        Watchdog => "WATCHDOG=1",
        WatchdogTrigger => "WATCHDOG=trigger",
        ExtendTimeout(_) => "EXTEND_TIMEOUT_USEC",
        MainPid(_) => "MAINPID",
        Errno(_) => "ERRNO",
    }
}

/// Every kind, in the order the docs give them.
const ALL_KINDS: [&str; 9] = [
    "READY",
    "STATUS",
    "RELOADING",
    "STOPPING",
    "WATCHDOG=1",
    "WATCHDOG=trigger",
    "EXTEND_TIMEOUT_USEC",
    "MAINPID",
    "ERRNO",
];

/// `docs/units.md` ("Notify messages") has one row per message Phoenix understands, each
/// written as a message the parser takes (`N` standing for a number, `TEXT` for text).
#[test]
fn docs_say_what_each_message_does() {
    const DOCS: &str = include_str!("../../docs/units.md");
    let documented: Vec<&'static str> = DOCS
        .lines()
        .skip_while(|line| *line != "## Notify messages")
        .skip(1)
        .take_while(|line| !line.starts_with("## "))
        .filter_map(|line| line.strip_prefix("| `")?.split('`').next())
        .map(|example| {
            let line = example.replace("=N", "=5").replace("=TEXT", "=up");
            match parse_datagram(line.as_bytes()).as_slice() {
                [message] => kind(message),
                other => panic!("docs/units.md: `{example}` parses as {other:?}"),
            }
        })
        .collect();
    assert_eq!(documented, ALL_KINDS);
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..6000)) {
        let messages = parse_datagram(&bytes);
        prop_assert!(bytes.len() <= MAX_DATAGRAM || messages.is_empty());
        for message in messages {
            if let Status(text) = message {
                prop_assert!(text.chars().count() <= MAX_STATUS_CHARS);
            }
        }
    }

    #[test]
    fn random_lines_of_known_keys_never_panic(
        lines in prop::collection::vec("(READY|STATUS|MAINPID|ERRNO|EXTEND_TIMEOUT_USEC|WATCHDOG)=[-+0-9a-z\u{e9}]{0,24}", 0..20)
    ) {
        let _ = parse_datagram(lines.join("\n").as_bytes());
    }

    #[test]
    fn what_sd_notify_sends_comes_back(assignments in prop::collection::vec(assignment(), 0..20)) {
        let datagram: Vec<String> = assignments.iter().map(|(line, _)| line.clone()).collect();
        let expected: Vec<NotifyMessage> = assignments.into_iter().map(|(_, message)| message).collect();
        prop_assert_eq!(parse_datagram(datagram.join("\n").as_bytes()), expected);
    }
}
