//! A throwaway network lab for the engine's interop tests (root only): two network
//! namespaces joined by a veth pair, a test PKI generated with openssl, and a stock `openvpn`
//! server in the server namespace. Everything is removed on drop, also when a test fails.

#![allow(dead_code)]

use causeway_engine::{NetworkSetup, PushedSettings, Tun};
use std::fs;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub mod dns;

fn run(cmd: &str, args: &[&str]) {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn netns_exec(ns: &str, args: &[&str]) -> std::process::Output {
    Command::new("ip")
        .args(["netns", "exec", ns])
        .args(args)
        .output()
        .expect("ip netns exec")
}

static NEXT: AtomicU32 = AtomicU32::new(0);

pub struct Lab {
    pub id: u32,
    pub client_ns: String,
    pub server_ns: String,
    pub server_ip: String,
    /// The server's address on the link's IPv6 side.
    pub server_ip6: &'static str,
    pub dir: PathBuf,
    server: Option<Child>,
}

impl Lab {
    /// Creates the namespaces, the veth link and the PKI.
    pub fn new() -> Lab {
        let id = std::process::id() % 10000 * 10 + NEXT.fetch_add(1, Ordering::SeqCst);
        let client_ns = format!("cwe-c{id}");
        let server_ns = format!("cwe-s{id}");
        let subnet = 10 + (id % 200);
        let dir = std::env::temp_dir().join(format!("cw-engine-lab-{id}"));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let lab = Lab {
            id,
            client_ns: client_ns.clone(),
            server_ns: server_ns.clone(),
            server_ip: format!("10.250.{subnet}.1"),
            server_ip6: "fd00:250::1",
            dir,
            server: None,
        };
        run("ip", &["netns", "add", &client_ns]);
        run("ip", &["netns", "add", &server_ns]);
        let (vc, vs) = (format!("cwec{id}"), format!("cwes{id}"));
        run(
            "ip",
            &[
                "link", "add", &vc, "netns", &client_ns, "type", "veth", "peer", "name", &vs,
                "netns", &server_ns,
            ],
        );
        run(
            "ip",
            &[
                "-n",
                &client_ns,
                "addr",
                "add",
                &format!("10.250.{subnet}.2/24"),
                "dev",
                &vc,
            ],
        );
        run(
            "ip",
            &[
                "-n",
                &server_ns,
                "addr",
                "add",
                &format!("10.250.{subnet}.1/24"),
                "dev",
                &vs,
            ],
        );
        // IPv6 on the link too (for IPv6 transport tests); nodad so it is usable at once.
        run(
            "ip",
            &[
                "-n",
                &client_ns,
                "-6",
                "addr",
                "add",
                "fd00:250::2/64",
                "dev",
                &vc,
                "nodad",
            ],
        );
        run(
            "ip",
            &[
                "-n",
                &server_ns,
                "-6",
                "addr",
                "add",
                "fd00:250::1/64",
                "dev",
                &vs,
                "nodad",
            ],
        );
        for (ns, dev) in [(&client_ns, &vc), (&server_ns, &vs)] {
            run("ip", &["-n", ns, "link", "set", dev, "up"]);
            run("ip", &["-n", ns, "link", "set", "lo", "up"]);
        }
        lab.make_pki();
        lab
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Writes an executable script (a server's auth hook) into the lab directory.
    pub fn write_script(&self, name: &str, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = self.path(name);
        fs::write(&path, body).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    pub fn read(&self, name: &str) -> String {
        fs::read_to_string(self.path(name)).unwrap()
    }

    /// The lab's PKI from the one generator every cross-process test uses (the TypeScript
    /// lab's too): `test/peers/lab/make-pki.sh` lists the files.
    fn make_pki(&self) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test/peers/lab/make-pki.sh");
        let out = Command::new("bash")
            .arg(script)
            .arg(&self.dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "make-pki.sh: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts `openvpn --server` in the server namespace with `extra` config lines and waits
    /// until it has opened its socket.
    pub fn start_server(&mut self, proto: &str, extra: &str) {
        self.start_server_binary("openvpn", proto, extra);
    }

    /// Like `start_server`, with another openvpn binary (the patched AWS-like server).
    pub fn start_server_binary(&mut self, binary: &str, proto: &str, extra: &str) {
        let d = self.dir.display();
        let conf = format!(
            "dev tun\nproto {proto}\nlocal {ip}\nport 1194\nserver 10.8.0.0 255.255.255.0\ntopology subnet\n\
             ca {d}/ca.crt\ncert {d}/server.crt\nkey {d}/server.key\ndh none\n\
             data-ciphers AES-256-GCM:AES-128-GCM:CHACHA20-POLY1305\nkeepalive 10 60\nverb 4\n\
             writepid {d}/server.pid\n{extra}\n",
            ip = self.server_ip
        );
        // Short names for the lab's key files in `extra`.
        let conf = conf
            .replace(" TA", &format!(" {d}/ta.key"))
            .replace(" V2S", &format!(" {d}/v2-server.key"));
        fs::write(self.path("server.conf"), conf).unwrap();
        let log = fs::File::create(self.path("server.log")).unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", &self.server_ns, binary, "--config"])
            .arg(self.path("server.conf"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        self.server = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let log = self.read("server.log");
            if log.contains("Initialization Sequence Completed") {
                return;
            }
            if log.contains("Exiting due to fatal error") || log.contains("Options error") {
                panic!("openvpn server failed to start:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("openvpn server did not start:\n{}", self.read("server.log"));
    }

    pub fn stop_server(&mut self) {
        if let Some(mut c) = self.server.take() {
            // `ip netns exec` execs openvpn, so the child pid is openvpn itself.
            unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn server_log(&self) -> String {
        fs::read_to_string(self.path("server.log")).unwrap_or_default()
    }

    /// Moves the calling thread into the client namespace: sockets and TUN devices it creates
    /// from now on live there.
    pub fn enter_client_ns(&self) {
        enter_ns(&self.client_ns);
    }
}

/// Moves the calling thread into the named network namespace.
pub fn enter_ns(ns: &str) {
    let f = fs::File::open(format!("/var/run/netns/{ns}")).unwrap();
    let rc = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
    assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
}

/// Gives the calling thread (and threads it spawns later) a private mount namespace in which
/// `/etc/resolv.conf` is `resolv_conf`, so its name lookups go to a test resolver while the
/// rest of the machine keeps its own. Mounts are made private first so nothing propagates out.
pub fn use_resolver(resolv_conf: &Path) {
    use std::ffi::CString;
    let last = std::io::Error::last_os_error;
    assert_eq!(
        unsafe { libc::unshare(libc::CLONE_NEWNS) },
        0,
        "unshare: {}",
        last()
    );
    let root = CString::new("/").unwrap();
    let none = CString::new("none").unwrap();
    let rc = unsafe {
        libc::mount(
            none.as_ptr(),
            root.as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "make / private: {}", last());
    let src = CString::new(path_str(resolv_conf)).unwrap();
    let dst = CString::new("/etc/resolv.conf").unwrap();
    let rc = unsafe {
        libc::mount(
            src.as_ptr(),
            dst.as_ptr(),
            std::ptr::null(),
            libc::MS_BIND,
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "bind-mount resolv.conf: {}", last());
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.stop_server();
        let _ = Command::new("ip")
            .args(["netns", "del", &self.client_ns])
            .status();
        let _ = Command::new("ip")
            .args(["netns", "del", &self.server_ns])
            .status();
        if std::env::var_os("CW_KEEP_LAB").is_none() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// A minimal NetworkSetup for tests: a TUN device in the client namespace with the pushed
/// IPv4 address, configured with `ip`.
pub struct TestNet {
    pub ns: String,
    pub dev: String,
    pub configured: std::sync::Arc<std::sync::atomic::AtomicU32>,
    pub torn_down: std::sync::Arc<std::sync::atomic::AtomicU32>,
}

const TUNSETIFF: libc::c_ulong = 0x400454ca;

fn open_tun(name: &str) -> std::io::Result<OwnedFd> {
    let fd = unsafe {
        libc::open(
            c"/dev/net/tun".as_ptr(),
            libc::O_RDWR | libc::O_NONBLOCK | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut ifr = [0u8; 40];
    ifr[..name.len()].copy_from_slice(name.as_bytes());
    let flags: libc::c_short = (libc::IFF_TUN | libc::IFF_NO_PI) as libc::c_short;
    ifr[16..18].copy_from_slice(&flags.to_ne_bytes());
    if unsafe { libc::ioctl(fd, TUNSETIFF, ifr.as_mut_ptr()) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(owned)
}

impl NetworkSetup for TestNet {
    fn own_sockets(&self) -> causeway_engine::Sockets {
        std::sync::Arc::new(causeway_engine::SystemSockets)
    }
    async fn configure(
        &mut self,
        pushed: &PushedSettings,
        _server: std::net::SocketAddr,
    ) -> Result<Tun, String> {
        let fd = open_tun(&self.dev).map_err(|e| e.to_string())?;
        let v4 = pushed.ipv4.as_ref().ok_or("no ipv4 pushed")?;
        let out = netns_exec(
            &self.ns,
            &[
                "ip",
                "addr",
                "add",
                &format!("{}/{}", v4.address, v4.prefix),
                "dev",
                &self.dev,
            ],
        );
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        let out = netns_exec(
            &self.ns,
            &[
                "ip",
                "link",
                "set",
                &self.dev,
                "mtu",
                &pushed.mtu.to_string(),
                "up",
            ],
        );
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        if let Some(v6) = &pushed.ipv6 {
            let out = netns_exec(
                &self.ns,
                &[
                    "ip",
                    "-6",
                    "addr",
                    "add",
                    &format!("{}/{}", v6.address, v6.prefix),
                    "dev",
                    &self.dev,
                    "nodad",
                ],
            );
            if !out.status.success() {
                return Err(String::from_utf8_lossy(&out.stderr).into_owned());
            }
        }
        for r in &pushed.routes_ipv6 {
            let out = netns_exec(
                &self.ns,
                &["ip", "-6", "route", "replace", r, "dev", &self.dev],
            );
            if !out.status.success() {
                return Err(String::from_utf8_lossy(&out.stderr).into_owned());
            }
        }
        for r in &pushed.routes {
            let out = netns_exec(&self.ns, &["ip", "route", "replace", r, "dev", &self.dev]);
            if !out.status.success() {
                return Err(String::from_utf8_lossy(&out.stderr).into_owned());
            }
        }
        self.configured.fetch_add(1, Ordering::SeqCst);
        Ok(Tun::bare_fd(self.dev.clone(), fd))
    }

    async fn teardown(&mut self) {
        self.torn_down.fetch_add(1, Ordering::SeqCst);
    }
}

/// The `EngineConfig` (as JSON, for per-test overrides) of
/// test/vectors/helper-protocol/valid/<name>.json: the shared vectors are the only sample configs.
pub fn vector_config(name: &str) -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../test/vectors/helper-protocol/valid")
        .join(format!("{name}.json"));
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let vector: serde_json::Value = serde_json::from_str(&text).unwrap();
    vector["message"]["config"].clone()
}

/// The typical sample config pointed at the lab's server: its CA, the EC client certificate,
/// every AEAD cipher, no client-side renegotiation, and short retries (a test waits for
/// failures, a user would not).
pub fn lab_config(lab: &Lab, proto: &str) -> serde_json::Value {
    let mut c = vector_config("to-connect-typical");
    c["remotes"] =
        serde_json::json!([{"host": lab.server_ip, "port": 1194, "proto": proto, "family": "any"}]);
    c["connectRetry"] = serde_json::json!({"initialSec": 1, "maxSec": 2});
    c["connectRetryMax"] = 1.into();
    c["handshakeWindowSec"] = 15.into();
    c["ca"] = lab.read("ca.crt").into();
    c["cert"] = lab.read("client-ec.crt").into();
    c["key"] = lab.read("client-ec.key").into();
    c["dataCiphers"] = serde_json::json!(["AES-256-GCM", "AES-128-GCM", "CHACHA20-POLY1305"]);
    // The lab's server sets its own keepalive and pushes it.
    c["keepalive"] = serde_json::Value::Null;
    c["renegSec"] = 0.into();
    c["guiVersion"] = "causeway-engine-test".into();
    c
}

pub fn path_str(p: &Path) -> String {
    p.display().to_string()
}

/// The patched "AWS-like" openvpn server (128 KiB passwords, u32 KM2 framing) from
/// test/peers/openvpn-patched/build.sh: its cached build for the current patch if present
/// (`.cache/openvpn-patched/<version>-<patch hash>/openvpn`), else built now.
pub fn patched_openvpn() -> String {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let patch =
        fs::read(repo.join("test/peers/openvpn-patched/raise-limits.patch")).expect("patch file");
    let digest = ring::digest::digest(&ring::digest::SHA256, &patch);
    let id: String = digest
        .as_ref()
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect();
    if let Ok(dirs) = fs::read_dir(repo.join(".cache/openvpn-patched")) {
        for d in dirs.flatten() {
            let bin = d.path().join("openvpn");
            if d.file_name().to_string_lossy().ends_with(&format!("-{id}")) && bin.exists() {
                return bin.display().to_string();
            }
        }
    }
    let out = Command::new("bash")
        .arg(repo.join("test/peers/openvpn-patched/build.sh"))
        .output()
        .expect("run build.sh");
    assert!(
        out.status.success(),
        "build.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .last()
        .expect("build.sh prints the binary path")
        .trim()
        .to_string()
}
