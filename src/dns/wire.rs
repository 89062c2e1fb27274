//! One DNS question to one server over std sockets: a UDP try with EDNS0 on its own socket,
//! TCP when truncated, anti-spoofing checks on every reply, and the classification of a
//! reply. Knows nothing of retries, waits or other servers (that is the resolver's job).

use hickory_proto::op::{Edns, Header, Message, MessageType, Query, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

/// EDNS0 UDP payload we advertise (DNS Flag Day 2020: avoids IP fragmentation).
const EDNS_PAYLOAD: u16 = 1232;
/// Longest CNAME chain we follow inside one answer section.
const MAX_CNAMES: usize = 16;

/// What a server's reply established for one question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Records of the asked type, owned by the name or by the end of its CNAME chain.
    Records(Vec<RData>),
    /// NXDOMAIN or NODATA.
    Absent,
    /// No usable answer, and why.
    Unavailable(String),
}

/// How a question is asked.
#[derive(Debug, Clone)]
pub(crate) struct Question {
    /// The name, always fully qualified (hickory compares `is_fqdn` in `Name` equality).
    pub name: Name,
    /// TXT, A or AAAA.
    pub qtype: RecordType,
    /// Ask for the AD bit and insist on it in the reply.
    pub require_ad: bool,
}

impl Question {
    /// A question for `name` (trailing dot optional).
    pub fn new(name: &str, qtype: RecordType, require_ad: bool) -> Result<Question, String> {
        let mut parsed =
            Name::from_ascii(name).map_err(|e| format!("`{name}` is not a valid DNS name: {e}"))?;
        if parsed.num_labels() == 0 {
            return Err(format!("`{name}` is not a valid DNS name: it is the root"));
        }
        parsed.set_fqdn(true);
        Ok(Question {
            name: parsed,
            qtype,
            require_ad,
        })
    }

    pub(super) fn message(&self, edns: bool) -> Message {
        // Message::query draws the ID from the OS-seeded rand generator, over all 16 bits
        // (RFC 5452 §9.2).
        let mut q = Message::query();
        q.metadata.recursion_desired = true;
        // RFC 6840 §5.7: AD=1 in a query asks for the AD bit back without DNSSEC records.
        q.metadata.authentic_data = self.require_ad;
        q.add_query(Query::query(self.name.clone(), self.qtype));
        if edns {
            let mut e = Edns::new();
            e.set_max_payload(EDNS_PAYLOAD);
            q.set_edns(e);
        }
        q
    }
}

/// One UDP try of one question to one server: its own connected socket on a fresh ephemeral
/// port (the kernel drops datagrams from any other address or port) and its own random ID
/// (RFC 5452 §9.2). It stays open after its wait is over, so that a late reply still counts.
#[derive(Debug)]
pub(crate) struct Try {
    /// The server's index in the resolver's list.
    pub server: usize,
    /// Where it was sent.
    pub addr: SocketAddr,
    /// When it was sent.
    pub sent: Instant,
    /// How long it was given before the next try went out.
    pub wait: Duration,
    /// Whether its silence has been counted against the server.
    pub counted: bool,
    /// The query as sent (to match replies and to repeat it over TCP).
    pub query: Message,
    socket: UdpSocket,
    ignored: usize,
}

/// What a try received when its socket became readable.
#[derive(Debug)]
pub(crate) enum Heard {
    /// The reply to its query.
    Reply(Message),
    /// A reply to its query that does not decode: the server is there, its answer unusable.
    Malformed(String),
    /// The server cannot be reached (ICMP unreachable, a socket error), and why.
    Failed(String),
    /// Nothing for it (yet): spoofs, garbage, nothing at all.
    Nothing,
}

impl Try {
    /// Send `question` (with EDNS or not) to `addr`.
    pub fn send(
        server: usize,
        addr: SocketAddr,
        question: &Question,
        edns: bool,
        wait: Duration,
    ) -> Result<Try, String> {
        let query = question.message(edns);
        let bytes = query
            .to_vec()
            .map_err(|e| format!("cannot encode query: {e}"))?;
        // A SocketAddr, not a string: a string would link std's getaddrinfo path into the binary.
        let local = if addr.is_ipv4() {
            SocketAddr::from((std::net::Ipv4Addr::UNSPECIFIED, 0))
        } else {
            SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, 0))
        };
        let socket = UdpSocket::bind(local).map_err(|e| format!("cannot open UDP socket: {e}"))?;
        socket
            .connect(addr)
            .map_err(|e| format!("cannot reach (UDP): {e}"))?;
        socket
            .set_nonblocking(true)
            .map_err(|e| format!("cannot make the UDP socket non-blocking: {e}"))?;
        socket
            .send(&bytes)
            .map_err(|e| format!("cannot send (UDP): {e}"))?;
        Ok(Try {
            server,
            addr,
            sent: Instant::now(),
            wait,
            counted: false,
            query,
            socket,
            ignored: 0,
        })
    }

    /// The socket, for readiness polling.
    pub fn fd(&self) -> std::os::fd::RawFd {
        std::os::fd::AsRawFd::as_raw_fd(&self.socket)
    }

    /// Read what has arrived, without waiting.
    pub fn receive(&mut self, buf: &mut [u8]) -> Heard {
        loop {
            let n = match self.socket.recv(buf) {
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Heard::Nothing,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Heard::Failed(format!("no UDP reply: {e}")),
            };
            match accept(&self.query, &buf[..n]) {
                Received::Reply(reply) => return Heard::Reply(reply),
                Received::Malformed(e) => return Heard::Malformed(format!("malformed reply: {e}")),
                Received::Ignored => self.ignored += 1,
            }
        }
    }

    /// Why it is still unanswered, for the log and the final error.
    pub fn silence(&self) -> String {
        timed_out("UDP", self.ignored)
    }
}

/// Whether `reply` answers `query` (RFC 5452 §9.1: ID, QR, and name, type and class of the
/// one question). Error replies may omit the question; they can only cause a retry.
fn matches(query: &Message, reply: &Message) -> bool {
    if reply.id != query.id || reply.message_type != MessageType::Response {
        return false;
    }
    match (reply.queries.as_slice(), query.queries.as_slice()) {
        ([got], [asked]) => {
            got.name == asked.name
                && got.query_type == asked.query_type
                && got.query_class == asked.query_class
        }
        ([], _) => !matches!(
            reply.response_code,
            ResponseCode::NoError | ResponseCode::NXDomain
        ),
        _ => false,
    }
}

pub(crate) fn exchange_tcp(
    server: SocketAddr,
    query: &Message,
    deadline: Instant,
) -> Result<Message, String> {
    let bytes = query
        .to_vec()
        .map_err(|e| format!("cannot encode query: {e}"))?;
    let len =
        u16::try_from(bytes.len()).map_err(|_| "query too long for TCP framing".to_string())?;
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(timed_out("TCP", 0));
    }
    let mut stream = TcpStream::connect_timeout(&server, left)
        .map_err(|e| format!("cannot connect (TCP): {e}"))?;
    stream
        .set_write_timeout(Some(left))
        .map_err(|e| format!("cannot set TCP timeout: {e}"))?;
    let mut framed = len.to_be_bytes().to_vec();
    framed.extend_from_slice(&bytes);
    stream
        .write_all(&framed)
        .map_err(|e| format!("cannot send (TCP): {e}"))?;
    let mut ignored = 0usize;
    loop {
        let mut len = [0u8; 2];
        read_full(&mut stream, &mut len, deadline).map_err(|e| tcp_error(e, ignored))?;
        let mut reply = vec![0u8; usize::from(u16::from_be_bytes(len))];
        read_full(&mut stream, &mut reply, deadline).map_err(|e| tcp_error(e, ignored))?;
        match accept(query, &reply) {
            Received::Reply(reply) if reply.truncation => {
                return Err("truncated reply over TCP".into());
            }
            Received::Reply(reply) => return Ok(reply),
            Received::Malformed(e) => return Err(format!("malformed reply: {e}")),
            Received::Ignored => ignored += 1,
        }
    }
}

/// Fill `buf`, re-arming the read timeout before every read so that a server dribbling bytes
/// cannot stretch the wait past `deadline`.
fn read_full(stream: &mut TcpStream, buf: &mut [u8], deadline: Instant) -> std::io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ErrorKind::TimedOut.into());
        }
        stream.set_read_timeout(Some(left))?;
        match stream.read(&mut buf[filled..]) {
            Ok(0) => return Err(ErrorKind::UnexpectedEof.into()),
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn tcp_error(e: std::io::Error, ignored: usize) -> String {
    match e.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => timed_out("TCP", ignored),
        ErrorKind::UnexpectedEof => "server closed the TCP connection before replying".into(),
        _ => format!("no TCP reply: {e}"),
    }
}

pub(crate) fn timed_out(transport: &str, ignored: usize) -> String {
    match ignored {
        0 => format!("timed out waiting for a {transport} reply"),
        n => format!(
            "timed out waiting for a {transport} reply ({n} unusable or mismatched replies ignored)"
        ),
    }
}

/// What one datagram or TCP message turned out to be.
#[derive(Debug)]
pub(super) enum Received {
    /// The reply to our query.
    Reply(Message),
    /// Header and question match our query but the rest does not decode.
    Malformed(String),
    /// Garbage, a spoof or a late reply to an earlier query: keep waiting for the real one.
    Ignored,
}

/// A datagram or TCP message as the reply to `query`, a broken reply, or something to ignore.
pub(super) fn accept(query: &Message, bytes: &[u8]) -> Received {
    let decoded = if counts_fit(bytes) {
        Message::from_vec(bytes).map_err(|e| e.to_string())
    } else {
        Err("the header counts more questions and records than the message holds".to_string())
    };
    match decoded {
        Ok(reply) if matches(query, &reply) => Received::Reply(reply),
        Ok(reply) => {
            log::debug!(
                "ignored a DNS reply that does not match the query (id {})",
                reply.id
            );
            Received::Ignored
        }
        // hickory rejects a whole message for one bad record (an empty TXT RDATA, say). If
        // the header and question are ours, this server's answer is broken, and waiting on
        // would only end in a timeout.
        Err(e) => match header_and_question(bytes) {
            Some(skeleton) if !skeleton.queries.is_empty() && matches(query, &skeleton) => {
                Received::Malformed(e)
            }
            _ => {
                log::debug!(
                    "ignored {} bytes that are not a DNS message: {e}",
                    bytes.len()
                );
                Received::Ignored
            }
        },
    }
}

/// Whether the sections the header counts could fit in the bytes after it: a question takes
/// at least 5 bytes (a root or pointer name, type, class), a record at least 11 (name, type,
/// class, TTL, RDLENGTH). hickory reserves room for every question a header claims before
/// it reads one, so a 12-byte datagram claiming 65,535 would cost megabytes; one that cannot
/// fit would fail to decode anyway. Shorter than a header: hickory refuses it at once.
fn counts_fit(bytes: &[u8]) -> bool {
    let Some(counts) = bytes.get(4..12) else {
        return true;
    };
    let count = |i: usize| usize::from(u16::from_be_bytes([counts[i], counts[i + 1]]));
    let least = 5 * count(0) + 11 * (count(2) + count(4) + count(6));
    least <= bytes.len() - 12
}

/// Just the header and question section of a message whose records do not decode.
fn header_and_question(bytes: &[u8]) -> Option<Message> {
    let mut decoder = BinDecoder::new(bytes);
    let header = Header::read(&mut decoder).ok()?;
    let mut skeleton = Message::new(
        header.metadata.id,
        header.metadata.message_type,
        header.metadata.op_code,
    );
    skeleton.metadata = header.metadata;
    skeleton.queries =
        Message::read_queries(&mut decoder, usize::from(header.counts.queries)).ok()?;
    Some(skeleton)
}

/// What a matching reply says about `question`. Only a clean NXDOMAIN or NODATA is Absent.
pub(crate) fn classify(reply: &Message, question: &Question) -> Outcome {
    let authenticated = || {
        if question.require_ad && !reply.authentic_data {
            Err(Outcome::Unavailable(
                "answer not authenticated (AD bit missing)".into(),
            ))
        } else {
            Ok(())
        }
    };
    match reply.response_code {
        ResponseCode::NoError | ResponseCode::NXDomain => {}
        rc => return Outcome::Unavailable(format!("server answered {}", rcode_name(rc))),
    }
    if reply.truncation {
        return Outcome::Unavailable("truncated reply".into());
    }
    if let Err(unauthenticated) = authenticated() {
        return unauthenticated;
    }
    let (records, explained) = match follow_chain(&reply.answers, &question.name, question.qtype) {
        Ok(found) => found,
        Err(why) => return Outcome::Unavailable(why),
    };
    match (reply.response_code, records.is_empty()) {
        (ResponseCode::NXDomain, false) => {
            return Outcome::Unavailable("NXDOMAIN with records in the answer".into());
        }
        (_, false) => return Outcome::Records(records),
        _ => {}
    }
    // NXDOMAIN and NODATA remove containers, so insist on a clean one: an answer section
    // holding records that are neither the CNAME chain nor signatures is a confused or
    // hostile server.
    let unexplained = reply
        .answers
        .iter()
        .filter(|rr| rr.record_type() != RecordType::RRSIG)
        .count()
        .saturating_sub(explained);
    if unexplained > 0 {
        return Outcome::Unavailable(format!(
            "answer holds {unexplained} record(s) unrelated to {} {}",
            question.name, question.qtype
        ));
    }
    if let Some(why) = not_a_denial(reply, explained) {
        return Outcome::Unavailable(why);
    }
    Outcome::Absent
}

/// Why an empty answer does not prove the record absent, if it does not. Only an answer
/// that speaks for the data removes a container: an authoritative one (AA=1), or one from a
/// server that recursed for us (RA=1, we always ask with RD=1). A referral (NS records and no
/// SOA in the authority section) passes the question on instead of answering it, whatever
/// the flags say. A CNAME chain that ends without data is only an answer when the server
/// recursed: an authoritative-only server returns a CNAME into another zone alone, and the
/// target's data lives elsewhere. (An SOA is not required otherwise: dnsmasq's negative
/// answers for its local domains carry RA=1 and no authority section at all.)
fn not_a_denial(reply: &Message, cnames: usize) -> Option<String> {
    let has = |t: RecordType| reply.authorities.iter().any(|rr| rr.record_type() == t);
    let rcode = rcode_name(reply.response_code);
    if has(RecordType::NS) && !has(RecordType::SOA) {
        return Some(format!(
            "{rcode} with a referral (NS records, no SOA) instead of an answer: point the tool at a recursive resolver, not at an authoritative-only server"
        ));
    }
    if cnames > 0 && !reply.recursion_available {
        return Some(format!(
            "the CNAME chain ends without data ({rcode}) from a server that does not recurse: point the tool at a recursive resolver"
        ));
    }
    if !reply.authoritative && !reply.recursion_available {
        return Some(format!(
            "{rcode} from a server that is neither authoritative (AA=0) nor recursive (RA=0)"
        ));
    }
    None
}

/// The mnemonic operators know from dig and logs.
fn rcode_name(rc: ResponseCode) -> String {
    match rc {
        ResponseCode::NoError => "NOERROR".into(),
        ResponseCode::FormErr => "FORMERR".into(),
        ResponseCode::ServFail => "SERVFAIL".into(),
        ResponseCode::NXDomain => "NXDOMAIN".into(),
        ResponseCode::NotImp => "NOTIMP".into(),
        ResponseCode::Refused => "REFUSED".into(),
        rc => format!("rcode {} ({rc})", u16::from(rc)),
    }
}

/// The records of `qtype` owned by `name` or by the end of its CNAME chain, and how many
/// answer records (CNAMEs on the chain included) that accounts for. Only records of class
/// IN count, the class every question asks (RFC 1035 §4.1.2): a TXT record of class CH
/// (what `version.bind` is served as) with the right owner and type is not the answer,
/// and is left unexplained, so that an answer holding only it is not taken as an absence.
fn follow_chain(
    answers: &[Record],
    name: &Name,
    qtype: RecordType,
) -> Result<(Vec<RData>, usize), String> {
    let mut owner = name.clone();
    let mut explained = 0;
    for _ in 0..=MAX_CNAMES {
        let found: Vec<RData> = answers
            .iter()
            .filter(|rr| rr.dns_class == DNSClass::IN)
            .filter(|rr| rr.name == owner && rr.record_type() == qtype)
            .map(|rr| rr.data.clone())
            .collect();
        if !found.is_empty() {
            explained += found.len();
            return Ok((found, explained));
        }
        let next = answers.iter().find_map(|rr| match &rr.data {
            RData::CNAME(target) if rr.name == owner && rr.dns_class == DNSClass::IN => {
                Some(target.0.clone())
            }
            _ => None,
        });
        match next {
            Some(target) => {
                explained += 1;
                owner = target;
            }
            None => return Ok((Vec::new(), explained)),
        }
    }
    Err(format!(
        "CNAME chain from {name} longer than {MAX_CNAMES} (a loop?)"
    ))
}

/// The character-strings of each TXT record (an RR with no strings gives an empty list).
pub(crate) fn txt_strings(records: &[RData]) -> Vec<Vec<Vec<u8>>> {
    records
        .iter()
        .filter_map(|rd| match rd {
            RData::TXT(txt) => Some(txt.txt_data.iter().map(|s| s.to_vec()).collect()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::Answer;
    use hickory_proto::op::OpCode;
    use hickory_proto::rr::rdata::{A, CNAME, NS, SOA, TXT};

    fn name(text: &str) -> Name {
        Name::from_ascii(text).expect("test name")
    }

    fn txt(owner: &str, strings: &[&[u8]]) -> Record {
        Record::from_rdata(
            name(owner),
            0,
            RData::TXT(TXT::from_bytes(strings.to_vec())),
        )
    }

    fn cname(owner: &str, target: &str) -> Record {
        Record::from_rdata(name(owner), 0, RData::CNAME(CNAME(name(target))))
    }

    fn soa(zone: &str) -> Record {
        Record::from_rdata(
            name(zone),
            0,
            RData::SOA(SOA::new(
                name("ns.test."),
                name("hostmaster.test."),
                1,
                3600,
                600,
                86400,
                300,
            )),
        )
    }

    fn a(owner: &str) -> Record {
        Record::from_rdata(name(owner), 0, RData::A(A::new(192, 0, 2, 1)))
    }

    fn reply_to(query: &Message, rcode: ResponseCode, answers: Vec<Record>) -> Message {
        let mut r = Message::response(query.id, OpCode::Query);
        r.metadata.response_code = rcode;
        r.add_queries(query.queries.clone());
        r.add_answers(answers);
        r
    }

    /// The header flags and authority section of a reply, by the kind of server sending it.
    #[derive(Clone, Copy)]
    enum Server {
        /// RA=1, no authority section (dnsmasq).
        Recursive,
        /// AA=1, RA=0, the zone's SOA in the authority section (BIND, NSD, Knot).
        Authoritative,
        /// AA=0, RA=0, NS records and no SOA (a referral).
        Referral,
        /// AA=0, RA=0, nothing in the authority section.
        Neither,
    }

    /// Classify as the TXT lookup does, through an encode/decode round trip as on the wire,
    /// as a recursive resolver would send it.
    fn answer(question: &Question, rcode: ResponseCode, answers: Vec<Record>, ad: bool) -> Answer {
        answer_from(Server::Recursive, question, rcode, answers, ad)
    }

    fn answer_from(
        server: Server,
        question: &Question,
        rcode: ResponseCode,
        answers: Vec<Record>,
        ad: bool,
    ) -> Answer {
        let query = question.message(true);
        let mut reply = reply_to(&query, rcode, answers);
        reply.metadata.authentic_data = ad;
        reply.metadata.recursion_desired = true;
        match server {
            Server::Recursive => reply.metadata.recursion_available = true,
            Server::Authoritative => {
                reply.metadata.authoritative = true;
                reply.add_authority(soa("test."));
            }
            Server::Referral => {
                reply.add_authority(Record::from_rdata(
                    name("."),
                    0,
                    RData::NS(NS(name("a.root-servers.net."))),
                ));
            }
            Server::Neither => {}
        }
        let wire = reply.to_vec().expect("encode");
        let reply = match accept(&query, &wire) {
            Received::Reply(reply) => reply,
            Received::Malformed(e) => return Answer::Unavailable(format!("malformed reply: {e}")),
            Received::Ignored => panic!("{rcode:?} reply did not match its query"),
        };
        match classify(&reply, question) {
            Outcome::Records(r) => Answer::Present(txt_strings(&r)),
            Outcome::Absent => Answer::Absent,
            Outcome::Unavailable(why) => Answer::Unavailable(why),
        }
    }

    fn present(rrs: &[&[&str]]) -> Answer {
        Answer::Present(
            rrs.iter()
                .map(|rr| rr.iter().map(|s| s.as_bytes().to_vec()).collect())
                .collect(),
        )
    }

    fn unavailable(why: &str) -> Answer {
        Answer::Unavailable(why.into())
    }

    // Exempt from the length limit: a data table of replies and the answer each is classified
    // as, one row each.
    #[allow(clippy::too_many_lines)]
    #[test]
    fn classification_table() {
        let q = Question::new("c.docker.host.test", RecordType::TXT, false).expect("name");
        let qname = "c.docker.host.test.";
        let cases: Vec<(&str, ResponseCode, Vec<Record>, Answer)> = vec![
            (
                "several RRs, several strings",
                ResponseCode::NoError,
                vec![txt(qname, &[b"a", b"bc"]), txt(qname, &[b"d"])],
                present(&[&["a", "bc"], &["d"]]),
            ),
            (
                "TXT RR with no strings (invalid RDLENGTH 0)",
                ResponseCode::NoError,
                vec![txt(qname, &[]), txt(qname, &[b"x"])],
                unavailable(
                    "malformed reply: unexpected record with length 0 in non-update message",
                ),
            ),
            (
                "one empty string",
                ResponseCode::NoError,
                vec![txt(qname, &[b""])],
                present(&[&[""]]),
            ),
            (
                "owner name case differs",
                ResponseCode::NoError,
                vec![txt("C.Docker.HOST.test.", &[b"x"])],
                present(&[&["x"]]),
            ),
            ("NXDOMAIN", ResponseCode::NXDomain, vec![], Answer::Absent),
            ("NODATA", ResponseCode::NoError, vec![], Answer::Absent),
            (
                "CNAME chain",
                ResponseCode::NoError,
                vec![
                    cname(qname, "mid.test."),
                    cname("mid.test.", "end.test."),
                    txt("end.test.", &[b"via", b"cname"]),
                ],
                present(&[&["via", "cname"]]),
            ),
            (
                "TXT owned by another name is not ours",
                ResponseCode::NoError,
                vec![cname(qname, "end.test."), txt("other.test.", &[b"no"])],
                unavailable("answer holds 1 record(s) unrelated to c.docker.host.test. TXT"),
            ),
            (
                "CNAME to a name with no TXT is NODATA",
                ResponseCode::NoError,
                vec![cname(qname, "end.test.")],
                Answer::Absent,
            ),
            (
                "CNAME to a missing name",
                ResponseCode::NXDomain,
                vec![cname(qname, "end.test.")],
                Answer::Absent,
            ),
            (
                "CNAME loop",
                ResponseCode::NoError,
                vec![cname(qname, "loop.test."), cname("loop.test.", qname)],
                unavailable("CNAME chain from c.docker.host.test. longer than 16 (a loop?)"),
            ),
            (
                "other record types only",
                ResponseCode::NoError,
                vec![a(qname)],
                unavailable("answer holds 1 record(s) unrelated to c.docker.host.test. TXT"),
            ),
            (
                "other types beside the TXT are ignored",
                ResponseCode::NoError,
                vec![a(qname), txt(qname, &[b"t"])],
                present(&[&["t"]]),
            ),
            (
                "NXDOMAIN with unrelated records",
                ResponseCode::NXDomain,
                vec![a(qname)],
                unavailable("answer holds 1 record(s) unrelated to c.docker.host.test. TXT"),
            ),
            (
                "NXDOMAIN with records",
                ResponseCode::NXDomain,
                vec![txt(qname, &[b"x"])],
                unavailable("NXDOMAIN with records in the answer"),
            ),
            (
                "SERVFAIL",
                ResponseCode::ServFail,
                vec![],
                unavailable("server answered SERVFAIL"),
            ),
            (
                "REFUSED",
                ResponseCode::Refused,
                vec![],
                unavailable("server answered REFUSED"),
            ),
            (
                "NOTIMP",
                ResponseCode::NotImp,
                vec![],
                unavailable("server answered NOTIMP"),
            ),
            (
                "SERVFAIL with data is still a failure",
                ResponseCode::ServFail,
                vec![txt(qname, &[b"x"])],
                unavailable("server answered SERVFAIL"),
            ),
        ];
        for (what, rcode, answers, want) in cases {
            assert_eq!(answer(&q, rcode, answers, false), want, "{what}");
        }
    }

    #[test]
    fn a_denial_needs_a_server_that_speaks_for_the_data() {
        let q = Question::new("c.docker.host.test", RecordType::TXT, false).expect("name");
        let qname = "c.docker.host.test.";
        let data = || vec![txt(qname, &[b"x"])];
        let alone = || vec![cname(qname, "elsewhere.example.")];
        use Server::*;
        // (who answers, rcode, answer section, the answer or a word of why it is unavailable)
        type Case = (
            Server,
            ResponseCode,
            Vec<Record>,
            Result<Answer, &'static str>,
        );
        let cases: Vec<Case> = vec![
            // Data is data, whoever sends it.
            (
                Referral,
                ResponseCode::NoError,
                data(),
                Ok(present(&[&["x"]])),
            ),
            (
                Neither,
                ResponseCode::NoError,
                data(),
                Ok(present(&[&["x"]])),
            ),
            // Denials from servers that answer for the data.
            (
                Recursive,
                ResponseCode::NXDomain,
                vec![],
                Ok(Answer::Absent),
            ),
            (Recursive, ResponseCode::NoError, vec![], Ok(Answer::Absent)),
            (
                Authoritative,
                ResponseCode::NXDomain,
                vec![],
                Ok(Answer::Absent),
            ),
            (
                Authoritative,
                ResponseCode::NoError,
                vec![],
                Ok(Answer::Absent),
            ),
            // A recursive server chased the CNAME: its denial is the target's.
            (
                Recursive,
                ResponseCode::NoError,
                alone(),
                Ok(Answer::Absent),
            ),
            (
                Recursive,
                ResponseCode::NXDomain,
                alone(),
                Ok(Answer::Absent),
            ),
            // A referral, from any server: the question was passed on, not answered.
            (Referral, ResponseCode::NoError, vec![], Err("referral")),
            (Referral, ResponseCode::NXDomain, vec![], Err("referral")),
            // Neither authoritative nor recursive.
            (
                Neither,
                ResponseCode::NoError,
                vec![],
                Err("neither authoritative"),
            ),
            (
                Neither,
                ResponseCode::NXDomain,
                vec![],
                Err("neither authoritative"),
            ),
            // An authoritative server's CNAME into another zone, alone.
            (
                Authoritative,
                ResponseCode::NoError,
                alone(),
                Err("CNAME chain ends"),
            ),
            (
                Neither,
                ResponseCode::NoError,
                alone(),
                Err("CNAME chain ends"),
            ),
        ];
        for (i, (server, rcode, answers, want)) in cases.into_iter().enumerate() {
            let got = answer_from(server, &q, rcode, answers, false);
            match want {
                Ok(want) => assert_eq!(got, want, "case {i}"),
                Err(needle) => assert!(
                    matches!(&got, Answer::Unavailable(why) if why.contains(needle)),
                    "case {i}: {got:?} lacks {needle}"
                ),
            }
        }
    }

    #[test]
    fn require_ad_table() {
        let q = Question::new("c.host.test", RecordType::TXT, true).expect("name");
        let not_auth = unavailable("answer not authenticated (AD bit missing)");
        let cases = [
            (
                "TXT with AD",
                ResponseCode::NoError,
                vec![txt("c.host.test.", &[b"x"])],
                true,
                present(&[&["x"]]),
            ),
            (
                "TXT without AD",
                ResponseCode::NoError,
                vec![txt("c.host.test.", &[b"x"])],
                false,
                not_auth.clone(),
            ),
            (
                "NXDOMAIN with AD",
                ResponseCode::NXDomain,
                vec![],
                true,
                Answer::Absent,
            ),
            (
                "NXDOMAIN without AD",
                ResponseCode::NXDomain,
                vec![],
                false,
                not_auth.clone(),
            ),
            (
                "NODATA without AD",
                ResponseCode::NoError,
                vec![],
                false,
                not_auth,
            ),
        ];
        for (what, rcode, answers, ad, want) in cases {
            assert_eq!(answer(&q, rcode, answers, ad), want, "{what}");
        }
        assert!(q.message(true).authentic_data, "queries ask for AD");
        let plain = Question::new("c.host.test", RecordType::TXT, false).expect("name");
        assert!(!plain.message(true).authentic_data);
    }

    /// A reply that does not decode is this server's broken answer when its header and
    /// question are ours, and noise to wait past when they are not.
    #[test]
    fn a_broken_reply_is_malformed_only_when_it_is_ours() {
        let question = Question::new("c.docker.host.test", RecordType::TXT, false).expect("q");
        let query = question.message(true);
        let reply = reply_to(
            &query,
            ResponseCode::NoError,
            vec![txt("c.docker.host.test.", &[b"web"])],
        );
        let whole = reply.to_vec().expect("encode");
        assert!(matches!(accept(&query, &whole), Received::Reply(_)));
        let cut = &whole[..whole.len() - 2];
        assert!(matches!(accept(&query, cut), Received::Malformed(_)));
        let mut other_id = cut.to_vec();
        other_id[0] ^= 0xff;
        assert!(matches!(accept(&query, &other_id), Received::Ignored));
        let mut no_question = cut.to_vec();
        no_question[4..6].copy_from_slice(&[0, 0]);
        assert!(matches!(accept(&query, &no_question), Received::Ignored));
        let mut lying = whole.clone();
        lying[4..6].copy_from_slice(&[0xff, 0xff]);
        assert!(matches!(accept(&query, &lying), Received::Ignored));
    }

    /// A question takes at least 5 bytes and a record 11: counts that cannot fit are refused
    /// before hickory reserves room for them; a message too short for a header is hickory's.
    #[test]
    fn header_counts_must_fit_the_bytes_after_it() {
        let message = |counts: [u16; 4], body: usize| {
            let mut m = vec![0u8; 4];
            for c in counts {
                m.extend_from_slice(&c.to_be_bytes());
            }
            m.resize(12 + body, 0);
            m
        };
        for (counts, body, fits) in [
            ([0, 0, 0, 0], 0, true),
            ([1, 0, 0, 0], 5, true),
            ([1, 0, 0, 0], 4, false),
            ([1, 1, 0, 0], 16, true),
            ([1, 1, 0, 0], 15, false),
            ([1, 0, 1, 1], 27, true),
            ([1, 0, 1, 1], 26, false),
            ([0xffff, 0, 0, 0], 100, false),
        ] {
            assert_eq!(
                counts_fit(&message(counts, body)),
                fits,
                "{counts:?} in {body}"
            );
        }
        assert!(counts_fit(&[0xff; 11]));
    }

    #[test]
    fn matching_table() {
        let q = Question::new("c.host.test", RecordType::TXT, false).expect("name");
        let query = q.message(true);
        let other_name = Question::new("d.host.test", RecordType::TXT, false)
            .expect("name")
            .message(true);
        let other_type = Question::new("c.host.test", RecordType::A, false)
            .expect("name")
            .message(true);
        let good = reply_to(&query, ResponseCode::NoError, vec![]);
        let mut wrong_id = good.clone();
        wrong_id.metadata.id = query.id.wrapping_add(1);
        let mut not_response = good.clone();
        not_response.metadata.message_type = MessageType::Query;
        let mut wrong_name = reply_to(&other_name, ResponseCode::NoError, vec![]);
        wrong_name.metadata.id = query.id;
        let mut wrong_type = reply_to(&other_type, ResponseCode::NoError, vec![]);
        wrong_type.metadata.id = query.id;
        let mut upper = good.clone();
        upper.queries[0].name = name("C.HOST.TEST.");
        let mut two_questions = good.clone();
        two_questions.add_queries(query.queries.clone());
        let no_question_nxdomain =
            Message::error_msg(query.id, OpCode::Query, ResponseCode::NXDomain);
        let no_question_formerr =
            Message::error_msg(query.id, OpCode::Query, ResponseCode::FormErr);
        let cases = [
            ("matching", good, true),
            ("name in other case (0x20)", upper, true),
            ("wrong id", wrong_id, false),
            ("a query, not a response", not_response, false),
            ("other name", wrong_name, false),
            ("other type", wrong_type, false),
            ("two questions", two_questions, false),
            ("NXDOMAIN without a question", no_question_nxdomain, false),
            ("FORMERR without a question", no_question_formerr, true),
        ];
        for (what, reply, want) in cases {
            let wire = reply.to_vec().expect("encode");
            assert_eq!(
                matches!(accept(&query, &wire), Received::Reply(_)),
                want,
                "{what}"
            );
        }
        assert!(matches!(accept(&query, b"\x12garbage"), Received::Ignored));
        assert!(matches!(accept(&query, b""), Received::Ignored));
    }

    #[test]
    fn questions_are_fully_qualified() {
        for text in ["a.test", "a.test."] {
            let q = Question::new(text, RecordType::TXT, false).expect("name");
            assert!(q.name.is_fqdn(), "{text}");
            assert_eq!(q.name, name("a.test."));
        }
        assert!(Question::new("", RecordType::TXT, false).is_err());
        assert!(Question::new(".", RecordType::TXT, false).is_err());
        assert!(Question::new("a..b", RecordType::TXT, false).is_err());
        let query = Question::new("a.test", RecordType::TXT, false)
            .expect("name")
            .message(true);
        assert_eq!(query.edns.as_ref().map(|e| e.max_payload()), Some(1232));
        assert!(query.recursion_desired);
    }
}
