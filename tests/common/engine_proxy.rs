//! A unix-socket proxy in front of the real engine that can break the k-th request, so tests
//! can fail any step of a sequence of engine calls. Each connection is served by its own
//! thread; every forwarded request gets a fresh engine connection and `Connection: close`,
//! which keeps the proxy free of HTTP framing logic for streamed replies.
//!
//! ```ignore
//! let proxy = EngineProxy::start(Fault::Status500At(2));
//! let engine = Engine::connect(&Endpoint::Unix(proxy.socket.clone()), deadline)?; // request 1
//! assert!(engine.list().is_err());                                              // request 2
//! ```

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// The real engine.
pub const ENGINE_SOCKET: &str = "/var/run/docker.sock";

/// What to do to which request (counted from 1 over all connections, pings included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Forward everything.
    None,
    /// Answer request k with HTTP 500 `{"message":"injected fault …"}`; the engine never sees it.
    Status500At(usize),
    /// Close the connection once request k has arrived; the engine never sees it.
    CutAt(usize),
    /// Forward request k (the engine acts on it), then close the connection halfway through
    /// the reply's head: the client cannot know whether the call took effect.
    CutResponseAt(usize),
    /// Answer request k with these raw bytes (see [`json_stream_reply`]); the engine never
    /// sees it. For replies the real engine cannot give here, e.g. a pull stream.
    ReplyAt(usize, String),
    /// Never answer request k (the engine never sees it): a hung engine.
    HangAt(usize),
    /// When request k arrives, kill the process named by [`EngineProxy::victim`] with
    /// SIGKILL; the engine never sees the request: a crash just before an engine call.
    KillBefore(usize),
    /// Forward request k and read the engine's whole reply (the call took effect), then kill
    /// the victim before it hears back: a crash just after an engine call.
    KillAfter(usize),
}

/// A raw HTTP 200 reply streaming `lines` as chunked `application/json`, one chunk per line,
/// the way the engine streams `POST /images/create`.
pub fn json_stream_reply(lines: &[&str]) -> String {
    let mut reply = String::from(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    for line in lines {
        let chunk = format!("{line}\r\n");
        reply.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
    }
    reply.push_str("0\r\n\r\n");
    reply
}

/// The message of an injected 500.
pub const INJECTED: &str = "injected fault";

/// A running proxy; dropping it closes its connections and removes its socket.
pub struct EngineProxy {
    /// Where the proxy listens: use `Endpoint::Unix(proxy.socket.clone())`.
    pub socket: PathBuf,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

struct Shared {
    fault: Fault,
    upstream: PathBuf,
    count: AtomicUsize,
    requests: Mutex<Vec<String>>,
    stopping: AtomicBool,
    // Every client connection, so that stopping also ends the ones still open, as an engine
    // that goes away would.
    clients: Mutex<Vec<UnixStream>>,
    /// The process a kill fault kills (0: not named yet).
    victim: AtomicU32,
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A socket path no other proxy (in this or another test process) uses.
pub fn fresh_socket_path() -> PathBuf {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("ddp-test-proxy-{}-{n}.sock", std::process::id()))
}

impl EngineProxy {
    /// A proxy to the real engine on a fresh socket.
    pub fn start(fault: Fault) -> EngineProxy {
        EngineProxy::start_at(fresh_socket_path(), fault)
    }

    /// A proxy to the real engine listening on `socket` (which must not exist).
    pub fn start_at(socket: PathBuf, fault: Fault) -> EngineProxy {
        let listener = UnixListener::bind(&socket)
            .unwrap_or_else(|e| panic!("proxy: bind {}: {e}", socket.display()));
        let shared = Arc::new(Shared {
            fault,
            upstream: PathBuf::from(ENGINE_SOCKET),
            count: AtomicUsize::new(0),
            requests: Mutex::new(Vec::new()),
            stopping: AtomicBool::new(false),
            clients: Mutex::new(Vec::new()),
            victim: AtomicU32::new(0),
        });
        let state = shared.clone();
        let acceptor = std::thread::spawn(move || {
            for client in listener.incoming() {
                if state.stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                if let Ok(c) = client.try_clone() {
                    state.clients.lock().unwrap().push(c);
                }
                let state = state.clone();
                std::thread::spawn(move || {
                    serve(&state, &client);
                    // Shut down, not just close: the clone kept for Drop holds the socket open.
                    let _ = client.shutdown(std::net::Shutdown::Both);
                });
            }
        });
        EngineProxy {
            socket,
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// Name the process a kill fault kills (the tool, once spawned).
    pub fn victim(&self, pid: u32) {
        self.shared.victim.store(pid, Ordering::SeqCst);
    }

    /// The request lines seen so far, in arrival order, without the HTTP version:
    /// `GET /v1.41/containers/json?all=1`.
    pub fn requests(&self) -> Vec<String> {
        self.shared.requests.lock().unwrap().clone()
    }
}

impl Drop for EngineProxy {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wake the acceptor so it sees the flag.
        let _ = UnixStream::connect(&self.socket);
        if let Some(a) = self.acceptor.take() {
            let _ = a.join();
        }
        for c in self.shared.clients.lock().unwrap().drain(..) {
            let _ = c.shutdown(std::net::Shutdown::Both);
        }
        let _ = std::fs::remove_file(&self.socket);
    }
}

/// One HTTP request as read from the client.
struct Request {
    line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Serve one client connection until it closes or a reply closes it.
fn serve(state: &Shared, client: &UnixStream) {
    let mut reader = BufReader::new(client);
    let mut client = client;
    loop {
        let Some(request) = read_request(&mut reader) else {
            return;
        };
        let k = state.count.fetch_add(1, Ordering::SeqCst) + 1;
        let seen = request
            .line
            .rsplit_once(' ')
            .map_or(request.line.as_str(), |(l, _)| l);
        state.requests.lock().unwrap().push(seen.to_string());
        match state.fault {
            Fault::Status500At(n) if n == k => {
                let body = format!("{{\"message\":\"{INJECTED} at request {k}\"}}");
                let reply = format!(
                    "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n\
                     Content-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                if client.write_all(reply.as_bytes()).is_err() {
                    return;
                }
            }
            Fault::CutAt(n) if n == k => return,
            Fault::ReplyAt(n, ref raw) if n == k => {
                if client.write_all(raw.as_bytes()).is_err() {
                    return;
                }
            }
            Fault::CutResponseAt(n) if n == k => {
                forward(&state.upstream, &request, client, Relay::Cut);
                return;
            }
            Fault::HangAt(n) if n == k => {
                while !state.stopping.load(Ordering::SeqCst) {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                return;
            }
            Fault::KillBefore(n) if n == k => {
                kill_victim(state);
                return;
            }
            Fault::KillAfter(n) if n == k => {
                forward(&state.upstream, &request, client, Relay::Kill(state));
                return;
            }
            _ => {
                forward(&state.upstream, &request, client, Relay::Whole);
                return;
            }
        }
    }
}

/// Read a request head and its `Content-Length` body; `None` at EOF or on garbage.
fn read_request(reader: &mut impl BufRead) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let line = line.trim_end().to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (name, value) = h.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    assert!(
        !headers.iter().any(|(n, _)| n == "transfer-encoding"),
        "proxy: chunked request bodies are not supported ({line})"
    );
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map_or(0, |(_, v)| {
            v.parse::<usize>().expect("proxy: bad content-length")
        });
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        line,
        headers,
        body,
    })
}

/// SIGKILL the victim, waiting a little for a test that has not named it yet.
fn kill_victim(state: &Shared) {
    for _ in 0..500 {
        let pid = state.victim.load(Ordering::SeqCst);
        if pid != 0 {
            // SAFETY: kill(2) with a pid this test spawned and a constant signal.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("proxy: a kill fault fired but no victim was named");
}

/// How much of the engine's reply reaches the client.
enum Relay<'a> {
    /// All of it.
    Whole,
    /// Half its head.
    Cut,
    /// None: the whole reply is read, then the victim is killed.
    Kill(&'a Shared),
}

/// Send the request to the engine on a fresh connection and relay the reply as `relay`
/// says, marked `Connection: close`.
fn forward(upstream: &Path, request: &Request, mut client: &UnixStream, relay: Relay) {
    let Ok(mut engine) = UnixStream::connect(upstream) else {
        return;
    };
    let mut head = format!("{}\r\n", request.line);
    for (name, value) in request.headers.iter().filter(|(n, _)| n != "connection") {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("connection: close\r\n\r\n");
    if engine.write_all(head.as_bytes()).is_err() || engine.write_all(&request.body).is_err() {
        return;
    }
    let mut reply = BufReader::new(engine);
    let mut head = String::new();
    loop {
        let mut h = String::new();
        match reply.read_line(&mut h) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if h.trim_end().is_empty() {
            break;
        }
        let name = h
            .split_once(':')
            .map(|(n, _)| n.trim().to_ascii_lowercase());
        if name.as_deref() != Some("connection") {
            head.push_str(&h);
        }
    }
    head.push_str("Connection: close\r\n\r\n");
    match relay {
        Relay::Whole => {}
        Relay::Cut => {
            let _ = client.write_all(&head.as_bytes()[..head.len() / 2]);
            return;
        }
        Relay::Kill(state) => {
            let _ = std::io::copy(&mut reply, &mut std::io::sink());
            kill_victim(state);
            return;
        }
    }
    if client.write_all(head.as_bytes()).is_err() {
        return;
    }
    let _ = std::io::copy(&mut reply, &mut client);
}
