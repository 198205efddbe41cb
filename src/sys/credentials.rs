//! Who a spawned process runs as: a unit's `user` and `group` (names or numeric ids)
//! resolved to a uid, a gid and supplementary groups. This runs before the fork, because
//! the user database goes through NSS, which allocates, takes locks and may open sockets —
//! none of which the child of a fork may do. Nothing here changes Phoenix's own identity.

use std::ffi::CString;
use std::fmt;
use std::path::PathBuf;

use nix::errno::Errno;
use nix::unistd::{Gid, Group, Uid, User};

/// The parts of the user's passwd entry a service sees in its environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub home: PathBuf,
    pub shell: PathBuf,
}

/// What the child sets; `None` keeps what it inherits from Phoenix.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Credentials {
    pub uid: Option<libc::uid_t>,
    pub gid: Option<libc::gid_t>,
    /// The whole supplementary list, set whenever a user is given so that Phoenix's own
    /// groups never leak into a service; `None` when only a group is given.
    pub groups: Option<Vec<libc::gid_t>>,
    /// `None` without a user, or for a numeric user with no passwd entry.
    pub account: Option<Account>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CredentialsError {
    UnknownUser(String),
    UnknownGroup(String),
    /// The user or group database could not be read.
    Lookup {
        what: String,
        errno: Errno,
    },
}

impl CredentialsError {
    /// The errno a spawn failure carries: ESRCH for a name that does not exist (as systemd
    /// reports it), else the lookup's own.
    pub fn errno(&self) -> i32 {
        match self {
            CredentialsError::UnknownUser(_) | CredentialsError::UnknownGroup(_) => libc::ESRCH,
            CredentialsError::Lookup { errno, .. } => *errno as i32,
        }
    }
}

impl fmt::Display for CredentialsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialsError::UnknownUser(name) => write!(f, "unknown user '{name}'"),
            CredentialsError::UnknownGroup(name) => write!(f, "unknown group '{name}'"),
            CredentialsError::Lookup { what, errno } => write!(f, "{what}: {}", errno.desc()),
        }
    }
}

impl std::error::Error for CredentialsError {}

/// Resolves a unit's `user` and `group`.
///
/// A user runs with its primary group (or `group`, when given) and its supplementary
/// groups from the group database, as `initgroups` would set them. A numeric user with no
/// passwd entry is accepted, as containers often run such ids: its gid is `group` or else
/// the same number, and it has no other groups. A group alone changes only the gid.
pub fn resolve_credentials(
    user: Option<&str>,
    group: Option<&str>,
) -> Result<Credentials, CredentialsError> {
    let gid = group.map(resolve_group).transpose()?;
    let Some(user) = user else {
        return Ok(Credentials {
            gid,
            ..Credentials::default()
        });
    };
    let Some(entry) = lookup_user(user)? else {
        // Only a numeric id has no entry and still resolves (see `lookup_user`).
        let uid = user
            .parse::<libc::uid_t>()
            .map_err(|_| CredentialsError::UnknownUser(user.to_string()))?;
        let gid = gid.unwrap_or(uid);
        return Ok(Credentials {
            uid: Some(uid),
            gid: Some(gid),
            groups: Some(vec![gid]),
            account: None,
        });
    };
    let gid = gid.unwrap_or(entry.gid.as_raw());
    Ok(Credentials {
        uid: Some(entry.uid.as_raw()),
        gid: Some(gid),
        groups: Some(supplementary_groups(&entry.name, gid)?),
        account: Some(Account {
            name: entry.name,
            home: entry.dir,
            shell: entry.shell,
        }),
    })
}

/// The passwd entry of a name or numeric id; `None` only for a numeric id without one.
fn lookup_user(user: &str) -> Result<Option<User>, CredentialsError> {
    let numeric = user.parse::<libc::uid_t>().ok();
    let found = match numeric {
        Some(uid) => User::from_uid(Uid::from_raw(uid)),
        None => User::from_name(user),
    };
    match (not_found_as_none(found), numeric) {
        (Ok(Some(entry)), _) => Ok(Some(entry)),
        (Ok(None), Some(_)) => Ok(None),
        (Ok(None), None) => Err(CredentialsError::UnknownUser(user.to_string())),
        (Err(errno), _) => Err(CredentialsError::Lookup {
            what: format!("looking up user '{user}'"),
            errno,
        }),
    }
}

/// The gid of a name or numeric id; a numeric id needs no group entry.
fn resolve_group(group: &str) -> Result<libc::gid_t, CredentialsError> {
    if let Ok(gid) = group.parse::<libc::gid_t>() {
        return Ok(gid);
    }
    match not_found_as_none(Group::from_name(group)) {
        Ok(Some(entry)) => Ok(entry.gid.as_raw()),
        Ok(None) => Err(CredentialsError::UnknownGroup(group.to_string())),
        Err(errno) => Err(CredentialsError::Lookup {
            what: format!("looking up group '{group}'"),
            errno,
        }),
    }
}

/// `getpwnam_r` and friends may report a missing entry as one of these errors instead of
/// an empty result (getpwnam(3), "RETURN VALUE").
fn not_found_as_none<T>(found: Result<Option<T>, Errno>) -> Result<Option<T>, Errno> {
    match found {
        Err(Errno::ENOENT | Errno::ESRCH | Errno::EBADF | Errno::EPERM) => Ok(None),
        other => other,
    }
}

/// `gid` plus every group that lists `name` as a member.
fn supplementary_groups(
    name: &str,
    gid: libc::gid_t,
) -> Result<Vec<libc::gid_t>, CredentialsError> {
    let lookup_error = |errno| CredentialsError::Lookup {
        what: format!("listing the groups of user '{name}'"),
        errno,
    };
    let name = CString::new(name).map_err(|_| lookup_error(Errno::EINVAL))?;
    let groups = nix::unistd::getgrouplist(&name, Gid::from_raw(gid)).map_err(lookup_error)?;
    Ok(groups.into_iter().map(Gid::as_raw).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_root_by_name() {
        let credentials = resolve_credentials(Some("root"), None).unwrap();
        assert_eq!(credentials.uid, Some(0));
        assert_eq!(credentials.gid, Some(0));
        assert!(credentials.groups.unwrap().contains(&0));
        let account = credentials.account.unwrap();
        assert_eq!(account.name, "root");
        assert_eq!(account.home, PathBuf::from("/root"));
    }

    #[test]
    fn resolves_a_numeric_id_to_its_entry() {
        assert_eq!(
            resolve_credentials(Some("0"), None).unwrap(),
            resolve_credentials(Some("root"), None).unwrap()
        );
    }

    #[test]
    fn resolves_nobody() {
        let credentials = resolve_credentials(Some("nobody"), None).unwrap();
        assert_eq!(credentials.uid, Some(65534));
        assert_eq!(credentials.gid, Some(65534));
        let groups = credentials.groups.unwrap();
        assert!(groups.contains(&65534), "{groups:?}");
        assert!(!groups.contains(&0), "{groups:?}");
        assert_eq!(credentials.account.unwrap().name, "nobody");
    }

    #[test]
    fn a_group_replaces_the_primary_group() {
        let credentials = resolve_credentials(Some("nobody"), Some("root")).unwrap();
        assert_eq!(credentials.uid, Some(65534));
        assert_eq!(credentials.gid, Some(0));
        assert!(credentials.groups.unwrap().contains(&0));
    }

    #[test]
    fn a_group_alone_changes_only_the_gid() {
        assert_eq!(
            resolve_credentials(None, Some("root")).unwrap(),
            Credentials {
                gid: Some(0),
                ..Credentials::default()
            }
        );
        assert_eq!(
            resolve_credentials(None, Some("4242")).unwrap().gid,
            Some(4242)
        );
    }

    #[test]
    fn neither_changes_nothing() {
        assert_eq!(
            resolve_credentials(None, None).unwrap(),
            Credentials::default()
        );
    }

    #[test]
    fn a_numeric_user_without_an_entry_is_accepted() {
        assert_eq!(
            resolve_credentials(Some("4242"), None).unwrap(),
            Credentials {
                uid: Some(4242),
                gid: Some(4242),
                groups: Some(vec![4242]),
                account: None,
            }
        );
    }

    #[test]
    fn an_unknown_user_is_an_error() {
        let error = resolve_credentials(Some("phoenix-no-such-user"), None).unwrap_err();
        assert_eq!(error.to_string(), "unknown user 'phoenix-no-such-user'");
        assert_eq!(error.errno(), libc::ESRCH);
    }

    #[test]
    fn an_unknown_group_is_an_error() {
        let error = resolve_credentials(Some("root"), Some("phoenix-no-such-group")).unwrap_err();
        assert_eq!(error.to_string(), "unknown group 'phoenix-no-such-group'");
    }
}
