//! The HTTP plumbing under the engine client: a ureq agent that reaches one engine endpoint,
//! over a unix socket (our own connector) or tcp (ureq's connector), and never resolves a name
//! (no getaddrinfo in a static binary) nor honours `*_PROXY` variables.
//! It moves bytes only; what a status or body means is the engine client's business.

use super::Endpoint;
use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;
use ureq::Agent;
use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, LazyBuffers, NextTimeout, TcpConnector, Transport,
};

/// The URL base every request uses. The host part only names the `Host` header and the pool
/// key: the connector decides where the bytes go.
pub const BASE: &str = "http://docker";

/// Longest wait for a tcp connection to be accepted.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Each connection's input and output buffer, and the largest reply head accepted.
const BUFFER: usize = 16 * 1024;

/// An agent whose every request goes to `endpoint`; `per_read` bounds each single read, so a
/// long pull or stop that keeps the connection alive is never cut by a total deadline.
pub fn agent(endpoint: &Endpoint, per_read: Duration) -> Agent {
    let config = Agent::config_builder()
        // 4xx/5xx come back as responses, so the engine's {"message": …} body can be read.
        .http_status_as_error(false)
        .proxy(None)
        .max_redirects(0)
        .timeout_connect(Some(CONNECT_TIMEOUT))
        .timeout_per_read(Some(per_read))
        // ureq's 128 KiB a direction is written in full on a connection's first use: with
        // --jobs connections that was most of a run's memory. The engine's heads are a few
        // hundred bytes, bodies stream through, and the input buffer grows if it must.
        .input_buffer_size(BUFFER)
        .output_buffer_size(BUFFER)
        .max_response_header_size(BUFFER)
        .build();
    match endpoint {
        Endpoint::Unix(path) => Agent::with_parts(
            config,
            UnixConnector(path.clone()),
            // Never consulted by the unix connector, but ureq calls a resolver before connecting.
            FixedAddress(SocketAddr::from(([127, 0, 0, 1], 0))),
        ),
        Endpoint::Tcp(addr) => Agent::with_parts(
            config,
            ().chain(TcpConnector::default()),
            FixedAddress(*addr),
        ),
    }
}

/// A resolver that answers every name with one address: the engine's, or a placeholder.
#[derive(Debug)]
struct FixedAddress(SocketAddr);

impl Resolver for FixedAddress {
    fn resolve(
        &self,
        _: &Uri,
        _: &Config,
        _: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let mut addrs = self.empty();
        addrs.push(self.0);
        Ok(addrs)
    }
}

/// Opens a connection to the engine's unix socket.
#[derive(Debug)]
struct UnixConnector(PathBuf);

impl Connector<()> for UnixConnector {
    type Out = UnixTransport;

    fn connect(
        &self,
        details: &ConnectionDetails,
        _chained: Option<()>,
    ) -> Result<Option<UnixTransport>, ureq::Error> {
        // ENOENT and ECONNREFUSED keep their io::ErrorKind: the client reads "engine not up"
        // from them. A unix connect does not wait for the peer, so it needs no timeout.
        let stream = UnixStream::connect(&self.0).map_err(|e| {
            ureq::Error::Io(std::io::Error::new(
                e.kind(),
                format!("connect to {}: {e}", self.0.display()),
            ))
        })?;
        let config = details.config;
        Ok(Some(UnixTransport {
            stream,
            buffers: LazyBuffers::new(config.input_buffer_size(), config.output_buffer_size()),
            read_timeout: None,
            write_timeout: None,
        }))
    }
}

/// One HTTP/1.1 connection over a unix socket.
#[derive(Debug)]
struct UnixTransport {
    stream: UnixStream,
    buffers: LazyBuffers,
    // What the socket is set to, so a timeout costs a syscall only when it changes.
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
}

/// The timeout to set on the socket, or the expiry error when none is left.
fn socket_timeout(timeout: NextTimeout) -> Result<Option<Duration>, ureq::Error> {
    if timeout.after.is_not_happening() {
        return Ok(None);
    }
    if timeout.after.is_zero() {
        return Err(ureq::Error::Timeout(timeout.reason));
    }
    Ok(Some(*timeout.after))
}

/// A socket timeout surfaces as `WouldBlock` on Linux (`TimedOut` elsewhere): make it ureq's.
fn io_error(e: std::io::Error, timeout: NextTimeout) -> ureq::Error {
    match e.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => ureq::Error::Timeout(timeout.reason),
        _ => ureq::Error::Io(e),
    }
}

impl Transport for UnixTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        let timeout = timeout.for_write();
        let want = socket_timeout(timeout)?;
        if want != self.write_timeout {
            self.stream.set_write_timeout(want)?;
            self.write_timeout = want;
        }
        let output = &self.buffers.output()[..amount];
        self.stream
            .write_all(output)
            .map_err(|e| io_error(e, timeout))
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        let timeout = timeout.for_read();
        let want = socket_timeout(timeout)?;
        if want != self.read_timeout {
            self.stream.set_read_timeout(want)?;
            self.read_timeout = want;
        }
        let n = loop {
            match self.stream.read(self.buffers.input_append_buf()) {
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                result => break result.map_err(|e| io_error(e, timeout))?,
            }
        };
        self.buffers.input_appended(n);
        Ok(n > 0)
    }

    fn is_open(&mut self) -> bool {
        // A pooled connection is reusable only if the engine has neither closed it nor sent
        // anything unasked: a non-blocking read must find nothing to read.
        if self.stream.set_nonblocking(true).is_err() {
            return false;
        }
        let idle =
            matches!(self.stream.read(&mut [0u8; 1]), Err(e) if e.kind() == ErrorKind::WouldBlock);
        idle && self.stream.set_nonblocking(false).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ureq::Timeout;
    use ureq::unversioned::transport::time::Duration as Budget;

    fn next(after: Budget, per_read: Option<Budget>) -> NextTimeout {
        NextTimeout {
            after,
            reason: Timeout::Global,
            per_read,
            per_write: None,
        }
    }

    #[test]
    fn socket_timeouts_follow_the_budget() {
        let secs = |s| Budget::Exact(Duration::from_secs(s));
        let cases = [
            (next(Budget::NotHappening, None), Ok(None)),
            (next(secs(7), None), Ok(Some(Duration::from_secs(7)))),
            (
                next(Budget::NotHappening, Some(secs(3))).for_read(),
                Ok(Some(Duration::from_secs(3))),
            ),
            (
                next(secs(2), Some(secs(3))).for_read(),
                Ok(Some(Duration::from_secs(2))),
            ),
            (next(secs(0), None), Err(Timeout::Global)),
            (
                next(secs(5), Some(secs(0))).for_read(),
                Err(Timeout::PerRead),
            ),
        ];
        for (timeout, want) in cases {
            match (socket_timeout(timeout), want) {
                (Ok(got), Ok(want)) => assert_eq!(got, want, "{timeout:?}"),
                (Err(ureq::Error::Timeout(got)), Err(want)) => assert_eq!(got, want, "{timeout:?}"),
                (got, want) => panic!("{timeout:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn socket_expiry_is_a_timeout_other_errors_stay_io() {
        let t = next(
            Budget::NotHappening,
            Some(Budget::Exact(Duration::from_secs(1))),
        )
        .for_read();
        let cases = [
            (ErrorKind::WouldBlock, Some(Timeout::PerRead)),
            (ErrorKind::TimedOut, Some(Timeout::PerRead)),
            (ErrorKind::ConnectionReset, None),
            (ErrorKind::NotFound, None),
        ];
        for (kind, want) in cases {
            match (io_error(kind.into(), t), want) {
                (ureq::Error::Timeout(got), Some(want)) => assert_eq!(got, want),
                (ureq::Error::Io(e), None) => assert_eq!(e.kind(), kind),
                (got, want) => panic!("{kind:?}: got {got:?}, want {want:?}"),
            }
        }
    }
}
