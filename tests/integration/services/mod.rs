//! Phoenix with `--services DIR`: supervising units (DESIGN.md §3–§7).

mod credentials;
mod dependencies;
mod fallbacks;
mod last_good;
mod leftovers;
mod limits;
mod loading;
mod main_service;
mod persistence;
mod reload;
mod restart;
mod s6_dir;
pub mod setup;
mod shutdown;
mod signals;
mod state_files;
