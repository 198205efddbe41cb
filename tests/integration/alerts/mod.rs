//! Alerts from a live PID-1 Phoenix (issue 12): the `exec` channel gets the alert's JSON on
//! its stdin and `PHOENIX_ALERT_*` in its environment, and a cooldown holds a repeat back,
//! the next alert sent counting it as suppressed; an incident that closes recovered sends
//! its info alert.

mod alertmanager;
mod exec;
mod state;
mod webhook;
