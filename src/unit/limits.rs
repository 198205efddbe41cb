//! `[limits]` of a unit (DESIGN.md §4.7): resource limits (`nofile = 65536`, `core =
//! "unlimited"`, `stack = "8388608:unlimited"`), `no-new-privileges` and
//! `oom-score-adjust`, applied between fork and exec. Pure: what the unit asks for, each
//! bad value an error at its own line and column; `sys::spawn` applies it.

use std::fmt;

use serde::{Deserialize, Deserializer};

use super::value::checked;

/// The resources a unit may limit, by their key (`RLIMIT_NOFILE` is `nofile`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Resource {
    Nofile,
    Nproc,
    Core,
    Memlock,
    Stack,
    As,
    Cpu,
    Fsize,
}

impl Resource {
    pub fn name(self) -> &'static str {
        match self {
            Resource::Nofile => "nofile",
            Resource::Nproc => "nproc",
            Resource::Core => "core",
            Resource::Memlock => "memlock",
            Resource::Stack => "stack",
            Resource::As => "as",
            Resource::Cpu => "cpu",
            Resource::Fsize => "fsize",
        }
    }
}

/// A soft and a hard limit; `None` is unlimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rlimit {
    pub soft: Option<u64>,
    pub hard: Option<u64>,
}

impl fmt::Display for Rlimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |limit: Option<u64>| limit.map_or("unlimited".to_string(), |n| n.to_string());
        write!(f, "{}:{}", show(self.soft), show(self.hard))
    }
}

/// What a unit's `[limits]` asks for; the default asks for nothing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Limits {
    pub resources: Vec<(Resource, Rlimit)>,
    /// `PR_SET_NO_NEW_PRIVS`: setuid binaries and file capabilities give nothing.
    pub no_new_privileges: bool,
    /// The child's `oom_score_adj`; `None`: the value Phoenix itself started with.
    pub oom_score_adjust: Option<i32>,
}

const LIMIT_FORM: &str =
    "expected a number, \"unlimited\", or \"SOFT:HARD\" with each a number or \"unlimited\"";

/// One resource's value as written: `65536`, `"unlimited"`, `"1024:4096"`.
#[derive(Debug, PartialEq)]
pub struct LimitValue(pub Rlimit);

#[derive(Deserialize)]
#[serde(untagged)]
enum Written {
    Number(i64),
    Text(String),
}

fn parse_one(text: &str) -> Result<Option<u64>, String> {
    match text.trim() {
        "unlimited" | "infinity" => Ok(None),
        number => number
            .parse::<u64>()
            .map(Some)
            .map_err(|_| format!("invalid limit '{text}': {LIMIT_FORM}")),
    }
}

/// Parses a limit as written in a string.
pub fn parse_limit(text: &str) -> Result<Rlimit, String> {
    let (soft, hard) = match text.split_once(':') {
        Some((soft, hard)) => (parse_one(soft)?, parse_one(hard)?),
        None => {
            let both = parse_one(text)?;
            (both, both)
        }
    };
    let above = |limit: Option<u64>| limit.unwrap_or(u64::MAX);
    if above(soft) > above(hard) {
        return Err(format!(
            "invalid limit '{text}': the soft limit is above the hard one"
        ));
    }
    Ok(Rlimit { soft, hard })
}

impl<'de> Deserialize<'de> for LimitValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        checked(deserializer, |written: Written| match written {
            Written::Number(number) => u64::try_from(number)
                .map(|n| {
                    LimitValue(Rlimit {
                        soft: Some(n),
                        hard: Some(n),
                    })
                })
                .map_err(|_| format!("invalid limit {number}: {LIMIT_FORM}")),
            Written::Text(text) => parse_limit(&text).map(LimitValue),
        })
    }
}

/// `oom-score-adjust`: -1000 to 1000, as the kernel takes it.
#[derive(Debug, PartialEq)]
pub struct OomScoreAdjust(pub i32);

impl<'de> Deserialize<'de> for OomScoreAdjust {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        checked(deserializer, |value: i64| {
            i32::try_from(value)
                .ok()
                .filter(|v| (-1000..=1000).contains(v))
                .map(OomScoreAdjust)
                .ok_or_else(|| {
                    format!(
                        "invalid oom-score-adjust {value}: expected an integer from -1000 to 1000"
                    )
                })
        })
    }
}

/// The `[limits]` table, exactly as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawLimits {
    pub nofile: Option<LimitValue>,
    pub nproc: Option<LimitValue>,
    pub core: Option<LimitValue>,
    pub memlock: Option<LimitValue>,
    pub stack: Option<LimitValue>,
    #[serde(rename = "as")]
    pub address_space: Option<LimitValue>,
    pub cpu: Option<LimitValue>,
    pub fsize: Option<LimitValue>,
    pub no_new_privileges: Option<bool>,
    pub oom_score_adjust: Option<OomScoreAdjust>,
}

impl RawLimits {
    pub fn into_limits(self) -> Limits {
        let resources = [
            (Resource::Nofile, self.nofile),
            (Resource::Nproc, self.nproc),
            (Resource::Core, self.core),
            (Resource::Memlock, self.memlock),
            (Resource::Stack, self.stack),
            (Resource::As, self.address_space),
            (Resource::Cpu, self.cpu),
            (Resource::Fsize, self.fsize),
        ]
        .into_iter()
        .filter_map(|(resource, value)| value.map(|v| (resource, v.0)))
        .collect();
        Limits {
            resources,
            no_new_privileges: self.no_new_privileges.unwrap_or(false),
            oom_score_adjust: self.oom_score_adjust.map(|o| o.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_parse_in_every_written_form() {
        assert_eq!(
            parse_limit("1024:4096"),
            Ok(Rlimit {
                soft: Some(1024),
                hard: Some(4096)
            })
        );
        assert_eq!(
            parse_limit("unlimited"),
            Ok(Rlimit {
                soft: None,
                hard: None
            })
        );
        assert_eq!(
            parse_limit("8388608:unlimited"),
            Ok(Rlimit {
                soft: Some(8388608),
                hard: None
            })
        );
        assert!(
            parse_limit("unlimited:10")
                .unwrap_err()
                .contains("above the hard")
        );
        assert!(
            parse_limit("lots")
                .unwrap_err()
                .contains("expected a number")
        );
        assert!(parse_limit("-1").is_err());
    }
}
