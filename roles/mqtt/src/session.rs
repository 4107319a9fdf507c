//! The per-connection session state: packet identifiers in use, QoS 1/2
//! exchanges in progress, and the part a persistent session keeps between
//! connections. Pure bookkeeping: no I/O, no events (the state machine in
//! `machine` drives it, `api` lets the user start exchanges through it).

use std::collections::{HashMap, HashSet};

use crate::client::MqttOptions;
use crate::event::MqttError;
use crate::proto::{Decoder, Publish};

/// The part of a connection's state a persistent session keeps between
/// connections.
#[derive(Debug, Default)]
pub(crate) struct Stored {
    pub next_id: u16,
    /// Send order of the next publish, for resending in order.
    pub next_seq: u64,
    pub outgoing: HashMap<u16, Pending>,
    /// QoS 2 messages received and delivered, awaiting PUBREL (4.3.3).
    pub incoming: HashSet<u16>,
}

/// An outgoing QoS 1/2 publish waiting for its acknowledgement, named
/// after the acknowledgement awaited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outgoing {
    Puback,
    Pubrec,
    Pubcomp,
}

/// A QoS 1/2 publish sent and not yet completed.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub awaiting: Outgoing,
    /// Send order, for resending in the original order.
    pub seq: u64,
    pub publish: Publish,
}

/// Session state of one connection.
#[derive(Debug)]
pub(crate) struct State {
    pub opts: Option<MqttOptions>,
    pub dec: Decoder,
    pub connected: bool,
    pub kept: Stored,
    /// SUBSCRIBEs awaiting their SUBACK.
    pub subs: HashSet<u16>,
    /// UNSUBSCRIBEs awaiting their UNSUBACK.
    pub unsubs: HashSet<u16>,
    pub ping_outstanding: bool,
    pub disconnecting: bool,
    /// The handler asked for no reconnect after this connection.
    pub no_reconnect: bool,
}

impl State {
    pub fn new(opts: Option<MqttOptions>) -> Self {
        let max = opts.as_ref().map_or(1 << 20, |o| o.max_packet);
        State {
            opts,
            dec: Decoder::new(max),
            connected: false,
            kept: Stored::default(),
            subs: HashSet::new(),
            unsubs: HashSet::new(),
            ping_outstanding: false,
            disconnecting: false,
            no_reconnect: false,
        }
    }

    fn in_use(&self, id: u16) -> bool {
        self.kept.outgoing.contains_key(&id) || self.subs.contains(&id) || self.unsubs.contains(&id)
    }

    /// A packet identifier not in use by any exchange (2.3.1). Tries each
    /// of the 65,535 identifiers at most once: when every one is held (a
    /// broker that never acknowledges), the caller gets an error.
    pub fn alloc_id(&mut self) -> Result<u16, MqttError> {
        for _ in 0..u16::MAX {
            self.kept.next_id = self.kept.next_id.wrapping_add(1).max(1);
            let id = self.kept.next_id;
            if !self.in_use(id) {
                return Ok(id);
            }
        }
        Err(MqttError::NoPacketId)
    }

    /// Room for one more SUBSCRIBE or UNSUBSCRIBE awaiting its answer.
    pub fn check_pending_subscriptions(&self) -> Result<(), MqttError> {
        let limit = self
            .opts
            .as_ref()
            .map_or(usize::MAX, |o| o.max_pending_subscriptions);
        match self.subs.len() + self.unsubs.len() >= limit {
            true => Err(MqttError::TooManySubscriptionsPending(limit)),
            false => Ok(()),
        }
    }

    /// Room for one more QoS 1/2 publish awaiting its acknowledgement.
    pub fn check_in_flight(&self) -> Result<(), MqttError> {
        let limit = self.opts.as_ref().map_or(usize::MAX, |o| o.max_in_flight);
        match self.kept.outgoing.len() >= limit {
            true => Err(MqttError::TooManyInFlight(limit)),
            false => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::QoS;

    fn pending(id: u16) -> Pending {
        Pending {
            awaiting: Outgoing::Puback,
            seq: u64::from(id),
            publish: Publish {
                dup: false,
                qos: QoS::AtLeastOnce,
                retain: false,
                topic: "t".into(),
                packet_id: Some(id),
                payload: Vec::new(),
            },
        }
    }

    #[test]
    fn mqtt_2_3_1_ids_skip_zero_and_those_in_use() {
        let mut st = State::new(None);
        st.kept.next_id = u16::MAX - 1;
        st.kept.outgoing.insert(u16::MAX, pending(u16::MAX));
        st.subs.insert(1);
        st.unsubs.insert(2);
        assert_eq!(st.alloc_id().ok(), Some(3));
    }

    #[test]
    fn every_id_held_is_an_error_not_a_spin() {
        let mut st = State::new(None);
        for id in 1..=u16::MAX {
            match id % 3 {
                0 => {
                    st.kept.outgoing.insert(id, pending(id));
                }
                1 => {
                    st.subs.insert(id);
                }
                _ => {
                    st.unsubs.insert(id);
                }
            }
        }
        assert!(matches!(st.alloc_id(), Err(MqttError::NoPacketId)));
        st.subs.remove(&40_000);
        assert_eq!(st.alloc_id().ok(), Some(40_000));
    }

    #[test]
    fn pending_subscriptions_are_capped() {
        let opts = MqttOptions {
            max_pending_subscriptions: 2,
            ..MqttOptions::default()
        };
        let mut st = State::new(Some(opts));
        assert!(st.check_pending_subscriptions().is_ok());
        st.subs.insert(1);
        st.unsubs.insert(2);
        assert!(matches!(
            st.check_pending_subscriptions(),
            Err(MqttError::TooManySubscriptionsPending(2))
        ));
    }
}
