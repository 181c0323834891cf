//! A steady HTTP client for measuring loss: a fixed rate of fresh requests, each on a new TCP
//! connection, with every failure recorded.
//!
//! `ferrolb-lab load --url http://198.51.100.200/ --rate 200` runs in a lab host (l2client for
//! Layer2, client for BGP) until its time is up or it gets SIGINT/SIGTERM, then prints a
//! [`Report`] as JSON on stdout. The zero-loss tests start it, do what they measure (restart a
//! speaker, roll them all, label a node), stop it and read the report.
//!
//! Why our own and not `ab` or `wrk`: those count errors but do not say when each happened, and
//! open requests as fast as the server answers rather than at a fixed rate, so a pause shows up
//! as fewer requests instead of failed ones. Here a request is started every `1/rate` seconds
//! whatever happened to the previous ones, and a request fails when it does not complete within
//! the timeout; a dropped SYN that the kernel retransmits after 1 s counts as a slow request, so
//! `slow` and `max_latency_ms` show what `failed` alone would hide.
//!
//! The statistics ([`Report::from_outcomes`]) are pure; [`run`] is the thin tokio edge.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;

/// Longest latency of a request still counted as prompt: a dropped packet costs TCP at least
/// 200 ms (its smallest retransmission timeout), a dropped SYN 1 s.
pub const SLOW: Duration = Duration::from_millis(200);

/// What to ask, how often and for how long.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Where to connect.
    pub target: SocketAddr,
    /// The `Host` header and request path.
    pub host: String,
    pub path: String,
    /// Requests started per second.
    pub rate: u32,
    /// Longest run; a signal ends it sooner.
    pub duration: Duration,
    /// A request that has not completed (connect, send, whole answer) in this time failed.
    pub timeout: Duration,
}

impl LoadOptions {
    /// Options for `url` (`http://ADDRESS[:PORT]/PATH`, IPv6 in brackets).
    pub fn for_url(url: &str, rate: u32, duration: Duration, timeout: Duration) -> Result<Self, String> {
        let rest = url.strip_prefix("http://").ok_or_else(|| format!("{url}: only http:// URLs"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let target = authority
            .parse::<SocketAddr>()
            .or_else(|_| format!("{authority}:80").parse::<SocketAddr>())
            .or_else(|_| {
                authority.trim_start_matches('[').trim_end_matches(']').parse().map(|ip| SocketAddr::new(ip, 80))
            })
            .map_err(|_| format!("{url}: the host must be an IP address"))?;
        if rate == 0 {
            return Err("rate must be at least 1 request per second".into());
        }
        Ok(Self { target, host: authority.to_owned(), path: path.to_owned(), rate, duration, timeout })
    }
}

/// What happened to one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// When it started, from the start of the run.
    pub started: Duration,
    /// How long it took, to its answer or its failure.
    pub latency: Duration,
    /// The answer's body (trimmed; the stand-in and echo pods answer their name), or why it failed.
    pub result: Result<String, String>,
}

/// One failed request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// When it started, milliseconds from the start of the run.
    pub at_ms: f64,
    pub error: String,
}

/// The run's figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub rate: u32,
    pub seconds: f64,
    pub sent: u64,
    pub ok: u64,
    pub failed: u64,
    /// Answered, but slower than [`SLOW`].
    pub slow: u64,
    /// Every failure, in order.
    pub failures: Vec<Failure>,
    /// The longest time without a prompt answer: between the completions of two consecutive
    /// prompt answers (or the run's start or end), in milliseconds.
    pub longest_gap_ms: f64,
    pub p50_latency_ms: f64,
    pub p99_latency_ms: f64,
    pub max_latency_ms: f64,
    /// Answers per body (which node or pod answered).
    pub answered_by: BTreeMap<String, u64>,
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

impl Report {
    /// The figures of a run of `length` at `rate` that produced `outcomes` (in any order).
    pub fn from_outcomes(rate: u32, length: Duration, mut outcomes: Vec<Outcome>) -> Self {
        outcomes.sort_by_key(|o| o.started);
        let failures: Vec<Failure> = outcomes
            .iter()
            .filter_map(|o| o.result.as_ref().err().map(|e| Failure { at_ms: ms(o.started), error: e.clone() }))
            .collect();
        let answered: Vec<&Outcome> = outcomes.iter().filter(|o| o.result.is_ok()).collect();
        let mut latencies: Vec<Duration> = answered.iter().map(|o| o.latency).collect();
        latencies.sort();
        let quantile = |q: f64| -> f64 {
            if latencies.is_empty() {
                return 0.0;
            }
            let i = ((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1;
            ms(latencies[i])
        };
        let mut prompt: Vec<Duration> =
            answered.iter().filter(|o| o.latency <= SLOW).map(|o| o.started + o.latency).collect();
        prompt.sort();
        let mut longest = Duration::ZERO;
        let mut last = Duration::ZERO;
        for done in prompt.iter().copied().chain(std::iter::once(length)) {
            longest = longest.max(done.saturating_sub(last));
            last = last.max(done);
        }
        let mut answered_by = BTreeMap::new();
        for o in &answered {
            if let Ok(body) = &o.result {
                *answered_by.entry(body.clone()).or_insert(0) += 1;
            }
        }
        Self {
            rate,
            seconds: length.as_secs_f64(),
            sent: outcomes.len() as u64,
            ok: answered.len() as u64,
            failed: failures.len() as u64,
            slow: answered.iter().filter(|o| o.latency > SLOW).count() as u64,
            failures,
            longest_gap_ms: ms(longest),
            p50_latency_ms: quantile(0.5),
            p99_latency_ms: quantile(0.99),
            max_latency_ms: latencies.last().copied().map(ms).unwrap_or(0.0),
            answered_by,
        }
    }

    /// One line for logs and notes.
    pub fn summary(&self) -> String {
        format!(
            "{} requests at {}/s over {:.1} s: {} failed, {} slow (>{} ms), longest gap {:.0} ms, latency p50 {:.1} ms p99 {:.1} ms max {:.0} ms, answered by {:?}",
            self.sent,
            self.rate,
            self.seconds,
            self.failed,
            self.slow,
            SLOW.as_millis(),
            self.longest_gap_ms,
            self.p50_latency_ms,
            self.p99_latency_ms,
            self.max_latency_ms,
            self.answered_by
        )
    }
}

/// One request on a fresh connection: the trimmed body of a 200 answer, or why not.
async fn request(opts: &LoadOptions) -> Result<String, String> {
    let mut conn = TcpStream::connect(opts.target).await.map_err(|e| format!("connect: {e}"))?;
    let head = format!("GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", opts.path, opts.host);
    conn.write_all(head.as_bytes()).await.map_err(|e| format!("send: {e}"))?;
    let mut answer = Vec::with_capacity(256);
    conn.read_to_end(&mut answer).await.map_err(|e| format!("receive: {e}"))?;
    let text = String::from_utf8_lossy(&answer);
    let status = text.lines().next().unwrap_or_default();
    if !status.starts_with("HTTP/1.1 200") && !status.starts_with("HTTP/1.0 200") {
        return Err(format!("answer: {:?}", status.chars().take(80).collect::<String>()));
    }
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.trim()).unwrap_or_default();
    Ok(body.chars().take(100).collect())
}

/// Runs the load until `opts.duration` passes or `stop` completes, then waits for the requests
/// still open (each ends within the timeout) and reports.
pub async fn run(opts: LoadOptions, stop: impl std::future::Future<Output = ()>) -> Report {
    let opts = std::sync::Arc::new(opts);
    let start = Instant::now();
    let mut ticks = tokio::time::interval(Duration::from_secs(1) / opts.rate);
    // A late tick (the machine was busy) starts the missed requests at once: the rate holds.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut open = JoinSet::new();
    let mut outcomes = Vec::new();
    let deadline = tokio::time::sleep(opts.duration);
    tokio::pin!(stop, deadline);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = &mut deadline => break,
            _ = ticks.tick() => {
                let opts = opts.clone();
                open.spawn(async move {
                    let began = Instant::now();
                    let result = match tokio::time::timeout(opts.timeout, request(&opts)).await {
                        Ok(result) => result,
                        Err(_) => Err(format!("no answer within {} ms", opts.timeout.as_millis())),
                    };
                    Outcome { started: began - start, latency: began.elapsed(), result }
                });
            }
            Some(done) = open.join_next(), if !open.is_empty() => {
                if let Ok(outcome) = done {
                    outcomes.push(outcome);
                }
            }
        }
    }
    let length = start.elapsed();
    while let Some(done) = open.join_next().await {
        if let Ok(outcome) = done {
            outcomes.push(outcome);
        }
    }
    Report::from_outcomes(opts.rate, length, outcomes)
}

/// A load running in a lab host, started by [`crate::Lab::start_load`].
pub struct LoadRun {
    /// None once stopped.
    child: Option<std::process::Child>,
    what: String,
}

impl LoadRun {
    /// Starts `ferrolb-lab load` in `netns` with `binary`.
    pub(crate) fn spawn(binary: &std::path::Path, netns: &str, url: &str, rate: u32) -> crate::Result<Self> {
        let what = format!("load on {url} from {netns}");
        let child = std::process::Command::new("ip")
            .args(["netns", "exec", netns])
            .arg(binary)
            .args(["load", "--url", url, "--rate", &rate.to_string()])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(crate::Error::io(format!("starting the {what}")))?;
        Ok(Self { child: Some(child), what })
    }

    /// Stops the load (SIGINT) and returns its report.
    pub fn stop(mut self) -> crate::Result<Report> {
        let child = self.child.take().ok_or_else(|| crate::Error::Failed(format!("the {} was stopped", self.what)))?;
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
        let out = child.wait_with_output().map_err(crate::Error::io(format!("waiting for the {}", self.what)))?;
        serde_json::from_slice(&out.stdout).map_err(|e| {
            crate::Error::Failed(format!("{}: no report ({e}): {}", self.what, String::from_utf8_lossy(&out.stdout)))
        })
    }
}

impl Drop for LoadRun {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(started_ms: u64, latency_ms: u64, result: Result<&str, &str>) -> Outcome {
        Outcome {
            started: Duration::from_millis(started_ms),
            latency: Duration::from_millis(latency_ms),
            result: result.map(str::to_owned).map_err(str::to_owned),
        }
    }

    #[test]
    fn a_steady_run_has_no_failures_and_a_gap_of_one_interval() {
        let outcomes = (0..100).map(|i| at(i * 5, 1, Ok("node1"))).collect();
        let r = Report::from_outcomes(200, Duration::from_millis(500), outcomes);
        assert_eq!((r.sent, r.ok, r.failed, r.slow), (100, 100, 0, 0));
        assert_eq!(r.longest_gap_ms, 5.0);
        assert_eq!(r.answered_by.get("node1"), Some(&100));
    }

    #[test]
    fn failures_are_listed_in_order_and_widen_the_gap() {
        let mut outcomes: Vec<Outcome> = (0..100).map(|i| at(i * 5, 1, Ok("node1"))).collect();
        outcomes[40] = at(200, 2000, Err("no answer within 2000 ms"));
        outcomes[41] = at(205, 3, Err("connect: Connection refused"));
        outcomes.reverse();
        let r = Report::from_outcomes(200, Duration::from_millis(500), outcomes);
        assert_eq!(r.failed, 2);
        assert_eq!(r.failures.iter().map(|f| f.at_ms).collect::<Vec<_>>(), [200.0, 205.0]);
        // Prompt answers complete at 196 and 211 ms.
        assert_eq!(r.longest_gap_ms, 15.0);
    }

    #[test]
    fn a_retransmitted_syn_is_slow_not_failed_and_leaves_no_prompt_answer_in_its_gap() {
        let outcomes = vec![at(0, 1, Ok("a")), at(5, 1005, Ok("b")), at(900, 1, Ok("a"))];
        let r = Report::from_outcomes(200, Duration::from_millis(1000), outcomes);
        assert_eq!((r.failed, r.slow), (0, 1));
        assert_eq!(r.max_latency_ms, 1005.0);
        assert_eq!(r.longest_gap_ms, 900.0);
        assert_eq!(r.p50_latency_ms, 1.0);
    }

    #[test]
    fn silence_at_the_end_counts_as_a_gap() {
        let r = Report::from_outcomes(10, Duration::from_secs(2), vec![at(0, 10, Ok("a"))]);
        assert_eq!(r.longest_gap_ms, 1990.0);
    }

    #[test]
    fn urls_name_an_address_and_a_path() {
        let o = LoadOptions::for_url("http://198.51.100.200/", 200, Duration::from_secs(1), Duration::from_secs(1));
        let o = o.expect("v4");
        assert_eq!((o.target.to_string(), o.path.as_str()), ("198.51.100.200:80".to_owned(), "/"));
        let o = LoadOptions::for_url("http://[2001:db8:1::200]:8080/x", 1, Duration::ZERO, Duration::ZERO).expect("v6");
        assert_eq!((o.target.to_string(), o.path.as_str()), ("[2001:db8:1::200]:8080".to_owned(), "/x"));
        let o = LoadOptions::for_url("http://[2001:db8:1::200]", 1, Duration::ZERO, Duration::ZERO).expect("v6");
        assert_eq!(o.target.port(), 80);
        assert!(LoadOptions::for_url("https://198.51.100.200/", 1, Duration::ZERO, Duration::ZERO).is_err());
        assert!(LoadOptions::for_url("http://node1/", 1, Duration::ZERO, Duration::ZERO).is_err());
        assert!(LoadOptions::for_url("http://198.51.100.200/", 0, Duration::ZERO, Duration::ZERO).is_err());
    }
}

/// One request held open across an operation (`ferrolb-lab hold`): the connection is made and
/// the request head sent without its final blank line; a line on stdin sends the rest, and the
/// answer's body (or the failure) is printed. Whether it is answered shows whether a connection
/// open while an address moves survives the move.
pub mod held {
    use std::io::{BufRead, Read, Write};
    use std::net::TcpStream;
    use std::time::Duration;

    use super::LoadOptions;

    /// What the held request printed as its first line, once the half request is sent.
    pub const HELD: &str = "held";

    /// Runs the held request from this process (stdin, stdout); the result's `Ok` is the body.
    pub fn run(url: &str) -> Result<String, String> {
        let opts = LoadOptions::for_url(url, 1, Duration::ZERO, Duration::ZERO)?;
        let mut stream = TcpStream::connect_timeout(&opts.target, Duration::from_secs(3))
            .map_err(|e| format!("connecting to {}: {e}", opts.target))?;
        stream.set_read_timeout(Some(Duration::from_secs(5))).map_err(|e| e.to_string())?;
        write!(stream, "GET {} HTTP/1.1\r\nHost: {}\r\n", opts.path, opts.host).map_err(|e| e.to_string())?;
        println!("{HELD}");
        let _ = std::io::stdout().flush();
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(|e| e.to_string())?;
        stream.write_all(b"\r\n").map_err(|e| format!("sending the rest: {e}"))?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).map_err(|e| format!("reading the answer: {e}"))?;
        match answer.split_once("\r\n\r\n") {
            Some((head, body)) if head.starts_with("HTTP/1.1 200") => Ok(body.trim().to_owned()),
            _ => Err(format!("no answer (got {answer:?})")),
        }
    }

    /// A held request running in a lab host.
    pub struct HeldRequest {
        child: std::process::Child,
        what: String,
    }

    impl HeldRequest {
        pub(crate) fn spawn(binary: &std::path::Path, netns: &str, url: &str) -> crate::Result<Self> {
            let what = format!("held request to {url} from {netns}");
            let mut child = std::process::Command::new("ip")
                .args(["netns", "exec", netns])
                .arg(binary)
                .args(["hold", "--url", url])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .map_err(crate::Error::io(format!("starting the {what}")))?;
            let stdout = child.stdout.as_mut().ok_or_else(|| crate::Error::Failed(format!("{what}: no stdout")))?;
            let mut first = String::new();
            std::io::BufReader::new(stdout).read_line(&mut first).map_err(crate::Error::io(what.clone()))?;
            if first.trim() != HELD {
                let _ = child.kill();
                let out = child.wait_with_output().map_err(crate::Error::io(what.clone()))?;
                return Err(crate::Error::Failed(format!("{what}: {}", String::from_utf8_lossy(&out.stderr).trim())));
            }
            Ok(Self { child, what })
        }

        /// Sends the rest of the request; the answer's body, or why there was none.
        pub fn finish(mut self) -> crate::Result<Result<String, String>> {
            if let Some(mut stdin) = self.child.stdin.take() {
                let _ = stdin.write_all(b"go\n");
            }
            let out = self.child.wait_with_output().map_err(crate::Error::io(self.what.clone()))?;
            let stdout = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            Ok(if out.status.success() {
                Ok(stdout)
            } else {
                Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
            })
        }
    }
}
