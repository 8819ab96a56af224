//! Who may open the service's named pipe: the DACL it is created with, as SDDL, and the list
//! of SIDs a client's token must hold one of (the second lock, checked on the client's real
//! token after it connected).
//!
//! Admitted: LocalSystem, the Administrators group (an elevated administrator; a filtered UAC
//! token holds it deny-only, so it does not count) and the members of the `causeway` group.

/// LocalSystem.
pub const SYSTEM: &str = "S-1-5-18";
/// BUILTIN\Administrators.
pub const ADMINISTRATORS: &str = "S-1-5-32-544";

/// The SIDs whose holders are served: SYSTEM, Administrators and the service group's SID when
/// the group exists.
pub fn admitted_sids(service_group: Option<&str>) -> Vec<String> {
    let mut sids = vec![SYSTEM.to_owned(), ADMINISTRATORS.to_owned()];
    if let Some(g) = service_group {
        sids.push(g.to_owned());
    }
    sids
}

/// A string SID as SDDL and `ConvertStringSidToSidW` accept it: `S-1-<authority>(-<sub>)*`,
/// digits only. Anything else could change the meaning of the SDDL it is pasted into.
pub fn valid_sid(sid: &str) -> bool {
    let Some(rest) = sid.strip_prefix("S-1-") else {
        return false;
    };
    let parts: Vec<&str> = rest.split('-').collect();
    (2..=16).contains(&parts.len())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 10 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// The pipe's security descriptor: a protected DACL (`P`: nothing inherited) granting full
/// access to each admitted SID and nothing to anyone else. Errors on a malformed SID.
pub fn pipe_sddl(admitted: &[String]) -> Result<String, String> {
    let mut sddl = String::from("D:P");
    for sid in admitted {
        if !valid_sid(sid) {
            return Err(format!("{sid:?} is not a SID"));
        }
        sddl.push_str(&format!("(A;;GA;;;{sid})"));
    }
    Ok(sddl)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dacl_admits_system_administrators_and_the_group_only() {
        let group = "S-1-5-21-1004336348-1177238915-682003330-1013";
        assert_eq!(
            pipe_sddl(&admitted_sids(Some(group))).unwrap(),
            format!("D:P(A;;GA;;;S-1-5-18)(A;;GA;;;S-1-5-32-544)(A;;GA;;;{group})")
        );
        // Without the group, administrators and SYSTEM only; no Everyone (WD), no Users (BU),
        // no Authenticated Users (AU).
        let sddl = pipe_sddl(&admitted_sids(None)).unwrap();
        assert_eq!(sddl, "D:P(A;;GA;;;S-1-5-18)(A;;GA;;;S-1-5-32-544)");
        for broad in ["WD", "BU", "AU", "S-1-1-0"] {
            assert!(!sddl.contains(broad), "{sddl}");
        }
    }

    #[test]
    fn only_well_formed_sids_reach_the_sddl() {
        for good in [SYSTEM, ADMINISTRATORS, "S-1-5-21-1-2-3-1001"] {
            assert!(valid_sid(good), "{good}");
        }
        for bad in [
            "",
            "S-1-5",
            "S-1-5-18)(A;;GA;;;WD",
            "WD",
            "S-1-5--18",
            "S-1-5-18 ",
            "s-1-5-18",
        ] {
            assert!(!valid_sid(bad), "{bad:?} accepted");
        }
        assert!(pipe_sddl(&["S-1-5-18)(A;;GA;;;WD".into()])
            .unwrap_err()
            .contains("not a SID"));
    }
}
