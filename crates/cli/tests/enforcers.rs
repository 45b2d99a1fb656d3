//! Exports proven by the software operators enforce them with: Debian's
//! Unbound answers from our RPZ zone, and squidGuard compiles and applies
//! our list (both installed by scripts/deps).

mod common;

use std::io::Write;
use std::net::{TcpListener, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::export_lists;

fn listed(data: &Path) {
    common::import_list(data, "adult", "porn.test\nexample.org/adult/\n");
}

/// A query for `name`'s A record; the answer's response code (3 is NXDOMAIN)
/// and whether it carries an answer.
fn resolve(port: u16, name: &str) -> Option<(u8, u16)> {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in name.trim_end_matches('.').split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 1, 0, 1]);
    socket.send_to(&q, ("127.0.0.1", port)).unwrap();
    let mut buf = [0u8; 512];
    let n = socket.recv(&mut buf).ok()?;
    (n >= 12 && buf[..2] == [0x12, 0x34])
        .then(|| (buf[3] & 0x0f, u16::from_be_bytes([buf[6], buf[7]])))
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    // A TCP and a UDP port of the same number, both free a moment ago.
    loop {
        let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = tcp.local_addr().unwrap().port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

#[test]
fn unbound_answers_nxdomain_for_listed_domains_from_our_rpz_zone() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    listed(&data);
    let zone = tmp.path().join("rpz.zone");
    export_lists(&data, "rpz", &zone);
    let port = free_port();
    let conf = tmp.path().join("unbound.conf");
    // Unbound serves local data before its policy zones, so the listed names
    // have none; with no network, an unlisted name without local data fails
    // (SERVFAIL), so an NXDOMAIN can only come from our zone.
    std::fs::write(
        &conf,
        format!(
            "server:\n  interface: 127.0.0.1\n  port: {port}\n  do-daemonize: no\n  use-syslog: no\n  logfile: \"\"\n  chroot: \"\"\n  username: \"\"\n  directory: \"{dir}\"\n  pidfile: \"\"\n  do-ip6: no\n  module-config: \"respip iterator\"\n  do-not-query-localhost: no\n  access-control: 127.0.0.0/8 allow\n  local-zone: \"test.\" transparent\n  local-data: \"clean.test. A 192.0.2.3\"\nrpz:\n  name: rpz.cleanweb.test\n  zonefile: \"{zone}\"\n",
            dir = tmp.path().display(),
            zone = zone.display(),
        ),
    )
    .unwrap();
    let check = Command::new("unbound-checkconf")
        .arg(&conf)
        .output()
        .expect("unbound-checkconf (scripts/deps installs unbound)");
    assert!(
        check.status.success(),
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    let child = Command::new("unbound")
        .args(["-d", "-c"])
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("unbound (scripts/deps installs it)");
    let _guard = Killed(child);
    let started = Instant::now();
    while resolve(port, "clean.test").is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "unbound did not answer"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    for name in ["porn.test", "www.porn.test", "a.b.porn.test"] {
        assert_eq!(
            resolve(port, name),
            Some((3, 0)),
            "{name} should be NXDOMAIN"
        );
    }
    assert_eq!(
        resolve(port, "clean.test"),
        Some((0, 1)),
        "clean.test should resolve"
    );
    // No answer at all (recursion timing out offline) is not NXDOMAIN either.
    let unlisted = resolve(port, "notporn.test");
    assert!(
        unlisted.is_none_or(|(rcode, _)| rcode != 3),
        "notporn.test is not listed"
    );
}

#[test]
fn squidguard_compiles_our_list_and_redirects_listed_urls() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    listed(&data);
    let db = tmp.path().join("db");
    let adult = db.join("adult");
    export_lists(&data, "squidguard", &adult);
    let logs = tmp.path().join("log");
    std::fs::create_dir_all(&logs).unwrap();
    let conf = tmp.path().join("squidGuard.conf");
    std::fs::write(
        &conf,
        format!(
            "dbhome {db}\nlogdir {logs}\ndest adult {{\n  domainlist adult/domains\n  urllist adult/urls\n}}\nacl {{\n  default {{\n    pass !adult all\n    redirect http://blocked.invalid/\n  }}\n}}\n",
            db = db.display(),
            logs = logs.display(),
        ),
    )
    .unwrap();
    let compile = Command::new("squidGuard")
        .args(["-c", conf.to_str().unwrap(), "-C", "all"])
        .output()
        .expect("squidGuard (scripts/deps installs squidguard)");
    assert!(
        compile.status.success(),
        "{}",
        String::from_utf8_lossy(&compile.stderr)
    );
    assert!(
        adult.join("domains.db").exists(),
        "squidGuard -C wrote no database"
    );
    let mut child = Command::new("squidGuard")
        .args(["-c", conf.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let urls = [
        ("http://porn.test/x.html", true),
        ("http://www.porn.test/", true),
        ("http://example.org/adult/page", true),
        ("http://example.org/garden/", false),
        ("http://clean.test/", false),
    ];
    {
        let mut stdin = child.stdin.take().unwrap();
        for (url, _) in urls {
            // Squid's redirector protocol: URL, client/fqdn, user, method.
            writeln!(stdin, "{url} 127.0.0.1/- - GET").unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    let answers: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(answers.len(), urls.len(), "{answers:?}");
    for ((url, blocked), answer) in urls.iter().zip(&answers) {
        assert_eq!(
            answer.contains("blocked.invalid"),
            *blocked,
            "{url}: squidGuard answered {answer:?}"
        );
    }
}
