//! Which stored packets the table shows: all of them, those up to the moment
//! of a pause, or those a filter keeps. Filtering is incremental: each frame
//! looks only at packets it has not seen, so a large log stays cheap.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::capture::{PacketStore, PacketView};
use crate::codec;
use crate::packet::{Direction, Packet};

/// Packets the filter looks at per frame: a new filter over a full store is
/// applied over a few frames instead of stalling one.
pub const SCAN_PER_FRAME: usize = 20_000;
/// Time the filter may spend per frame, whatever the packets' sizes.
const SCAN_TIME: Duration = Duration::from_millis(4);
/// Payload bytes the filter looks through per frame at most (with the time,
/// this bounds a frame however large the datagrams are).
pub const SCAN_BYTES: usize = 16 << 20;
/// Bytes looked through between two looks at the clock.
const CLOCK_EVERY_BYTES: usize = 512 << 10;

/// Which directions to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DirFilter {
    /// Both.
    #[default]
    All,
    /// Received only.
    In,
    /// Sent only.
    Out,
}

/// The filter box's contents.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filter {
    /// Text or hex to look for (case-insensitive).
    pub text: String,
    /// Part of the peer's address.
    pub peer: String,
    /// Directions shown.
    pub direction: DirFilter,
    /// The endpoints shown; empty for all.
    pub endpoints: std::collections::BTreeSet<crate::packet::EndpointId>,
}

impl Filter {
    /// True when it lets everything through.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.text.trim().is_empty()
            && self.peer.trim().is_empty()
            && self.direction == DirFilter::All
            && self.endpoints.is_empty()
    }

    /// Whether `p` passes.
    #[must_use]
    pub fn keeps(&self, p: &Packet) -> bool {
        Matcher::new(self).keeps(&PacketView::of(p))
    }
}

/// A filter made ready for scanning. The text is looked for in the raw
/// bytes, encoded once per encoding met, not in decoded text: decoding every
/// stored packet cost a frame its budget on large datagrams. Letters match
/// whatever their ASCII case; text that reads as hex is looked for as bytes too.
struct Matcher<'f> {
    filter: &'f Filter,
    peer: &'f str,
    exact_peer: Option<std::net::SocketAddr>,
    text: String,
    /// The text has ASCII letters: compare ignoring their case.
    fold: bool,
    /// The text has letters beyond ASCII that have a case.
    unicode_case: bool,
    /// The text, lower-cased.
    lower: String,
    /// The text as bytes in each encoding met (None: it cannot be written in it).
    needles: std::cell::RefCell<Vec<(crate::codec::Encoding, Option<Vec<u8>>)>>,
    /// The text read as hex, when it is hex.
    hex: Option<Vec<u8>>,
}

impl<'f> Matcher<'f> {
    fn new(filter: &'f Filter) -> Matcher<'f> {
        let text = filter.text.trim().to_owned();
        let hex = (!text.is_empty() && text.chars().all(|c| c.is_ascii_hexdigit() || c == ' '))
            .then(|| codec::parse_hex(&text).ok())
            .flatten()
            .filter(|b| !b.is_empty());
        let peer = filter.peer.trim();
        Matcher {
            filter,
            peer,
            exact_peer: peer.parse().ok(),
            fold: text.bytes().any(|b| b.is_ascii_alphabetic()),
            unicode_case: text
                .chars()
                .any(|c| !c.is_ascii() && (c.is_uppercase() || c.is_lowercase())),
            lower: text.to_lowercase(),
            text,
            needles: std::cell::RefCell::new(Vec::new()),
            hex,
        }
    }

    /// True when `hay` holds the text as written in `encoding`.
    fn has_text(&self, hay: &[u8], encoding: crate::codec::Encoding) -> bool {
        use crate::codec::Encoding as E;
        // Letters beyond ASCII match whatever their case only in decoded text.
        if self.unicode_case {
            return self.in_shown_text(hay, encoding);
        }
        let hit = {
            let mut needles = self.needles.borrow_mut();
            let at = match needles.iter().position(|(e, _)| *e == encoding) {
                Some(at) => at,
                None => {
                    // Typed escapes (\r\n, \xff) stand for the bytes they name.
                    let bytes = if self.text.contains('\\') {
                        codec::parse_escaped(&self.text, encoding).ok()
                    } else {
                        codec::encode(&self.text, encoding).ok()
                    };
                    needles.push((encoding, bytes));
                    needles.len() - 1
                }
            };
            needles[at]
                .1
                .as_deref()
                .is_some_and(|n| contains(hay, n, self.fold))
        };
        // In a multi-byte encoding a byte match may straddle two characters
        // (Shift_JIS 不 is 95 73, which holds an "s"): a hit is confirmed in
        // the text as shown.
        hit && (matches!(encoding, E::Utf8 | E::Windows1252) || self.in_shown_text(hay, encoding))
    }

    /// The old way, for the rare cases that need it: the text as the table
    /// shows it, lower-cased.
    fn in_shown_text(&self, hay: &[u8], encoding: crate::codec::Encoding) -> bool {
        codec::decode(hay, encoding)
            .to_lowercase()
            .contains(&self.lower)
    }

    fn keeps(&self, p: &PacketView<'_>) -> bool {
        match (self.filter.direction, p.direction) {
            (DirFilter::In, Direction::Out) | (DirFilter::Out, Direction::In) => return false,
            _ => {}
        }
        if !self.filter.endpoints.is_empty() && !self.filter.endpoints.contains(&p.endpoint) {
            return false;
        }
        if !self.peer.is_empty() {
            // A whole address with its port is one flow: exactly that peer
            // ("10.0.0.1:5000" is not "10.0.0.1:50000"). Anything less is a
            // part of the address to look for.
            let keep = match self.exact_peer {
                Some(exact) => p.peer == exact,
                None => p.peer.to_string().contains(self.peer),
            };
            if !keep {
                return false;
            }
        }
        if self.text.is_empty() {
            return true;
        }
        self.has_text(p.bytes, p.encoding)
            || self
                .hex
                .as_deref()
                .is_some_and(|h| memchr::memmem::find(p.bytes, h).is_some())
    }
}

/// True when `hay` contains `needle`, ignoring ASCII case if `fold`.
fn contains(hay: &[u8], needle: &[u8], fold: bool) -> bool {
    let Some(&first) = needle.first() else {
        return true;
    };
    if !fold {
        return memchr::memmem::find(hay, needle).is_some();
    }
    // Candidates are where the first byte stands in either case.
    memchr::memchr2_iter(first.to_ascii_lowercase(), first.to_ascii_uppercase(), hay).any(|at| {
        hay.get(at..at + needle.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(needle))
    })
}

/// The rows on show, by packet sequence number.
#[derive(Debug, Default)]
pub struct View {
    filter: Filter,
    /// Filtered rows (only used while the filter is not empty).
    rows: VecDeque<u64>,
    /// The highest sequence number the filter has looked at.
    checked: u64,
    /// Show nothing newer than this (pause).
    upto: Option<u64>,
}

impl View {
    /// Brings the rows up to date with the store, the filter and the pause point,
    /// looking at [`SCAN_PER_FRAME`] packets or about 4 ms at most; true when more
    /// remain to look at.
    pub fn refresh(&mut self, store: &PacketStore, filter: &Filter, upto: Option<u64>) -> bool {
        if *filter != self.filter || upto != self.upto {
            self.filter = filter.clone();
            self.upto = upto;
            self.rows.clear();
            self.checked = 0;
        }
        let first = store.seq(0).unwrap_or(u64::MAX);
        while self.rows.front().is_some_and(|&s| s < first) {
            self.rows.pop_front();
        }
        if self
            .rows
            .back()
            .is_some_and(|&s| store.is_empty() || s > last_seq(store))
        {
            // The store was cleared under us.
            self.rows.clear();
            self.checked = 0;
        }
        if self.filter.is_empty() {
            return false;
        }
        let start = index_of(store, self.checked + 1).unwrap_or(store.len());
        let end = store.len().min(start + SCAN_PER_FRAME);
        if store.is_empty() {
            self.checked = 0;
        }
        let matcher = Matcher::new(&self.filter);
        let began = Instant::now();
        let mut scanned = 0usize;
        let mut since_clock = 0usize;
        for i in start..end {
            let Some(p) = store.view(i) else { return false };
            if self.upto.is_some_and(|u| p.seq > u) {
                // Paused: nothing newer is shown, so nothing more to look at.
                return false;
            }
            if matcher.keeps(&p) {
                self.rows.push_back(p.seq);
            }
            self.checked = p.seq;
            // Large packets cost more to search: stop on bytes and on time as
            // well as on count, looking at the clock every few packets or
            // every half a megabyte, whichever comes first.
            scanned += p.bytes.len();
            since_clock += p.bytes.len();
            if scanned >= SCAN_BYTES {
                return i + 1 < store.len();
            }
            if i % 64 == 63 || since_clock >= CLOCK_EVERY_BYTES {
                since_clock = 0;
                if began.elapsed() >= SCAN_TIME {
                    return true;
                }
            }
        }
        end < store.len()
    }

    /// How many rows show.
    #[must_use]
    pub fn len(&self, store: &PacketStore) -> usize {
        if !self.filter.is_empty() {
            return self.rows.len();
        }
        match self.upto {
            Some(u) => index_of(store, u + 1).unwrap_or(store.len()),
            None => store.len(),
        }
    }

    /// True when no row shows.
    #[must_use]
    pub fn is_empty(&self, store: &PacketStore) -> bool {
        self.len(store) == 0
    }

    /// The packet on row `row`.
    #[must_use]
    pub fn packet(&self, store: &PacketStore, row: usize) -> Option<Packet> {
        if self.filter.is_empty() {
            store.get(row)
        } else {
            find(store, *self.rows.get(row)?)
        }
    }

    /// The row showing packet `seq`, if any.
    #[must_use]
    pub fn row_of(&self, store: &PacketStore, seq: u64) -> Option<usize> {
        if self.filter.is_empty() {
            index_of(store, seq).filter(|&i| store.seq(i) == Some(seq))
        } else {
            self.rows.binary_search(&seq).ok()
        }
    }
}

fn last_seq(store: &PacketStore) -> u64 {
    store
        .len()
        .checked_sub(1)
        .and_then(|i| store.seq(i))
        .unwrap_or(0)
}

/// The index of the first stored packet with a sequence number of at least `seq`.
/// Sequence numbers rise through the store, so a binary search finds it.
fn index_of(store: &PacketStore, seq: u64) -> Option<usize> {
    let (mut lo, mut hi) = (0, store.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match store.seq(mid) {
            Some(s) if s < seq => lo = mid + 1,
            _ => hi = mid,
        }
    }
    (lo < store.len()).then_some(lo)
}

/// The stored packet with sequence number `seq`.
#[must_use]
pub fn find(store: &PacketStore, seq: u64) -> Option<Packet> {
    index_of(store, seq)
        .and_then(|i| store.get(i))
        .filter(|p| p.seq == seq)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod text_tests {
    use super::*;
    use crate::capture::testdata::packet as sample_packet;
    use crate::codec::Encoding;

    fn with_text(text: &str) -> Filter {
        Filter {
            text: text.to_owned(),
            ..Filter::default()
        }
    }

    #[test]
    fn text_is_found_in_the_bytes_of_each_encoding_whatever_its_ascii_case() {
        let mut gbk = sample_packet(
            1,
            Direction::In,
            &crate::codec::encode("收到 OK 你好", Encoding::Gbk).unwrap(),
        );
        gbk.encoding = Encoding::Gbk;
        assert!(with_text("你好").keeps(&gbk), "Chinese, as GBK bytes");
        assert!(with_text("ok").keeps(&gbk), "ASCII in either case");
        assert!(!with_text("您好").keeps(&gbk));
        let mut wide = sample_packet(
            2,
            Direction::In,
            &crate::codec::encode("Hello", Encoding::Utf16Le).unwrap(),
        );
        wide.encoding = Encoding::Utf16Le;
        assert!(with_text("hello").keeps(&wide), "UTF-16 bytes");
        // Nor across characters of a multi-byte encoding: 不 in Shift_JIS is 95 73.
        let mut sjis = sample_packet(
            4,
            Direction::In,
            &crate::codec::encode("不", Encoding::ShiftJis).unwrap(),
        );
        sjis.encoding = Encoding::ShiftJis;
        assert!(!with_text("s").keeps(&sjis));
        assert!(with_text("不").keeps(&sjis));
        // Typed escapes stand for their bytes; letters beyond ASCII match in either case.
        let crlf = sample_packet(5, Direction::In, b"line\r\n\xff");
        assert!(with_text("\\r\\n").keeps(&crlf));
        let umlaut = sample_packet(6, Direction::In, "Ärger".as_bytes());
        assert!(with_text("äRGER").keeps(&umlaut));
        // Hex is looked for as bytes, never across byte boundaries.
        let bin = sample_packet(3, Direction::In, &[0x48, 0x65, 0x6c]);
        assert!(with_text("65 6c").keeps(&bin));
        assert!(
            !with_text("86").keeps(&bin),
            "not the 8 of 48 and the 6 of 65"
        );
    }

    #[test]
    fn big_datagrams_are_looked_through_a_bounded_amount_per_frame() {
        let mut store = PacketStore::default();
        let mut big = vec![b'x'; 65_507];
        for seq in 1..=600u64 {
            if seq % 100 == 0 {
                big[65_000..65_006].copy_from_slice(b"needle");
            } else {
                big[65_000..65_006].copy_from_slice(b"xxxxxx");
            }
            store.push(&sample_packet(seq, Direction::In, &big));
        }
        let mut view = View::default();
        let filter = with_text("NEEDLE");
        let mut frames = 0;
        while view.refresh(&store, &filter, None) {
            frames += 1;
            // Each frame looked through 16 MiB at most: about 256 datagrams.
            assert!(view.checked <= (frames * (SCAN_BYTES / 65_507 + 1)) as u64);
        }
        assert!(
            frames >= 2,
            "600 datagrams of 64 KiB take more than one frame"
        );
        assert_eq!(view.len(&store), 6);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod peer_tests {
    use super::*;
    use crate::capture::testdata::packet as sample_packet;

    #[test]
    fn a_whole_address_is_one_peer_and_a_part_is_searched() {
        let mut p = sample_packet(1, Direction::In, b"x");
        p.peer = "10.0.0.1:50000".parse().unwrap();
        let with = |peer: &str| Filter {
            peer: peer.to_owned(),
            ..Filter::default()
        };
        assert!(!with("10.0.0.1:5000").keeps(&p), "not a prefix of the port");
        assert!(with("10.0.0.1:50000").keeps(&p));
        assert!(with("10.0.0.1").keeps(&p));
        assert!(with(":5000").keeps(&p), "a part is still searched");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::codec::Encoding;
    use crate::packet::EndpointId;
    use std::sync::Arc;
    use std::time::SystemTime;

    fn packet(seq: u64, direction: Direction, text: &str) -> Packet {
        Packet {
            seq,
            time: SystemTime::now(),
            endpoint: EndpointId(1),
            direction,
            local: "127.0.0.1:9999".parse().unwrap(),
            peer: format!("127.0.0.1:{}", 5000 + seq).parse().unwrap(),
            encoding: Encoding::Utf8,
            bytes: Arc::from(text.as_bytes()),
            truncated: false,
        }
    }

    #[test]
    fn filters_pause_and_eviction() {
        let mut store = PacketStore::default();
        for s in 1..=6 {
            let dir = if s % 2 == 0 {
                Direction::Out
            } else {
                Direction::In
            };
            store.push(&packet(s, dir, if s == 3 { "你好 world" } else { "hello" }));
        }
        let mut view = View::default();
        view.refresh(&store, &Filter::default(), None);
        assert_eq!(view.len(&store), 6);
        view.refresh(&store, &Filter::default(), Some(4));
        assert_eq!(view.len(&store), 4, "paused at 4");

        let f = Filter {
            text: "你好".into(),
            ..Filter::default()
        };
        view.refresh(&store, &f, None);
        assert_eq!(view.len(&store), 1);
        assert_eq!(view.packet(&store, 0).unwrap().seq, 3);
        let f = Filter {
            direction: DirFilter::Out,
            ..Filter::default()
        };
        view.refresh(&store, &f, None);
        assert_eq!(view.len(&store), 3);
        store.push(&packet(7, Direction::Out, "x"));
        view.refresh(&store, &f, None);
        assert_eq!(view.len(&store), 4, "new packets are checked incrementally");
        assert_eq!(view.row_of(&store, 7), Some(3));
        let f = Filter {
            text: "77 6f".into(),
            ..Filter::default()
        };
        view.refresh(&store, &f, None);
        assert_eq!(view.len(&store), 1, "hex matches too");

        let mut big = PacketStore::default();
        for s in 1..=(SCAN_PER_FRAME as u64 + 10) {
            big.push(&packet(s, Direction::In, "x"));
        }
        let all_in = Filter {
            direction: DirFilter::In,
            ..Filter::default()
        };
        assert!(
            view.refresh(&big, &all_in, None),
            "a large store takes more than one frame"
        );
        let mut frames = 1;
        while view.refresh(&big, &all_in, None) {
            frames += 1;
            assert!(frames < 10_000, "the scan always moves on");
        }
        assert_eq!(view.len(&big), SCAN_PER_FRAME + 10);
        assert!(
            !view.refresh(&big, &all_in, Some(5)),
            "paused: done at the pause point"
        );
        assert_eq!(view.len(&big), 5);

        store.clear();
        view.refresh(&store, &f, None);
        assert_eq!(view.len(&store), 0);
        assert!(find(&store, 3).is_none());
    }
}
