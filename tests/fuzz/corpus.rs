//! Seeds and mutations for the fuzz driver and the fuzz smoke test.
#![allow(dead_code)]

use std::sync::atomic::AtomicBool;

use udpdesk::capture::{LogFormat, LogWriter};
use udpdesk::codec::Encoding;
use udpdesk::packet::{Direction, EndpointId, Packet};

/// A small, fast, seeded generator (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
    }
}

/// Packets of every awkward kind, as seeds for the file formats.
fn packets() -> Vec<Packet> {
    let gbk = udpdesk::codec::encode("你好", Encoding::Gbk).unwrap_or_default();
    let payloads: [(&[u8], Encoding); 5] = [
        (b"Hello, world\r\n", Encoding::Utf8),
        (&gbk, Encoding::Gbk),
        (&[0, 1, 2, 0xff, 0xfe], Encoding::Utf8),
        (b"", Encoding::Utf8),
        ("=cmd|' /C calc'!A0".as_bytes(), Encoding::Utf8),
    ];
    payloads
        .iter()
        .enumerate()
        .map(|(i, (bytes, encoding))| Packet {
            seq: i as u64 + 1,
            time: std::time::UNIX_EPOCH
                + std::time::Duration::from_micros(1_795_000_000_000_000 + i as u64),
            endpoint: EndpointId(1),
            direction: if i % 2 == 0 {
                Direction::In
            } else {
                Direction::Out
            },
            local: if i == 2 {
                "[::1]:9999"
            } else {
                "127.0.0.1:9999"
            }
            .parse()
            .expect("an address"),
            peer: if i == 2 {
                "[::1]:5000"
            } else {
                "127.0.0.1:5000"
            }
            .parse()
            .expect("an address"),
            encoding: *encoding,
            bytes: (*bytes).into(),
            truncated: false,
        })
        .collect()
}

fn file_of(format: LogFormat) -> Vec<u8> {
    let mut out = Vec::new();
    if let Ok(mut log) = LogWriter::new(format) {
        log.name_endpoint(EndpointId(1), "server 127.0.0.1:9999")
            .ok();
        for p in packets() {
            log.packet(&p).ok();
        }
        log.drain_to(&mut out).ok();
    }
    out
}

/// Where real captures live.
fn fixtures() -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcapng" || e == "pcap"))
        .filter_map(|p| std::fs::read(p).ok())
        .collect()
}

/// The seeds of a target.
pub fn seeds(target: &str) -> Vec<Vec<u8>> {
    let texts: &[&str] = match target {
        "hex" => &[
            "48 65 6c",
            "0x48,0x65",
            "48656c6c6f",
            "4G",
            "4",
            "\\x41",
            "0X7f 00 FF",
        ],
        "escape" => &[
            "Hello\\r\\n",
            "\\x00\\xff\\u{4f60}\\t",
            "\\u{110000}",
            "\\x4",
            "\\",
            "你好\\n",
        ],
        "template" => &[
            "Hello, {text}!\nworld",
            "{upper} {hex} {len} {seq} {time} {peer}\nabc",
            "{{literal}} {\nx",
            "{nosuch}\n",
            "\\x00{text}\\u{4f60}\n\u{0}\u{ff}",
            "${begin}GPGLL,4916.45,N{end}*{xor8:hex}\\r\\n\n",
            "{seq:u16be}{random:4}{uuid}{unix_ms}{crc32:le}\nx",
            "\u{9}01 03 {seq:u16be} 00 0A {crc16_modbus}\n",
            "{0}{1}{9}{seq:u24be}{random:0}\nabc",
        ],
        "filter" => &[
            "udp.port == 5000 && dir == in",
            "ip.src == 10.0.0.1 || !(len > 100)",
            "(udp.dstport >= 5000 and udp.dstport <= 5010) or ip.addr == ::1",
            "len == ",
            "((((",
        ],
        _ => &[],
    };
    let mut out: Vec<Vec<u8>> = texts.iter().map(|t| t.as_bytes().to_vec()).collect();
    match target {
        "capture" => {
            out.push(file_of(LogFormat::PcapNg));
            out.push(file_of(LogFormat::Pcap));
            out.extend(fixtures());
        }
        "log" => {
            out.push(file_of(LogFormat::JsonLines));
            out.push(file_of(LogFormat::Csv));
        }
        "dissect" => {
            // Each frame of the captures, behind a link-type byte.
            let mut frames = Vec::new();
            for file in fixtures().into_iter().chain([file_of(LogFormat::Pcap)]) {
                let _ = udpdesk::capture::read_capture(
                    std::path::Path::new("seed.pcapng"),
                    &file[..],
                    0,
                    &mut |p| frames.push(p.bytes.to_vec()),
                    &|_, _| {},
                    &AtomicBool::new(false),
                );
            }
            let raw = file_of(LogFormat::Pcap);
            // The raw IP frames of a udpdesk pcap start after the 24 + 16 byte headers.
            if raw.len() > 40 {
                let mut f = vec![1u8];
                f.extend_from_slice(&raw[40..]);
                out.push(f);
            }
            for (i, f) in frames.into_iter().enumerate() {
                let mut v = vec![u8::try_from(i % 8).unwrap_or(0)];
                v.extend(f);
                out.push(v);
            }
        }
        _ => {}
    }
    if out.is_empty() {
        out.push(Vec::new());
    }
    out
}

/// A mutation of a pool member: bit flips, interesting values, cuts,
/// repeats, insertions and splices, one to four of them.
pub fn mutate(pool: &[Vec<u8>], rng: &mut Rng) -> Vec<u8> {
    let mut data = pool[rng.below(pool.len())].clone();
    for _ in 0..=rng.below(4) {
        let len = data.len();
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                data[i] = [0, 0xff, 0x7f, 0x80, b'{', b'\\', b'(', b'\n'][rng.below(8)];
            }
            2 if len >= 4 => {
                // A length field's worst values, at a random place.
                let i = rng.below(len - 3);
                let v: u32 = [0, 1, 0xffff, 0x7fff_ffff, 0xffff_ffff, 0x1_0000][rng.below(6)];
                let bytes = if rng.below(2) == 0 {
                    v.to_le_bytes()
                } else {
                    v.to_be_bytes()
                };
                data[i..i + 4].copy_from_slice(&bytes);
            }
            3 if len > 0 => {
                let a = rng.below(len);
                let b = (a + rng.below(64)).min(len);
                data.drain(a..b);
            }
            4 if len > 0 => {
                let a = rng.below(len);
                let b = (a + rng.below(64)).min(len);
                let piece = data[a..b].to_vec();
                let at = rng.below(len);
                for (k, byte) in piece.into_iter().enumerate() {
                    data.insert(at + k, byte);
                }
            }
            5 => {
                let at = rng.below(len + 1);
                let n = rng.below(16);
                for k in 0..n {
                    data.insert(at + k, u8::try_from(rng.next() & 0xff).unwrap_or(0));
                }
            }
            6 => {
                let other = &pool[rng.below(pool.len())];
                let cut = rng.below(len + 1);
                let from = rng.below(other.len() + 1);
                data.truncate(cut);
                data.extend_from_slice(&other[from..]);
            }
            _ if len > 0 => data.truncate(rng.below(len)),
            _ => data.push(u8::try_from(rng.next() & 0xff).unwrap_or(0)),
        }
    }
    data
}
