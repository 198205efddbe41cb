//! What to run: argv, environment and session placement, as plain data. The OS boundary
//! turns it into a fork and an exec; nothing here touches the system.

use std::path::PathBuf;

/// How the new process is placed among process groups and sessions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Its own process group in Phoenix's session, taking the terminal's foreground when
    /// stdin is one (tini mode, so an interactive shell works).
    ForegroundGroup,
    /// Its own session (services: no controlling terminal, a group to signal as one).
    NewSession,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ProcessSpec {
    /// Shown in logs and errors.
    pub name: String,
    /// `argv[0]` is looked up in `PATH` when it has no slash.
    pub argv: Vec<String>,
    /// Variables set over Phoenix's inherited environment; `None` unsets.
    pub environment: Vec<(String, Option<String>)>,
    pub working_directory: Option<PathBuf>,
    pub placement: Placement,
}

impl ProcessSpec {
    pub fn command(name: &str, argv: Vec<String>, placement: Placement) -> ProcessSpec {
        ProcessSpec {
            name: name.to_string(),
            argv,
            environment: Vec::new(),
            working_directory: None,
            placement,
        }
    }
}
