//! The simulated network's ends: the relay's listener and the phones' [`Net`].

use std::net::SocketAddr;

use nabo_bindings::http::{Connecting, Io, Net};

/// The port the relay listens on in the simulation.
pub const RELAY_PORT: u16 = 80;
/// The relay's host name in the simulation (its first node).
pub const RELAY_HOST: &str = "relay";
/// The relay nodes' host names: a run has one or two nodes on one database.
pub const RELAY_HOSTS: [&str; 2] = [RELAY_HOST, "relay1"];

/// The relay's listener on the simulated network.
pub struct SimListener(pub turmoil::net::TcpListener);

impl std::fmt::Debug for SimListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SimListener")
            .field(&self.0.local_addr())
            .finish()
    }
}

impl nabo_server::Listener for SimListener {
    type Io = turmoil::net::TcpStream;

    fn accept(
        &self,
    ) -> impl std::future::Future<Output = std::io::Result<(Self::Io, SocketAddr)>> + Send {
        self.0.accept()
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

/// A phone's way out: TCP on the simulated network.
#[derive(Debug)]
pub struct SimNet;

impl Net for SimNet {
    fn connect<'a>(&'a self, host: &'a str, port: u16) -> Connecting<'a> {
        Box::pin(async move {
            let s = turmoil::net::TcpStream::connect((host, port)).await?;
            Ok(Box::new(s) as Box<dyn Io>)
        })
    }
}
