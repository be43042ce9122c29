//! The server under test: started as a child process, observed through `/proc`.

use std::io;
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Clock ticks per second of `/proc/<pid>/stat` times (`USER_HZ`, 100 on Linux).
fn ticks_per_sec() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 {
        hz as f64
    } else {
        100.0
    }
}

/// User + system CPU time of `pid` so far.
pub fn cpu_time(pid: u32) -> io::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat
        .rsplit_once(") ")
        .map(|(_, r)| r)
        .ok_or_else(|| io::Error::other("bad stat"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields
        .get(11..13)
        .ok_or_else(|| io::Error::other("short stat"))?
        .iter()
        .map(|f| f.parse::<f64>().unwrap_or(0.0))
        .sum();
    Ok(Duration::from_secs_f64(ticks / ticks_per_sec()))
}

/// CPU time all processes of the machine spent busy so far (everything in `/proc/stat`'s `cpu`
/// line but idle and iowait), so a report can say how much of the machine others used while it
/// measured.
pub fn machine_busy() -> io::Result<Duration> {
    let stat = std::fs::read_to_string("/proc/stat")?;
    let line = stat
        .lines()
        .find(|l| l.starts_with("cpu "))
        .ok_or_else(|| io::Error::other("no cpu line"))?;
    let ticks: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().unwrap_or(0.0))
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let busy: f64 = ticks
        .iter()
        .take(8)
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .map(|(_, t)| t)
        .sum();
    Ok(Duration::from_secs_f64(busy / ticks_per_sec()))
}

/// Resident set size of `pid`, in KiB.
pub fn rss_kib(pid: u32) -> io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| io::Error::other("no VmRSS"))
}

/// Raises this process's open-file limit (children inherit it). Returns the soft limit now.
pub fn raise_nofile(want: u64) -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain syscalls on a local struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 0;
        }
        let wanted = libc::rlimit {
            rlim_cur: want,
            rlim_max: want.max(lim.rlim_max),
        };
        if libc::setrlimit(libc::RLIMIT_NOFILE, &wanted) != 0 {
            // Not allowed to raise the hard limit: take what is allowed.
            let capped = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            libc::setrlimit(libc::RLIMIT_NOFILE, &capped);
        }
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
    }
    lim.rlim_cur
}

/// Restricts the calling process (and the threads and children it starts later) to CPU `cpu`.
///
/// # Errors
/// The CPU does not exist or is not allowed here.
pub fn pin_to(cpu: usize) -> io::Result<()> {
    // SAFETY: `set` is a plain bit set on the stack; sched_setaffinity only reads it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Gives this process (and the server child it starts afterwards) scheduling priority over
/// the rest of a shared machine for the length of the run: a new session, hence a new
/// scheduler autogroup (Linux groups by session and shares the CPU between groups, so a plain
/// `nice` would only rank our own threads against each other), whose nice value is set to
/// `nice`. Only this tool's session is affected, and it ends with the tool. Returns what was
/// done, for the report.
pub fn prioritise(nice: i32) -> String {
    // SAFETY: plain syscalls without pointers.
    let leader = unsafe { libc::setsid() != -1 || libc::getsid(0) == libc::getpid() };
    if !leader {
        return "not raised (cannot start a session: run the tool under `setsid`)".into();
    }
    match std::fs::write("/proc/self/autogroup", nice.to_string()) {
        Ok(()) => format!("own scheduler autogroup at nice {nice}"),
        Err(e) => format!("not raised ({e})"),
    }
}

/// A server child process, killed when dropped.
pub struct Server {
    /// The child.
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Server {
    /// Starts `bin` on 127.0.0.1:`port` with limits suited to load (rate limit off, queues and
    /// connection limit large), pinned to CPU `cpu` if given (what `taskset -c` does, so the
    /// server's runtime sizes itself to that one core), and waits until it accepts connections.
    pub fn start(bin: &str, port: u16, cpu: Option<usize>) -> io::Result<Self> {
        Self::start_with(bin, port, cpu, &[], &[])
    }

    /// [`Server::start`] with extra environment (e.g. `RECORD_MEET_REDIS_URL`) and arguments
    /// (`{addr}` in one is replaced by the listening address: how the churn benchmark starts its
    /// floor relay, this tool itself).
    pub fn start_with(
        bin: &str,
        port: u16,
        cpu: Option<usize>,
        env: &[(&str, String)],
        args: &[&str],
    ) -> io::Result<Self> {
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let mut command = Command::new(bin);
        command.args(args.iter().map(|a| a.replace("{addr}", &addr.to_string())));
        for (k, v) in env {
            command.env(k, v);
        }
        if let Some(cpu) = cpu {
            // SAFETY: between fork and exec only async-signal-safe work happens here: a
            // stack-local bit set and one syscall.
            unsafe {
                command.pre_exec(move || pin_to(cpu));
            }
        }
        let child = command
            .env("LEPTOS_SITE_ADDR", addr.to_string())
            .env("RECORD_MEET_RATE_PER_SEC", "1000000")
            .env("RECORD_MEET_RATE_BURST", "1000000")
            .env("RECORD_MEET_MAX_CONNECTIONS", "60000")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?;
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(addr).is_err() {
            if Instant::now() > deadline {
                return Err(io::Error::other(format!("{bin} did not start on {addr}")));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Server { child, addr })
    }

    /// Its pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // SIGTERM first so it shuts down gracefully; then make sure.
        // SAFETY: kill on our own child's pid.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        reap(&mut self.child, Duration::from_secs(8));
    }
}

/// Waits up to `grace` for a child that was asked to exit, then kills it, so a stuck child never
/// outlives the tool.
pub fn reap(child: &mut Child, grace: Duration) {
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}
