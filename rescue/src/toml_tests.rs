//! The TOML reader, table-driven: values as written, problems with their lines.

use super::{Value, parse};

fn string(text: &str) -> Value {
    Value::String(text.into())
}

fn key(path: &str) -> Vec<String> {
    path.split('.').map(str::to_string).collect()
}

/// The one entry of `text`, or the first problem's line and message.
fn only_value(text: &str) -> Result<(Vec<String>, Value), (usize, String)> {
    let document = parse(text);
    if let Some(problem) = document.problems.first() {
        return Err((problem.line, problem.message.clone()));
    }
    assert_eq!(document.entries.len(), 1, "{text:?} → {document:?}");
    let entry = document.entries.into_iter().next().unwrap();
    Ok((entry.key, entry.value))
}

#[test]
fn values_read_as_written() {
    let array = |items: &[&str]| Value::Array(items.iter().map(|item| string(item)).collect());
    let rows: &[(&str, &str, Value)] = &[
        ("a = \"x\"", "a", string("x")),
        ("a = 'C:\\path'", "a", string("C:\\path")),
        (
            "a = \"tab\\there \\\"q\\\" \\\\ \\u00e9\\U0001F525\"",
            "a",
            string("tab\there \"q\" \\ é🔥"),
        ),
        (
            "a = \"\"\"\nline one\nline two\"\"\"",
            "a",
            string("line one\nline two"),
        ),
        (
            "a = \"\"\"joined \\\n    here\"\"\"",
            "a",
            string("joined here"),
        ),
        ("a = '''\nraw \\n $x\n'''", "a", string("raw \\n $x\n")),
        ("a = '''quote at end''''", "a", string("quote at end'")),
        (
            "a = [\"sh\", '-c', \"echo\"]",
            "a",
            array(&["sh", "-c", "echo"]),
        ),
        (
            "a = [\n  \"x\", # first\n  \"y\",\n]",
            "a",
            array(&["x", "y"]),
        ),
        ("a = []", "a", array(&[])),
        ("a = true # comment", "a", Value::Bare("true".into())),
        ("a = 2.5", "a", Value::Bare("2.5".into())),
        ("a.b = \"x\"", "a.b", string("x")),
        ("\"quoted key\" = \"x\"", "quoted key", string("x")),
        (
            "env = { A = \"1\", 'B' = \"2\" }",
            "env",
            Value::Table(vec![(key("A"), string("1")), (key("B"), string("2"))]),
        ),
        (
            "a = [[1, 2], [\"x\"]]",
            "a",
            Value::Array(vec![
                Value::Array(vec![Value::Bare("1".into()), Value::Bare("2".into())]),
                array(&["x"]),
            ]),
        ),
    ];
    for (text, path, value) in rows {
        let wanted = if *path == "quoted key" {
            vec![path.to_string()]
        } else {
            key(path)
        };
        assert_eq!(only_value(text), Ok((wanted, value.clone())), "{text:?}");
    }
}

#[test]
fn problems_name_their_line() {
    let rows: &[(&str, usize, &str)] = &[
        ("a = \"open", 1, "unterminated string"),
        ("\n\na = 'open", 3, "unterminated string"),
        (
            "a = [\"x\",\n  \"y\"\n  \"z\"]",
            3,
            "expected `,` or `]` in an array",
        ),
        ("a = [\"x\"", 1, "unterminated array"),
        ("a = \"\\q\"", 1, "unknown escape `\\q`"),
        ("a = \"\\u12\"", 1, "invalid unicode escape"),
        ("a \"x\"", 1, "expected `=` after the key"),
        ("a =", 1, "expected a value"),
        ("a = \"x\" \"y\"", 1, "expected the end of the line"),
        ("= \"x\"", 1, "expected a key"),
        ("[table", 1, "expected `]` to end the table header"),
        (
            "a = \"\"\"\nnever closed",
            1,
            "unterminated string: expected `\"\"\"`",
        ),
        (
            "a = { B = 1 C = 2 }",
            1,
            "expected `,` or `}` in an inline table",
        ),
    ];
    for (text, line, message) in rows {
        match only_value(text) {
            Err((found_line, found)) => {
                assert_eq!(found_line, *line, "{text:?}: {found}");
                assert!(found.contains(message), "{text:?}: {found}");
            }
            Ok(value) => panic!("{text:?} read as {value:?}"),
        }
    }
}

#[test]
fn tables_prefix_their_keys() {
    let document = parse("top = 1\n[restart]\ndelay = \"1s\"\n\n[environment]\nPORT = \"80\"\n");
    let keys: Vec<(Vec<String>, usize, usize)> = document
        .entries
        .iter()
        .map(|entry| (entry.key.clone(), entry.table_len, entry.line))
        .collect();
    assert_eq!(
        keys,
        vec![
            (key("top"), 0, 1),
            (key("restart.delay"), 1, 3),
            (key("environment.PORT"), 1, 6),
        ]
    );
    assert_eq!(document.headers.len(), 2);
    assert!(document.problems.is_empty());
}

#[test]
fn reading_goes_on_after_a_bad_line() {
    let document = parse("a = \"open\nb = \"fine\"\n[broken\nc = 1\n");
    let lines: Vec<usize> = document
        .problems
        .iter()
        .map(|problem| problem.line)
        .collect();
    assert_eq!(lines, vec![1, 3]);
    assert_eq!(document.problems[0].key, Some(key("a")));
    assert_eq!(document.problems[1].key, None);
    let keys: Vec<Vec<String>> = document
        .entries
        .into_iter()
        .map(|entry| entry.key)
        .collect();
    // After a header nobody can read, its keys belong to an unnamed table.
    assert_eq!(keys, vec![key("b"), vec![String::new(), "c".into()]]);
}

#[test]
fn crlf_line_endings_read_like_lf() {
    let document = parse("a = \"x\"\r\nb = ['y']\r\n");
    assert!(document.problems.is_empty(), "{document:?}");
    assert_eq!(document.entries.len(), 2);
}
