//! Memory of other processes, from `/proc/<pid>/status` (Linux).

/// A `kB` field of `/proc/<pid>/status` (`VmRSS`, `VmHWM`, …), if the process exists.
pub fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| {
        let value = line.strip_prefix(field)?.strip_prefix(':')?;
        value.trim().trim_end_matches("kB").trim().parse().ok()
    })
}

/// The sum of one field over several processes (a master and its workers); missing ones add 0.
pub fn sum_kb(pids: &[u32], field: &str) -> u64 {
    pids.iter().filter_map(|pid| status_kb(*pid, field)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_our_own_rss() {
        let rss = status_kb(std::process::id(), "VmRSS").unwrap();
        assert!(rss > 0);
        assert!(status_kb(std::process::id(), "VmHWM").unwrap() >= rss);
        assert_eq!(status_kb(u32::MAX, "VmRSS"), None);
    }
}
