//! Units from TOML, table-driven: the keys read, the keys skipped, why a unit is unreadable.

use std::path::PathBuf;

use super::{Command, Unit, is_valid_name, unit_from_toml};

fn read(text: &str) -> Result<Unit, String> {
    unit_from_toml("web", "web.toml", text).map_err(|unreadable| unreadable.to_string())
}

fn argv(words: &[&str]) -> Command {
    Command::Argv(words.iter().map(|word| word.to_string()).collect())
}

#[test]
fn commands() {
    let rows: &[(&str, Command)] = &[
        ("command = [\"sleep\", \"10\"]", argv(&["sleep", "10"])),
        (
            "command = \"echo $HOME\"",
            Command::Shell("echo $HOME".into()),
        ),
        (
            "command = '''\nexec sleep 1\n'''",
            Command::Shell("exec sleep 1\n".into()),
        ),
        (
            "command = [\n  \"a\",\n  \"b\", # why\n]",
            argv(&["a", "b"]),
        ),
    ];
    for (text, command) in rows {
        assert_eq!(
            read(text).map(|unit| unit.command),
            Ok(command.clone()),
            "{text:?}"
        );
    }
}

#[test]
fn the_keys_it_reads() {
    let unit = read(
        "command = \"true\"\nworking-directory = \"/srv\"\nenabled = false\nkind = \"oneshot\"\n\
         environment = { A = \"1\" }\nenvironment.B = \"2\"\n",
    )
    .unwrap();
    assert_eq!(unit.working_directory, Some(PathBuf::from("/srv")));
    assert!(!unit.is_enabled);
    assert!(unit.is_oneshot);
    let environment = vec![
        ("A".into(), Some("1".into())),
        ("B".into(), Some("2".into())),
    ];
    assert_eq!(unit.environment, environment);
    assert!(unit.skipped.is_empty(), "{:?}", unit.skipped);

    let table =
        read("command = \"true\"\n[environment]\nPORT = \"8080\"\n\"X Y\" = 'z'\n").unwrap();
    let environment = vec![
        ("PORT".into(), Some("8080".into())),
        ("X Y".into(), Some("z".into())),
    ];
    assert_eq!(table.environment, environment);
    assert!(table.is_enabled);
    assert!(!table.is_oneshot);
}

#[test]
fn every_other_key_is_skipped_and_named() {
    let unit = read(
        "description = \"demo\"\ncommand = [\"web\"]\nafter = [\"db\"]\nstop.signal = \"HUP\"\n\
         [restart]\ndelay = \"1s\"\n[[extra]]\nx = 1\n[health]\ncheck = { kind = \"exec\" }\n",
    )
    .unwrap();
    assert_eq!(
        unit.skipped,
        vec![
            "description",
            "after",
            "stop.signal",
            "[restart]",
            "[extra]",
            "[health]"
        ]
    );
}

#[test]
fn a_problem_in_a_skipped_key_is_only_a_note() {
    let unit = read("command = \"true\"\n[health]\ninterval = 1979-05-27 07:32:00Z\n").unwrap();
    assert_eq!(unit.notes.len(), 1, "{:?}", unit.notes);
    assert!(unit.notes[0].starts_with("line 3: "), "{:?}", unit.notes);

    // A line that is no `key = value` but names no key we read.
    let unit = read("junk\ncommand = \"a\"").unwrap();
    assert_eq!(
        unit.notes,
        vec!["line 1: expected `=` after the key (skipped)"]
    );
}

#[test]
fn unreadable_units_say_where_and_why() {
    let rows: &[(&str, &str)] = &[
        ("description = \"x\"", "web.toml: no command"),
        ("", "web.toml: no command"),
        (
            "command = [\"echo\", 'oops",
            "web.toml:1: command: unterminated string",
        ),
        (
            "command = [\"a\",\n \"b\"\n \"c\"]",
            "web.toml:3: command: expected `,` or `]`",
        ),
        ("command = []", "web.toml:1: command: the command is empty"),
        (
            "command = \"  \"",
            "web.toml:1: command: the command is empty",
        ),
        (
            "command = [\"a\", 1]",
            "web.toml:1: command: expected an array of strings",
        ),
        (
            "command = 42",
            "web.toml:1: command: expected a string or an array of strings, found `42`",
        ),
        (
            "command = \"a\"\ncommand = \"b\"",
            "web.toml:2: command: defined twice",
        ),
        (
            "command = \"a\"\nenabled = \"yes\"",
            "web.toml:2: enabled: expected true or false",
        ),
        (
            "command = \"a\"\nkind = \"forking\"",
            "web.toml:2: kind: expected \"daemon\" or \"oneshot\"",
        ),
        (
            "command = \"a\"\nenvironment = { A = 1 }",
            "web.toml:2: environment: A: expected a string",
        ),
        (
            "command = \"a\"\n[environment]\nA = [\"x\"]",
            "web.toml:3: environment.A: expected a string",
        ),
        (
            "command = \"a\"\nenvironment = \"A=1\"",
            "web.toml:2: environment: expected a table",
        ),
        (
            "command = \"a\"\n[environment\nA = \"1\"",
            "web.toml:2: expected `]`",
        ),
        (
            "command = \"a\"\nworking-directory = 1",
            "web.toml:2: working-directory: expected a directory",
        ),
        (
            "[command]\nx = 1",
            "web.toml:2: command.x: command has no sub-keys",
        ),
        (
            "command = \"a\" junk",
            "web.toml:1: command: expected the end of the line",
        ),
    ];
    for (text, wanted) in rows {
        match read(text) {
            Err(found) => assert!(found.starts_with(wanted), "{text:?}: {found}"),
            Ok(unit) => panic!("{text:?} read as {unit:?}"),
        }
    }
}

#[test]
fn unit_names() {
    for good in ["web", "web-1", "a_b", "x@y", "a.b"] {
        assert!(is_valid_name(good), "{good}");
    }
    for bad in ["", "a b", "a/b", "é", "a:b"] {
        assert!(!is_valid_name(bad), "{bad}");
    }
}
