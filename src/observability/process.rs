//! Process metrics in the Prometheus text format, read from `/proc` at scrape time: resident and
//! virtual memory, open file descriptors, CPU seconds, start time. The names are the standard
//! ones of the Prometheus client libraries, so stock dashboards work. Linux only; none elsewhere.

use std::fmt::Write;

/// Clock ticks per second in `/proc/<pid>/stat` (`USER_HZ`): 100 on every Linux architecture.
/// `sysconf(_SC_CLK_TCK)` would need `unsafe`, which the crate forbids.
const TICKS_PER_SECOND: f64 = 100.0;

/// One process reading; a field is `None` when its `/proc` file could not be read or parsed.
#[derive(Debug, Default, PartialEq)]
struct Reading {
    cpu_seconds: Option<f64>,
    start_time_seconds: Option<f64>,
    virtual_bytes: Option<f64>,
    resident_bytes: Option<f64>,
    open_fds: Option<f64>,
}

/// The process metrics as exposition text (empty where `/proc` is missing).
pub fn render() -> String {
    let reading = read();
    let mut out = String::new();
    let families = [
        (
            "process_cpu_seconds_total",
            "counter",
            "Total user and system CPU time spent in seconds.",
            reading.cpu_seconds,
        ),
        (
            "process_start_time_seconds",
            "gauge",
            "Start time of the process since unix epoch in seconds.",
            reading.start_time_seconds,
        ),
        (
            "process_virtual_memory_bytes",
            "gauge",
            "Virtual memory size in bytes.",
            reading.virtual_bytes,
        ),
        (
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory size in bytes.",
            reading.resident_bytes,
        ),
        (
            "process_open_fds",
            "gauge",
            "Number of open file descriptors.",
            reading.open_fds,
        ),
    ];
    for (name, kind, help, value) in families {
        if let Some(value) = value {
            // Writing into a String cannot fail.
            let _ = write!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n\n"
            );
        }
    }
    out
}

#[cfg(target_os = "linux")]
fn read() -> Reading {
    let text = |path: &str| std::fs::read_to_string(path).ok();
    let boot_time = text("/proc/stat").as_deref().and_then(parse_boot_time);
    let stat = text("/proc/self/stat")
        .as_deref()
        .and_then(|s| parse_stat(s, boot_time));
    #[expect(clippy::cast_precision_loss, reason = "fd counts are small")]
    let open_fds = std::fs::read_dir("/proc/self/fd")
        .ok()
        .map(|dir| dir.count() as f64);
    Reading {
        cpu_seconds: stat.as_ref().map(|s| s.cpu_seconds),
        start_time_seconds: stat.as_ref().and_then(|s| s.start_time_seconds),
        virtual_bytes: stat.as_ref().map(|s| s.virtual_bytes),
        resident_bytes: text("/proc/self/status").as_deref().and_then(parse_vm_rss),
        open_fds,
    }
}

#[cfg(not(target_os = "linux"))]
fn read() -> Reading {
    Reading::default()
}

/// What `/proc/self/stat` gives.
#[derive(Debug, PartialEq)]
struct Stat {
    cpu_seconds: f64,
    start_time_seconds: Option<f64>,
    virtual_bytes: f64,
}

/// Parses `/proc/self/stat` (proc(5)): utime and stime (fields 14, 15), starttime (22, ticks
/// after boot) and vsize (23, bytes). The command name (field 2) may hold spaces and `)`, so
/// fields are counted after its last `)`.
fn parse_stat(stat: &str, boot_time: Option<f64>) -> Option<Stat> {
    let (_, rest) = stat.rsplit_once(')')?;
    // `rest` starts at field 3 (state): field N is at index N - 3.
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let number = |field: usize| fields.get(field - 3)?.parse::<f64>().ok();
    let ticks = number(14)? + number(15)?;
    Some(Stat {
        cpu_seconds: ticks / TICKS_PER_SECOND,
        start_time_seconds: boot_time
            .zip(number(22))
            .map(|(boot, start)| boot + start / TICKS_PER_SECOND),
        virtual_bytes: number(23)?,
    })
}

/// The `btime` line of `/proc/stat`: boot time in seconds since the epoch.
fn parse_boot_time(proc_stat: &str) -> Option<f64> {
    proc_stat
        .lines()
        .find_map(|line| line.strip_prefix("btime"))
        .and_then(|v| v.trim().parse().ok())
}

/// `VmRSS` of `/proc/self/status`, in bytes. Read there rather than from `statm`, which counts
/// pages of a size only `sysconf` (unsafe) can tell.
fn parse_vm_rss(status: &str) -> Option<f64> {
    let line = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?;
    let kib: f64 = line.trim().strip_suffix("kB")?.trim().parse().ok()?;
    Some(kib * 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        // A command name with a space and a `)` in it, as proc(5) allows.
        let stat = "4242 (gate way) x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 150 0 0 20 0 8 0 12345 987654321 3000 18446744073709551615";
        let parsed = parse_stat(stat, Some(1_700_000_000.0)).unwrap();
        assert!((parsed.cpu_seconds - 4.0).abs() < 1e-9, "{parsed:?}");
        let start = parsed.start_time_seconds.unwrap();
        assert!((start - 1_700_000_123.45).abs() < 1e-3, "{parsed:?}");
        assert!(
            (parsed.virtual_bytes - 987_654_321.0).abs() < 1e-3,
            "{parsed:?}"
        );
        assert_eq!(parse_stat(stat, None).unwrap().start_time_seconds, None);
        assert_eq!(parse_stat("garbage", None), None);
    }

    #[test]
    fn boot_time_and_rss_are_read_from_their_lines() {
        assert_eq!(
            parse_boot_time("cpu  1 2 3\nbtime 1700000000\nprocesses 5\n"),
            Some(1_700_000_000.0)
        );
        assert_eq!(
            parse_vm_rss("Name:\tgateway\nVmRSS:\t   20480 kB\nThreads:\t8\n"),
            Some(20_971_520.0)
        );
        assert_eq!(parse_vm_rss("Name:\tgateway\n"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_is_measured() {
        let text = render();
        for name in [
            "process_cpu_seconds_total",
            "process_start_time_seconds",
            "process_resident_memory_bytes",
            "process_open_fds",
        ] {
            let value: f64 = text
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{name} ")))
                .unwrap_or_else(|| panic!("{name} missing:\n{text}"))
                .parse()
                .unwrap();
            assert!(value >= 0.0, "{name} = {value}");
        }
        assert!(text.contains("# TYPE process_cpu_seconds_total counter"));
    }
}
