//! The client side of the network thread: opening clients, send jobs,
//! name lookups off the thread, and sending on schedule. Every `Send` ends in
//! exactly one `SendDone`, whether it finished, failed or was replaced.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::time::{Instant, SystemTime};

use crate::codec::{Context, Template};

use mio::unix::SourceFd;

use crate::packet::EndpointId;

use super::command::{ClientConfig, Event, SendJob, StopReason};
use super::endpoint::{Client, Endpoint, Job, Role};
use super::error::NetError;
use super::outbox;
use super::resolve::{self, Target};
use super::socket;
use super::worker::{BURST, Lookup, Worker, unknown};

impl Worker {
    pub(super) fn open_client(&mut self, id: EndpointId, config: ClientConfig) {
        if self.endpoints.contains_key(&id) {
            self.out
                .fail(Some(id), NetError::DuplicateId { id: id.to_string() });
            return;
        }
        let mut ep = Endpoint {
            id,
            socket: None,
            local: None,
            encoding: config.encoding,
            options: config.options,
            role: Role::Client(Client {
                fixed_bind: config.bind,
                job: None,
                sequence: None,
            }),
        };
        if let Some(bind) = config.bind
            && let Err(e) = self.bind_client(&mut ep, bind)
        {
            // The client never existed: say why, then that it is gone.
            self.out.fail(Some(id), e.clone());
            self.out.push(Event::Stopped {
                id,
                reason: StopReason::Error(e),
            });
            return;
        }
        self.endpoints.insert(id, ep);
    }

    /// Binds (or rebinds) a client's socket and tells the owner where.
    pub(super) fn bind_client(
        &mut self,
        ep: &mut Endpoint,
        addr: SocketAddr,
    ) -> Result<(), NetError> {
        let sock = socket::bind(addr, &ep.options)?;
        let local = socket::local_addr(&sock)?;
        self.register(ep.id, &sock)?;
        if let Some(old) = ep.socket.take() {
            self.recv.forget_socket();
            let _gone = self
                .poll
                .registry()
                .deregister(&mut SourceFd(&old.as_raw_fd()));
        }
        let buffers = socket::buffers(&sock);
        ep.socket = Some(sock);
        ep.local = Some(local);
        self.out.name_endpoint(ep.id, format!("client {local}"));
        self.out.push(Event::Started {
            id: ep.id,
            local,
            buffers,
        });
        Ok(())
    }

    /// Ends whatever sending the client had under way (a job or a lookup),
    /// with the one `SendDone` each `Send` is owed.
    pub(super) fn supersede(&mut self, id: EndpointId) {
        self.lookup_wanted(id, None);
        if self.lookups.remove(&id).is_some() {
            self.out.push(Event::SendDone { id, sent: 0 });
        }
        if let Some(Endpoint {
            role: Role::Client(client),
            ..
        }) = self.endpoints.get_mut(&id)
            && let Some(old) = client.job.take()
        {
            self.out.push(Event::SendDone { id, sent: old.sent });
        }
        self.end_sequence(id, super::sequence::SequenceEnd::Stopped);
    }

    /// A send that failed before its first datagram: the error, then its `SendDone`.
    fn job_failed(&mut self, id: EndpointId, error: NetError) {
        self.out.fail(Some(id), error);
        self.out.push(Event::SendDone { id, sent: 0 });
    }

    pub(super) fn start_job(&mut self, id: EndpointId, job: SendJob) {
        self.supersede(id);
        if !matches!(
            self.endpoints.get(&id),
            Some(Endpoint {
                role: Role::Client(_),
                ..
            })
        ) {
            self.job_failed(id, unknown("client", id));
            return;
        }
        if job.payloads.is_empty() {
            self.job_failed(
                id,
                NetError::Io {
                    context: rust_i18n::t!("error.nothing_to_send").into_owned(),
                    message: rust_i18n::t!("error.type_a_message").into_owned(),
                },
            );
            return;
        }
        match resolve::parse_target(&job.target) {
            Ok(Target::Ready(addrs)) => self.begin_job(id, job, &addrs),
            Ok(Target::Lookup { host, port }) => {
                // One lookup thread for the engine, at most one lookup in
                // flight per client: a newer send supersedes the older
                // lookup, which is skipped if not begun and ignored if done.
                self.next_lookup += 1;
                let generation = self.next_lookup;
                self.lookups.insert(id, generation);
                self.lookup_wanted(id, Some(generation));
                let asked = self.lookup_tx.as_ref().is_some_and(|tx| {
                    tx.send(Lookup {
                        id,
                        job,
                        generation,
                        host,
                        port,
                    })
                    .is_ok()
                });
                if !asked {
                    self.lookups.remove(&id);
                    self.job_failed(
                        id,
                        NetError::Io {
                            context: rust_i18n::t!("error.cannot_look_up").into_owned(),
                            message: rust_i18n::t!("error.lookup_stopped").into_owned(),
                        },
                    );
                }
            }
            Err(e) => self.job_failed(id, e),
        }
    }

    pub(super) fn take_lookups(&mut self) {
        while let Ok(done) = self.resolved_rx.try_recv() {
            // A lookup whose send was replaced, stopped or closed has had its SendDone.
            if self.lookups.get(&done.id) != Some(&done.generation) {
                continue;
            }
            self.lookups.remove(&done.id);
            match done.result {
                Ok(addrs) => self.begin_job(done.id, done.job, &addrs),
                Err(e) => self.job_failed(done.id, e),
            }
        }
    }

    /// Starts a job whose target has addresses: binds the client if needed and schedules it.
    pub(super) fn begin_job(&mut self, id: EndpointId, job: SendJob, addrs: &[SocketAddr]) {
        let Some(mut ep) = self.endpoints.remove(&id) else {
            self.job_failed(id, unknown("client", id));
            return;
        };
        let prepared = self.prepare_job(&mut ep, job, addrs);
        self.endpoints.insert(id, ep);
        match prepared {
            // Start at once, so a send right behind this one cannot replace it unsent.
            Ok(()) => self.run_job(id),
            Err(e) => self.job_failed(id, e),
        }
    }

    pub(super) fn prepare_job(
        &mut self,
        ep: &mut Endpoint,
        job: SendJob,
        addrs: &[SocketAddr],
    ) -> Result<(), NetError> {
        let Role::Client(client) = &ep.role else {
            return Err(unknown("client", ep.id));
        };
        let fixed = client.fixed_bind;
        let target = resolve::choose(addrs, fixed).ok_or_else(|| match (fixed, addrs.first()) {
            (Some(local), Some(&peer)) => NetError::FamilyMismatch { local, peer },
            _ => NetError::Resolve {
                host: job.target.clone(),
                detail: "no usable address".to_owned(),
            },
        })?;
        if let Some(big) = job
            .payloads
            .iter()
            .find(|p| p.len() > super::error::max_payload(&target))
        {
            return Err(NetError::too_large(big.len(), target.is_ipv6()));
        }
        self.bind_for(ep, target, fixed)?;
        if let Role::Client(client) = &mut ep.role {
            let now = Instant::now();
            let timed = !job.at.is_empty();
            let mut fill = vec![None; job.payloads.len()];
            for (i, template) in job.fill {
                if let Some(slot) = fill.get_mut(i) {
                    *slot = Some(template);
                }
            }
            client.job = Some(Job {
                target,
                payloads: job.payloads,
                // A timetable is one round.
                count: if timed { 1 } else { job.count },
                interval: job.interval,
                index: 0,
                rounds: 0,
                sent: 0,
                next_at: now + job.at.first().copied().unwrap_or_default(),
                at: job.at,
                started: now,
                fill,
                filled: Vec::new(),
            });
        }
        Ok(())
    }

    /// Binds a client without a fixed address to a free port of `target`'s family.
    pub(super) fn bind_for(
        &mut self,
        ep: &mut Endpoint,
        target: SocketAddr,
        fixed: Option<SocketAddr>,
    ) -> Result<(), NetError> {
        let needs_bind = ep.local.is_none_or(|l| l.is_ipv6() != target.is_ipv6());
        if needs_bind && fixed.is_none() {
            let any = if target.is_ipv6() {
                SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0)
            } else {
                SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0)
            };
            self.bind_client(ep, any)?;
        }
        Ok(())
    }

    /// Sends what is due from every client's job.
    pub(super) fn run_jobs(&mut self) {
        let ids: Vec<EndpointId> = self
            .endpoints
            .values()
            .filter(|e| matches!(e.role, Role::Client(Client { job: Some(_), .. })))
            .map(|e| e.id)
            .collect();
        for id in ids {
            self.run_job(id);
        }
    }

    /// Sends what is due from one client's job, a burst at most.
    pub(super) fn run_job(&mut self, id: EndpointId) {
        let now = Instant::now();
        let Some(ep) = self.endpoints.get_mut(&id) else {
            return;
        };
        let (Some(sock), Some(origin)) = (&ep.socket, ep.origin()) else {
            return;
        };
        let Role::Client(client) = &mut ep.role else {
            return;
        };
        let Some(job) = &mut client.job else {
            return;
        };
        let mut abort = None;
        let mut burst = 0;
        while job.next_at <= now && burst < BURST {
            let Some(i) = job.advance() else { break };
            burst += 1;
            let payload = match job.fill.get(i) {
                Some(Some(template)) => {
                    job.filled.clear();
                    fill_sent(template, job.sent + 1, &mut job.filled);
                    &job.filled
                }
                _ => &job.payloads[i],
            };
            match outbox::send(
                sock,
                origin,
                job.target,
                payload,
                &mut self.out,
                &mut self.icmp,
            ) {
                Ok(()) => job.sent += 1,
                // Like ping: a closed port is reported, and the job goes on.
                Err(e @ NetError::Unreachable { .. }) => {
                    self.out.fail(Some(id), e);
                }
                Err(e) => {
                    abort = Some(e);
                    break;
                }
            }
            job.schedule_next(now);
        }
        if let Some(e) = abort {
            self.out.fail(Some(id), e);
        } else if !job.finished() {
            return;
        }
        let sent = job.sent;
        client.job = None;
        self.out.push(Event::SendDone { id, sent });
    }
}

/// One filling of a template, as its first datagram would be: for checking
/// sizes, and for showing what a message makes.
#[must_use]
pub fn sample_fill(template: &Template) -> Vec<u8> {
    let mut out = Vec::new();
    fill_sent(template, 1, &mut out);
    out
}

/// Appends `template` filled for the `seq`-th datagram a client sends, now.
pub(super) fn fill_sent(template: &Template, seq: u64, out: &mut Vec<u8>) {
    template.fill(
        &Context {
            seq,
            time: SystemTime::now(),
            request: None,
        },
        out,
    );
}
