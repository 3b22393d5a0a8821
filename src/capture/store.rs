//! `PacketStore`: the packet log behind the window's table, held to a memory
//! budget in bytes. Payloads sit end to end in an arena of chunks; each packet
//! has a fixed 48-byte index entry, and addresses are kept once each and
//! referred to by number. When the budget is reached the oldest chunk goes,
//! with every packet whose payload it held, and the store counts them.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::codec::Encoding;
use crate::packet::{Direction, EndpointId, Packet};

/// Counts over every packet pushed since the store was created or cleared,
/// including packets already evicted by the cap: the engine's counters, kept
/// over what the table was given.
pub type Totals = crate::net::Counters;

/// One endpoint's packets in the store: those kept in memory and those that
/// left it for the budget. With the packets the display never got, they add
/// up to what the endpoint's socket carried.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Held {
    /// Packets of the endpoint in memory now.
    pub kept: u64,
    /// Packets of the endpoint that left memory.
    pub evicted: u64,
}

/// One stored packet's index entry (48 bytes).
#[derive(Debug, Clone, Copy)]
struct Entry {
    seq: u64,
    /// Microseconds since the Unix epoch.
    micros: u64,
    /// The arena chunk holding the payload, by serial number.
    chunk: u32,
    offset: u32,
    len: u32,
    endpoint: u32,
    local: u32,
    peer: u32,
    /// Direction (bit 0: out), truncated (bit 1).
    flags: u8,
    /// Index into [`Encoding::ALL`].
    encoding: u8,
}

const OUT: u8 = 1;
const TRUNCATED: u8 = 2;

/// Index entries per block: the index grows a block at a time, never doubling.
const BLOCK: usize = 1024;
/// Payload chunk size for large budgets.
const MAX_CHUNK: usize = 1 << 20;
/// Payload chunk size for the smallest budgets.
const MIN_CHUNK: usize = 4096;
/// What one interned address costs: itself, its map slot and its table slot.
const ADDR_COST: usize = 3 * std::mem::size_of::<SocketAddr>() + 16;

/// A stored packet, borrowed from the store: everything a [`Packet`] says,
/// without copying the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketView<'a> {
    /// Engine-wide sequence number.
    pub seq: u64,
    /// When it was received or sent.
    pub time: SystemTime,
    /// The endpoint whose socket carried it.
    pub endpoint: EndpointId,
    /// Received or sent.
    pub direction: Direction,
    /// Our socket's address.
    pub local: SocketAddr,
    /// The other side's address.
    pub peer: SocketAddr,
    /// How its text is shown by default.
    pub encoding: Encoding,
    /// The payload.
    pub bytes: &'a [u8],
    /// The kernel cut it to the receive buffer.
    pub truncated: bool,
}

impl<'a> PacketView<'a> {
    /// A view of a packet held elsewhere.
    #[must_use]
    pub fn of(p: &'a Packet) -> PacketView<'a> {
        PacketView {
            seq: p.seq,
            time: p.time,
            endpoint: p.endpoint,
            direction: p.direction,
            local: p.local,
            peer: p.peer,
            encoding: p.encoding,
            bytes: &p.bytes,
            truncated: p.truncated,
        }
    }

    /// The packet, with its own copy of the payload.
    #[must_use]
    pub fn to_packet(&self) -> Packet {
        Packet {
            seq: self.seq,
            time: self.time,
            endpoint: self.endpoint,
            direction: self.direction,
            local: self.local,
            peer: self.peer,
            encoding: self.encoding,
            bytes: Arc::from(self.bytes),
            truncated: self.truncated,
        }
    }
}

/// Addresses kept once each, referred to by number.
#[derive(Debug, Default, Clone)]
struct Addresses {
    ids: HashMap<SocketAddr, u32>,
    table: Vec<SocketAddr>,
}

impl Addresses {
    fn id(&mut self, addr: SocketAddr) -> u32 {
        if let Some(&id) = self.ids.get(&addr) {
            return id;
        }
        let id = u32::try_from(self.table.len()).unwrap_or(u32::MAX);
        self.table.push(addr);
        self.ids.insert(addr, id);
        id
    }

    fn get(&self, id: u32) -> SocketAddr {
        self.table
            .get(id as usize)
            .copied()
            .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    fn memory(&self) -> usize {
        self.table.len() * ADDR_COST
    }
}

/// A chunk of the payload arena.
#[derive(Debug, Clone)]
struct Chunk {
    data: Vec<u8>,
}

/// A log of packets in a memory budget, oldest first.
#[derive(Debug, Clone)]
pub struct PacketStore {
    /// Index blocks; the first may have had its front entries evicted.
    blocks: VecDeque<Vec<Entry>>,
    /// Entries evicted from the first block.
    front: usize,
    len: usize,
    chunks: VecDeque<Chunk>,
    /// The serial number of `chunks[0]`.
    first_chunk: u32,
    /// The chunks' capacities added up (kept, not walked, on every push).
    chunk_bytes: usize,
    /// Addresses kept when the table was last rebuilt.
    addresses_kept: usize,
    chunk_size: usize,
    addresses: Addresses,
    budget: usize,
    evicted: u64,
    totals: Totals,
    /// Per endpoint: kept and evicted.
    held: HashMap<u32, Held>,
}

impl Default for PacketStore {
    fn default() -> Self {
        Self::new(Self::DEFAULT_BUDGET)
    }
}

impl PacketStore {
    /// The budget of `PacketStore::default()`: 256 MiB.
    pub const DEFAULT_BUDGET: usize = 256 << 20;

    /// An empty store that keeps at most `budget` bytes of packets, index and
    /// addresses included (0 keeps none, but still counts totals).
    #[must_use]
    pub fn new(budget: usize) -> Self {
        PacketStore {
            blocks: VecDeque::new(),
            front: 0,
            len: 0,
            chunks: VecDeque::new(),
            first_chunk: 0,
            chunk_bytes: 0,
            addresses_kept: 0,
            chunk_size: chunk_size(budget),
            addresses: Addresses::default(),
            budget,
            evicted: 0,
            totals: Totals::default(),
            held: HashMap::new(),
        }
    }

    /// Appends a packet, evicting the oldest ones if the budget is exceeded.
    pub fn push(&mut self, packet: &Packet) {
        self.totals.add(packet);
        let held = self.held.entry(packet.endpoint.0).or_default();
        if self.budget == 0 {
            held.evicted += 1;
            self.evicted += 1;
            return;
        }
        held.kept += 1;
        let (chunk, offset) = self.place(&packet.bytes);
        let entry = Entry {
            seq: packet.seq,
            micros: packet.unix_micros(),
            chunk,
            offset,
            len: u32::try_from(packet.bytes.len()).unwrap_or(u32::MAX),
            endpoint: packet.endpoint.0,
            local: self.addresses.id(packet.local),
            peer: self.addresses.id(packet.peer),
            flags: u8::from(packet.direction == Direction::Out) * OUT
                + u8::from(packet.truncated) * TRUNCATED,
            encoding: encoding_index(packet.encoding),
        };
        match self.blocks.back_mut() {
            Some(block) if block.len() < BLOCK => block.push(entry),
            _ => {
                let mut block = Vec::with_capacity(BLOCK);
                block.push(entry);
                self.blocks.push_back(block);
            }
        }
        self.len += 1;
        self.fit();
    }

    /// Pushes every packet in order.
    pub fn extend(&mut self, packets: impl IntoIterator<Item = Packet>) {
        for packet in packets {
            self.push(&packet);
        }
    }

    /// Packets currently kept.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no packet is kept.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The `i`-th kept packet, borrowed; 0 is the oldest.
    #[must_use]
    pub fn view(&self, i: usize) -> Option<PacketView<'_>> {
        let e = self.entry(i)?;
        let chunk = self
            .chunks
            .get(e.chunk.wrapping_sub(self.first_chunk) as usize)?;
        let start = e.offset as usize;
        let bytes = chunk.data.get(start..start + e.len as usize)?;
        Some(PacketView {
            seq: e.seq,
            time: SystemTime::UNIX_EPOCH + Duration::from_micros(e.micros),
            endpoint: EndpointId(e.endpoint),
            direction: if e.flags & OUT == 0 {
                Direction::In
            } else {
                Direction::Out
            },
            local: self.addresses.get(e.local),
            peer: self.addresses.get(e.peer),
            encoding: Encoding::ALL
                .get(usize::from(e.encoding))
                .copied()
                .unwrap_or(Encoding::Utf8),
            bytes,
            truncated: e.flags & TRUNCATED != 0,
        })
    }

    /// The `i`-th kept packet, with its own copy of the payload.
    #[must_use]
    pub fn get(&self, i: usize) -> Option<Packet> {
        self.view(i).map(|v| v.to_packet())
    }

    /// The sequence number of the `i`-th kept packet (cheap: no payload).
    #[must_use]
    pub fn seq(&self, i: usize) -> Option<u64> {
        self.entry(i).map(|e| e.seq)
    }

    /// The newest packet.
    #[must_use]
    pub fn last(&self) -> Option<Packet> {
        self.len.checked_sub(1).and_then(|i| self.get(i))
    }

    /// Kept packets, oldest first, borrowed.
    pub fn views(&self) -> impl Iterator<Item = PacketView<'_>> {
        (0..self.len).filter_map(|i| self.view(i))
    }

    /// Forgets every packet and resets `evicted()` and `totals()`.
    pub fn clear(&mut self) {
        *self = PacketStore::new(self.budget);
    }

    /// Packets that left memory for the budget since the last clear.
    #[must_use]
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// An endpoint's packets kept and evicted since the last clear.
    #[must_use]
    pub fn held(&self, id: EndpointId) -> Held {
        self.held.get(&id.0).copied().unwrap_or_default()
    }

    /// The memory budget in bytes.
    #[must_use]
    pub fn budget(&self) -> usize {
        self.budget
    }

    /// Changes the budget; lowering it evicts the oldest packets now.
    pub fn set_budget(&mut self, budget: usize) {
        self.budget = budget;
        self.chunk_size = chunk_size(budget);
        self.fit();
    }

    /// Bytes the store holds now: payload chunks, index blocks and addresses.
    #[must_use]
    pub fn memory(&self) -> usize {
        let index = self.blocks.len() * BLOCK * std::mem::size_of::<Entry>();
        self.chunk_bytes + index + self.addresses.memory()
    }

    /// Counts over everything pushed since the last clear, evicted or not.
    #[must_use]
    pub fn totals(&self) -> Totals {
        self.totals
    }

    fn entry(&self, i: usize) -> Option<&Entry> {
        if i >= self.len {
            return None;
        }
        let j = i + self.front;
        self.blocks.get(j / BLOCK)?.get(j % BLOCK)
    }

    /// Copies a payload into the arena (into a new chunk when the last one
    /// is full) and says where it went.
    fn place(&mut self, bytes: &[u8]) -> (u32, u32) {
        let fits = self
            .chunks
            .back()
            .is_some_and(|c| c.data.capacity() - c.data.len() >= bytes.len());
        if !fits {
            // Chunks start small and double up to the budget's chunk size, so
            // a log of a few packets holds little.
            let next = self
                .chunks
                .back()
                .map_or(64 << 10, |c| c.data.capacity().saturating_mul(2))
                .min(self.chunk_size)
                .max(bytes.len());
            let data = Vec::with_capacity(next);
            self.chunk_bytes += data.capacity();
            self.chunks.push_back(Chunk { data });
        }
        let serial = self
            .first_chunk
            .wrapping_add(u32::try_from(self.chunks.len() - 1).unwrap_or(u32::MAX));
        let Some(chunk) = self.chunks.back_mut() else {
            return (serial, 0);
        };
        let offset = u32::try_from(chunk.data.len()).unwrap_or(u32::MAX);
        chunk.data.extend_from_slice(bytes);
        (serial, offset)
    }

    /// Evicts the oldest chunks, and the packets they hold, until the store
    /// is within its budget; addresses only evicted packets used go too.
    fn fit(&mut self) {
        while self.memory() > self.budget && !self.chunks.is_empty() {
            let oldest = self.first_chunk;
            while self.entry(0).is_some_and(|e| e.chunk == oldest) {
                self.pop_front();
            }
            if let Some(gone) = self.chunks.pop_front() {
                self.chunk_bytes -= gone.data.capacity();
            }
            self.first_chunk = self.first_chunk.wrapping_add(1);
            // The table keeps the addresses of evicted packets too. Once it
            // holds a quarter of the budget and has doubled since it was last
            // rebuilt, it is rebuilt from the packets still kept: rebuilding
            // at most as often as it doubles keeps the cost per packet bounded.
            if self.addresses.memory() > self.budget / 4
                && self.addresses.table.len() > 2 * self.addresses_kept.max(1024)
            {
                self.forget_unused_addresses();
            }
        }
    }

    fn pop_front(&mut self) {
        if let Some(e) = self.entry(0) {
            let held = self.held.entry(e.endpoint).or_default();
            held.kept = held.kept.saturating_sub(1);
            held.evicted += 1;
        }
        self.front += 1;
        self.len -= 1;
        self.evicted += 1;
        if self.len == 0 {
            self.blocks.clear();
            self.front = 0;
        } else if self.front == BLOCK {
            self.blocks.pop_front();
            self.front = 0;
        }
    }

    /// Rebuilds the address table from the packets still kept, so a flood
    /// from ever new addresses cannot grow it past the budget.
    fn forget_unused_addresses(&mut self) {
        let mut fresh = Addresses::default();
        let old = std::mem::take(&mut self.addresses);
        for block in &mut self.blocks {
            for e in block.iter_mut() {
                e.local = fresh.id(old.get(e.local));
                e.peer = fresh.id(old.get(e.peer));
            }
        }
        self.addresses_kept = fresh.table.len();
        self.addresses = fresh;
    }
}

/// The payload chunk size for a budget: a sixteenth of it, within bounds.
fn chunk_size(budget: usize) -> usize {
    (budget / 16).clamp(MIN_CHUNK, MAX_CHUNK)
}

fn encoding_index(e: Encoding) -> u8 {
    Encoding::ALL
        .iter()
        .position(|x| *x == e)
        .and_then(|i| u8::try_from(i).ok())
        .unwrap_or(0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::capture::testdata::{packet, sample};

    #[test]
    fn packets_come_back_as_they_went_in() {
        let mut store = PacketStore::default();
        let packets = sample();
        store.extend(packets.clone());
        assert_eq!(store.len(), packets.len());
        let back: Vec<Packet> = (0..store.len()).map(|i| store.get(i).unwrap()).collect();
        assert_eq!(back, packets);
        assert_eq!(store.last(), packets.last().cloned());
        assert_eq!(store.seq(2), Some(3));
        assert!(store.get(packets.len()).is_none());
        assert_eq!(store.views().count(), packets.len());
        assert_eq!(store.view(1).unwrap(), PacketView::of(&packets[1]));
    }

    #[test]
    fn a_one_mebibyte_budget_evicts_the_oldest_and_the_counts_add_up() {
        let budget = 1 << 20;
        let mut store = PacketStore::new(budget);
        let pushed = 50_000u64;
        for seq in 1..=pushed {
            store.push(&packet(seq, Direction::In, &[seq as u8; 100]));
            assert!(store.memory() <= budget, "over budget at {seq}");
        }
        assert!(store.evicted() > 0);
        assert_eq!(store.len() as u64 + store.evicted(), pushed);
        assert_eq!(store.totals().packets_in, pushed);
        let held = store.held(EndpointId(1));
        assert_eq!(held.kept, store.len() as u64);
        assert_eq!(held.kept + held.evicted, pushed);
        // What is left is the newest, in order, intact.
        let first = store.seq(0).unwrap();
        assert_eq!(first, store.evicted() + 1);
        for i in 0..store.len() {
            let v = store.view(i).unwrap();
            assert_eq!(v.seq, first + i as u64);
            assert_eq!(v.bytes, &[v.seq as u8; 100][..]);
        }
        // Most of the budget holds packets, not overhead.
        assert!(store.len() * 100 > budget / 2, "{} kept", store.len());
    }

    #[test]
    fn a_datagram_larger_than_a_chunk_gets_its_own() {
        let mut store = PacketStore::new(1 << 20);
        store.push(&packet(1, Direction::In, b"small"));
        store.push(&packet(2, Direction::Out, &vec![7u8; 65_507]));
        let big = store.get(store.len() - 1).unwrap();
        assert_eq!(big.bytes.len(), 65_507);
        assert_eq!(big.seq, 2);
        assert_eq!(store.len(), 2);
        assert_eq!(store.get(0).unwrap().bytes.as_ref(), b"small");
        // A budget smaller than one datagram keeps none, and says so.
        let mut tiny = PacketStore::new(32 << 10);
        tiny.push(&packet(1, Direction::In, &vec![7u8; 65_507]));
        assert_eq!((tiny.len(), tiny.evicted()), (0, 1));
        assert!(tiny.memory() <= 32 << 10);
    }

    #[test]
    fn clear_resets_everything_but_the_budget() {
        let mut store = PacketStore::new(1 << 20);
        store.extend((1..=4).map(|seq| packet(seq, Direction::Out, b"zz")));
        store.clear();
        assert!(store.is_empty());
        assert_eq!(store.evicted(), 0);
        assert_eq!(store.totals(), Totals::default());
        assert_eq!(store.budget(), 1 << 20);
        store.push(&packet(9, Direction::In, b"q"));
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn lowering_the_budget_evicts_now_and_zero_keeps_nothing() {
        let mut store = PacketStore::new(16 << 20);
        store.extend((1..=20_000).map(|seq| packet(seq, Direction::In, &[1; 200])));
        assert_eq!(store.evicted(), 0);
        store.set_budget(1 << 20);
        assert!(store.memory() <= 1 << 20);
        assert_eq!(store.len() as u64 + store.evicted(), 20_000);
        store.set_budget(0);
        store.push(&packet(20_001, Direction::In, b"a"));
        assert!(store.is_empty());
        assert_eq!(store.evicted(), 20_001);
        assert_eq!(store.totals().packets_in, 20_001);
    }

    #[test]
    fn a_flood_from_ever_new_addresses_stays_in_budget() {
        let budget = 1 << 20;
        let mut store = PacketStore::new(budget);
        for seq in 1..=100_000u64 {
            let mut p = packet(seq, Direction::In, b"x");
            p.peer = SocketAddr::from(([10, (seq >> 16) as u8, (seq >> 8) as u8, seq as u8], 9));
            store.push(&p);
        }
        assert!(store.memory() <= budget);
        let last = store.last().unwrap();
        assert_eq!(last.peer, SocketAddr::from(([10, 1, 134, 160], 9)));
        assert_eq!(store.len() as u64 + store.evicted(), 100_000);
    }

    #[test]
    fn totals_read_as_a_sentence() {
        let t = Totals {
            packets_in: 1,
            bytes_in: 5,
            packets_out: 2,
            bytes_out: 10,
            ..Totals::default()
        };
        assert_eq!(t.to_string(), "1 packet (5 B) in, 2 packets (10 B) out");
        let behind = Totals { not_shown: 3, ..t };
        assert_eq!(
            behind.to_string(),
            "1 packet (5 B) in, 2 packets (10 B) out, 3 not shown (display too slow)"
        );
    }
}
