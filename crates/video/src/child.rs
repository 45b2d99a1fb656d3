//! Running ffmpeg and ffprobe as bounded child processes: Debian builds
//! libav with `--enable-gpl`, so linking it would make our binary GPL, and a
//! decoder that crashes or hangs must not take the server with it.
//!
//! Each child gets an address-space limit, may not write files, dumps no
//! core, and is killed when its deadline passes. Its stderr is kept, up to a
//! bound, for the error message.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Instant;

use crate::VideoError;

/// Bytes of a child's stderr kept for the error message.
const STDERR_KEPT: usize = 4096;

/// A running child with its watchdog and its stderr reader.
pub(crate) struct Running {
    child: Child,
    pub(crate) stdout: ChildStdout,
    stop: mpsc::Sender<()>,
    watchdog: Option<JoinHandle<bool>>,
    stderr: Option<JoinHandle<String>>,
}

/// How a child ended.
pub(crate) struct Ended {
    /// Whether it exited with status 0.
    pub(crate) success: bool,
    /// Whether the watchdog killed it at its deadline.
    pub(crate) killed: bool,
    /// The start of its stderr, trimmed.
    pub(crate) stderr: String,
}

/// Finds a program on `PATH`. Written here because the rule is three lines
/// and a crate for it would pull in more than it saves.
pub(crate) fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Starts `program` with `args`, no stdin, piped stdout and stderr, and a
/// watchdog that kills it at `deadline`.
pub(crate) fn spawn(
    program: &Path,
    args: &[String],
    max_memory: u64,
    deadline: Instant,
) -> Result<Running, VideoError> {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_clear();
    // SAFETY: between fork and exec only async-signal-safe calls are made
    // (setrlimit), with no allocation.
    unsafe {
        cmd.pre_exec(move || {
            limit(libc::RLIMIT_AS, max_memory)?;
            // The child writes only to its pipes, never to files or cores.
            limit(libc::RLIMIT_FSIZE, 0)?;
            limit(libc::RLIMIT_CORE, 0)?;
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| VideoError::Decoder(format!("cannot start {}: {e}", program.display())))?;
    let (Some(stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(VideoError::Decoder(
            "the decoder's pipes are missing".into(),
        ));
    };
    let stderr = std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buf = [0u8; 4096];
        // Read to the end so the child never blocks on a full pipe.
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            let room = STDERR_KEPT.saturating_sub(kept.len());
            kept.extend_from_slice(&buf[..n.min(room)]);
        }
        String::from_utf8_lossy(&kept).trim().to_owned()
    });
    let (stop, stopped) = mpsc::channel::<()>();
    let pid = child.id() as libc::pid_t;
    let watchdog = std::thread::spawn(move || {
        let wait = deadline.saturating_duration_since(Instant::now());
        match stopped.recv_timeout(wait) {
            Err(mpsc::RecvTimeoutError::Timeout) => {
                // SAFETY: the child has not been waited for yet (the owner
                // joins this thread first), so the pid is still ours.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                true
            }
            _ => false,
        }
    });
    Ok(Running {
        child,
        stdout,
        stop,
        watchdog: Some(watchdog),
        stderr: Some(stderr),
    })
}

fn limit(resource: libc::__rlimit_resource_t, value: u64) -> std::io::Result<()> {
    let rl = libc::rlimit {
        rlim_cur: value,
        rlim_max: value,
    };
    // SAFETY: setrlimit reads the struct we pass and nothing else.
    if unsafe { libc::setrlimit(resource, &rl) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

impl Running {
    /// Waits for the child to end and reaps it.
    pub(crate) fn finish(mut self) -> Ended {
        let _ = self.stop.send(());
        let killed = self
            .watchdog
            .take()
            .map(|w| w.join().unwrap_or(false))
            .unwrap_or(false);
        let status = self.child.wait();
        let stderr = self
            .stderr
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        Ended {
            success: status.is_ok_and(|s| s.success()),
            killed,
            stderr,
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // An early return (an error while reading) must not leave a child.
        if self.watchdog.is_some() {
            let _ = self.child.kill();
            let _ = self.stop.send(());
            if let Some(w) = self.watchdog.take() {
                let _ = w.join();
            }
            let _ = self.child.wait();
        }
    }
}
