//! What this process costs, from Linux's `/proc/self`; `None` elsewhere.

use std::time::Duration;

use super::round;

/// User + system CPU time of this process so far (Linux `/proc/self/stat`); `None` elsewhere.
pub(super) fn process_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name, which may itself hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 of `rest`, in clock ticks.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_secs_f64(ticks as f64 / CLOCK_TICKS_PER_SEC))
}

/// `sysconf(_SC_CLK_TCK)`: 100 on every Linux architecture Rust supports.
const CLOCK_TICKS_PER_SEC: f64 = 100.0;

/// VmHWM of this process in MiB (Linux); `None` elsewhere.
pub(super) fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(round(kib / 1024.0, 1))
}

#[cfg(test)]
mod tests {
    use std::hint::black_box;
    use std::time::Instant;

    use super::*;

    #[test]
    fn cpu_time_is_read_and_grows() {
        let a = process_cpu_time().unwrap();
        let t = Instant::now();
        let mut x = 0u64;
        while t.elapsed() < Duration::from_millis(50) {
            x = black_box(x.wrapping_add(1));
        }
        let b = process_cpu_time().unwrap();
        assert!(b > a, "{a:?} -> {b:?}");
    }
}
