//! Environment files: systemd's `EnvironmentFile=` syntax, parsed from text already read.
//! Pure: reading the file (and deciding what a missing one means) belongs to the caller.
//!
//! One `KEY=VALUE` per line; blank lines and lines starting with `#` or `;` are ignored; an
//! `export ` prefix is allowed, so a file can also be sourced by a shell. Whitespace around
//! the key and around an unquoted value is trimmed. A value wrapped in single quotes is
//! taken literally; one wrapped in double quotes honours `\"` and `\\` (any other backslash
//! is kept). A value is one line: there are no continuation lines.

use std::fmt;
use std::path::{Path, PathBuf};

/// A line that is not a `KEY=VALUE` assignment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvironmentFileError {
    pub path: PathBuf,
    /// 1-based.
    pub line: usize,
    /// What was expected and what was found.
    pub message: String,
}

impl fmt::Display for EnvironmentFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.message)
    }
}

impl std::error::Error for EnvironmentFileError {}

/// The assignments of `text` in file order (a later one for the same key wins when applied).
/// `path` is only used to name the file in errors.
pub fn parse_environment_file(
    path: &Path,
    text: &str,
) -> Result<Vec<(String, String)>, EnvironmentFileError> {
    let mut assignments = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let assignment = parse_assignment(line).map_err(|message| EnvironmentFileError {
            path: path.to_path_buf(),
            line: index + 1,
            message,
        })?;
        assignments.push(assignment);
    }
    Ok(assignments)
}

/// One trimmed, non-comment line.
fn parse_assignment(line: &str) -> Result<(String, String), String> {
    let line = line.strip_prefix("export ").map_or(line, str::trim_start);
    let Some((key, value)) = line.split_once('=') else {
        return Err(format!("expected KEY=VALUE, found '{line}'"));
    };
    let key = key.trim();
    if !is_variable_name(key) {
        return Err(format!(
            "expected a variable name (letters, digits and '_', not starting with a digit) \
             before '=', found '{key}'"
        ));
    }
    Ok((key.to_string(), parse_value(value.trim())?))
}

fn is_variable_name(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A trimmed value: unquoted, or wholly wrapped in one pair of quotes.
fn parse_value(value: &str) -> Result<String, String> {
    let mut chars = value.chars();
    let quote = match chars.next() {
        Some(quote @ ('"' | '\'')) => quote,
        _ => return Ok(value.to_string()),
    };
    let mut unquoted = String::new();
    while let Some(c) = chars.next() {
        match c {
            '\\' if quote == '"' => match chars.clone().next() {
                Some(escaped @ ('"' | '\\')) => {
                    unquoted.push(escaped);
                    chars.next();
                }
                _ => unquoted.push('\\'),
            },
            c if c == quote => {
                let trailing = chars.as_str().trim();
                if !trailing.is_empty() {
                    return Err(format!(
                        "expected the end of the line after the closing {quote}, found '{trailing}'"
                    ));
                }
                return Ok(unquoted);
            }
            c => unquoted.push(c),
        }
    }
    Err(format!("expected a closing {quote} on the same line"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<(String, String)>, EnvironmentFileError> {
        parse_environment_file(Path::new("/etc/default/web"), text)
    }

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn reads_one_assignment_per_line() {
        assert_eq!(
            parse("A=1\nB=two words\nC=\n").unwrap(),
            pairs(&[("A", "1"), ("B", "two words"), ("C", "")])
        );
    }

    #[test]
    fn skips_blank_lines_and_comments() {
        let text = "\n   \n# a comment\n  ; another\nA=1\n\t# indented comment\n";
        assert_eq!(parse(text).unwrap(), pairs(&[("A", "1")]));
    }

    #[test]
    fn accepts_an_export_prefix() {
        assert_eq!(
            parse("export A=1\nexport   B=2\nexported=3").unwrap(),
            pairs(&[("A", "1"), ("B", "2"), ("exported", "3")])
        );
    }

    #[test]
    fn trims_whitespace_around_key_and_unquoted_value() {
        assert_eq!(
            parse("  KEY  =  some value \t\r\n").unwrap(),
            pairs(&[("KEY", "some value")])
        );
    }

    #[test]
    fn keeps_the_rest_of_the_line_after_the_first_equals_sign() {
        assert_eq!(
            parse("URL=http://x/?a=b").unwrap(),
            pairs(&[("URL", "http://x/?a=b")])
        );
    }

    #[test]
    fn strips_single_quotes_literally() {
        assert_eq!(
            parse(r#"A=' spaced \n \"kept\" '"#).unwrap(),
            pairs(&[("A", r#" spaced \n \"kept\" "#)])
        );
    }

    #[test]
    fn strips_double_quotes_and_honours_escapes() {
        assert_eq!(
            parse(r#"A=" say \"hi\" \\ \n ""#).unwrap(),
            pairs(&[("A", r#" say "hi" \ \n "#)])
        );
        assert_eq!(parse(r#"B="it's""#).unwrap(), pairs(&[("B", "it's")]));
        assert_eq!(parse(r#"C="""#).unwrap(), pairs(&[("C", "")]));
    }

    #[test]
    fn allows_whitespace_after_the_closing_quote() {
        assert_eq!(parse("A='x'   ").unwrap(), pairs(&[("A", "x")]));
    }

    #[test]
    fn a_line_without_equals_names_path_and_line() {
        let error = parse("A=1\n\njust words\n").unwrap_err();
        assert_eq!(error.line, 3);
        assert_eq!(
            error.to_string(),
            "/etc/default/web:3: expected KEY=VALUE, found 'just words'"
        );
    }

    #[test]
    fn an_invalid_key_is_an_error() {
        for text in ["=1", "1A=x", "MY KEY=x", "A-B=x"] {
            let error = parse(text).unwrap_err();
            assert_eq!(error.line, 1, "{text}");
            assert!(
                error.message.starts_with("expected a variable name"),
                "{text}: {error}"
            );
        }
    }

    #[test]
    fn an_unterminated_quote_is_an_error() {
        let error = parse("A=\"open").unwrap_err();
        assert_eq!(
            error.to_string(),
            "/etc/default/web:1: expected a closing \" on the same line"
        );
        assert!(parse(r#"A="ends with escaped quote\""#).is_err());
        assert!(parse("A='open").is_err());
    }

    #[test]
    fn text_after_the_closing_quote_is_an_error() {
        let error = parse("A=\"x\" y").unwrap_err();
        assert_eq!(
            error.message,
            "expected the end of the line after the closing \", found 'y'"
        );
    }

    #[test]
    fn a_later_assignment_follows_an_earlier_one() {
        assert_eq!(parse("A=1\nA=2").unwrap(), pairs(&[("A", "1"), ("A", "2")]));
    }
}
