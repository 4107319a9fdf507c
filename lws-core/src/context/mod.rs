//! The context: one service thread's vhosts, connections and timers.
//!
//! This file holds the struct, its builder and the public entry points. The
//! work is split by job: `dispatch` (lending a connection to its role and
//! applying what came back), `service` (readiness and timers), `open`
//! (accept, adopt, connect) and `close` (the close path and shutdown).
//!
//! A `Context` is `!Send`: it lives on its service thread. Other threads
//! reach it only through its [`Remote`].

mod close;
mod dispatch;
mod dns;
mod listen;
mod open;
mod race;
mod service;
mod tls;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use slotmap::SlotMap;

use crate::conn::{Conn, ConnIo, ConnState};
use crate::cx::{Cx, Op, TimerEntry};
use crate::error::{Error, Result};
use crate::io_cmd::IoCmd;
use crate::protocol::{Protocol, downcast_protocol};
use crate::remote::Remote;
use crate::role::{Disposition, Role};
use crate::scheduler::Scheduler;
use crate::socket::{Endpoint, Socket};
use crate::tls::{SharedTlsBackend, TlsClientSpec, TlsConnector};
use crate::token::{ConnKey, Token};
use crate::vhost::{Vhost, VhostBuilder};

/// Whether the context is serving, shutting down or done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RunState {
    Running,
    Stopping,
    Stopped,
}

/// Counters for monitoring and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Connections currently open (excluding listeners and the waker).
    pub connections: usize,
    /// Connections opened since the context started.
    pub opened: u64,
    /// Connections closed since the context started.
    pub closed: u64,
    /// Pending scheduler entries.
    pub timers: usize,
}

/// One service thread's lws context.
pub struct Context {
    conns: SlotMap<ConnKey, Conn>,
    vhosts: Vec<Vhost>,
    sched: Scheduler<TimerEntry>,
    ops: Vec<Op>,
    io_cmds: VecDeque<IoCmd>,
    rx_buf: Vec<u8>,
    remote: Remote,
    waker: Option<ConnKey>,
    run: RunState,
    /// The deadline last reported with `IoCmd::Timer` (outer `None`: never).
    announced: Option<Option<Instant>>,
    edge_triggered: bool,
    /// Connections with input no descriptor event will announce.
    forced: Vec<ConnKey>,
    /// Connections whose requested writable is delivered without a loop
    /// round trip (their socket took all output last time).
    writable_now: Vec<ConnKey>,
    stats: Stats,
    stop_grace: Duration,
    now: Instant,
    listeners: Vec<listen::Listener>,
    /// Host names of the vhosts sharing each listener.
    hosts: crate::vhost::HostTable,
    tls_backend: Option<SharedTlsBackend>,
    tls_client: TlsClientSpec,
    /// Built on first use from `tls_backend` and `tls_client`.
    connector: Option<Box<dyn TlsConnector>>,
    /// The asynchronous resolver; `None` once the context is stopping.
    dns: Option<Box<dns::DnsDriver>>,
    /// A test's clock, instead of the system's.
    clock: Option<crate::ManualClock>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("run", &self.run)
            .field("stats", &self.stats())
            .field(
                "vhosts",
                &self.vhosts.iter().map(|v| &v.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Builder for a [`Context`].
pub struct ContextBuilder {
    vhosts: Vec<VhostBuilder>,
    tls_backend: Option<SharedTlsBackend>,
    tls_client: TlsClientSpec,
    rx_buffer: usize,
    stop_grace: Duration,
    dns: crate::dns::DnsConfig,
    clock: Option<crate::ManualClock>,
}

impl std::fmt::Debug for ContextBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContextBuilder")
            .field("vhosts", &self.vhosts)
            .field("tls_backend", &self.tls_backend.as_ref().map(|b| b.name()))
            .field("rx_buffer", &self.rx_buffer)
            .finish_non_exhaustive()
    }
}

impl Default for ContextBuilder {
    fn default() -> Self {
        ContextBuilder {
            vhosts: Vec::new(),
            tls_backend: None,
            tls_client: TlsClientSpec::default(),
            rx_buffer: 64 * 1024,
            stop_grace: Duration::from_secs(3),
            dns: crate::dns::DnsConfig::default(),
            clock: None,
        }
    }
}

impl ContextBuilder {
    /// Add a vhost. The first vhost is the default for adoption and connects.
    pub fn vhost(mut self, v: VhostBuilder) -> Self {
        self.vhosts.push(v);
        self
    }

    /// Size of the per-thread receive buffer (default 64 KiB): the most a
    /// single read delivers. It is shared by all connections of the thread.
    pub fn rx_buffer_size(mut self, bytes: usize) -> Self {
        self.rx_buffer = bytes.max(512);
        self
    }

    /// The TLS library serving `tls` vhosts and TLS client connections.
    pub fn tls_backend(mut self, backend: SharedTlsBackend) -> Self {
        self.tls_backend = Some(backend);
        self
    }

    /// CA roots, client certificate and ALPN for TLS client connections
    /// (default: the backend's system roots, no client certificate).
    pub fn tls_client(mut self, spec: TlsClientSpec) -> Self {
        self.tls_client = spec;
        self
    }

    /// How long a graceful [`Context::stop`] waits for connections to close
    /// before closing them hard (default 3 s).
    pub fn stop_grace(mut self, t: Duration) -> Self {
        self.stop_grace = t;
        self
    }

    /// Where the resolver reads `resolv.conf` and `hosts` (read once, by
    /// [`build`](Self::build)), and which address families it asks for.
    pub fn dns(mut self, config: crate::dns::DnsConfig) -> Self {
        self.dns = config;
        self
    }

    /// Read the time from `clock` instead of the system (tests): timers
    /// then fire only when the clock is advanced and
    /// [`Context::service_timers`] is called, whatever the loop does.
    pub fn clock(mut self, clock: crate::ManualClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Open the listeners and the waker. Nothing runs until a loop drives
    /// the context.
    pub fn build(self) -> Result<Context> {
        if self.vhosts.is_empty() {
            return Err(Error::NoVhosts);
        }
        let (remote, waker_rx) = Remote::new()?;
        let mut ctx = Context {
            conns: SlotMap::with_key(),
            vhosts: Vec::with_capacity(self.vhosts.len()),
            sched: Scheduler::new(),
            ops: Vec::new(),
            io_cmds: VecDeque::new(),
            rx_buf: vec![0; self.rx_buffer],
            remote,
            waker: None,
            run: RunState::Running,
            announced: None,
            edge_triggered: false,
            forced: Vec::new(),
            writable_now: Vec::new(),
            stats: Stats::default(),
            stop_grace: self.stop_grace,
            now: self.clock.as_ref().map_or_else(Instant::now, |c| c.now()),
            listeners: Vec::new(),
            hosts: crate::vhost::HostTable::default(),
            tls_backend: self.tls_backend,
            tls_client: self.tls_client,
            connector: None,
            dns: Some(Box::new(dns::DnsDriver::new(&self.dns))),
            clock: self.clock,
        };
        for vb in self.vhosts {
            ctx.add_vhost(vb)?;
        }
        ctx.bind_listeners()?;
        let io = ConnIo::new(Socket::Waker(waker_rx), 0, 0, ConnState::Waker, ctx.now);
        let key = ctx.conns.insert(Conn {
            role: Box::new(Inert),
            io,
        });
        ctx.waker = Some(key);
        ctx.reconcile(key);
        Ok(ctx)
    }
}

impl Context {
    pub fn builder() -> ContextBuilder {
        ContextBuilder::default()
    }

    /// Tell the context its loop reports readiness edge-triggered (mio):
    /// it will then read until a descriptor would block.
    pub fn set_edge_triggered(&mut self, on: bool) {
        self.edge_triggered = on;
    }

    /// The next queued command for the loop adapter, `None` when drained.
    pub fn poll_io(&mut self) -> Option<IoCmd> {
        if let Some(cmd) = self.io_cmds.pop_front() {
            return Some(cmd);
        }
        let deadline = self.next_deadline();
        if self.announced != Some(deadline) {
            self.announced = Some(deadline);
            return Some(IoCmd::Timer(deadline));
        }
        None
    }

    /// The earliest timer deadline (the scheduler's or the resolver's), if
    /// any.
    pub fn next_deadline(&self) -> Option<Instant> {
        let dns = self.dns.as_ref().and_then(|d| d.poll_timeout());
        match (self.sched.next_deadline(), dns) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether [`Context::service_forced`] has work that no descriptor event
    /// will announce; the loop should then not block.
    pub fn wants_forced_service(&self) -> bool {
        !self.forced.is_empty() || !self.writable_now.is_empty()
    }

    /// A handle that wakes or stops this context from any thread.
    pub fn remote(&self) -> Remote {
        self.remote.clone()
    }

    /// Whether a stop has completed: no connection, listener or timer is
    /// left and the loop may return.
    pub fn is_stopped(&self) -> bool {
        self.run == RunState::Stopped
    }

    pub fn is_stopping(&self) -> bool {
        self.run == RunState::Stopping
    }

    pub fn stats(&self) -> Stats {
        Stats {
            timers: self.sched.len(),
            ..self.stats
        }
    }

    /// The endpoints `vhost`'s listeners actually bound (port 0 resolved).
    pub fn bound_endpoints(&self, vhost: &str) -> Result<&[Endpoint]> {
        let v = self.vhost_index(Some(vhost))?;
        Ok(&self.vhosts[v as usize].bound)
    }

    /// Reach a protocol object from outside any callback (for the host to
    /// read or change its state).
    pub fn protocol_mut<P: Protocol>(&mut self, vhost: &str, protocol: &str) -> Option<&mut P> {
        let v = self.vhosts.iter_mut().find(|v| v.name == vhost)?;
        let slot = v.protocols.iter_mut().find(|p| p.name == protocol)?;
        downcast_protocol::<P>(&mut *slot.handler)
    }

    /// Run `f` with a [`Cx`] from outside any callback (e.g. from the host
    /// application between loop turns); what it queues is applied at once.
    pub fn with_cx<R>(&mut self, f: impl FnOnce(&mut Cx<'_>) -> R) -> R {
        self.now = self.clock_now();
        let mut cx = Cx {
            ops: &mut self.ops,
            sched: &mut self.sched,
            now: self.now,
            origin: None,
        };
        let r = f(&mut cx);
        self.process_ops();
        r
    }

    fn vhost_index(&self, name: Option<&str>) -> Result<u16> {
        match name {
            None => Ok(0),
            Some(n) => self
                .vhosts
                .iter()
                .position(|v| v.name == n)
                .map(|i| i as u16)
                .ok_or_else(|| Error::NoSuchVhost(n.to_owned())),
        }
    }

    fn protocol_index(&self, vhost: u16, name: Option<&str>) -> Result<u16> {
        match name {
            None => Ok(0),
            Some(n) => self.vhosts[vhost as usize].protocol_index(n),
        }
    }

    /// The time: the system's, or the test's [`ManualClock`](crate::ManualClock).
    fn clock_now(&self) -> Instant {
        self.clock.as_ref().map_or_else(Instant::now, |c| c.now())
    }

    fn token_of(key: ConnKey) -> Token {
        Token::from(key)
    }
}

/// The role of listeners and the waker: they never dispatch to user code.
struct Inert;

impl Role for Inert {
    fn name(&self) -> &'static str {
        "inert"
    }

    fn on_rx(
        &mut self,
        _: &mut crate::cx::ConnCx<'_>,
        _: &mut dyn Protocol,
        _: &[u8],
    ) -> Disposition {
        Disposition::Continue
    }
}
