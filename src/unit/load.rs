//! Loading a services directory: every `NAME.toml` and s6-style `NAME/` becomes a unit,
//! then the units are checked against each other (unknown dependencies, cycles, duplicate
//! names), against the supervision groups `phoenix.toml` defines, and against their own
//! restart budget. A broken unit never stops the others from
//! loading: it is reported and kept by name, so the supervisor can show it as failed.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use super::duration::format_duration;
use super::error::UnitError;
use super::graph::find_cycles;
use super::model::{RestartPolicy, Unit, is_valid_name};
use super::parse::{DependencySite, ParsedUnit, parse_unit_with_sites};
use super::s6dir::read_service_dir;

/// Everything learnt from a services directory.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LoadReport {
    /// The units that can run, sorted by name.
    pub units: Vec<Unit>,
    /// Units that exist but cannot run, with the first reason, sorted by name.
    pub invalid: Vec<(String, UnitError)>,
    /// Every problem found, for `--check`.
    pub errors: Vec<UnitError>,
    /// Problems that do not stop a unit, each naming its unit.
    pub warnings: Vec<String>,
}

impl LoadReport {
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Reads and checks every unit in `dir`; `groups` are the names of `phoenix.toml`'s
/// `[groups.NAME]`, the only ones a `supervision-group` may name.
pub fn load_dir(dir: &Path, groups: &BTreeSet<String>) -> LoadReport {
    let mut report = LoadReport::default();
    let candidates = match read_candidates(dir, &mut report) {
        Ok(candidates) => candidates,
        Err(error) => {
            report.errors.push(error);
            return report;
        }
    };
    let mut parsed = Vec::new();
    for (name, mut found) in candidates {
        match (found.pop(), found.is_empty()) {
            (Some(Ok(unit)), true) => parsed.push(unit),
            (Some(Err(error)), true) => report.reject(&name, error),
            (Some(last), false) => reject_duplicate(&name, last, found, &mut report),
            (None, _) => {}
        }
    }
    let parsed = reject_unknown_groups(parsed, groups, &mut report);
    let parsed = reject_unknown_dependencies(parsed, &mut report);
    let units = reject_cycles(parsed, &mut report);
    report
        .warnings
        .extend(units.iter().filter_map(budget_warning));
    report.units = units;
    report.invalid.sort_by(|a, b| a.0.cmp(&b.0));
    report
}

/// Whether `dir` defines any unit, valid or not: a `NAME.toml` or a `NAME/` with a `run`
/// (dot-names skipped). An absent or unreadable directory holds none.
pub fn holds_units(dir: &Path) -> bool {
    let Ok(entries) = fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|entry| {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        !name.starts_with('.')
            && (path.join("run").is_file() || (name.ends_with(".toml") && path.is_file()))
    })
}

impl LoadReport {
    fn reject(&mut self, name: &str, error: UnitError) {
        self.errors.push(error.clone());
        if !self.invalid.iter().any(|(invalid, _)| invalid == name) {
            self.invalid.push((name.to_string(), error));
        }
    }
}

type Candidate = Result<ParsedUnit, UnitError>;

/// Every unit the directory defines, by name; more than one per name is a duplicate.
fn read_candidates(
    dir: &Path,
    report: &mut LoadReport,
) -> Result<BTreeMap<String, Vec<Candidate>>, UnitError> {
    let unreadable = |error: std::io::Error| {
        UnitError::new(
            dir,
            format!("unable to read the services directory: {error}"),
        )
    };
    let mut paths = Vec::new();
    for entry in fs::read_dir(dir).map_err(unreadable)? {
        paths.push(entry.map_err(unreadable)?.path());
    }
    paths.sort();
    let mut candidates: BTreeMap<String, Vec<Candidate>> = BTreeMap::new();
    for path in paths {
        let Some(file_name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        if file_name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            if !is_valid_name(&file_name) {
                if path.join("run").exists() {
                    report.errors.push(bad_name(&path, &file_name));
                }
                continue;
            }
            match read_service_dir(&file_name, &path) {
                Ok(service) => {
                    report.warnings.extend(service.warnings);
                    for unit in service.units {
                        candidates
                            .entry(unit.unit.name.clone())
                            .or_default()
                            .push(Ok(unit));
                    }
                }
                Err(error) => candidates.entry(file_name).or_default().push(Err(error)),
            }
        } else if let Some(name) = file_name.strip_suffix(".toml") {
            if !is_valid_name(name) {
                report.errors.push(bad_name(&path, name));
                continue;
            }
            let candidate = fs::read_to_string(&path)
                .map_err(|error| UnitError::new(&path, format!("unable to read: {error}")))
                .and_then(|text| parse_unit_with_sites(name, &path, &text));
            candidates
                .entry(name.to_string())
                .or_default()
                .push(candidate);
        }
    }
    Ok(candidates)
}

fn bad_name(path: &Path, name: &str) -> UnitError {
    UnitError::new(
        path,
        format!("invalid unit name '{name}': expected letters, digits and _ . @ - only"),
    )
}

/// Two definitions of one name: neither runs, since either choice would surprise.
fn reject_duplicate(name: &str, last: Candidate, others: Vec<Candidate>, report: &mut LoadReport) {
    let sources: Vec<String> = others
        .iter()
        .chain([&last])
        .map(|candidate| match candidate {
            Ok(parsed) => parsed.unit.source.display().to_string(),
            Err(error) => error.path.display().to_string(),
        })
        .collect();
    for source in &sources {
        let others: Vec<&str> = sources
            .iter()
            .filter(|s| *s != source)
            .map(String::as_str)
            .collect();
        let message = format!(
            "duplicate unit '{name}': also defined by {}",
            others.join(", ")
        );
        report.reject(name, UnitError::new(Path::new(source), message));
    }
}

/// A `supervision-group` must name a group of `phoenix.toml`.
fn reject_unknown_groups(
    parsed: Vec<ParsedUnit>,
    groups: &BTreeSet<String>,
    report: &mut LoadReport,
) -> Vec<ParsedUnit> {
    let defined = match groups.len() {
        0 => "no [groups]".to_string(),
        _ => groups
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", "),
    };
    let mut valid = Vec::new();
    for unit in parsed {
        match &unit.group_site {
            Some(site) if !groups.contains(&site.dependency) => {
                let message = format!(
                    "unknown supervision group '{}': phoenix.toml defines {defined}",
                    site.dependency
                );
                report.reject(&unit.unit.name, site.error(message));
            }
            _ => valid.push(unit),
        }
    }
    valid
}

/// A dependency must name a unit that exists, even one that is itself invalid.
fn reject_unknown_dependencies(
    parsed: Vec<ParsedUnit>,
    report: &mut LoadReport,
) -> Vec<ParsedUnit> {
    let known: BTreeSet<String> = parsed
        .iter()
        .map(|p| p.unit.name.clone())
        .chain(report.invalid.iter().map(|(name, _)| name.clone()))
        .collect();
    let mut valid = Vec::new();
    for unit in parsed {
        let unknown: Vec<&DependencySite> = unit
            .sites
            .iter()
            .filter(|site| !known.contains(&site.dependency))
            .collect();
        if unknown.is_empty() {
            valid.push(unit);
            continue;
        }
        for site in unknown {
            let message = format!(
                "unknown dependency '{}': expected the name of a unit in this directory",
                site.dependency
            );
            report.reject(&unit.unit.name, site.error(message));
        }
    }
    valid
}

/// Units on a cycle cannot be ordered, so none of them runs. Each error points at the
/// member's own dependency on the next member.
fn reject_cycles(parsed: Vec<ParsedUnit>, report: &mut LoadReport) -> Vec<Unit> {
    let units: Vec<Unit> = parsed.iter().map(|p| p.unit.clone()).collect();
    let cycles = find_cycles(&units);
    let mut reported = BTreeSet::new();
    let mut valid = Vec::new();
    for ParsedUnit { unit, sites, .. } in parsed {
        let Some(cycle) = cycles.get(&unit.name) else {
            valid.push(unit);
            continue;
        };
        let members = &cycle.0;
        let position = members.iter().position(|m| *m == unit.name).unwrap_or(0);
        let next = members
            .get((position + 1) % members.len().max(1))
            .cloned()
            .unwrap_or_default();
        let message = format!("dependency cycle: {}", cycle.describe());
        let error = sites
            .iter()
            .find(|site| site.dependency == next)
            .map_or_else(
                || UnitError::new(&unit.source, message.clone()),
                |site| site.error(message.clone()),
            );
        if reported.insert(cycle.clone()) {
            report.errors.push(error.clone());
        }
        if !report.invalid.iter().any(|(name, _)| *name == unit.name) {
            report.invalid.push((unit.name.clone(), error));
        }
    }
    valid
}

/// Warns when the delay curve spreads failures so far apart that `window` can never hold
/// `max-failures` of them: `on-exhausted` would then never happen.
fn budget_warning(unit: &Unit) -> Option<String> {
    let restart = &unit.restart;
    if restart.policy == RestartPolicy::Never || restart.is_budget_reachable() {
        return None;
    }
    Some(format!(
        "{}: restart budget can never be exhausted: {} failures take at least {} of restart delays, longer than window {}; raise window or lower max-failures",
        unit.name,
        restart.max_failures,
        format_duration(restart.fastest_exhaustion()),
        format_duration(restart.window),
    ))
}

#[cfg(test)]
mod tests;
