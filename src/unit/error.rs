//! The one error type of unit loading: a problem in a file, with its line and column when
//! the file is TOML, printed as `path:line:col: message` for `--check` and editors.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A problem with a unit or settings file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitError {
    pub path: PathBuf,
    /// 1-based.
    pub line: Option<usize>,
    /// 1-based, in characters.
    pub column: Option<usize>,
    pub message: String,
}

impl UnitError {
    /// A problem with a whole file or directory, without a location inside it.
    pub fn new(path: &Path, message: impl Into<String>) -> UnitError {
        UnitError {
            path: path.to_path_buf(),
            line: None,
            column: None,
            message: message.into(),
        }
    }

    /// A problem at byte `offset` of `text`, the contents of `path`.
    pub fn at(path: &Path, text: &str, offset: usize, message: impl Into<String>) -> UnitError {
        let (line, column) = line_and_column(text, offset);
        UnitError {
            line: Some(line),
            column: Some(column),
            ..UnitError::new(path, message)
        }
    }

    /// A problem at the start of `span`, or at the file when there is no span.
    pub fn at_span(
        path: &Path,
        text: &str,
        span: Option<Range<usize>>,
        message: impl Into<String>,
    ) -> UnitError {
        match span {
            Some(span) => UnitError::at(path, text, span.start, message),
            None => UnitError::new(path, message),
        }
    }

    /// Converts the toml crate's error, whose span is a byte range, into a located error.
    pub fn from_toml(path: &Path, text: &str, error: &toml::de::Error) -> UnitError {
        UnitError::at_span(path, text, error.span(), error.message().trim_end())
    }
}

impl fmt::Display for UnitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for UnitError {}

/// The 1-based line and character column of byte `offset` in `text`.
pub fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_offsets() {
        let text = "ab\ncdé\nf";
        assert_eq!(line_and_column(text, 0), (1, 1));
        assert_eq!(line_and_column(text, 1), (1, 2));
        assert_eq!(line_and_column(text, 3), (2, 1));
        assert_eq!(line_and_column(text, 7), (2, 4)); // é is two bytes
        assert_eq!(line_and_column(text, 8), (3, 1));
        assert_eq!(line_and_column(text, 100), (3, 2));
    }

    #[test]
    fn displays_with_and_without_location() {
        let path = Path::new("services.d/web.toml");
        assert_eq!(
            UnitError::at(path, "a\nbc", 3, "bad").to_string(),
            "services.d/web.toml:2:2: bad"
        );
        assert_eq!(
            UnitError::new(path, "unreadable").to_string(),
            "services.d/web.toml: unreadable"
        );
    }
}
