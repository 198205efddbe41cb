//! A small reader for the TOML that units are written in: `key = value` lines under
//! `[table]` headers, dotted and quoted keys, the four kinds of strings with their
//! escapes, arrays (over several lines, with comments), inline tables, comments. Numbers,
//! booleans and dates are kept as written (`Value::Bare`): the units module only needs
//! `true`/`false` of them. It never fails as a whole: a line it cannot read becomes a
//! `Problem` with its line number and the reader carries on at the next line, so the
//! caller can decide whether the problem touches a key it needs.

/// A value as written; tables and arrays hold values.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    String(String),
    Array(Vec<Value>),
    /// An inline table: each key path (dotted keys split) with its value.
    Table(Vec<(Vec<String>, Value)>),
    /// A number, boolean or date, as written.
    Bare(String),
}

/// One `key = value`, with the full key path: the table header's keys, then the line's.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: Vec<String>,
    /// How many leading keys of `key` came from the `[table]` header.
    pub table_len: usize,
    pub value: Value,
    pub line: usize,
}

/// A `[table]` or `[[array.of.tables]]` header.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    pub key: Vec<String>,
    pub line: usize,
}

/// A line that could not be read: the key it was for (when the key itself was readable)
/// or, failing that, the table it was in.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub line: usize,
    pub key: Option<Vec<String>>,
    pub table: Vec<String>,
    pub message: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Document {
    pub entries: Vec<Entry>,
    pub headers: Vec<Header>,
    pub problems: Vec<Problem>,
}

/// Reads `text`, line by line; see the module documentation.
pub fn parse(text: &str) -> Document {
    let mut document = Document::default();
    let mut cursor = Cursor {
        rest: text,
        line: 1,
    };
    let mut table: Vec<String> = Vec::new();
    loop {
        cursor.skip_blank();
        if cursor.rest.is_empty() {
            return document;
        }
        let line = cursor.line;
        let mut key = None;
        let is_header = cursor.rest.starts_with('[');
        let result = if is_header {
            read_header(&mut cursor).map(|header| {
                table.clone_from(&header.key);
                document.headers.push(header);
            })
        } else {
            read_entry(&mut cursor, &table, &mut key).map(|entry| document.entries.push(entry))
        };
        if let Err(message) = result {
            document.problems.push(Problem {
                line: cursor.line.max(line),
                key,
                // A header nobody can read could have opened any table, one the caller
                // needs included: it counts as the top level.
                table: if is_header { Vec::new() } else { table.clone() },
                message,
            });
            if is_header {
                // What follows belongs to a table nobody can name.
                table = vec![String::new()];
            }
            cursor.skip_line();
        }
    }
}

fn read_header(cursor: &mut Cursor) -> Result<Header, String> {
    let line = cursor.line;
    let is_array = cursor.eat("[[");
    if !is_array {
        cursor.eat("[");
    }
    let key = read_key(cursor)?;
    let close = if is_array { "]]" } else { "]" };
    cursor.skip_spaces();
    if !cursor.eat(close) {
        return Err(format!("expected `{close}` to end the table header"));
    }
    cursor.end_line()?;
    Ok(Header { key, line })
}

fn read_entry(
    cursor: &mut Cursor,
    table: &[String],
    found: &mut Option<Vec<String>>,
) -> Result<Entry, String> {
    let line = cursor.line;
    let key = read_key(cursor)?;
    let mut full: Vec<String> = table.to_vec();
    full.extend(key);
    *found = Some(full.clone());
    cursor.skip_spaces();
    if !cursor.eat("=") {
        return Err("expected `=` after the key".into());
    }
    cursor.skip_spaces();
    let value = read_value(cursor)?;
    cursor.end_line()?;
    Ok(Entry {
        key: full,
        table_len: table.len(),
        value,
        line,
    })
}

/// `a`, `a.b`, `"quoted key"`, `'literal'.b`.
fn read_key(cursor: &mut Cursor) -> Result<Vec<String>, String> {
    let mut parts = Vec::new();
    loop {
        cursor.skip_spaces();
        let part = if cursor.eat("\"") {
            read_basic(cursor)?
        } else if cursor.eat("'") {
            read_literal(cursor)?
        } else {
            let bare = cursor.take_while(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if bare.is_empty() {
                return Err(format!("expected a key, found {}", cursor.describe_next()));
            }
            bare.to_string()
        };
        parts.push(part);
        cursor.skip_spaces();
        if !cursor.eat(".") {
            return Ok(parts);
        }
    }
}

fn read_value(cursor: &mut Cursor) -> Result<Value, String> {
    if cursor.eat("\"\"\"") {
        read_multiline(cursor, '"').map(Value::String)
    } else if cursor.eat("'''") {
        read_multiline(cursor, '\'').map(Value::String)
    } else if cursor.eat("\"") {
        read_basic(cursor).map(Value::String)
    } else if cursor.eat("'") {
        read_literal(cursor).map(Value::String)
    } else if cursor.eat("[") {
        read_array(cursor)
    } else if cursor.eat("{") {
        read_inline_table(cursor)
    } else {
        let bare = cursor.take_while(|c| !c.is_whitespace() && !",]}#".contains(c));
        if bare.is_empty() {
            return Err(format!(
                "expected a value, found {}",
                cursor.describe_next()
            ));
        }
        Ok(Value::Bare(bare.to_string()))
    }
}

fn read_array(cursor: &mut Cursor) -> Result<Value, String> {
    let mut items = Vec::new();
    loop {
        cursor.skip_blank();
        if cursor.eat("]") {
            return Ok(Value::Array(items));
        }
        if cursor.rest.is_empty() {
            return Err("unterminated array: expected `]`".into());
        }
        items.push(read_value(cursor)?);
        cursor.skip_blank();
        if cursor.eat("]") {
            return Ok(Value::Array(items));
        }
        if cursor.rest.is_empty() {
            return Err("unterminated array: expected `]`".into());
        }
        if !cursor.eat(",") {
            return Err(format!(
                "expected `,` or `]` in an array, found {}",
                cursor.describe_next()
            ));
        }
    }
}

fn read_inline_table(cursor: &mut Cursor) -> Result<Value, String> {
    let mut items = Vec::new();
    loop {
        cursor.skip_blank();
        if cursor.eat("}") {
            return Ok(Value::Table(items));
        }
        let key = read_key(cursor)?;
        cursor.skip_spaces();
        if !cursor.eat("=") {
            return Err("expected `=` after the key in an inline table".into());
        }
        cursor.skip_spaces();
        items.push((key, read_value(cursor)?));
        cursor.skip_blank();
        if cursor.eat("}") {
            return Ok(Value::Table(items));
        }
        if !cursor.eat(",") {
            return Err(format!(
                "expected `,` or `}}` in an inline table, found {}",
                cursor.describe_next()
            ));
        }
    }
}

/// After the opening `"`: up to the closing one, escapes decoded.
fn read_basic(cursor: &mut Cursor) -> Result<String, String> {
    let mut text = String::new();
    loop {
        if cursor.is_at_line_end() {
            return Err("unterminated string: expected `\"`".into());
        }
        match cursor.bump() {
            Some('"') => return Ok(text),
            Some('\\') => text.push(read_escape(cursor)?),
            Some(c) => text.push(c),
            None => {}
        }
    }
}

/// After the opening `'`: up to the closing one, taken as written.
fn read_literal(cursor: &mut Cursor) -> Result<String, String> {
    let mut text = String::new();
    loop {
        if cursor.is_at_line_end() {
            return Err("unterminated string: expected `'`".into());
        }
        match cursor.bump() {
            Some('\'') => return Ok(text),
            Some(c) => text.push(c),
            None => {}
        }
    }
}

/// After an opening `"""` or `'''`: a newline right after it is dropped; a basic one
/// decodes escapes, and a backslash at the end of a line joins it to the next.
fn read_multiline(cursor: &mut Cursor, quote: char) -> Result<String, String> {
    let delimiter: String = [quote; 3].iter().collect();
    let opened = cursor.line;
    if !cursor.eat("\n") {
        cursor.eat("\r\n");
    }
    let mut text = String::new();
    loop {
        if cursor.rest.starts_with(&delimiter) {
            // Up to two quotes right before the delimiter belong to the string.
            let run = cursor.take_while(|c| c == quote).chars().count();
            if run > 5 {
                return Err(format!("too many `{quote}` at the end of a string"));
            }
            text.extend(std::iter::repeat_n(quote, run.saturating_sub(3)));
            return Ok(text);
        }
        match cursor.bump() {
            None => {
                // The problem is where the string opened, not at the end of the file.
                cursor.line = opened;
                return Err(format!("unterminated string: expected `{delimiter}`"));
            }
            Some('\\') if quote == '"' => {
                if cursor
                    .rest
                    .trim_start_matches([' ', '\t'])
                    .starts_with(['\n', '\r'])
                {
                    cursor.skip_blank_whitespace();
                } else {
                    text.push(read_escape(cursor)?);
                }
            }
            Some(c) => text.push(c),
        }
    }
}

fn read_escape(cursor: &mut Cursor) -> Result<char, String> {
    let hex = |cursor: &mut Cursor, digits: usize| {
        let code: String = (0..digits).filter_map(|_| cursor.bump()).collect();
        u32::from_str_radix(&code, 16)
            .ok()
            .filter(|_| code.len() == digits)
            .and_then(char::from_u32)
            .ok_or_else(|| format!("invalid unicode escape `{code}`"))
    };
    match cursor.bump() {
        Some('b') => Ok('\u{8}'),
        Some('t') => Ok('\t'),
        Some('n') => Ok('\n'),
        Some('f') => Ok('\u{c}'),
        Some('r') => Ok('\r'),
        Some('e') => Ok('\u{1b}'),
        Some('"') => Ok('"'),
        Some('\\') => Ok('\\'),
        Some('u') => hex(cursor, 4),
        Some('U') => hex(cursor, 8),
        Some(other) => Err(format!("unknown escape `\\{other}`")),
        None => Err("unterminated string".into()),
    }
}

/// The text not read yet, and the line it starts on.
struct Cursor<'a> {
    rest: &'a str,
    line: usize,
}

impl<'a> Cursor<'a> {
    fn bump(&mut self) -> Option<char> {
        let mut chars = self.rest.chars();
        let c = chars.next()?;
        self.rest = chars.as_str();
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    /// Consumes `token` (which holds no newline) if the text starts with it.
    fn eat(&mut self, token: &str) -> bool {
        match self.rest.strip_prefix(token) {
            Some(rest) => {
                self.rest = rest;
                self.line += token.matches('\n').count();
                true
            }
            None => false,
        }
    }

    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &'a str {
        let end = self.rest.find(|c| !keep(c)).unwrap_or(self.rest.len());
        let (taken, rest) = self.rest.split_at_checked(end).unwrap_or((self.rest, ""));
        self.rest = rest;
        self.line += taken.matches('\n').count();
        taken
    }

    fn is_at_line_end(&self) -> bool {
        self.rest.is_empty() || self.rest.starts_with(['\n', '\r'])
    }

    fn skip_spaces(&mut self) {
        self.take_while(|c| c == ' ' || c == '\t');
    }

    /// Spaces, newlines and comments: what may separate lines and array items.
    fn skip_blank(&mut self) {
        loop {
            self.skip_blank_whitespace();
            if !self.rest.starts_with('#') {
                return;
            }
            self.take_while(|c| c != '\n');
        }
    }

    fn skip_blank_whitespace(&mut self) {
        self.take_while(char::is_whitespace);
    }

    fn skip_line(&mut self) {
        self.take_while(|c| c != '\n');
        self.eat("\n");
    }

    /// After a value or header: only spaces and a comment may follow on the line.
    fn end_line(&mut self) -> Result<(), String> {
        self.skip_spaces();
        if self.rest.starts_with('#') {
            self.take_while(|c| c != '\n');
        }
        if self.rest.is_empty() || self.eat("\n") || self.eat("\r\n") {
            Ok(())
        } else {
            Err(format!(
                "expected the end of the line, found {}",
                self.describe_next()
            ))
        }
    }

    fn describe_next(&self) -> String {
        match self.rest.chars().next() {
            None => "the end of the file".into(),
            Some('\n' | '\r') => "the end of the line".into(),
            Some(c) => format!("`{c}`"),
        }
    }
}

#[cfg(test)]
#[path = "toml_tests.rs"]
mod tests;
