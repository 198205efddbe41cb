//! The re-exec handoff: the bytes the old image leaves for the new one, parsed, and when
//! they parse, a supervisor over two units (one with health checks and a watchdog, one
//! with a recovery ladder) resumed from them and started, as `run` does after a re-exec;
//! then handed off again.
#![no_main]

use std::path::Path;
use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use phoenix::core::Core;
use phoenix::supervisor::{Supervisor, SupervisorConfig};
use phoenix::unit::{LoadReport, Settings, parse_unit};

const WEB: &str = "command = \"web\"\nrequires = [\"db\"]\n[ready]\ncheck = \"notify\"\ntimeout = \"2s\"\n[health]\ncheck = \"tcp\"\naddress = \"127.0.0.1:1\"\ninterval = \"1s\"\nfailure-threshold = 2\n[watchdog]\ntimeout = \"3s\"\n[restart]\ndelay = \"100ms\"";

const DB: &str = "command = \"db\"\n[restart]\ndelay = \"100ms\"\nmax-failures = 3\nwindow = \"10s\"\ncooldown = \"1s\"\n[recovery]\nsteps = [\"safe-mode\", \"restore\"]\nverify = \"1s\"\nsafe-mode = { command = \"db --safe\" }\nrestore = \"restore-db\"\nrestore-timeout = \"2s\"";

fn supervisor() -> Option<Supervisor> {
    let units = [("web", WEB), ("db", DB)]
        .iter()
        .map(|(name, text)| parse_unit(name, Path::new("/services/x.toml"), text).ok())
        .collect::<Option<Vec<_>>>()?;
    let config = SupervisorConfig {
        settings: Settings::default(),
        signal_group: false,
        success_codes: Vec::new(),
        warn_on_reap: false,
        machine: false,
    };
    let report = LoadReport {
        units,
        ..LoadReport::default()
    };
    Some(Supervisor::new(config, report, None, Default::default()))
}

fuzz_target!(|data: &[u8]| {
    let Ok(handoff) = phoenix::reexec::parse_handoff(data) else {
        return;
    };
    let _ = phoenix::reexec::age(&handoff);
    let Some(mut supervisor) = supervisor() else {
        panic!("the handoff target's own units no longer parse");
    };
    let now = Instant::now();
    supervisor.resume_from(handoff.core);
    let _ = supervisor.start(now);
    let _ = serde_json::to_vec(&supervisor.hand_off(now));
});
