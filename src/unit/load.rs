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
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::path::PathBuf;

    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, text).unwrap();
        path
    }

    fn names(report: &LoadReport) -> Vec<&str> {
        report.units.iter().map(|u| u.name.as_str()).collect()
    }

    fn invalid_names(report: &LoadReport) -> Vec<&str> {
        report.invalid.iter().map(|(n, _)| n.as_str()).collect()
    }

    #[test]
    fn loads_toml_units_and_s6_directories_sorted_by_name() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "web.toml",
            "command = \"x\"\nafter = [\"db\"]\n",
        );
        write(dir.path(), "db.toml", "command = [\"/usr/bin/db\"]\n");
        let run = write(dir.path(), "cron/run", "#!/bin/sh\n");
        fs::set_permissions(&run, fs::Permissions::from_mode(0o755)).unwrap();
        let log = write(dir.path(), "cron/log/run", "#!/bin/sh\n");
        fs::set_permissions(&log, fs::Permissions::from_mode(0o755)).unwrap();
        write(dir.path(), ".hidden.toml", "garbage");
        write(dir.path(), ".git/config", "garbage");
        write(dir.path(), "README.md", "not a unit");
        write(dir.path(), "web.toml~", "editor backup");
        let report = load_dir(dir.path(), &BTreeSet::new());
        assert!(report.is_valid(), "{:?}", report.errors);
        assert_eq!(names(&report), ["cron", "cron.log", "db", "web"]);
        assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    }

    #[test]
    fn an_invalid_unit_does_not_prevent_others_loading() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "good.toml", "command = \"x\"\n");
        let bad = write(dir.path(), "bad.toml", "command = \"x\"\n\ncomand = 1\n");
        let report = load_dir(dir.path(), &BTreeSet::new());
        assert_eq!(names(&report), ["good"]);
        assert_eq!(invalid_names(&report), ["bad"]);
        let error = &report.invalid[0].1;
        assert_eq!(error.path, bad);
        assert_eq!((error.line, error.column), (Some(3), Some(1)));
        assert_eq!(report.errors, std::slice::from_ref(error));
    }

    #[test]
    fn unknown_dependency_is_an_error_at_the_dependency_string() {
        let dir = tempfile::tempdir().unwrap();
        let web = write(
            dir.path(),
            "web.toml",
            "command = \"x\"\nrequires = [\"db\"]\n",
        );
        write(
            dir.path(),
            "other.toml",
            "command = \"x\"\nwants = [\"web\"]\n",
        );
        let report = load_dir(dir.path(), &BTreeSet::new());
        assert_eq!(invalid_names(&report), ["web"]);
        assert_eq!(names(&report), ["other"]);
        let error = &report.errors[0];
        assert_eq!(
            error.to_string(),
            format!(
                "{}:2:13: unknown dependency 'db': expected the name of a unit in this directory",
                web.display()
            )
        );
    }

    #[test]
    fn depending_on_an_invalid_unit_is_not_unknown() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "db.toml", "kind = \"daemon\"\n");
        write(
            dir.path(),
            "web.toml",
            "command = \"x\"\nrequires = [\"db\"]\n",
        );
        let report = load_dir(dir.path(), &BTreeSet::new());
        assert_eq!(names(&report), ["web"]);
        assert_eq!(invalid_names(&report), ["db"]);
        assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    }

    #[test]
    fn unknown_supervision_group_is_an_error_at_the_name() {
        let dir = tempfile::tempdir().unwrap();
        let web = write(
            dir.path(),
            "web.toml",
            "command = \"x\"\nsupervision-group = \"payment\"\n",
        );
        write(
            dir.path(),
            "db.toml",
            "command = \"x\"\nsupervision-group = \"payments\"\n",
        );
        write(
            dir.path(),
            "cache.toml",
            "command = \"x\"\nrequires = [\"web\"]\n",
        );
        let groups = BTreeSet::from(["payments".to_string(), "web".to_string()]);
        let report = load_dir(dir.path(), &groups);
        assert_eq!(names(&report), ["cache", "db"]);
        assert_eq!(invalid_names(&report), ["web"]);
        assert_eq!(
            report.errors[0].to_string(),
            format!(
                "{}:2:21: unknown supervision group 'payment': phoenix.toml defines payments, web",
                web.display()
            )
        );
        assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
        assert_eq!(
            report.units[1].supervision_group.as_deref(),
            Some("payments")
        );
    }

    #[test]
    fn a_supervision_group_without_groups_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let web = write(
            dir.path(),
            "web.toml",
            "command = \"x\"\nsupervision-group = \"payments\"\n",
        );
        let report = load_dir(dir.path(), &BTreeSet::new());
        assert!(report.units.is_empty());
        assert_eq!(
            report.errors[0].to_string(),
            format!(
                "{}:2:21: unknown supervision group 'payments': phoenix.toml defines no [groups]",
                web.display()
            )
        );
    }

    #[test]
    fn an_s6_directory_joins_a_group_from_its_unit_toml() {
        let dir = tempfile::tempdir().unwrap();
        let run = write(dir.path(), "web/run", "#!/bin/sh\n");
        fs::set_permissions(&run, fs::Permissions::from_mode(0o755)).unwrap();
        let toml = write(
            dir.path(),
            "web/unit.toml",
            "\nsupervision-group = \"nope\"\n",
        );
        let report = load_dir(dir.path(), &BTreeSet::from(["web".to_string()]));
        assert_eq!(invalid_names(&report), ["web"]);
        assert_eq!(
            report.errors[0].to_string(),
            format!(
                "{}:2:21: unknown supervision group 'nope': phoenix.toml defines web",
                toml.display()
            )
        );
        write(dir.path(), "web/unit.toml", "supervision-group = \"web\"\n");
        let report = load_dir(dir.path(), &BTreeSet::from(["web".to_string()]));
        assert!(report.is_valid(), "{:?}", report.errors);
        assert_eq!(report.units[0].supervision_group.as_deref(), Some("web"));
    }

    #[test]
    fn cycle_members_are_invalid_and_named_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a.toml", "command = \"x\"\nafter = [\"b\"]\n");
        write(
            dir.path(),
            "b.toml",
            "command = \"x\"\nrequires = [\"c\"]\n",
        );
        write(dir.path(), "c.toml", "command = \"x\"\nafter = [\"a\"]\n");
        write(dir.path(), "d.toml", "command = \"x\"\nafter = [\"a\"]\n");
        let report = load_dir(dir.path(), &BTreeSet::new());
        assert_eq!(names(&report), ["d"]);
        assert_eq!(invalid_names(&report), ["a", "b", "c"]);
        assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
        assert_eq!(
            report.errors[0].to_string(),
            format!("{}:2:10: dependency cycle: a -> b -> c -> a", a.display())
        );
        for (_, error) in &report.invalid {
            assert_eq!(error.message, "dependency cycle: a -> b -> c -> a");
        }
    }

    #[test]
    fn bad_file_names_are_errors_and_other_files_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let bad = write(dir.path(), "my web.toml", "command = \"x\"\n");
        write(dir.path(), "notes.txt", "ignored");
        let report = load_dir(dir.path(), &BTreeSet::new());
        assert!(report.units.is_empty());
        assert_eq!(report.errors.len(), 1);
        assert_eq!(report.errors[0].path, bad);
        assert!(
            report.errors[0]
                .message
                .contains("invalid unit name 'my web'")
        );
    }

    #[test]
    fn duplicate_names_are_both_rejected() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "web.toml", "command = \"x\"\n");
        let run = write(dir.path(), "web/run", "#!/bin/sh\n");
        fs::set_permissions(&run, fs::Permissions::from_mode(0o755)).unwrap();
        let report = load_dir(dir.path(), &BTreeSet::new());
        assert!(report.units.is_empty());
        assert_eq!(invalid_names(&report), ["web"]);
        assert_eq!(report.errors.len(), 2);
        assert!(
            report.errors[0]
                .message
                .starts_with("duplicate unit 'web': also defined by")
        );
    }

    #[test]
    fn unreadable_directory_is_one_error() {
        let report = load_dir(
            Path::new("/nonexistent/phoenix/services.d"),
            &BTreeSet::new(),
        );
        assert_eq!(report.errors.len(), 1);
        assert!(
            report.errors[0]
                .message
                .starts_with("unable to read the services directory")
        );
    }

    #[test]
    fn warns_when_the_restart_budget_can_never_be_exhausted() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "slow.toml",
            "command = \"x\"\n[restart]\ndelay = \"1m\"\nmax-delay = \"1h\"\nwindow = \"5m\"\n",
        );
        write(
            dir.path(),
            "never.toml",
            "command = \"x\"\n[restart]\npolicy = \"never\"\nwindow = \"1s\"\n",
        );
        write(dir.path(), "fine.toml", "command = \"x\"\n");
        let report = load_dir(dir.path(), &BTreeSet::new());
        assert!(report.is_valid());
        assert_eq!(
            report.warnings,
            [
                "slow: restart budget can never be exhausted: 5 failures take at least 15m of restart delays, longer than window 5m; raise window or lower max-failures"
            ]
        );
    }
}
