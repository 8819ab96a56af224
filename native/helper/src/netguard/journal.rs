//! The netguard journal: one small JSON file per change, written (atomically) *before* the
//! change is made and removed once it is undone. It lives on persistent storage because one
//! of the changes it records, a rewritten /etc/resolv.conf, survives a reboot.

use std::fs;
use std::io::{self, Write};
#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::owner::Owner;

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Entry<T> {
    pub owner: Owner,
    pub record: T,
}

/// A live journal file owned by this process.
#[derive(Debug)]
pub struct JournalFile {
    path: PathBuf,
}

static NEXT: AtomicU64 = AtomicU64::new(0);

impl JournalFile {
    /// Records `record` under a helper-chosen name (`<kind>-<pid>-<n>.json`).
    pub fn create<T: Serialize>(dir: &Path, kind: &str, record: &T) -> io::Result<JournalFile> {
        // Root-only: the records hold the machine's resolver configuration. (On Windows the
        // folder under ProgramData keeps the ACL it inherits.)
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        builder.mode(0o700);
        builder.create(dir)?;
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let file = JournalFile {
            path: dir.join(format!("{kind}-{}-{n}.json", std::process::id())),
        };
        file.write(record)?;
        Ok(file)
    }

    /// Replaces the record (temp file, fsync, rename: a crash leaves the old or the new one).
    pub fn write<T: Serialize>(&self, record: &T) -> io::Result<()> {
        let entry = Entry {
            owner: Owner::current(),
            record,
        };
        let bytes = serde_json::to_vec_pretty(&entry).map_err(io::Error::other)?;
        let tmp = self.path.with_extension("tmp");
        {
            let mut options = fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            options.mode(0o600);
            let mut f = options.open(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
        }
        fs::rename(&tmp, &self.path)
    }

    /// The change is undone: forget it.
    pub fn retire(self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// A record left by a process that is no longer running.
pub struct Orphan<T> {
    pub path: PathBuf,
    pub entry: Entry<T>,
}

impl<T> Orphan<T> {
    pub fn retire(self) {
        let _ = fs::remove_file(&self.path);
    }

    /// Puts back the DNS a dead helper changed: retired once undone, kept (for the next
    /// helper) with a problem reported when it cannot be.
    pub fn restore_dns(
        self,
        undo: impl FnOnce(&T) -> Result<(), String>,
        recovery: &mut super::Recovery,
    ) {
        match undo(&self.entry.record) {
            Ok(()) => {
                recovery.dns_restored += 1;
                self.retire();
            }
            Err(e) => recovery
                .problems
                .push(format!("cannot restore DNS left by a previous helper: {e}")),
        }
    }
}

/// Records of `kind` whose owner is gone. Unreadable files are reported and removed (a
/// half-written temp file is never named `.json`, so these are foreign or corrupt).
pub fn orphans<T: DeserializeOwned>(
    dir: &Path,
    kind: &str,
    problems: &mut Vec<String>,
) -> Vec<Orphan<T>> {
    let Ok(listing) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let prefix = format!("{kind}-");
    let mut found = Vec::new();
    for item in listing.flatten() {
        let path = item.path();
        let name = item.file_name().to_string_lossy().into_owned();
        if !name.starts_with(&prefix) || !name.ends_with(".json") {
            continue;
        }
        match fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice::<Entry<T>>(&b).map_err(|e| e.to_string()))
        {
            Ok(entry) if entry.owner.is_alive() => {}
            Ok(entry) => found.push(Orphan { path, entry }),
            Err(e) => {
                problems.push(format!(
                    "discarding unreadable journal file {}: {e}",
                    path.display()
                ));
                let _ = fs::remove_file(&path);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Note {
        text: String,
    }

    fn temp_dir(tag: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("causeway-journal-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn live_records_are_not_orphans_and_dead_ones_are() {
        let dir = temp_dir("live");
        let file = JournalFile::create(&dir, "note", &Note { text: "a".into() }).unwrap();
        let mut problems = Vec::new();
        assert!(orphans::<Note>(&dir, "note", &mut problems).is_empty());

        // The same record as a dead process would have left it.
        let mut entry: Entry<Note> =
            serde_json::from_slice(&fs::read(&file.path).unwrap()).unwrap();
        entry.owner.start_time += 1;
        fs::write(
            dir.join("note-1-0.json"),
            serde_json::to_vec(&entry).unwrap(),
        )
        .unwrap();
        fs::write(dir.join("note-2-0.json"), b"{ not json").unwrap();
        fs::write(dir.join("other-1-0.json"), b"{}").unwrap();

        let found = orphans::<Note>(&dir, "note", &mut problems);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].entry.record, Note { text: "a".into() });
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(!dir.join("note-2-0.json").exists(), "corrupt file kept");
        assert!(
            dir.join("other-1-0.json").exists(),
            "another kind was touched"
        );

        file.retire();
        for o in found {
            o.retire();
        }
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        fs::remove_dir_all(&dir).unwrap();
    }
}
