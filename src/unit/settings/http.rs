//! The `[http]` table of `phoenix.toml`: where the read-only HTTP endpoint listens and the
//! limits that keep a flood of clients from costing PID 1 more than a bounded amount of
//! memory and time. Parsing only; the listener is the shell's (`crate::http`).

use core::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::super::error::UnitError;
use super::super::value::DurationValue;

/// Connections served at once, at most; the token range of the endpoint is this wide.
pub const MAX_CONNECTIONS: i64 = 65535;
/// A request head may not be configured larger than this.
pub const MAX_REQUEST_BYTES: i64 = 1024 * 1024;
/// Nor smaller than this: a request line and a few headers.
pub const MIN_REQUEST_BYTES: i64 = 256;

/// The HTTP endpoint (DESIGN.md §8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpSettings {
    pub listen: SocketAddr,
    /// Connections open at once; one more is answered 503 and closed.
    pub max_connections: usize,
    /// A request head larger than this is answered 431 and closed.
    pub max_request_bytes: usize,
    /// Each connection's whole life, from accept to close.
    pub timeout: Duration,
}

impl HttpSettings {
    pub fn new(listen: SocketAddr) -> HttpSettings {
        HttpSettings {
            listen,
            max_connections: 64,
            max_request_bytes: 8 * 1024,
            timeout: Duration::from_secs(5),
        }
    }
}

/// An `[http]` table, exactly as written.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    expecting = "an [http] table"
)]
pub(super) struct RawHttp {
    listen: Option<Spanned<String>>,
    max_connections: Option<Spanned<i64>>,
    max_request_bytes: Option<Spanned<i64>>,
    timeout: Option<Spanned<DurationValue>>,
}

impl RawHttp {
    /// The endpoint, or none without `listen`; the limits are checked either way.
    pub(super) fn settings(
        self,
        path: &Path,
        text: &str,
    ) -> Result<Option<HttpSettings>, UnitError> {
        let range = |key: &str, value: Option<Spanned<i64>>, low: i64, high: i64| match value {
            Some(value) if !(low..=high).contains(value.get_ref()) => Err(UnitError::at(
                path,
                text,
                value.span().start,
                format!(
                    "invalid {key} {}: expected an integer from {low} to {high}",
                    value.get_ref()
                ),
            )),
            value => Ok(value.map(|v| usize::try_from(v.into_inner()).unwrap_or(0))),
        };
        let connections = range("max-connections", self.max_connections, 1, MAX_CONNECTIONS)?;
        let bytes = range(
            "max-request-bytes",
            self.max_request_bytes,
            MIN_REQUEST_BYTES,
            MAX_REQUEST_BYTES,
        )?;
        let timeout = match self.timeout {
            Some(timeout) if timeout.get_ref().0.is_zero() => {
                return Err(UnitError::at(
                    path,
                    text,
                    timeout.span().start,
                    "invalid timeout 0s: expected a duration above zero",
                ));
            }
            timeout => timeout.map(|t| t.into_inner().0),
        };
        let Some(listen) = self.listen else {
            return Ok(None);
        };
        let address = listen.get_ref().parse::<SocketAddr>().map_err(|_| {
            UnitError::at(
                path,
                text,
                listen.span().start,
                format!(
                    "invalid listen '{}': expected an address and port like \"127.0.0.1:9100\" or \"0.0.0.0:9100\"",
                    listen.get_ref()
                ),
            )
        })?;
        let defaults = HttpSettings::new(address);
        Ok(Some(HttpSettings {
            listen: address,
            max_connections: connections.unwrap_or(defaults.max_connections),
            max_request_bytes: bytes.unwrap_or(defaults.max_request_bytes),
            timeout: timeout.unwrap_or(defaults.timeout),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse_settings;
    use super::*;

    fn parse(text: &str) -> Result<Option<HttpSettings>, UnitError> {
        parse_settings(Path::new("/etc/phoenix/phoenix.toml"), text).map(|s| s.http)
    }

    #[test]
    fn no_table_or_no_listen_means_no_endpoint() {
        assert_eq!(parse("").unwrap(), None);
        assert_eq!(parse("[http]\nmax-connections = 3\n").unwrap(), None);
    }

    #[test]
    fn listen_alone_takes_the_defaults() {
        let settings = parse("[http]\nlisten = \"127.0.0.1:9100\"\n")
            .unwrap()
            .unwrap();
        assert_eq!(
            settings,
            HttpSettings::new("127.0.0.1:9100".parse().unwrap())
        );
        assert_eq!(settings.max_connections, 64);
        assert_eq!(settings.max_request_bytes, 8192);
        assert_eq!(settings.timeout, Duration::from_secs(5));
    }

    #[test]
    fn parses_every_key() {
        let settings = parse(
            "[http]\nlisten = \"0.0.0.0:80\"\nmax-connections = 2\nmax-request-bytes = 1024\ntimeout = \"250ms\"\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            settings,
            HttpSettings {
                listen: "0.0.0.0:80".parse().unwrap(),
                max_connections: 2,
                max_request_bytes: 1024,
                timeout: Duration::from_millis(250),
            }
        );
        let v6 = parse("[http]\nlisten = \"[::1]:9100\"\n").unwrap().unwrap();
        assert_eq!(v6.listen, "[::1]:9100".parse().unwrap());
    }

    #[test]
    fn errors_are_located_and_keep_the_input() {
        for (text, line, column, needle) in [
            (
                "[http]\nlisten = \"localhost\"\n",
                2,
                10,
                "invalid listen 'localhost': expected an address and port",
            ),
            (
                "[http]\nlisten = \"127.0.0.1\"\n",
                2,
                10,
                "invalid listen '127.0.0.1'",
            ),
            (
                "[http]\nmax-connections = 0\n",
                2,
                19,
                "invalid max-connections 0: expected an integer from 1 to 65535",
            ),
            (
                "[http]\nmax-request-bytes = 10\n",
                2,
                21,
                "invalid max-request-bytes 10: expected an integer from 256",
            ),
            ("[http]\ntimeout = \"0s\"\n", 2, 11, "invalid timeout 0s"),
            ("[http]\ntimeout = 5\n", 2, 11, "bare number is ambiguous"),
            (
                "[http]\nlisten = \"127.0.0.1:1\"\nport = 3\n",
                3,
                1,
                "unknown field `port`",
            ),
            ("http = 3\n", 1, 8, "expected an [http] table"),
        ] {
            let error = parse(text).unwrap_err();
            assert_eq!(
                (error.line, error.column),
                (Some(line), Some(column)),
                "{error}"
            );
            assert!(error.message.contains(needle), "{error}");
        }
    }
}
