//! Property tests of the two decoders that read what others write: DNS replies off the wire
//! and records files. Random bytes, token soups and mutations of well-formed inputs must never
//! panic (a panic is a crash at boot: release builds abort), and decoding may cost no more
//! memory than a fixed amount plus a multiple of the input's size. Cases and seed as in
//! [`crate::fuzzing`]; a failure prints its input.

use hickory_proto::op::{Message, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{CNAME, NS, SOA, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};

use super::records_file::RecordsFile;
use super::wire::{Outcome, Question, Received, accept, classify, txt_strings};
use super::{Answer, TxtSource};
use crate::fuzzing::{Xorshift, allocated_by, cases, mutate, rng};

/// What decoding one reply may allocate: hickory's fixed costs (a few `Vec`s reserved ahead,
/// the error's text), then each byte may become a few structures' worth of names and records.
/// 200,000 cases used at most 2.3 KiB; a header's counts trusted ahead of the bytes cost
/// megabytes.
const WIRE_FIXED: usize = 8 << 10;
const WIRE_PER_BYTE: usize = 32;

/// What parsing one records file may allocate: the map, then a few copies of each byte (the
/// line, the entry, the strings, the owner's key). 200,000 cases used at most 3.8 KiB.
const FILE_FIXED: usize = 8 << 10;
const FILE_PER_BYTE: usize = 32;

const OWNER: &str = "c.docker.host.test.";

fn name(text: &str) -> Name {
    Name::from_ascii(text).expect("a test name")
}

fn rr(owner: &str, data: RData) -> Record {
    Record::from_rdata(name(owner), 60, data)
}

fn txt(strings: &[&str]) -> RData {
    RData::TXT(TXT::new(strings.iter().map(|s| s.to_string()).collect()))
}

/// Well-formed replies to `query`, each a different path through the classifier.
fn seed_replies(query: &Message) -> Vec<Vec<u8>> {
    let soa = RData::SOA(SOA::new(name("ns.test."), name("ns.test."), 1, 1, 1, 1, 1));
    let shapes: Vec<(ResponseCode, Vec<Record>, Vec<Record>)> = vec![
        (
            ResponseCode::NoError,
            vec![rr(OWNER, txt(&["web db", "cache"])), rr(OWNER, txt(&[""]))],
            vec![],
        ),
        (
            ResponseCode::NoError,
            vec![
                rr(OWNER, RData::CNAME(CNAME(name("a.test.")))),
                rr("a.test.", RData::CNAME(CNAME(name("b.test.")))),
                rr("b.test.", txt(&["--net=host busybox"])),
            ],
            vec![],
        ),
        (
            ResponseCode::NXDomain,
            vec![],
            vec![rr("test.", soa.clone())],
        ),
        (ResponseCode::NoError, vec![], vec![rr("test.", soa)]),
        (
            ResponseCode::NoError,
            vec![],
            vec![rr(".", RData::NS(NS(name("a.root-servers.net."))))],
        ),
        (ResponseCode::ServFail, vec![], vec![]),
    ];
    shapes
        .into_iter()
        .map(|(rcode, answers, authorities)| {
            let mut r = Message::response(query.id, OpCode::Query);
            r.metadata.response_code = rcode;
            r.metadata.recursion_desired = true;
            r.metadata.recursion_available = true;
            r.add_queries(query.queries.clone());
            r.add_answers(answers);
            r.add_authorities(authorities);
            r.to_vec().expect("encode a seed reply")
        })
        .collect()
}

/// A seed with its four section counts replaced, as a liar or a bit flip would.
fn with_counts(rng: &mut Xorshift, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for at in (4..12.min(v.len())).step_by(2) {
        if rng.below(2) == 0 {
            let n = [0, 1, 2, 0xff, 0xffff][rng.below(5)] as u16;
            v[at..(at + 2).min(12)].copy_from_slice(&n.to_be_bytes()[..(12 - at).min(2)]);
        }
    }
    v
}

#[test]
fn replies_never_panic_or_allocate_beyond_their_size() {
    let question = Question::new(OWNER, RecordType::TXT, false).expect("question");
    let query = question.message(true);
    let seeds = seed_replies(&query);
    let mut rng = rng();
    let (total, mut replies) = (cases(20_000), 0);
    for i in 0..total {
        let seed = &seeds[rng.below(seeds.len())];
        let bytes = match i % 4 {
            0 => rng.bytes(600),
            1 => with_counts(&mut rng, seed),
            _ => mutate(&mut rng, seed, &[0, 0xc0, 0x3f, 0xff]),
        };
        let (reached, used) = allocated_by(|| match accept(&query, &bytes) {
            Received::Reply(reply) => {
                if let Outcome::Records(records) = classify(&reply, &question) {
                    let _ = txt_strings(&records);
                }
                true
            }
            Received::Malformed(_) | Received::Ignored => false,
        });
        replies += usize::from(reached);
        assert!(
            used <= WIRE_FIXED + WIRE_PER_BYTE * bytes.len(),
            "decoding {} bytes allocated {used}: {bytes:02x?}",
            bytes.len()
        );
    }
    // The mutations must reach the classifier, not only the decoder's refusals.
    assert!(
        total < 100 || replies > total / 20,
        "only {replies} of {total} replies were classified"
    );
}

const FILE_SEEDS: &[&str] = &[
    "txt-record=containers.docker.host.test,\"web,db\",cache # c\n\
     txt-record=web.containers.docker.host.test,\"--net=host busybox\"\n\
     txt-record=a.example\nlocal=/test/\nno-resolv\n",
    "$ORIGIN test.\n$TTL 60\n@ IN TXT \"a\\\"b\" \\065\n\
     containers.docker.host 60 IN TXT ( \"one\" ; c\n \"two\\123\" )\n\
     *.docker TXT \"x\"\r\nweb.containers.docker.host.test. TXT \"{\\\"Image\\\":\\\"busybox\\\"}\"\n",
    "a TXT (\n\"x\"\n",
    "  TXT \"\\",
];

const FILE_TOKENS: &[&str] = &[
    "txt-record=",
    "a.example",
    "web.containers.docker.host.test.",
    "*.test",
    "@",
    "$ORIGIN",
    "$TTL",
    "60",
    "IN",
    "CH",
    "TXT",
    "A",
    ",",
    "\"",
    "\\",
    "\\\"",
    "\\065",
    "\\999",
    "(",
    ")",
    ";",
    "#",
    " ",
    "\t",
    "\r",
    "\n",
    "local=/test/",
    "x",
    "é",
    "\u{0}",
];

fn file_soup(rng: &mut Xorshift) -> Vec<u8> {
    let mut s = String::new();
    for _ in 0..rng.below(40) {
        s.push_str(rng.pick(FILE_TOKENS));
    }
    s.into_bytes()
}

#[test]
fn records_files_never_panic_or_allocate_beyond_their_size() {
    let mut rng = rng();
    let (total, mut parsed) = (cases(20_000), 0);
    for i in 0..total {
        let seed = rng.pick(FILE_SEEDS).as_bytes();
        let bytes = match i % 4 {
            0 => rng.bytes(300),
            1 => file_soup(&mut rng),
            _ => mutate(&mut rng, seed, b"\"\\();\n,#\xff"),
        };
        let (file, used) = allocated_by(|| RecordsFile::parse(&bytes));
        assert!(
            used <= FILE_FIXED + FILE_PER_BYTE * bytes.len(),
            "parsing {} bytes allocated {used}: {:?}",
            bytes.len(),
            String::from_utf8_lossy(&bytes)
        );
        let Ok(file) = file else { continue };
        parsed += 1;
        // What a file yields comes from its bytes: no more text than it holds, and no
        // character-string a DNS message could not carry.
        let mut held = 0;
        for owner in file.names() {
            let Answer::Present(rrs) = file.lookup(owner) else {
                panic!("{owner} is listed but not present: {bytes:?}");
            };
            assert_eq!(rrs.len(), file.lines(owner).len(), "{bytes:?}");
            for s in rrs.iter().flatten() {
                assert!(s.len() <= 255, "a {}-byte string from {bytes:?}", s.len());
                held += s.len();
            }
        }
        assert!(
            held <= bytes.len(),
            "{held} bytes of strings from {bytes:?}"
        );
    }
    assert!(
        total < 100 || parsed > total / 10,
        "only {parsed} of {total} files parsed"
    );
}
