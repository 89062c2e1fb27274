//! Telling systemd how the run stands: `STATUS=` lines (what `systemctl status` shows) and
//! `READY=1` (what opens a `Type=notify` unit's gate), as datagrams written directly to
//! `$NOTIFY_SOCKET` (a path, or `@name` in the abstract namespace); no libsystemd. Without
//! the variable (cron, a shell) it does nothing. It never fails a run: systemd's view is a
//! courtesy, the exit status is the contract.

use std::os::fd::AsRawFd;
use std::os::unix::net::UnixDatagram;
use std::sync::Mutex;
use std::time::Duration;

/// How long `READY=1` waits for systemd to have read it before the run goes on.
const BARRIER_WAIT: Duration = Duration::from_secs(5);

/// Show `line` as the unit's status (only when it changed since the last one sent).
pub fn status(line: &str) {
    static LAST: Mutex<String> = Mutex::new(String::new());
    let mut last = LAST.lock().unwrap_or_else(|p| p.into_inner());
    if *last == line {
        return;
    }
    if let Some(socket) = socket() {
        if let Err(e) = send(&socket, &format!("STATUS={}", one_line(line))) {
            log::debug!("systemd notification not sent: {e}");
        }
        line.clone_into(&mut last);
    }
}

/// Tell systemd the unit is ready, with `line` as its status, and wait until systemd has
/// read it: a notification whose sender has exited by the time systemd reads it cannot be
/// told apart from a stranger's and is dropped (the unit would then fail with "protocol").
pub fn ready(line: &str) {
    let Some(socket) = socket() else {
        return;
    };
    let sent = send(&socket, &format!("READY=1\nSTATUS={}", one_line(line)))
        .and_then(|()| barrier(&socket));
    if let Err(e) = sent {
        log::warn!("could not tell systemd the run is ready: {e}");
    }
}

/// `$NOTIFY_SOCKET`, connected; `None` when it is unset or cannot be reached.
fn socket() -> Option<UnixDatagram> {
    let path = std::env::var_os("NOTIFY_SOCKET").filter(|p| !p.is_empty())?;
    let connected = connect(&path.to_string_lossy());
    if let Err(e) = &connected {
        log::debug!("NOTIFY_SOCKET {}: {e}", path.to_string_lossy());
    }
    connected.ok()
}

fn connect(path: &str) -> std::io::Result<UnixDatagram> {
    let socket = UnixDatagram::unbound()?;
    // A receiver that stops reading must not stall the run: a full queue drops the message.
    socket.set_nonblocking(true)?;
    match path.strip_prefix('@') {
        Some(name) => {
            use std::os::linux::net::SocketAddrExt;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
            socket.connect_addr(&addr)?;
        }
        None => socket.connect(path)?,
    }
    Ok(socket)
}

fn send(socket: &UnixDatagram, message: &str) -> Result<(), String> {
    socket
        .send(message.as_bytes())
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// A status is one line: systemd shows it as one.
fn one_line(s: &str) -> String {
    s.replace('\n', " ")
}

/// systemd's `BARRIER=1`: send the write end of a pipe along; systemd closes it once it has
/// read every notification sent before, which the read end sees as a hang-up.
fn barrier(socket: &UnixDatagram) -> Result<(), String> {
    let mut fds = [-1; 2];
    // SAFETY: pipe2 writes two descriptors into the array it is given.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(format!("pipe: {}", std::io::Error::last_os_error()));
    }
    let [read_end, write_end] = fds;
    let sent = send_fd(socket, b"BARRIER=1", write_end);
    // SAFETY: our own descriptor, closed once: systemd holds its copy.
    unsafe { libc::close(write_end) };
    let waited = sent.and_then(|()| {
        let mut p = libc::pollfd {
            fd: read_end,
            events: 0,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut p, 1, BARRIER_WAIT.as_millis() as i32) };
        match n {
            1 => Ok(()),
            0 => Err("systemd did not confirm it read the notification".to_string()),
            _ => Err(format!("poll: {}", std::io::Error::last_os_error())),
        }
    });
    // SAFETY: our own descriptor, closed once.
    unsafe { libc::close(read_end) };
    waited
}

/// Send `data` with the descriptor `fd` attached (SCM_RIGHTS).
fn send_fd(socket: &UnixDatagram, data: &[u8], fd: i32) -> Result<(), String> {
    const FD_SIZE: u32 = std::mem::size_of::<i32>() as u32;
    // SAFETY: CMSG_SPACE is a pure size computation.
    let space = unsafe { libc::CMSG_SPACE(FD_SIZE) } as usize;
    let mut control = vec![0u8; space];
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    // SAFETY: a zeroed msghdr is valid; the fields set below point at live buffers.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr() as *mut libc::c_void;
    msg.msg_controllen = space as _;
    // SAFETY: the control buffer is CMSG_SPACE(one fd) long, so the first header and its
    // data fit in it.
    unsafe {
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(FD_SIZE) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg) as *mut i32, fd);
    }
    // SAFETY: msg points at buffers that outlive the call; the socket is connected.
    let n = unsafe { libc::sendmsg(socket.as_raw_fd(), &msg, libc::MSG_NOSIGNAL) };
    if n < 0 {
        return Err(format!("sendmsg: {}", std::io::Error::last_os_error()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What systemd reads: the datagrams on a socket we bind, path and abstract alike, and
    /// the barrier's descriptor, whose closing (as systemd closes it) ends the wait.
    #[test]
    fn datagrams_reach_a_path_and_an_abstract_socket() {
        let dir = std::env::temp_dir().join(format!("ddp-notify-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notify");
        let listener = UnixDatagram::bind(&path).unwrap();
        let s = connect(&path.to_string_lossy()).unwrap();
        send(&s, &format!("STATUS={}", one_line("waiting\nfor DNS"))).unwrap();
        let mut buf = [0u8; 256];
        let n = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"STATUS=waiting for DNS");

        let name = format!("ddp-notify-test-{}", std::process::id());
        use std::os::linux::net::SocketAddrExt;
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let abstract_listener = UnixDatagram::bind_addr(&addr).unwrap();
        let s = connect(&format!("@{name}")).unwrap();
        // systemd's side of the barrier: read the datagram, which carries the descriptor,
        // and drop it (received descriptors are closed with the message when not taken).
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 64];
            let n = abstract_listener.recv(&mut buf).unwrap();
            buf[..n].to_vec()
        });
        barrier(&s).unwrap();
        assert_eq!(reader.join().unwrap(), b"BARRIER=1");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
