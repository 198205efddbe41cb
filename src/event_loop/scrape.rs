//! A `/metrics` reply leaves the core with everything the core knows; Phoenix's own
//! `process_*` series need `/proc`, which the core may not read, so the shell appends
//! them here, just before the reply is written. Keyed on the reply's content type, which
//! only the core's `/metrics` answer carries.

use crate::metrics::{CONTENT_TYPE, render_process};
use crate::sys::process_stats;

/// Appends the `process_*` block to a scrape; any other reply is left as it is.
pub fn complete_reply(content_type: &str, body: &mut String) {
    if content_type == CONTENT_TYPE {
        body.push_str(&render_process(&process_stats::read()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scrape_gets_the_process_block_and_other_replies_do_not() {
        let mut scrape = "phoenix_orphans_reaped_total 0\n".to_string();
        complete_reply(CONTENT_TYPE, &mut scrape);
        assert!(
            scrape.contains("\nprocess_resident_memory_bytes "),
            "{scrape}"
        );
        let mut other = "ok\n".to_string();
        complete_reply("text/plain; charset=utf-8", &mut other);
        assert_eq!(other, "ok\n");
    }
}
