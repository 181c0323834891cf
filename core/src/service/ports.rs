//! A Service's ports as FerroLB needs them: protocol and number, for the sharing rule.

use std::fmt;

/// A transport protocol of a Service port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
}

impl Protocol {
    /// The protocol `spec.ports[].protocol` names; TCP when unset, as the apiserver defaults it.
    pub fn from_spec(protocol: Option<&str>) -> Self {
        match protocol {
            Some("UDP") => Protocol::Udp,
            Some("SCTP") => Protocol::Sctp,
            _ => Protocol::Tcp,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        })
    }
}

/// One port a Service exposes on its address: two Services sharing an address may not both use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Port {
    /// Its protocol.
    pub protocol: Protocol,
    /// Its number.
    pub port: u16,
}

impl Port {
    /// TCP port `port`.
    pub fn tcp(port: u16) -> Self {
        Port { protocol: Protocol::Tcp, port }
    }

    /// UDP port `port`.
    pub fn udp(port: u16) -> Self {
        Port { protocol: Protocol::Udp, port }
    }

    /// SCTP port `port`.
    pub fn sctp(port: u16) -> Self {
        Port { protocol: Protocol::Sctp, port }
    }
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.protocol, self.port)
    }
}
