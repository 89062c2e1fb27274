//! An in-process DNS server on 127.0.0.1 (UDP and TCP on one ephemeral port) whose every
//! reply comes from a per-test script, to inject the faults a real server will not produce:
//! spoofs, garbage, truncation, FORMERR, silence, late starts.

use hickory_proto::op::{Message, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, NS, TXT};
use hickory_proto::rr::{Name, RData, Record};
use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// How a query reached the fake server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

/// One step of the server's reaction to a query, performed in order.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Send this message to the client.
    Message(Message),
    /// Send these bytes as they are.
    Raw(Vec<u8>),
    /// Send this message from another UDP socket (another source port): a connected client
    /// socket must never see it. Ignored over TCP.
    FromOtherPort(Message),
    /// Wait before the next step.
    Sleep(Duration),
}

type Script = dyn Fn(&Message, Transport) -> Vec<Reply> + Send + Sync;

/// A running fake server; stops when dropped.
pub struct FakeDns {
    /// Where it listens, for UDP and TCP alike.
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<(Transport, Message)>>>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl FakeDns {
    /// Start a server that answers each query with what `script` returns for it.
    pub fn start<F>(script: F) -> FakeDns
    where
        F: Fn(&Message, Transport) -> Vec<Reply> + Send + Sync + 'static,
    {
        let (udp, tcp) = bind_pair();
        FakeDns::serve(udp, tcp, script)
    }

    /// Like [`FakeDns::start`] but on this exact address, e.g. another 127/8 address on
    /// port 53 for a resolv.conf (which cannot name a port).
    pub fn start_at<F>(addr: SocketAddr, script: F) -> FakeDns
    where
        F: Fn(&Message, Transport) -> Vec<Reply> + Send + Sync + 'static,
    {
        let udp = UdpSocket::bind(addr).expect("bind udp");
        let tcp = TcpListener::bind(addr).expect("bind tcp");
        FakeDns::serve(udp, tcp, script)
    }

    fn serve<F>(udp: UdpSocket, tcp: TcpListener, script: F) -> FakeDns
    where
        F: Fn(&Message, Transport) -> Vec<Reply> + Send + Sync + 'static,
    {
        let addr = udp.local_addr().expect("udp address");
        let script: Arc<Script> = Arc::new(script);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let threads = vec![
            {
                let (script, seen, stop) = (script.clone(), seen.clone(), stop.clone());
                std::thread::spawn(move || serve_udp(udp, &*script, &seen, &stop))
            },
            {
                let (script, seen, stop) = (script.clone(), seen.clone(), stop.clone());
                std::thread::spawn(move || serve_tcp(tcp, &*script, &seen, &stop))
            },
        ];
        FakeDns {
            addr,
            seen,
            stop,
            threads,
        }
    }

    /// Every query received so far, in order.
    pub fn queries(&self) -> Vec<(Transport, Message)> {
        self.seen.lock().expect("queries lock").clone()
    }
}

impl Drop for FakeDns {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// A UDP socket and a TCP listener on the same loopback port.
fn bind_pair() -> (UdpSocket, TcpListener) {
    for _ in 0..50 {
        let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind udp");
        let port = udp.local_addr().expect("udp address").port();
        if let Ok(tcp) = TcpListener::bind((Ipv4Addr::LOCALHOST, port)) {
            return (udp, tcp);
        }
    }
    panic!("no loopback port free for both UDP and TCP");
}

fn serve_udp(
    socket: UdpSocket,
    script: &Script,
    seen: &Mutex<Vec<(Transport, Message)>>,
    stop: &AtomicBool,
) {
    socket
        .set_read_timeout(Some(Duration::from_millis(20)))
        .expect("udp timeout");
    let mut buf = vec![0u8; 65535];
    while !stop.load(Ordering::Relaxed) {
        let (n, peer) = match socket.recv_from(&mut buf) {
            Ok(got) => got,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(e) => panic!("fake dns udp: {e}"),
        };
        let Ok(query) = Message::from_vec(&buf[..n]) else {
            continue;
        };
        seen.lock()
            .expect("queries lock")
            .push((Transport::Udp, query.clone()));
        for step in script(&query, Transport::Udp) {
            match step {
                Reply::Message(m) => drop(socket.send_to(&m.to_vec().expect("encode reply"), peer)),
                Reply::Raw(bytes) => drop(socket.send_to(&bytes, peer)),
                Reply::FromOtherPort(m) => {
                    let other = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind spoofer");
                    drop(other.send_to(&m.to_vec().expect("encode reply"), peer));
                }
                Reply::Sleep(d) => std::thread::sleep(d),
            }
        }
    }
}

fn serve_tcp(
    listener: TcpListener,
    script: &Script,
    seen: &Mutex<Vec<(Transport, Message)>>,
    stop: &AtomicBool,
) {
    listener.set_nonblocking(true).expect("tcp nonblocking");
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, _)) => serve_connection(stream, script, seen, stop),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(10))
            }
            Err(e) => panic!("fake dns tcp: {e}"),
        }
    }
}

fn serve_connection(
    mut stream: TcpStream,
    script: &Script,
    seen: &Mutex<Vec<(Transport, Message)>>,
    stop: &AtomicBool,
) {
    stream.set_nonblocking(false).expect("tcp blocking");
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("tcp timeout");
    while !stop.load(Ordering::Relaxed) {
        let mut len = [0u8; 2];
        match stream.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(_) => return,
        }
        let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
        if stream.read_exact(&mut msg).is_err() {
            return;
        }
        let Ok(query) = Message::from_vec(&msg) else {
            return;
        };
        seen.lock()
            .expect("queries lock")
            .push((Transport::Tcp, query.clone()));
        for step in script(&query, Transport::Tcp) {
            let bytes = match step {
                Reply::Message(m) => m.to_vec().expect("encode reply"),
                Reply::Raw(bytes) => bytes,
                Reply::FromOtherPort(_) => continue,
                Reply::Sleep(d) => {
                    std::thread::sleep(d);
                    continue;
                }
            };
            let mut framed = u16::try_from(bytes.len())
                .expect("reply fits TCP framing")
                .to_be_bytes()
                .to_vec();
            framed.extend_from_slice(&bytes);
            if stream.write_all(&framed).is_err() {
                return;
            }
        }
    }
}

/// A reply to `query` with this rcode and no records (question, ID and RD copied).
pub fn reply(query: &Message, rcode: ResponseCode) -> Message {
    let mut r = Message::response(query.id, OpCode::Query);
    r.metadata.response_code = rcode;
    r.metadata.recursion_desired = query.recursion_desired;
    r.metadata.recursion_available = true;
    r.add_queries(query.queries.clone());
    r
}

/// A NOERROR reply holding one TXT RR per entry of `rrs`, owned by the queried name.
pub fn txt_reply(query: &Message, rrs: &[&[&str]]) -> Message {
    let mut r = reply(query, ResponseCode::NoError);
    let owner = query_name(query);
    for strings in rrs {
        let rdata = TXT::new(strings.iter().map(|s| s.to_string()).collect());
        r.add_answer(Record::from_rdata(owner.clone(), 0, RData::TXT(rdata)));
    }
    r
}

/// A referral: NOERROR, no answer, AA=0, RA=0 and an NS record for the root in the authority
/// section, as an authoritative-only server passes on a question it does not answer.
pub fn referral(query: &Message) -> Message {
    let mut r = reply(query, ResponseCode::NoError);
    r.metadata.recursion_available = false;
    let root = Name::root();
    let ns = Name::from_ascii("a.root-servers.net.").expect("name");
    r.add_authority(Record::from_rdata(root, 0, RData::NS(NS(ns))));
    r
}

/// A NOERROR reply holding A records for the queried name.
pub fn a_reply(query: &Message, ips: &[Ipv4Addr]) -> Message {
    let mut r = reply(query, ResponseCode::NoError);
    let owner = query_name(query);
    for ip in ips {
        r.add_answer(Record::from_rdata(owner.clone(), 0, RData::A(A(*ip))));
    }
    r
}

/// The name asked in `query`.
pub fn query_name(query: &Message) -> Name {
    query
        .queries
        .first()
        .expect("query has a question")
        .name
        .clone()
}

/// A loopback address where nothing listens (UDP gets ICMP port unreachable).
pub fn dead_addr() -> SocketAddr {
    let s = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    s.local_addr().expect("address")
}
