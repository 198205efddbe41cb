//! An HTTP/1.1 response as bytes: status line with its reason phrase, `Content-Type`,
//! `Content-Length`, `Connection: close` (every connection serves one request), and the
//! body unless the request was a `HEAD`. Pure.

/// The reason phrase of the statuses the endpoint sends.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

pub fn format_response(status: u16, content_type: &str, body: &str, head: bool) -> Vec<u8> {
    let allow = if status == 405 {
        "Allow: GET, HEAD\r\n"
    } else {
        ""
    };
    let mut bytes = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{allow}Cache-Control: no-store\r\nConnection: close\r\n\r\n",
        reason_phrase(status),
        body.len()
    )
    .into_bytes();
    if !head {
        bytes.extend_from_slice(body.as_bytes());
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_response_has_its_head_and_body() {
        let bytes = format_response(200, "text/plain; charset=utf-8", "ok\n", false);
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 3\r\nCache-Control: no-store\r\nConnection: close\r\n\r\nok\n"
        );
    }

    #[test]
    fn head_keeps_the_length_and_drops_the_body() {
        let text =
            String::from_utf8(format_response(503, "text/plain", "web: starting\n", true)).unwrap();
        assert!(
            text.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
            "{text}"
        );
        assert!(text.contains("Content-Length: 14\r\n"), "{text}");
        assert!(text.ends_with("\r\n\r\n"), "{text}");
    }

    #[test]
    fn method_not_allowed_says_what_is() {
        let text = String::from_utf8(format_response(405, "text/plain", "", false)).unwrap();
        assert!(text.contains("Allow: GET, HEAD\r\n"), "{text}");
    }
}
