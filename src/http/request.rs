//! What the bytes a client sent so far amount to: not yet a request, a `GET` (or `HEAD`)
//! of a path for the core, or an error the endpoint answers itself. Pure and bounded: the
//! caller never holds more than `max_bytes`, and only the first request counts (replies
//! close the connection, so pipelined requests after it are never answered).

/// Headers a request may carry; more is a malformed request.
const MAX_HEADERS: usize = 64;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parsed {
    /// Not a whole head yet, and still within the limit: read on.
    Incomplete,
    /// A well-formed `GET` (or `HEAD`: answer without the body) of `path`, query dropped.
    Get { path: String, head: bool },
    /// Answered by the endpoint itself with this status and closed.
    Reject(Rejection),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// 400: not HTTP/1.x.
    Malformed,
    /// 405: a method other than `GET` and `HEAD`.
    MethodNotAllowed,
    /// 431: the head did not end within the limit.
    TooLarge,
}

impl Rejection {
    pub fn status(self) -> u16 {
        match self {
            Rejection::Malformed => 400,
            Rejection::MethodNotAllowed => 405,
            Rejection::TooLarge => 431,
        }
    }

    pub fn body(self, max_bytes: usize) -> String {
        match self {
            Rejection::Malformed => "malformed request\n".to_string(),
            Rejection::MethodNotAllowed => "only GET and HEAD are served\n".to_string(),
            Rejection::TooLarge => format!("request head over {max_bytes} bytes\n"),
        }
    }
}

/// Judges `received`, everything read from the connection so far.
pub fn parse_request(received: &[u8], max_bytes: usize) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(received) {
        Ok(httparse::Status::Partial) if received.len() >= max_bytes => {
            Parsed::Reject(Rejection::TooLarge)
        }
        Ok(httparse::Status::Partial) => Parsed::Incomplete,
        Ok(httparse::Status::Complete(length)) if length > max_bytes => {
            Parsed::Reject(Rejection::TooLarge)
        }
        Ok(httparse::Status::Complete(_)) => {
            let (Some(method), Some(path)) = (request.method, request.path) else {
                return Parsed::Reject(Rejection::Malformed);
            };
            let head = match method {
                "GET" => false,
                "HEAD" => true,
                _ => return Parsed::Reject(Rejection::MethodNotAllowed),
            };
            let path = path.split(['?', '#']).next().unwrap_or(path);
            if !path.starts_with('/') {
                return Parsed::Reject(Rejection::Malformed);
            }
            Parsed::Get {
                path: path.to_string(),
                head,
            }
        }
        Err(_) => Parsed::Reject(Rejection::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: usize = 8192;

    fn get(path: &str, head: bool) -> Parsed {
        Parsed::Get {
            path: path.to_string(),
            head,
        }
    }

    #[test]
    fn requests_and_what_they_amount_to() {
        let huge = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(LIMIT));
        let pipelined = "GET /ready HTTP/1.1\r\n\r\nGET /status HTTP/1.1\r\n\r\n".repeat(3);
        for (input, expected) in [
            (
                "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
                get("/healthz", false),
            ),
            (
                "GET /ready?verbose=1 HTTP/1.0\r\n\r\n",
                get("/ready", false),
            ),
            ("HEAD /status HTTP/1.1\r\n\r\n", get("/status", true)),
            (pipelined.as_str(), get("/ready", false)),
            ("GET /healthz HTTP/1.1\r\nHost: x\r\n", Parsed::Incomplete),
            ("GE", Parsed::Incomplete),
            ("", Parsed::Incomplete),
            (
                "POST /healthz HTTP/1.1\r\n\r\n",
                Parsed::Reject(Rejection::MethodNotAllowed),
            ),
            (
                "DELETE / HTTP/1.1\r\n\r\n",
                Parsed::Reject(Rejection::MethodNotAllowed),
            ),
            (
                "GET / HTTP/2.0\r\n\r\n",
                Parsed::Reject(Rejection::Malformed),
            ),
            (
                "\x00\x01\x02garbage\r\n\r\n",
                Parsed::Reject(Rejection::Malformed),
            ),
            (
                "GET * HTTP/1.1\r\n\r\n",
                Parsed::Reject(Rejection::Malformed),
            ),
            ("GET /a b c\r\n\r\n", Parsed::Reject(Rejection::Malformed)),
            (huge.as_str(), Parsed::Reject(Rejection::TooLarge)),
        ] {
            assert_eq!(
                parse_request(input.as_bytes(), LIMIT),
                expected,
                "{input:?}"
            );
        }
    }

    #[test]
    fn an_unfinished_head_at_the_limit_is_too_large() {
        let partial = format!("GET / HTTP/1.1\r\nX: {}", "a".repeat(300));
        assert_eq!(parse_request(partial.as_bytes(), 1024), Parsed::Incomplete);
        assert_eq!(
            parse_request(&partial.as_bytes()[..256], 256),
            Parsed::Reject(Rejection::TooLarge)
        );
    }

    #[test]
    fn too_many_headers_is_malformed() {
        let headers = "X: y\r\n".repeat(MAX_HEADERS + 1);
        let request = format!("GET / HTTP/1.1\r\n{headers}\r\n");
        assert_eq!(
            parse_request(request.as_bytes(), LIMIT),
            Parsed::Reject(Rejection::Malformed)
        );
    }

    #[test]
    fn rejections_have_their_status() {
        assert_eq!(Rejection::Malformed.status(), 400);
        assert_eq!(Rejection::MethodNotAllowed.status(), 405);
        assert_eq!(Rejection::TooLarge.status(), 431);
        assert!(Rejection::TooLarge.body(99).contains("99"));
    }
}
