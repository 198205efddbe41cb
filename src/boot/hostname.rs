//! `/etc/hostname`, judged: the first line that is not a comment, trimmed; it must be a
//! name the kernel takes (1 to 64 bytes) made of letters, digits, `-` and `.`. Pure.

/// The kernel's limit (`HOST_NAME_MAX`).
pub const MAX_BYTES: usize = 64;

pub fn parse(text: &str) -> Result<String, String> {
    let name = text
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty() && !line.starts_with('#'))
        .ok_or_else(|| "/etc/hostname is empty".to_string())?;
    if name.len() > MAX_BYTES {
        return Err(format!(
            "/etc/hostname: '{name}' is {} bytes long, the limit is {MAX_BYTES}",
            name.len()
        ));
    }
    let valid = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.';
    if !name.chars().all(valid) || name.starts_with('-') {
        return Err(format!(
            "/etc/hostname: '{name}' is not a hostname: expected letters, digits, '-' and '.'"
        ));
    }
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames_good_and_bad() {
        assert_eq!(parse("appliance\n").unwrap(), "appliance");
        assert_eq!(
            parse("# set by the factory\n  edge-7.lab \n").unwrap(),
            "edge-7.lab"
        );
        for (text, expected) in [
            ("", "is empty"),
            ("\n# only a comment\n", "is empty"),
            (&"a".repeat(65), "65 bytes long, the limit is 64"),
            ("two words", "is not a hostname"),
            ("-dash", "is not a hostname"),
        ] {
            let error = parse(text).unwrap_err();
            assert!(error.contains(expected), "{text:?}: {error}");
        }
        assert!(parse(&"a".repeat(64)).is_ok());
    }
}
