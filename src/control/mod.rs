//! The control API every engine serves (daemon and dashboard alike): its snapshots, tasks,
//! rejected events and explanations to read, and every `Command` to send, answered accepted or
//! refused. JSON over HTTP on a Unix socket in the data directory, and optionally on TCP with a
//! bearer token. `dim ctl` is its command-line client.

pub mod client;
mod server;
mod token;

pub use server::{Claim, ControlServer, claim, socket_path, start};
