//! The packet log's memory: 1,000,000 datagrams of 64 B pushed into a
//! `PacketStore`, with every byte the heap gives it counted by a counting
//! allocator, against the plain `Vec<Packet>` (a record plus an `Arc` payload
//! each) it replaced. Also what a push and a row's read-back cost.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Instant, SystemTime};

use udpdesk::capture::PacketStore;
use udpdesk::codec::Encoding;
use udpdesk::packet::{Direction, EndpointId, Packet};

/// The system allocator, keeping a running total of the bytes allocated.
pub struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is passed straight to the system allocator; only a
// counter is added.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

const PACKETS: u64 = 1_000_000;
const SIZE: usize = 64;

fn packet(seq: u64) -> Packet {
    Packet {
        seq,
        time: SystemTime::now(),
        endpoint: EndpointId(1),
        direction: if seq.is_multiple_of(2) {
            Direction::Out
        } else {
            Direction::In
        },
        local: "127.0.0.1:9999".parse().expect("an address"),
        peer: "127.0.0.1:5000".parse().expect("an address"),
        encoding: Encoding::Utf8,
        bytes: vec![(seq % 251) as u8; SIZE].into(),
        truncated: false,
    }
}

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

pub fn measure() {
    println!("packet log memory, {PACKETS} packets of {SIZE} B");
    // The store: each packet is made, pushed and dropped, as a hand-over does.
    let before = live();
    let mut store = PacketStore::new(1 << 30);
    let started = Instant::now();
    for seq in 1..=PACKETS {
        store.push(&packet(seq));
    }
    let push_ns = started.elapsed().as_nanos() as f64 / PACKETS as f64;
    let heap = (live() - before) as f64;
    assert_eq!(store.len() as u64, PACKETS);
    println!(
        "  PacketStore    {:>6.1} B/packet on the heap ({:.1} B over the payload), memory() says {:.1}; push {push_ns:.0} ns (packet made and dropped included)",
        heap / PACKETS as f64,
        heap / PACKETS as f64 - SIZE as f64,
        store.memory() as f64 / PACKETS as f64,
    );
    let started = Instant::now();
    let mut sum = 0u64;
    for i in (0..store.len()).step_by(97) {
        sum += store.get(i).map_or(0, |p| p.bytes.len() as u64);
    }
    let reads = store.len().div_ceil(97);
    println!(
        "  a row read back as a Packet: {:.0} ns",
        started.elapsed().as_nanos() as f64 / reads as f64
    );
    std::hint::black_box(sum);
    drop(store);

    let before = live();
    let mut old: Vec<Packet> = Vec::new();
    for seq in 1..=PACKETS {
        old.push(packet(seq));
    }
    let heap = (live() - before) as f64;
    println!(
        "  Vec<Packet>    {:>6.1} B/packet on the heap ({:.1} B over the payload): what it replaced",
        heap / PACKETS as f64,
        heap / PACKETS as f64 - SIZE as f64
    );
    // Opening: the same million as a pcapng file, read back into a log the
    // way the window's loader thread does.
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("million.pcapng");
    let started = Instant::now();
    udpdesk::capture::save_log(&path, &old).expect("the capture is written");
    let wrote = started.elapsed();
    drop(old);
    let size = std::fs::metadata(&path).map_or(0, |m| m.len());
    let mut store = PacketStore::new(1 << 30);
    let started = Instant::now();
    let opened = udpdesk::capture::open_capture(
        &path,
        &mut |p| store.push(&p),
        &|_, _| {},
        &std::sync::atomic::AtomicBool::new(false),
    )
    .expect("the capture opens");
    let took = started.elapsed();
    assert_eq!(opened.packets, PACKETS);
    println!(
        "  a {PACKETS}-packet pcapng ({:.0} MB): saved in {:.2} s, opened into the log in {:.2} s ({:.0} packets/s)",
        size as f64 / 1e6,
        wrote.as_secs_f64(),
        took.as_secs_f64(),
        PACKETS as f64 / took.as_secs_f64()
    );
}
