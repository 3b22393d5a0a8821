//! Host-name lookups off the network thread, bounded: one lookup thread for
//! the whole engine takes requests in order, and skips any whose send has
//! been superseded before it began. A lookup already under way cannot be
//! stopped (the system call blocks), but its answer is then ignored.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use crossbeam_channel::Sender;
use mio::Waker;

use crate::packet::EndpointId;

use super::command::SendJob;
use super::error::NetError;
use super::worker::Resolver;

/// A lookup asked for a client's send job.
pub struct Lookup {
    pub(super) id: EndpointId,
    pub(super) job: SendJob,
    pub(super) generation: u64,
    pub(super) host: String,
    pub(super) port: u16,
}

/// A finished name lookup for a client's send job.
pub struct Resolved {
    pub(super) id: EndpointId,
    pub(super) job: SendJob,
    pub(super) generation: u64,
    pub(super) result: Result<Vec<SocketAddr>, NetError>,
}

/// The lookup each client wants now, by generation; older ones are skipped.
pub type Wanted = Arc<Mutex<HashMap<EndpointId, u64>>>;

/// Starts the lookup thread; `None` if the system would not start a thread.
pub fn spawn(
    resolver: Resolver,
    done: Sender<Resolved>,
    waker: Arc<Waker>,
    wanted: Wanted,
) -> Option<Sender<Lookup>> {
    let (tx, rx) = crossbeam_channel::unbounded::<Lookup>();
    std::thread::Builder::new()
        .name("udpdesk-resolve".to_owned())
        .spawn(move || {
            for ask in rx {
                let current = wanted
                    .lock()
                    .map(|w| w.get(&ask.id) == Some(&ask.generation))
                    .unwrap_or(true);
                if !current {
                    continue;
                }
                let result = resolver(&ask.host, ask.port);
                let answer = Resolved {
                    id: ask.id,
                    job: ask.job,
                    generation: ask.generation,
                    result,
                };
                if done.send(answer).is_err() {
                    break;
                }
                let _woken = waker.wake();
            }
        })
        .ok()
        .map(|_| tx)
}
