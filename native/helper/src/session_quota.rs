//! How many sessions each user may have running at once, across all of that user's
//! connections to the service: each session is a TUN device, routes and DNS changes on the
//! whole machine, so one group member must not be able to pile them up.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Whom a session belongs to: the uid on Unix, the full SID on Windows (a RID alone is not
/// unique across domains), or the one client of `--stdio`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OwnerKey(String);

impl OwnerKey {
    pub fn new(id: impl Into<String>) -> Self {
        OwnerKey(id.into())
    }
}

impl std::fmt::Display for OwnerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Running-session counts per owner, shared by every connection of one helper process.
pub struct SessionQuota {
    per_owner: usize,
    running: Mutex<HashMap<OwnerKey, usize>>,
}

impl SessionQuota {
    pub fn new(per_owner: usize) -> Arc<Self> {
        Arc::new(SessionQuota {
            per_owner,
            running: Mutex::new(HashMap::new()),
        })
    }

    /// A place for one more session of `owner`, held until the slot is dropped; an error
    /// saying why when the owner already has `per_owner` sessions.
    pub fn acquire(self: &Arc<Self>, owner: &OwnerKey) -> Result<QuotaSlot, String> {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        let count = running.entry(owner.clone()).or_insert(0);
        if *count >= self.per_owner {
            return Err(format!(
                "{owner} already has {} sessions running, the most one user may have; disconnect one first",
                self.per_owner
            ));
        }
        *count += 1;
        Ok(QuotaSlot {
            quota: Arc::clone(self),
            owner: owner.clone(),
        })
    }
}

/// One running session's place in the quota; dropping it (when the session has ended and
/// cleaned up) frees the place.
pub struct QuotaSlot {
    quota: Arc<SessionQuota>,
    owner: OwnerKey,
}

impl Drop for QuotaSlot {
    fn drop(&mut self) {
        let mut running = self.quota.running.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = running.get_mut(&self.owner) {
            *count -= 1;
            if *count == 0 {
                running.remove(&self.owner);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_owner_gets_its_own_places_and_a_dropped_slot_frees_one() {
        let quota = SessionQuota::new(2);
        let alice = OwnerKey::new("uid 1000");
        let bob = OwnerKey::new("uid 1001");
        let a1 = quota.acquire(&alice).unwrap();
        let _a2 = quota.acquire(&alice).unwrap();
        let err = quota.acquire(&alice).err().unwrap();
        assert!(err.contains("uid 1000 already has 2 sessions"), "{err}");
        let _b1 = quota.acquire(&bob).unwrap();
        drop(a1);
        assert!(quota.acquire(&alice).is_ok());
    }

    #[test]
    fn sids_that_share_a_rid_are_different_owners() {
        let quota = SessionQuota::new(1);
        let _local = quota
            .acquire(&OwnerKey::new("S-1-5-21-1-2-3-1001"))
            .unwrap();
        assert!(quota.acquire(&OwnerKey::new("S-1-5-21-7-8-9-1001")).is_ok());
    }
}
