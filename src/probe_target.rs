//! Where a tcp or http probe connects: the unit's `address = "IP:PORT"` and
//! `url = "http://HOST:PORT/PATH"` strings parsed into socket addresses, the Host header and
//! the request path. Pure: it makes no system calls and, above all, resolves no names — PID 1
//! must never block on DNS, so a host is an IP literal or `localhost` (taken as 127.0.0.1,
//! as `/etc/hosts` has it everywhere), and anything else is an error that says so.
//!
//! `core::net` holds the address types without the sockets: parsing an address is pure.

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

const ADDRESS_FORM: &str = "expected IP:PORT, [IPV6]:PORT or localhost:PORT";
const URL_FORM: &str = "expected http://HOST:PORT/PATH";
const HTTPS_UNSUPPORTED: &str =
    "only http:// URLs are supported (use an exec check with curl for https)";

/// What a tcp or http probe connects to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProbeTarget {
    /// A connect that succeeds is a success.
    Tcp(SocketAddr),
    /// A `GET` answered 2xx or 3xx is a success.
    Http(HttpTarget),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpTarget {
    pub address: SocketAddr,
    /// The URL's authority as written (`localhost:8080`), for the `Host` header.
    pub host_header: String,
    /// The request target: the path and the query, never empty (`/` by default).
    pub path: String,
}

impl ProbeTarget {
    /// The socket address the probe connects to.
    pub fn address(&self) -> SocketAddr {
        match self {
            ProbeTarget::Tcp(address) => *address,
            ProbeTarget::Http(target) => target.address,
        }
    }
}

impl fmt::Display for ProbeTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProbeTarget::Tcp(address) => write!(f, "tcp {address}"),
            ProbeTarget::Http(target) => write!(f, "http://{}{}", target.host_header, target.path),
        }
    }
}

/// Why an authority (`HOST[:PORT]`) did not parse; each caller words it for its key.
#[derive(Debug, PartialEq)]
enum AuthorityError {
    Malformed,
    MissingPort,
    HostName(String),
    UnbracketedIpv6,
    Port(String),
}

impl AuthorityError {
    fn describe(&self, expected: &str) -> String {
        match self {
            AuthorityError::Malformed | AuthorityError::MissingPort => expected.to_string(),
            AuthorityError::HostName(host) => format!(
                "host name '{host}' is not resolved (no DNS in PID 1): use an IP address or localhost"
            ),
            AuthorityError::UnbracketedIpv6 => {
                "an IPv6 address needs brackets: [IPV6]:PORT".to_string()
            }
            AuthorityError::Port(port) => {
                format!("port '{port}' is not a number from 1 to 65535")
            }
        }
    }
}

/// Parses a tcp probe's `address`: `127.0.0.1:5432`, `[::1]:5432` or `localhost:5432`.
pub fn parse_tcp_address(input: &str) -> Result<SocketAddr, String> {
    match parse_authority(input, None) {
        Ok(address) => Ok(address),
        Err(error) => Err(format!(
            "invalid address '{input}': {}",
            error.describe(ADDRESS_FORM)
        )),
    }
}

/// Parses an http probe's `url`: `http://HOST[:PORT][/PATH][?QUERY]`, the port 80 by
/// default, the path `/`; a fragment is dropped, as clients never send it.
pub fn parse_http_url(input: &str) -> Result<HttpTarget, String> {
    let invalid = |detail: &str| format!("invalid URL '{input}': {detail}");
    let Some(rest) = strip_scheme(input, "http://") else {
        return Err(invalid(if strip_scheme(input, "https://").is_some() {
            HTTPS_UNSUPPORTED
        } else {
            URL_FORM
        }));
    };
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, target) = rest.split_at(split);
    if authority.contains('@') {
        return Err(invalid(
            "credentials in the URL are not supported: expected http://HOST:PORT/PATH",
        ));
    }
    let address =
        parse_authority(authority, Some(80)).map_err(|error| invalid(&error.describe(URL_FORM)))?;
    if !target.bytes().all(|byte| byte.is_ascii_graphic()) {
        return Err(invalid(
            "the path may hold only visible ASCII characters (percent-encode the others)",
        ));
    }
    let path = match target {
        "" => "/".to_string(),
        query if query.starts_with('?') => format!("/{query}"),
        path => path.to_string(),
    };
    Ok(HttpTarget {
        address,
        host_header: authority.to_string(),
        path,
    })
}

/// The rest after `scheme`, which matches in any case (`HTTP://` is a valid URL).
fn strip_scheme<'a>(input: &'a str, scheme: &str) -> Option<&'a str> {
    let head = input.get(..scheme.len())?;
    head.eq_ignore_ascii_case(scheme)
        .then(|| input.get(scheme.len()..))
        .flatten()
}

/// `HOST[:PORT]` with HOST an IPv4 literal, `[IPv6]` or `localhost`; the port is required
/// unless there is a default.
fn parse_authority(text: &str, default_port: Option<u16>) -> Result<SocketAddr, AuthorityError> {
    let (ip, port) = match text.strip_prefix('[') {
        Some(bracketed) => {
            let (inside, after) = bracketed.split_once(']').ok_or(AuthorityError::Malformed)?;
            let ip = inside
                .parse::<Ipv6Addr>()
                .map_err(|_| AuthorityError::Malformed)?;
            let port = match after {
                "" => None,
                after => Some(after.strip_prefix(':').ok_or(AuthorityError::Malformed)?),
            };
            (IpAddr::V6(ip), port)
        }
        None => {
            if text.matches(':').count() > 1 {
                return Err(AuthorityError::UnbracketedIpv6);
            }
            let (host, port) = match text.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (text, None),
            };
            (parse_host(host)?, port)
        }
    };
    let port = match (port, default_port) {
        (Some(port), _) => parse_port(port)?,
        (None, Some(port)) => port,
        (None, None) => return Err(AuthorityError::MissingPort),
    };
    Ok(SocketAddr::new(ip, port))
}

fn parse_host(host: &str) -> Result<IpAddr, AuthorityError> {
    if host.eq_ignore_ascii_case("localhost") {
        return Ok(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return Ok(IpAddr::V4(ip));
    }
    let is_name = host.bytes().any(|byte| byte.is_ascii_alphabetic())
        && host
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'.');
    if is_name {
        Err(AuthorityError::HostName(host.to_string()))
    } else {
        Err(AuthorityError::Malformed)
    }
}

fn parse_port(port: &str) -> Result<u16, AuthorityError> {
    // `u16::from_str` takes a leading `+`; a port is digits only.
    let number = port
        .bytes()
        .all(|byte| byte.is_ascii_digit())
        .then(|| port.parse::<u16>().ok())
        .flatten();
    match number {
        Some(number) if number != 0 => Ok(number),
        _ => Err(AuthorityError::Port(port.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    #[test]
    fn tcp_addresses_parse() {
        for (input, expected) in [
            ("127.0.0.1:5432", "127.0.0.1:5432"),
            ("0.0.0.0:1", "0.0.0.0:1"),
            ("[::1]:5432", "[::1]:5432"),
            ("[fe80::1:2]:65535", "[fe80::1:2]:65535"),
            ("localhost:8080", "127.0.0.1:8080"),
            ("LocalHost:8080", "127.0.0.1:8080"),
        ] {
            assert_eq!(parse_tcp_address(input), Ok(address(expected)), "{input}");
        }
    }

    #[test]
    fn tcp_address_errors_name_the_input_and_the_form() {
        let form = "expected IP:PORT, [IPV6]:PORT or localhost:PORT";
        let no_dns = "is not resolved (no DNS in PID 1): use an IP address or localhost";
        for (input, detail) in [
            ("", form.to_string()),
            ("127.0.0.1", form.to_string()),
            ("localhost", form.to_string()),
            ("[::1]", form.to_string()),
            ("[::1]5432", form.to_string()),
            ("[::1:5432", form.to_string()),
            ("[nope]:5432", form.to_string()),
            ("300.0.0.1:80", form.to_string()),
            (" 127.0.0.1:80", form.to_string()),
            ("db:5432", format!("host name 'db' {no_dns}")),
            (
                "db.internal:5432",
                format!("host name 'db.internal' {no_dns}"),
            ),
            (
                "::1:5432",
                "an IPv6 address needs brackets: [IPV6]:PORT".to_string(),
            ),
            (
                "127.0.0.1:",
                "port '' is not a number from 1 to 65535".to_string(),
            ),
            (
                "127.0.0.1:0",
                "port '0' is not a number from 1 to 65535".to_string(),
            ),
            (
                "127.0.0.1:+80",
                "port '+80' is not a number from 1 to 65535".to_string(),
            ),
            (
                "127.0.0.1:65536",
                "port '65536' is not a number from 1 to 65535".to_string(),
            ),
            (
                "127.0.0.1:http",
                "port 'http' is not a number from 1 to 65535".to_string(),
            ),
        ] {
            assert_eq!(
                parse_tcp_address(input),
                Err(format!("invalid address '{input}': {detail}")),
                "{input}"
            );
        }
    }

    #[test]
    fn http_urls_parse() {
        for (input, socket, host, path) in [
            (
                "http://127.0.0.1:8080/ready",
                "127.0.0.1:8080",
                "127.0.0.1:8080",
                "/ready",
            ),
            ("http://127.0.0.1", "127.0.0.1:80", "127.0.0.1", "/"),
            ("http://127.0.0.1/", "127.0.0.1:80", "127.0.0.1", "/"),
            ("HTTP://127.0.0.1:81/", "127.0.0.1:81", "127.0.0.1:81", "/"),
            (
                "http://localhost:8080/a/b",
                "127.0.0.1:8080",
                "localhost:8080",
                "/a/b",
            ),
            (
                "http://[::1]:8080/healthz",
                "[::1]:8080",
                "[::1]:8080",
                "/healthz",
            ),
            ("http://[::1]/", "[::1]:80", "[::1]", "/"),
            (
                "http://10.0.0.1/h?full=1&x=%20",
                "10.0.0.1:80",
                "10.0.0.1",
                "/h?full=1&x=%20",
            ),
            (
                "http://10.0.0.1?full=1",
                "10.0.0.1:80",
                "10.0.0.1",
                "/?full=1",
            ),
            ("http://10.0.0.1/h#top", "10.0.0.1:80", "10.0.0.1", "/h"),
        ] {
            let expected = HttpTarget {
                address: address(socket),
                host_header: host.to_string(),
                path: path.to_string(),
            };
            assert_eq!(parse_http_url(input), Ok(expected), "{input}");
        }
    }

    #[test]
    fn http_url_errors_name_the_input_and_the_form() {
        let form = "expected http://HOST:PORT/PATH".to_string();
        for (input, detail) in [
            ("ftp://x", form.clone()),
            ("127.0.0.1:8080/ready", form.clone()),
            ("http:/127.0.0.1/", form.clone()),
            ("http://", form.clone()),
            ("http:///ready", form.clone()),
            ("http://[::1/", form.clone()),
            (
                "https://127.0.0.1/",
                "only http:// URLs are supported (use an exec check with curl for https)"
                    .to_string(),
            ),
            (
                "http://web:8080/",
                "host name 'web' is not resolved (no DNS in PID 1): use an IP address or localhost"
                    .to_string(),
            ),
            (
                "http://127.0.0.1:0/",
                "port '0' is not a number from 1 to 65535".to_string(),
            ),
            (
                "http://user:secret@127.0.0.1/",
                "credentials in the URL are not supported: expected http://HOST:PORT/PATH"
                    .to_string(),
            ),
            (
                "http://127.0.0.1/a b",
                "the path may hold only visible ASCII characters (percent-encode the others)"
                    .to_string(),
            ),
            (
                "http://127.0.0.1/a\r\nX-Injected: 1",
                "the path may hold only visible ASCII characters (percent-encode the others)"
                    .to_string(),
            ),
        ] {
            assert_eq!(
                parse_http_url(input),
                Err(format!("invalid URL '{input}': {detail}")),
                "{input}"
            );
        }
    }

    #[test]
    fn targets_name_their_address_and_render_for_logs() {
        let tcp = ProbeTarget::Tcp(address("127.0.0.1:5432"));
        assert_eq!(tcp.address(), address("127.0.0.1:5432"));
        assert_eq!(tcp.to_string(), "tcp 127.0.0.1:5432");
        let http = ProbeTarget::Http(parse_http_url("http://localhost:8080/ready?x=1").unwrap());
        assert_eq!(http.address(), address("127.0.0.1:8080"));
        assert_eq!(http.to_string(), "http://localhost:8080/ready?x=1");
    }
}
