//! The packets a client sends and receives (MQTT 3.1.1 section 3).

/// Quality of service of a PUBLISH or a subscription (4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum QoS {
    AtMostOnce = 0,
    AtLeastOnce = 1,
    ExactlyOnce = 2,
}

impl QoS {
    pub fn from_bits(b: u8) -> Option<QoS> {
        match b {
            0 => Some(QoS::AtMostOnce),
            1 => Some(QoS::AtLeastOnce),
            2 => Some(QoS::ExactlyOnce),
            _ => None,
        }
    }
}

/// CONNACK return codes (3.2.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectReturn {
    Accepted,
    UnacceptableProtocolVersion,
    IdentifierRejected,
    ServerUnavailable,
    BadUserNameOrPassword,
    NotAuthorized,
}

impl ConnectReturn {
    pub fn from_code(c: u8) -> Option<ConnectReturn> {
        Some(match c {
            0 => ConnectReturn::Accepted,
            1 => ConnectReturn::UnacceptableProtocolVersion,
            2 => ConnectReturn::IdentifierRejected,
            3 => ConnectReturn::ServerUnavailable,
            4 => ConnectReturn::BadUserNameOrPassword,
            5 => ConnectReturn::NotAuthorized,
            _ => return None,
        })
    }

    pub fn code(self) -> u8 {
        self as u8
    }
}

impl std::fmt::Display for ConnectReturn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ConnectReturn::Accepted => "accepted",
            ConnectReturn::UnacceptableProtocolVersion => "unacceptable protocol version",
            ConnectReturn::IdentifierRejected => "client identifier rejected",
            ConnectReturn::ServerUnavailable => "server unavailable",
            ConnectReturn::BadUserNameOrPassword => "bad user name or password",
            ConnectReturn::NotAuthorized => "not authorized",
        })
    }
}

/// One SUBACK return code (3.9.3): the granted QoS or failure (0x80).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubackCode {
    Granted(QoS),
    Failure,
}

/// The will message of a CONNECT (3.1.2.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Will {
    pub topic: String,
    pub payload: Vec<u8>,
    pub qos: QoS,
    pub retain: bool,
}

/// CONNECT (3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connect {
    pub client_id: String,
    pub keep_alive: u16,
    pub clean_session: bool,
    pub will: Option<Will>,
    pub username: Option<String>,
    pub password: Option<Vec<u8>>,
}

/// PUBLISH (3.3). `packet_id` is present exactly when `qos` is not 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish {
    pub dup: bool,
    pub qos: QoS,
    pub retain: bool,
    pub topic: String,
    pub packet_id: Option<u16>,
    pub payload: Vec<u8>,
}

/// Every MQTT 3.1.1 control packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    Connect(Connect),
    Connack {
        session_present: bool,
        code: ConnectReturn,
    },
    Publish(Publish),
    Puback(u16),
    Pubrec(u16),
    Pubrel(u16),
    Pubcomp(u16),
    Subscribe {
        packet_id: u16,
        filters: Vec<(String, QoS)>,
    },
    Suback {
        packet_id: u16,
        codes: Vec<SubackCode>,
    },
    Unsubscribe {
        packet_id: u16,
        filters: Vec<String>,
    },
    Unsuback(u16),
    Pingreq,
    Pingresp,
    Disconnect,
}
