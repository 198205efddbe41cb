//! What stage 1 mounts and in which order the final sequence unmounts (DESIGN.md §10).
//! Pure: the mount table comes in as the text of `/proc/self/mountinfo`.

use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MountOption {
    NoSuid,
    NoDev,
    NoExec,
}

use MountOption::{NoDev, NoExec, NoSuid};

/// One filesystem stage 1 provides when it is missing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageOneMount {
    pub target: &'static str,
    pub source: &'static str,
    pub fstype: &'static str,
    pub options: &'static [MountOption],
    /// Filesystem-specific options, as `mount -o` takes them.
    pub data: &'static str,
}

/// In mounting order: `/proc` first (the mount table is read from it), then each parent
/// before its children.
pub const STAGE_ONE: &[StageOneMount] = &[
    StageOneMount {
        target: "/proc",
        source: "proc",
        fstype: "proc",
        options: &[NoSuid, NoDev, NoExec],
        data: "",
    },
    StageOneMount {
        target: "/sys",
        source: "sysfs",
        fstype: "sysfs",
        options: &[NoSuid, NoDev, NoExec],
        data: "",
    },
    StageOneMount {
        target: "/dev",
        source: "devtmpfs",
        fstype: "devtmpfs",
        options: &[NoSuid],
        data: "mode=0755",
    },
    StageOneMount {
        target: "/dev/pts",
        source: "devpts",
        fstype: "devpts",
        options: &[NoSuid, NoExec],
        data: "gid=5,mode=0620,ptmxmode=0666",
    },
    StageOneMount {
        target: "/dev/shm",
        source: "tmpfs",
        fstype: "tmpfs",
        options: &[NoSuid, NoDev],
        data: "mode=1777",
    },
    StageOneMount {
        target: "/run",
        source: "tmpfs",
        fstype: "tmpfs",
        options: &[NoSuid, NoDev],
        data: "mode=0755",
    },
    StageOneMount {
        target: "/sys/fs/cgroup",
        source: "cgroup2",
        fstype: "cgroup2",
        options: &[NoSuid, NoDev, NoExec],
        data: "",
    },
];

/// One line of `/proc/self/mountinfo`: where and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountEntry {
    pub target: PathBuf,
    pub fstype: String,
}

/// Every mount of `mountinfo`, in its order (the order of mounting); lines it cannot read
/// are skipped.
pub fn parse_mountinfo(mountinfo: &str) -> Vec<MountEntry> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let (before, after) = line.split_once(" - ")?;
            let target = before.split(' ').nth(4)?;
            let fstype = after.split(' ').next()?;
            Some(MountEntry {
                target: PathBuf::from(unescape(target)),
                fstype: fstype.to_string(),
            })
        })
        .collect()
}

/// The kernel writes space, tab, newline and backslash in paths as `\ooo` octal.
fn unescape(text: &str) -> String {
    let mut out = Vec::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        let octal = bytes
            .get(index + 1..index + 4)
            .and_then(|digits| std::str::from_utf8(digits).ok())
            .and_then(|digits| u8::from_str_radix(digits, 8).ok());
        match (byte, octal) {
            (b'\\', Some(value)) => {
                out.push(value);
                index += 4;
            }
            _ => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The stage-1 filesystems not mounted yet, given the mount points there are.
pub fn missing<'a>(mounted: &[MountEntry]) -> Vec<&'a StageOneMount> {
    STAGE_ONE
        .iter()
        .filter(|mount| {
            !mounted
                .iter()
                .any(|entry| entry.target == Path::new(mount.target))
        })
        .collect()
}

/// The final sequence's order: deepest first, and of mounts at the same depth the later
/// first (one mounted over another comes off first). The root is last.
pub fn unmount_order(mut entries: Vec<MountEntry>) -> Vec<MountEntry> {
    entries.reverse();
    // A stable sort keeps the reversed mounting order within each depth.
    entries.sort_by_key(|entry| std::cmp::Reverse(entry.target.components().count()));
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
1 1 0:2 / / rw - rootfs none rw,size=230000k
20 1 0:19 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
21 1 0:20 / /sys rw,nosuid,nodev,noexec,relatime - sysfs sysfs rw
22 1 0:5 / /dev rw,nosuid,relatime - devtmpfs devtmpfs rw,mode=755
23 22 0:21 / /dev/pts rw,nosuid,noexec - devpts devpts rw,gid=5,mode=620
24 21 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec - cgroup2 cgroup2 rw
25 1 0:23 / /mnt/with\\040space rw - tmpfs tmpfs rw
garbage
";

    #[test]
    fn mountinfo_is_read_with_its_escapes() {
        let entries = parse_mountinfo(MOUNTINFO);
        assert_eq!(entries.len(), 7);
        assert_eq!(entries[0].target, PathBuf::from("/"));
        assert_eq!(entries[0].fstype, "rootfs");
        assert_eq!(entries[6].target, PathBuf::from("/mnt/with space"));
    }

    #[test]
    fn stage_one_mounts_only_what_is_missing_in_order() {
        let targets: Vec<&str> = missing(&parse_mountinfo(MOUNTINFO))
            .iter()
            .map(|mount| mount.target)
            .collect();
        assert_eq!(targets, ["/dev/shm", "/run"]);
        let all: Vec<&str> = missing(&[]).iter().map(|mount| mount.target).collect();
        assert_eq!(
            all,
            [
                "/proc",
                "/sys",
                "/dev",
                "/dev/pts",
                "/dev/shm",
                "/run",
                "/sys/fs/cgroup"
            ]
        );
    }

    #[test]
    fn unmounting_goes_deepest_first_and_ends_with_the_root() {
        let order: Vec<String> = unmount_order(parse_mountinfo(MOUNTINFO))
            .iter()
            .map(|entry| entry.target.display().to_string())
            .collect();
        assert_eq!(
            order,
            [
                "/sys/fs/cgroup",
                "/mnt/with space",
                "/dev/pts",
                "/dev",
                "/sys",
                "/proc",
                "/"
            ]
        );
    }

    #[test]
    fn a_mount_over_another_comes_off_first() {
        let text = "1 1 0:2 / / rw - rootfs none rw\n\
                    30 1 0:30 / /data rw - ext4 /dev/vda rw\n\
                    31 30 0:31 / /data rw - tmpfs tmpfs rw\n";
        let order = unmount_order(parse_mountinfo(text));
        assert_eq!(order[0].fstype, "tmpfs");
        assert_eq!(order[1].fstype, "ext4");
    }
}
