//! The descriptors a connection can own, and how to open, adopt and use them.
//!
//! Every descriptor is non-blocking once the core holds it. This module does
//! plain syscalls only (through std, socket2 and rustix); it knows nothing of
//! roles, timers or loops.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use socket2::{Domain, SockAddr, Type};

/// Where to listen or connect: a TCP/UDP address or a Unix-domain socket.
///
/// Parses from `"127.0.0.1:7681"`, `"[::1]:7681"`, `"unix:/run/app.sock"`
/// and, on Linux, `"unix:@name"` for an abstract socket.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

impl FromStr for Endpoint {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(path) = s.strip_prefix("unix:") {
            if path.is_empty() {
                return Err(crate::Error::BadAddress(s.to_owned()));
            }
            return Ok(Endpoint::Unix(PathBuf::from(path)));
        }
        s.parse()
            .map(Endpoint::Tcp)
            .map_err(|_| crate::Error::BadAddress(s.to_owned()))
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Tcp(a) => write!(f, "{a}"),
            Endpoint::Unix(p) => write!(f, "unix:{}", p.display()),
        }
    }
}

impl From<SocketAddr> for Endpoint {
    fn from(a: SocketAddr) -> Self {
        Endpoint::Tcp(a)
    }
}

/// A descriptor owned by one connection slot.
#[derive(Debug)]
pub(crate) enum Socket {
    TcpListener(TcpListener),
    UnixListener(UnixListener),
    Tcp(TcpStream),
    Unix(UnixStream),
    Udp(UdpSocket),
    File(File),
    /// Read end of the context's cross-thread waker.
    Waker(UnixStream),
    /// No descriptor yet: a client connection whose host name is being
    /// resolved. Never watched.
    Pending,
}

impl Socket {
    pub fn fd(&self) -> RawFd {
        match self {
            Socket::TcpListener(s) => s.as_raw_fd(),
            Socket::UnixListener(s) => s.as_raw_fd(),
            Socket::Tcp(s) => s.as_raw_fd(),
            Socket::Unix(s) | Socket::Waker(s) => s.as_raw_fd(),
            Socket::Udp(s) => s.as_raw_fd(),
            Socket::File(s) => s.as_raw_fd(),
            Socket::Pending => -1,
        }
    }

    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Socket::Tcp(s) => s.read(buf),
            Socket::Unix(s) | Socket::Waker(s) => s.read(buf),
            Socket::File(s) => s.read(buf),
            Socket::Udp(s) => s.recv(buf),
            Socket::TcpListener(_) | Socket::UnixListener(_) | Socket::Pending => {
                Err(not_a_stream())
            }
        }
    }

    pub fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Socket::Tcp(s) => s.write(buf),
            Socket::Unix(s) => s.write(buf),
            Socket::File(s) => s.write(buf),
            Socket::Udp(s) => s.send(buf),
            _ => Err(not_a_stream()),
        }
    }

    /// Gathered write (one syscall for several buffers) where the
    /// descriptor supports it.
    pub fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Socket::Tcp(s) => s.write_vectored(bufs),
            Socket::Unix(s) => s.write_vectored(bufs),
            Socket::File(s) => s.write_vectored(bufs),
            _ => match bufs.iter().find(|b| !b.is_empty()) {
                Some(b) => self.write(b),
                None => Ok(0),
            },
        }
    }

    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        match self {
            Socket::Tcp(s) => s.take_error(),
            Socket::Unix(s) => s.take_error(),
            Socket::Udp(s) => s.take_error(),
            _ => Ok(None),
        }
    }

    pub fn peer_addr(&self) -> Option<SocketAddr> {
        match self {
            Socket::Tcp(s) => s.peer_addr().ok(),
            Socket::Udp(s) => s.peer_addr().ok(),
            _ => None,
        }
    }

    /// Accept one pending connection as a non-blocking stream.
    pub fn accept(&self) -> io::Result<Socket> {
        use rustix::net::{SocketFlags, accept_with};
        let flags = SocketFlags::NONBLOCK | SocketFlags::CLOEXEC;
        match self {
            Socket::TcpListener(l) => {
                let fd: OwnedFd = accept_with(l.as_fd(), flags)?;
                let s = TcpStream::from(fd);
                // Latency matters more than packet count for callback writes.
                let _ = s.set_nodelay(true);
                Ok(Socket::Tcp(s))
            }
            Socket::UnixListener(l) => Ok(Socket::Unix(UnixStream::from(accept_with(
                l.as_fd(),
                flags,
            )?))),
            _ => Err(not_a_stream()),
        }
    }
}

fn not_a_stream() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "operation not valid on this descriptor",
    )
}

/// Options for a listening socket.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ListenOpts {
    pub backlog: i32,
    pub reuse_port: bool,
}

/// Bind and listen, non-blocking.
pub(crate) fn listen(ep: &Endpoint, opts: ListenOpts) -> io::Result<Socket> {
    match ep {
        Endpoint::Tcp(addr) => {
            let s = socket2::Socket::new(
                Domain::for_address(*addr),
                Type::STREAM.nonblocking().cloexec(),
                None,
            )?;
            s.set_reuse_address(true)?;
            if opts.reuse_port {
                s.set_reuse_port(true)?;
            }
            if addr.is_ipv6() {
                s.set_only_v6(true)?;
            }
            s.bind(&(*addr).into())?;
            s.listen(opts.backlog)?;
            Ok(Socket::TcpListener(s.into()))
        }
        Endpoint::Unix(path) => {
            let addr = unix_sockaddr(path)?;
            remove_stale_socket(path);
            let s = socket2::Socket::new(Domain::UNIX, Type::STREAM.nonblocking().cloexec(), None)?;
            s.bind(&addr)?;
            s.listen(opts.backlog)?;
            Ok(Socket::UnixListener(UnixListener::from(OwnedFd::from(s))))
        }
    }
}

/// The address a listener actually bound (port 0 resolved).
pub(crate) fn local_endpoint(s: &Socket) -> Option<Endpoint> {
    match s {
        Socket::TcpListener(l) => l.local_addr().ok().map(Endpoint::Tcp),
        Socket::UnixListener(l) => {
            let a = l.local_addr().ok()?;
            if let Some(p) = a.as_pathname() {
                return Some(Endpoint::Unix(p.to_path_buf()));
            }
            abstract_name(&a).map(|n| Endpoint::Unix(PathBuf::from(format!("@{n}"))))
        }
        _ => None,
    }
}

#[cfg(target_os = "linux")]
fn abstract_name(a: &std::os::unix::net::SocketAddr) -> Option<String> {
    use std::os::linux::net::SocketAddrExt;
    a.as_abstract_name()
        .map(|n| String::from_utf8_lossy(n).into_owned())
}

#[cfg(not(target_os = "linux"))]
fn abstract_name(_: &std::os::unix::net::SocketAddr) -> Option<String> {
    None
}

/// A path starting with `@` names a Linux abstract socket.
fn unix_sockaddr(path: &std::path::Path) -> io::Result<SockAddr> {
    #[cfg(target_os = "linux")]
    if let Some(name) = path.to_str().and_then(|p| p.strip_prefix('@')) {
        // socket2 treats a leading NUL as the abstract namespace.
        let mut raw = vec![0u8];
        raw.extend_from_slice(name.as_bytes());
        use std::os::unix::ffi::OsStrExt;
        return SockAddr::unix(std::ffi::OsStr::from_bytes(&raw));
    }
    SockAddr::unix(path)
}

/// A previous run may have left its socket file behind; remove it only if
/// it is a socket, never a regular file someone pointed us at by mistake.
fn remove_stale_socket(path: &std::path::Path) {
    use std::os::unix::fs::FileTypeExt;
    if let Ok(meta) = std::fs::symlink_metadata(path)
        && meta.file_type().is_socket()
    {
        let _ = std::fs::remove_file(path);
    }
}

/// Remove the socket file of a path-bound Unix listener being closed, so
/// the path does not linger after the vhost is gone.
pub(crate) fn unlink_listener_path(l: &UnixListener) {
    if let Some(path) = l.local_addr().ok().as_ref().and_then(|a| a.as_pathname()) {
        remove_stale_socket(path);
    }
}

/// Start a non-blocking connect. The outer error means no socket could be
/// made; the inner result is the connect itself (`Ok(true)`: connected
/// already, `Ok(false)`: in progress, `Err`: failed at once).
pub(crate) fn start_connect(ep: &Endpoint) -> io::Result<(Socket, io::Result<bool>)> {
    let (s, addr) = match ep {
        Endpoint::Tcp(a) => {
            let s = socket2::Socket::new(
                Domain::for_address(*a),
                Type::STREAM.nonblocking().cloexec(),
                None,
            )?;
            let _ = s.set_tcp_nodelay(true);
            (s, SockAddr::from(*a))
        }
        Endpoint::Unix(p) => {
            let s = socket2::Socket::new(Domain::UNIX, Type::STREAM.nonblocking().cloexec(), None)?;
            (s, unix_sockaddr(p)?)
        }
    };
    let result = match s.connect(&addr) {
        Ok(()) => Ok(true),
        Err(e) if e.raw_os_error() == Some(rustix::io::Errno::INPROGRESS.raw_os_error()) => {
            Ok(false)
        }
        Err(e) => Err(e),
    };
    let sock = match ep {
        Endpoint::Tcp(_) => Socket::Tcp(TcpStream::from(OwnedFd::from(s))),
        Endpoint::Unix(_) => Socket::Unix(UnixStream::from(OwnedFd::from(s))),
    };
    Ok((sock, result))
}

/// A descriptor handed to the context by the application, with the vhost
/// and protocol that should own it.
///
/// ```no_run
/// # use lws_core::Adopt;
/// let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
/// let (stream, _) = listener.accept().unwrap();
/// let adopt = Adopt::tcp(stream).protocol("echo").read_buffer(b"already read".to_vec());
/// ```
#[derive(Debug)]
pub struct Adopt {
    pub(crate) socket: Socket,
    pub(crate) vhost: Option<String>,
    pub(crate) protocol: Option<String>,
    pub(crate) preload: Vec<u8>,
}

impl Adopt {
    fn new(socket: Socket) -> Self {
        Adopt {
            socket,
            vhost: None,
            protocol: None,
            preload: Vec::new(),
        }
    }

    /// Adopt a connected TCP stream.
    pub fn tcp(s: TcpStream) -> Self {
        Self::new(Socket::Tcp(s))
    }

    /// Adopt a connected Unix-domain stream.
    pub fn unix(s: UnixStream) -> Self {
        Self::new(Socket::Unix(s))
    }

    /// Adopt a UDP socket; each received datagram is delivered separately.
    pub fn udp(s: UdpSocket) -> Self {
        Self::new(Socket::Udp(s))
    }

    /// Adopt any readable descriptor: a pipe, a tty, a character device.
    /// Regular files cannot be watched by readiness loops and are refused
    /// when the loop tries to watch them.
    pub fn file(fd: impl Into<OwnedFd>) -> Self {
        Self::new(Socket::File(File::from(fd.into())))
    }

    /// The vhost to bind to (default: the first vhost).
    pub fn vhost(mut self, name: impl Into<String>) -> Self {
        self.vhost = Some(name.into());
        self
    }

    /// The protocol to bind to (default: the vhost's default protocol).
    pub fn protocol(mut self, name: impl Into<String>) -> Self {
        self.protocol = Some(name.into());
        self
    }

    /// Bytes already read from the descriptor; delivered first, as if just
    /// received, before anything read from the descriptor itself.
    pub fn read_buffer(mut self, bytes: Vec<u8>) -> Self {
        self.preload = bytes;
        self
    }

    /// Make the descriptor non-blocking, as the core requires.
    pub(crate) fn prepare(&self) -> io::Result<()> {
        match &self.socket {
            Socket::Tcp(s) => s.set_nonblocking(true),
            Socket::Unix(s) => s.set_nonblocking(true),
            Socket::Udp(s) => s.set_nonblocking(true),
            Socket::File(f) => Ok(rustix::io::ioctl_fionbio(f, true)?),
            _ => Err(not_a_stream()),
        }
    }
}

/// Where a client connection goes: an endpoint, or a host name and port
/// for the context's resolver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Dest {
    Endpoint(Endpoint),
    Host(String, u16),
}

/// A client connection for the context to open.
pub struct Connect {
    pub(crate) dest: Dest,
    pub(crate) vhost: Option<String>,
    pub(crate) protocol: Option<String>,
    pub(crate) timeout: Duration,
    pub(crate) attempt_delay: Option<Duration>,
    pub(crate) tls: Option<String>,
    pub(crate) payload: Option<Box<dyn std::any::Any>>,
}

impl std::fmt::Debug for Connect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connect")
            .field("dest", &self.dest)
            .field("vhost", &self.vhost)
            .field("protocol", &self.protocol)
            .field("timeout", &self.timeout)
            .field("attempt_delay", &self.attempt_delay)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

impl Connect {
    /// Connect to `endpoint` with a 10 s connect timeout.
    pub fn new(endpoint: impl Into<Endpoint>) -> Self {
        Self::to(Dest::Endpoint(endpoint.into()))
    }

    /// Connect to `host` (a name, or an IPv4 / IPv6 literal, brackets
    /// allowed) on TCP `port`, with a 10 s connect timeout. Literals and
    /// `/etc/hosts` names connect at once; other names are resolved by the
    /// context's asynchronous resolver first (the connection exists, in a
    /// resolving state, from the moment its token is returned). A DNS
    /// failure is delivered as the role's connect error, whose
    /// [`dns_error`](crate::dns_error) says which.
    ///
    /// A name with several addresses is connected with Happy Eyeballs (RFC
    /// 8305): the preferred family first (see [`DnsConfig`](crate::DnsConfig)),
    /// then the families alternate; the next attempt starts after the
    /// Connection Attempt Delay ([`attempt_delay`](Self::attempt_delay))
    /// while none has connected, or at once when one fails; the first to
    /// connect wins and the others are closed, unseen by the role. The
    /// token stays the same throughout.
    pub fn host(host: impl Into<String>, port: u16) -> Self {
        let host: String = host.into();
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        match bare.parse::<std::net::IpAddr>() {
            Ok(ip) => Self::to(Dest::Endpoint(Endpoint::Tcp(SocketAddr::new(ip, port)))),
            Err(_) => Self::to(Dest::Host(bare.to_owned(), port)),
        }
    }

    fn to(dest: Dest) -> Self {
        Connect {
            dest,
            vhost: None,
            protocol: None,
            timeout: Duration::from_secs(10),
            attempt_delay: None,
            tls: None,
            payload: None,
        }
    }

    pub fn vhost(mut self, name: impl Into<String>) -> Self {
        self.vhost = Some(name.into());
        self
    }

    pub fn protocol(mut self, name: impl Into<String>) -> Self {
        self.protocol = Some(name.into());
        self
    }

    /// Give up (with a connect error of kind `TimedOut`) after `t`. For a
    /// host name this bounds each address's attempt; the lookup before it
    /// is bounded by the resolver's own `timeout` and `attempts`.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    /// The Happy Eyeballs Connection Attempt Delay for this connection
    /// (default: [`DnsConfig::attempt_delay`](crate::DnsConfig::attempt_delay),
    /// 250 ms; at least 10 ms).
    pub fn attempt_delay(mut self, delay: Duration) -> Self {
        self.attempt_delay = Some(delay);
        self
    }

    /// Use TLS, verifying the server as `server_name` (also sent as SNI).
    pub fn tls(mut self, server_name: impl Into<String>) -> Self {
        self.tls = Some(server_name.into());
        self
    }

    /// Something for the role of the new connection (it receives it as
    /// `Origin::Client(Some(payload))`), e.g. the request an HTTP client
    /// connection should send.
    pub fn payload(mut self, payload: Box<dyn std::any::Any>) -> Self {
        self.payload = Some(payload);
        self
    }

    /// The endpoint, unless the connection goes to a host name that needs
    /// resolving.
    pub fn endpoint(&self) -> Option<&Endpoint> {
        match &self.dest {
            Dest::Endpoint(e) => Some(e),
            Dest::Host(..) => None,
        }
    }

    /// The host name to resolve, if any.
    pub fn host_name(&self) -> Option<&str> {
        match &self.dest {
            Dest::Host(h, _) => Some(h),
            Dest::Endpoint(_) => None,
        }
    }
}
