//! A change to the host that is journaled before it is made and undone by `undo`, on drop,
//! or (from its journal entry) by the next helper after a crash. The record says what was
//! changed, in enough detail to undo it from another process.

use std::path::Path;

use serde::Serialize;

use super::journal::JournalFile;

/// A journaled record that knows how to undo the change it describes.
pub trait Undo: Serialize {
    fn undo(&self) -> Result<(), String>;
}

#[derive(Debug)]
pub struct JournaledChange<R: Undo> {
    record: Option<R>,
    journal: Option<JournalFile>,
    /// What the change is, for messages ("DNS", "the pf anchor").
    what: &'static str,
}

impl<R: Undo> JournaledChange<R> {
    /// Journals `record` under `kind`, then makes the change; a failed change is undone (it
    /// may have been partly made) and its journal entry retired.
    pub fn make(
        dir: &Path,
        kind: &str,
        what: &'static str,
        record: R,
        change: impl FnOnce() -> Result<(), String>,
    ) -> Result<Self, String> {
        let journal = JournalFile::create(dir, kind, &record)
            .map_err(|e| format!("cannot journal the {what} change in {}: {e}", dir.display()))?;
        let mut made = JournaledChange {
            record: Some(record),
            journal: Some(journal),
            what,
        };
        match change() {
            Ok(()) => Ok(made),
            Err(e) => {
                // Undo whatever part was made; if even that fails the entry stays for recovery.
                let _ = made.undo();
                Err(e)
            }
        }
    }

    /// The change in force; None once it is undone. (Unix DNS backends name themselves from
    /// it; Windows has one backend.)
    #[cfg(any(unix, test))]
    pub fn record(&self) -> Option<&R> {
        self.record.as_ref()
    }

    pub fn undo(&mut self) -> Result<(), String> {
        let Some(record) = self.record.take() else {
            return Ok(());
        };
        let result = record.undo();
        // A failed undo stays journaled so the next helper start tries again.
        if result.is_ok() {
            if let Some(j) = self.journal.take() {
                j.retire();
            }
        }
        result
    }
}

impl<R: Undo> Drop for JournaledChange<R> {
    fn drop(&mut self) {
        if let Err(e) = self.undo() {
            crate::log::warn(&format!("cannot restore {}: {e}", self.what));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static UNDONE: AtomicUsize = AtomicUsize::new(0);

    #[derive(Debug, Serialize)]
    struct Flag {
        fail_undo: bool,
    }

    impl Undo for Flag {
        fn undo(&self) -> Result<(), String> {
            UNDONE.fetch_add(1, Ordering::SeqCst);
            if self.fail_undo {
                Err("stuck".into())
            } else {
                Ok(())
            }
        }
    }

    fn entries(dir: &Path) -> usize {
        std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
    }

    #[test]
    fn a_change_is_journaled_until_it_is_undone_and_a_failed_change_is_rolled_back() {
        let dir = std::env::temp_dir().join(format!("causeway-journaled-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let before = UNDONE.load(Ordering::SeqCst);
        let mut made =
            JournaledChange::make(&dir, "flag", "the flag", Flag { fail_undo: false }, || {
                Ok(())
            })
            .unwrap();
        assert_eq!(entries(&dir), 1);
        made.undo().unwrap();
        assert!(made.record().is_none());
        assert_eq!(entries(&dir), 0);

        let e = JournaledChange::make(&dir, "flag", "the flag", Flag { fail_undo: false }, || {
            Err("no".into())
        })
        .unwrap_err();
        assert_eq!(e, "no");
        assert_eq!(entries(&dir), 0, "a rolled-back change left its entry");

        // An undo that fails keeps the entry for crash recovery.
        drop(
            JournaledChange::make(
                &dir,
                "flag",
                "the flag",
                Flag { fail_undo: true },
                || Ok(()),
            )
            .unwrap(),
        );
        assert_eq!(entries(&dir), 1);
        assert_eq!(UNDONE.load(Ordering::SeqCst) - before, 3);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
