use super::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::time::SystemTime;

use super::snapshot::snapshot_name;

const UNIT: &str = "command = [\"/usr/bin/web\"]\n";

/// A services directory with `web.toml`, a rollback file, and a state directory.
struct Fixture {
    root: tempfile::TempDir,
    unit: Unit,
    conf: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let root = tempfile::tempdir().unwrap();
        let source = root.path().join("services.d/web.toml");
        fs::create_dir_all(source.parent().unwrap()).unwrap();
        fs::write(&source, UNIT).unwrap();
        let unit = crate::unit::parse_unit("web", &source, UNIT).unwrap();
        let conf = root.path().join("etc/web.conf");
        fs::create_dir_all(conf.parent().unwrap()).unwrap();
        write_with_mode(&conf, b"good", 0o640);
        Fixture { root, unit, conf }
    }

    fn state(&self) -> PathBuf {
        self.root.path().join("state").join(DIR_NAME)
    }

    fn store(&self) -> KnownGood {
        KnownGood::new(Some(self.state()))
    }

    fn kept_dir(&self) -> PathBuf {
        self.state().join("web")
    }
}

fn write_with_mode(path: &Path, contents: &[u8], mode: u32) {
    fs::write(path, contents).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

/// Every file of a directory with its inode and modification time.
fn listing(dir: &Path) -> Vec<(String, u64, SystemTime)> {
    let mut files: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let metadata = entry.metadata().unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            (name, metadata.ino(), metadata.modified().unwrap())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn a_restore_puts_back_contents_and_mode_by_rename() {
    let fixture = Fixture::new();
    let mut store = fixture.store();
    store.save(&fixture.unit, std::slice::from_ref(&fixture.conf));
    write_with_mode(&fixture.conf, b"broken", 0o600);
    let before = fs::metadata(&fixture.conf).unwrap().ino();
    let files = [fixture.conf.clone()];
    // A fresh store reads what the first one kept on disk.
    assert_eq!(fixture.store().restore("web", &files), Ok(1));
    assert_eq!(fs::read(&fixture.conf).unwrap(), b"good");
    assert_eq!(mode(&fixture.conf), 0o640);
    assert_ne!(
        fs::metadata(&fixture.conf).unwrap().ino(),
        before,
        "replaced, not rewritten"
    );
    let etc: Vec<_> = fs::read_dir(fixture.conf.parent().unwrap())
        .unwrap()
        .collect();
    assert_eq!(etc.len(), 1, "no temporary file is left beside it");
}

#[test]
fn an_unchanged_snapshot_is_not_rewritten_and_a_changed_one_replaces_it() {
    let fixture = Fixture::new();
    let mut store = fixture.store();
    let files = [fixture.conf.clone()];
    store.save(&fixture.unit, &files);
    let first = listing(&fixture.kept_dir());
    let names: Vec<&str> = first.iter().map(|(name, ..)| name.as_str()).collect();
    let conf_name = snapshot_name(&fixture.conf);
    assert_eq!(names, [conf_name.as_str(), "manifest.json", "unit.toml"]);
    fixture.store().save(&fixture.unit, &files);
    assert_eq!(listing(&fixture.kept_dir()), first);

    write_with_mode(&fixture.conf, b"better", 0o640);
    store.save(&fixture.unit, &files);
    write_with_mode(&fixture.conf, b"broken", 0o640);
    assert_eq!(store.restore("web", &files), Ok(1));
    assert_eq!(fs::read(&fixture.conf).unwrap(), b"better");
    assert_eq!(listing(&fixture.kept_dir()).len(), 3);
}

#[test]
fn the_definition_is_kept_only_while_the_file_still_says_what_runs() {
    let fixture = Fixture::new();
    let mut store = fixture.store();
    fs::write(
        &fixture.unit.source,
        "command = [\"/usr/bin/web\", \"--edited\"]\n",
    )
    .unwrap();
    store.save(&fixture.unit, &[]);
    assert!(!fixture.kept_dir().join(DEFINITION).exists());
    assert!(store.definitions().is_empty());

    fs::write(&fixture.unit.source, UNIT).unwrap();
    store.save(&fixture.unit, &[]);
    assert_eq!(
        fs::read_to_string(fixture.kept_dir().join(DEFINITION)).unwrap(),
        UNIT
    );
    // Edited again: the verified definition stays.
    fs::write(&fixture.unit.source, "command = \"/bin/false\"\n").unwrap();
    store.save(&fixture.unit, &[]);
    assert_eq!(
        fixture.store().definitions(),
        std::slice::from_ref(&fixture.unit)
    );
}

#[test]
fn a_definition_that_no_longer_parses_is_left_out() {
    let fixture = Fixture::new();
    fixture.store().save(&fixture.unit, &[]);
    fs::write(fixture.kept_dir().join(DEFINITION), "command = 3\n").unwrap();
    assert!(fixture.store().definitions().is_empty());
}

#[test]
fn an_s6_directory_keeps_its_files_but_not_a_definition() {
    let fixture = Fixture::new();
    let source = fixture.root.path().join("services.d/db");
    fs::create_dir_all(&source).unwrap();
    let unit = Unit::new("db", source, crate::unit::Command::Shell("run".into()));
    let mut store = fixture.store();
    store.save(&unit, std::slice::from_ref(&fixture.conf));
    assert!(fixture.state().join("db/manifest.json").exists());
    assert!(!fixture.state().join("db").join(DEFINITION).exists());
    assert!(store.definitions().is_empty());
    assert_eq!(
        store.restore("db", std::slice::from_ref(&fixture.conf)),
        Ok(1)
    );
}

#[test]
fn a_missing_rollback_file_keeps_its_earlier_copy_or_is_left_out() {
    let fixture = Fixture::new();
    let mut store = fixture.store();
    let missing = fixture.root.path().join("etc/missing.conf");
    let files = [fixture.conf.clone(), missing.clone()];
    store.save(&fixture.unit, &files);
    let error = store.restore("web", &files).unwrap_err();
    assert!(
        error.contains(&format!("{}: not in the snapshot", missing.display())),
        "{error}"
    );
    assert_eq!(
        fs::read(&fixture.conf).unwrap(),
        b"good",
        "the other was restored"
    );

    fs::remove_file(&fixture.conf).unwrap();
    fs::write(&missing, b"now here").unwrap();
    store.save(&fixture.unit, &files);
    fs::remove_file(&missing).unwrap();
    assert_eq!(store.restore("web", &files), Ok(2));
    assert_eq!(fs::read(&fixture.conf).unwrap(), b"good");
    assert_eq!(fs::read(&missing).unwrap(), b"now here");
}

#[test]
fn a_restore_with_nothing_kept_is_an_error() {
    let fixture = Fixture::new();
    let files = [fixture.conf.clone()];
    assert_eq!(
        fixture.store().restore("web", &files),
        Err("no snapshot of web's rollback-files yet".to_string())
    );
    assert_eq!(
        KnownGood::new(None).restore("..", &files),
        Err("no snapshot of ..'s rollback-files yet".to_string())
    );
}

#[test]
fn a_file_that_cannot_be_written_is_named_and_the_others_restored() {
    let fixture = Fixture::new();
    let other = fixture.root.path().join("other.conf");
    fs::write(&other, b"kept").unwrap();
    let mut store = fixture.store();
    store.save(&fixture.unit, &[fixture.conf.clone(), other.clone()]);
    fs::write(&other, b"broken").unwrap();
    // The directory of the first is replaced by a file: nothing can be written below it.
    let etc = fixture.conf.parent().unwrap();
    fs::remove_dir_all(etc).unwrap();
    fs::write(etc, b"").unwrap();
    let never = fixture.root.path().join("never.conf");
    let files = [fixture.conf.clone(), other.clone(), never.clone()];
    let error = store.restore("web", &files).unwrap_err();
    let expected = format!(
        "unable to restore {}: Not a directory; {}: not in the snapshot",
        fixture.conf.display(),
        never.display()
    );
    assert_eq!(error, expected);
    assert_eq!(fs::read(&other).unwrap(), b"kept");
    assert!(!never.exists(), "a path not kept is never written");
}

#[test]
fn without_a_usable_state_directory_snapshots_are_kept_in_memory() {
    let fixture = Fixture::new();
    let files = [fixture.conf.clone()];
    let blocker = fixture.root.path().join("blocked");
    fs::write(&blocker, b"").unwrap();
    for mut store in [
        KnownGood::new(None),
        KnownGood::new(Some(blocker.join(DIR_NAME))),
    ] {
        store.save(&fixture.unit, &files);
        write_with_mode(&fixture.conf, b"broken", 0o600);
        assert_eq!(store.restore("web", &files), Ok(1));
        assert_eq!(fs::read(&fixture.conf).unwrap(), b"good");
        assert!(store.definitions().is_empty());
    }
}

#[test]
fn every_path_has_a_snapshot_name_of_its_own() {
    let names: Vec<String> = [
        "/etc/web.conf",
        "/etc%2Fweb.conf",
        "/etc/web/conf",
        "relative/a b",
    ]
    .iter()
    .map(|path| snapshot_name(Path::new(path)))
    .collect();
    assert_eq!(names[0], "%2Fetc%2Fweb.conf");
    assert_eq!(names[1], "%2Fetc%252Fweb.conf");
    let unique: BTreeSet<&String> = names.iter().collect();
    assert_eq!(unique.len(), names.len());
    let long = format!("/{}", "d/".repeat(300));
    let (a, b) = (
        snapshot_name(Path::new(&long)),
        snapshot_name(Path::new(&format!("{long}x"))),
    );
    assert!(a.len() <= 200 && a != b, "{a} {b}");
    assert!(names.iter().chain([&a]).all(|name| !name.contains('/')));
}

#[test]
fn a_snapshot_held_in_memory_is_written_once_the_disk_recovers() {
    let fixture = Fixture::new();
    let files = [fixture.conf.clone()];
    let blocker = fixture.root.path().join("blocked");
    fs::write(&blocker, b"").unwrap();
    let mut store = KnownGood::new(Some(blocker.join(DIR_NAME)));
    store.save(&fixture.unit, &files);
    assert!(store.is_failing);
    fs::remove_file(&blocker).unwrap();
    store.save(&fixture.unit, &files);
    assert!(!store.is_failing && store.memory.is_empty());
    let on_disk = KnownGood::new(Some(blocker.join(DIR_NAME)));
    write_with_mode(&fixture.conf, b"broken", 0o600);
    assert_eq!(on_disk.restore("web", &files), Ok(1));
    assert_eq!(fs::read(&fixture.conf).unwrap(), b"good");
}
