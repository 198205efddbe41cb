//! The `[recovery]` table of a unit (DESIGN.md §4.4), exactly as written, and its checks:
//! each step listed once, the steps that need a key have it, durations longer than zero,
//! absolute rollback files. Pure: the model and its defaults live in `unit::recovery`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::unit::checks::{Source, absolute};
use crate::unit::error::UnitError;
use crate::unit::recovery::{RecoveryConfig, RecoveryStep, SafeMode};
use crate::unit::value::{CommandValue, DurationValue, TableOnly, VariableName};

/// The `[recovery]` table, exactly as written.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    expecting = "a [recovery] table"
)]
pub struct RawRecovery {
    steps: Option<Spanned<Vec<Spanned<RecoveryStep>>>>,
    verify: Option<Spanned<DurationValue>>,
    safe_mode: Option<Spanned<TableOnly<RawSafeMode>>>,
    #[serde(default)]
    rollback_files: Vec<Spanned<PathBuf>>,
    restore: Option<Spanned<CommandValue>>,
    restore_timeout: Option<Spanned<DurationValue>>,
}

/// `safe-mode = { command = …, environment = { … } }`, exactly as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSafeMode {
    command: Option<Spanned<CommandValue>>,
    environment: Option<BTreeMap<VariableName, String>>,
}

/// `[recovery]` with its defaults.
pub fn recovery_config(source: &Source, raw: RawRecovery) -> Result<RecoveryConfig, UnitError> {
    let defaults = RecoveryConfig::default();
    let steps = match &raw.steps {
        Some(steps) => checked_steps(source, steps, &raw)?,
        None => Vec::new(),
    };
    let safe_mode = raw
        .safe_mode
        .map(|safe_mode| safe_mode_config(source, safe_mode))
        .transpose()?;
    let rollback_files = raw
        .rollback_files
        .into_iter()
        .map(|path| absolute(source, path, "rollback-files entry"))
        .collect::<Result<_, _>>()?;
    Ok(RecoveryConfig {
        steps,
        verify: longer_than_zero(source, "verify", raw.verify)?.unwrap_or(defaults.verify),
        safe_mode,
        rollback_files,
        restore: raw.restore.map(|restore| restore.into_inner().0),
        restore_timeout: longer_than_zero(source, "restore-timeout", raw.restore_timeout)?
            .unwrap_or(defaults.restore_timeout),
    })
}

/// The steps in order, each once, each with the key it needs.
fn checked_steps(
    source: &Source,
    steps: &Spanned<Vec<Spanned<RecoveryStep>>>,
    raw: &RawRecovery,
) -> Result<Vec<RecoveryStep>, UnitError> {
    let mut seen = Vec::new();
    for step in steps.get_ref() {
        let step_value = *step.get_ref();
        if seen.contains(&step_value) {
            return Err(source.error_at(
                step,
                format!("duplicate step '{step_value}': expected each step at most once"),
            ));
        }
        let needs = match step_value {
            RecoveryStep::SafeMode if raw.safe_mode.is_none() => {
                Some("a safe-mode table: safe-mode = { command = [...] }")
            }
            RecoveryStep::Restore if raw.restore.is_none() => {
                Some("a restore command: restore = [\"/usr/local/bin/restore-backup\"]")
            }
            _ => None,
        };
        if let Some(needs) = needs {
            return Err(source.error_at(steps, format!("step {step_value} needs {needs}")));
        }
        seen.push(step_value);
    }
    Ok(seen)
}

/// A safe mode must change something: the command, the environment, or both.
fn safe_mode_config(
    source: &Source,
    raw: Spanned<TableOnly<RawSafeMode>>,
) -> Result<SafeMode, UnitError> {
    let changes_environment = raw
        .get_ref()
        .0
        .environment
        .as_ref()
        .is_some_and(|environment| !environment.is_empty());
    if raw.get_ref().0.command.is_none() && !changes_environment {
        return Err(source.error_at(
            &raw,
            "safe-mode changes nothing: expected command = [...] and/or environment = { NAME = \"value\" }",
        ));
    }
    let raw = raw.into_inner().0;
    Ok(SafeMode {
        command: raw.command.map(|command| command.into_inner().0),
        environment: raw
            .environment
            .unwrap_or_default()
            .into_iter()
            .map(|(name, value)| (name.0, value))
            .collect(),
    })
}

/// A duration that must be longer than zero, checked at its value.
fn longer_than_zero(
    source: &Source,
    key: &str,
    value: Option<Spanned<DurationValue>>,
) -> Result<Option<Duration>, UnitError> {
    match value {
        Some(value) if value.get_ref().0.is_zero() => Err(source.error_at(
            &value,
            format!("invalid {key} 0s: expected a duration longer than 0s"),
        )),
        value => Ok(value.map(|value| value.into_inner().0)),
    }
}

#[cfg(test)]
mod tests;
