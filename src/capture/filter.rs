//! udpdesk's small packet filter language, for choosing what to replay:
//!
//! ```text
//! udp.port == 5000 && dir == in
//! ip.src == 10.0.0.1 || !(len > 100)
//! ```
//!
//! Fields: `udp.port` (either port), `udp.srcport`, `udp.dstport`, `ip.addr`
//! (either address), `ip.src`, `ip.dst`, `len` (payload bytes), `dir` (`in` or
//! `out`). Comparisons: `==` and `!=` for every field, `<`, `<=`, `>`, `>=`
//! for ports and `len`. `&&` (or `and`) binds tighter than `||` (or `or`);
//! `!` (or `not`) negates; parentheses group.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use crate::packet::Direction;

use super::PacketView;

/// A parsed filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketFilter(Expr);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Test(Field, Op, Value),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Port,
    SrcPort,
    DstPort,
    Addr,
    Src,
    Dst,
    Len,
    Dir,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Number(u64),
    Ip(IpAddr),
    Dir(Direction),
}

/// A filter that does not parse: what and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError(String);

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FilterError {}

impl PacketFilter {
    /// Parses a filter.
    ///
    /// # Errors
    /// A message naming the first thing that is wrong, with the fields and
    /// operators that would be right.
    pub fn parse(text: &str) -> Result<PacketFilter, FilterError> {
        let tokens = tokenize(text)?;
        let mut p = Parser {
            tokens,
            at: 0,
            depth: 0,
            tests: 0,
        };
        let expr = p.or()?;
        match p.tokens.get(p.at) {
            None => Ok(PacketFilter(expr)),
            Some(t) => Err(FilterError(format!(
                "unexpected \"{t}\"; join tests with && or ||"
            ))),
        }
    }

    /// Whether a packet passes.
    #[must_use]
    pub fn keeps(&self, p: &PacketView<'_>) -> bool {
        eval(&self.0, p)
    }
}

fn ends(p: &PacketView<'_>) -> (SocketAddr, SocketAddr) {
    match p.direction {
        Direction::In => (p.peer, p.local),
        Direction::Out => (p.local, p.peer),
    }
}

fn eval(e: &Expr, p: &PacketView<'_>) -> bool {
    match e {
        Expr::Or(a, b) => eval(a, p) || eval(b, p),
        Expr::And(a, b) => eval(a, p) && eval(b, p),
        Expr::Not(a) => !eval(a, p),
        Expr::Test(field, op, value) => {
            let (src, dst) = ends(p);
            let test = |have: &Value| compare(have, *op, value);
            match field {
                Field::Port => {
                    // "Either port": == if one matches, != if neither does.
                    let (a, b) = (
                        Value::Number(u64::from(src.port())),
                        Value::Number(u64::from(dst.port())),
                    );
                    if *op == Op::Ne {
                        test(&a) && test(&b)
                    } else {
                        test(&a) || test(&b)
                    }
                }
                Field::SrcPort => test(&Value::Number(u64::from(src.port()))),
                Field::DstPort => test(&Value::Number(u64::from(dst.port()))),
                Field::Addr => {
                    let (a, b) = (Value::Ip(src.ip()), Value::Ip(dst.ip()));
                    if *op == Op::Ne {
                        test(&a) && test(&b)
                    } else {
                        test(&a) || test(&b)
                    }
                }
                Field::Src => test(&Value::Ip(src.ip())),
                Field::Dst => test(&Value::Ip(dst.ip())),
                Field::Len => test(&Value::Number(p.bytes.len() as u64)),
                Field::Dir => test(&Value::Dir(p.direction)),
            }
        }
    }
}

fn compare(have: &Value, op: Op, want: &Value) -> bool {
    match (have, want) {
        (Value::Number(a), Value::Number(b)) => match op {
            Op::Eq => a == b,
            Op::Ne => a != b,
            Op::Lt => a < b,
            Op::Le => a <= b,
            Op::Gt => a > b,
            Op::Ge => a >= b,
        },
        (a, b) => match op {
            Op::Eq => a == b,
            Op::Ne => a != b,
            _ => false,
        },
    }
}

fn tokenize(text: &str) -> Result<Vec<String>, FilterError> {
    let mut tokens = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        if ["&&", "||", "==", "!=", "<=", ">="].contains(&two.as_str()) {
            tokens.push(two);
            i += 2;
        } else if "()!<>".contains(c) {
            tokens.push(c.to_string());
            i += 1;
        } else if c.is_alphanumeric() || ".:[]_".contains(c) {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || ".:[]_".contains(chars[i])) {
                i += 1;
            }
            tokens.push(chars[start..i].iter().collect());
        } else {
            return Err(FilterError(format!(
                "\"{c}\" has no meaning in a filter; write tests like udp.port == 5000"
            )));
        }
    }
    if tokens.is_empty() {
        return Err(FilterError(
            "the filter is empty; write a test like udp.port == 5000".to_owned(),
        ));
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<String>,
    at: usize,
    /// Parentheses and negations open around the current test.
    depth: usize,
    /// Tests read so far (a chain of them nests as deep as it is long).
    tests: usize,
}

/// How many tests one filter may hold.
const MAX_TESTS: usize = 256;

/// How deeply parentheses and `!` may nest: plenty for a person, and the
/// parser, the test and the drop all recurse that deep.
const MAX_DEPTH: usize = 64;

impl Parser {
    fn peek(&self) -> Option<&str> {
        self.tokens.get(self.at).map(String::as_str)
    }

    fn next(&mut self) -> Option<String> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.and()?;
        while matches!(self.peek(), Some("||" | "or")) {
            self.at += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.unary()?;
        while matches!(self.peek(), Some("&&" | "and")) {
            self.at += 1;
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(FilterError(format!(
                "the filter nests more than {MAX_DEPTH} deep; write it more simply"
            )));
        }
        let expr = self.unary_inner();
        self.depth -= 1;
        expr
    }

    fn unary_inner(&mut self) -> Result<Expr, FilterError> {
        match self.peek() {
            Some("!" | "not") => {
                self.at += 1;
                Ok(Expr::Not(Box::new(self.unary()?)))
            }
            Some("(") => {
                self.at += 1;
                let inner = self.or()?;
                match self.next().as_deref() {
                    Some(")") => Ok(inner),
                    _ => Err(FilterError("a \"(\" is not closed".to_owned())),
                }
            }
            _ => self.test(),
        }
    }

    fn test(&mut self) -> Result<Expr, FilterError> {
        const FIELDS: &str =
            "udp.port, udp.srcport, udp.dstport, ip.addr, ip.src, ip.dst, len or dir";
        self.tests += 1;
        if self.tests > MAX_TESTS {
            return Err(FilterError(format!(
                "the filter holds more than {MAX_TESTS} tests; write it more simply"
            )));
        }
        let name = self
            .next()
            .ok_or_else(|| FilterError(format!("a test is missing; test {FIELDS}")))?;
        let field = match name.as_str() {
            "udp.port" => Field::Port,
            "udp.srcport" => Field::SrcPort,
            "udp.dstport" => Field::DstPort,
            "ip.addr" => Field::Addr,
            "ip.src" => Field::Src,
            "ip.dst" => Field::Dst,
            "len" => Field::Len,
            "dir" => Field::Dir,
            other => {
                return Err(FilterError(format!(
                    "unknown field \"{other}\"; use {FIELDS}"
                )));
            }
        };
        let op = match self.next().as_deref() {
            Some("==") => Op::Eq,
            Some("!=") => Op::Ne,
            Some("<") => Op::Lt,
            Some("<=") => Op::Le,
            Some(">") => Op::Gt,
            Some(">=") => Op::Ge,
            other => {
                return Err(FilterError(format!(
                    "{name} needs a comparison (==, !=, <, <=, >, >=), not {}",
                    other.map_or_else(|| "the end".to_owned(), |o| format!("\"{o}\""))
                )));
            }
        };
        let raw = self
            .next()
            .ok_or_else(|| FilterError(format!("{name} needs a value to compare with")))?;
        let value = match field {
            Field::Port | Field::SrcPort | Field::DstPort | Field::Len => {
                let n: u64 = raw.parse().map_err(|_| {
                    FilterError(format!("{name} compares with a number, not \"{raw}\""))
                })?;
                if field != Field::Len && n > 65_535 {
                    return Err(FilterError(format!("{raw} is not a port (0 to 65535)")));
                }
                Value::Number(n)
            }
            Field::Addr | Field::Src | Field::Dst => {
                let ip = raw
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse()
                    .map_err(|_| {
                        FilterError(format!("{name} compares with an IP address, not \"{raw}\""))
                    })?;
                Value::Ip(ip)
            }
            Field::Dir => match raw.as_str() {
                "in" => Value::Dir(Direction::In),
                "out" => Value::Dir(Direction::Out),
                _ => {
                    return Err(FilterError(format!("dir is in or out, not \"{raw}\"")));
                }
            },
        };
        if matches!(value, Value::Ip(_) | Value::Dir(_)) && !matches!(op, Op::Eq | Op::Ne) {
            return Err(FilterError(format!("{name} takes only == or !=")));
        }
        Ok(Expr::Test(field, op, value))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::capture::testdata::packet;

    fn keeps(filter: &str, p: &crate::packet::Packet) -> bool {
        PacketFilter::parse(filter)
            .unwrap()
            .keeps(&PacketView::of(p))
    }

    #[test]
    fn fields_and_operators() {
        // In: 127.0.0.1:50000 -> 127.0.0.1:9999, 3 bytes.
        let p = packet(1, Direction::In, b"abc");
        for yes in [
            "udp.port == 9999",
            "udp.port == 50000",
            "udp.srcport == 50000",
            "udp.dstport == 9999",
            "udp.port != 1",
            "ip.addr == 127.0.0.1",
            "ip.src == 127.0.0.1 && ip.dst == 127.0.0.1",
            "len == 3",
            "len < 4 and len >= 3",
            "dir == in",
            "dir == out || len > 2",
            "!(dir == out)",
            "not udp.dstport == 1",
        ] {
            assert!(keeps(yes, &p), "{yes}");
        }
        for no in [
            "udp.port == 1",
            "udp.port != 9999",
            "ip.addr == ::1",
            "dir == out",
            "len > 3",
            "dir == out && len == 3 || len == 9",
        ] {
            assert!(!keeps(no, &p), "{no}");
        }
        // Out swaps the ends: our port is the source.
        let out = packet(2, Direction::Out, b"");
        assert!(keeps("udp.srcport == 9999 && dir == out", &out));
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let p = packet(1, Direction::In, b"abc");
        assert!(keeps("len == 3 || len == 9 && dir == out", &p));
        assert!(!keeps("(len == 3 || len == 9) && dir == out", &p));
    }

    #[test]
    fn mistakes_are_named() {
        for (bad, says) in [
            ("", "empty"),
            ("udp.prot == 5", "unknown field \"udp.prot\""),
            ("udp.port 5", "needs a comparison"),
            ("udp.port ==", "needs a value"),
            ("udp.port == x", "compares with a number"),
            ("udp.port == 70000", "not a port"),
            ("ip.src == 1.2.3", "IP address"),
            ("ip.src > 1.2.3.4", "only == or !="),
            ("dir == sideways", "in or out"),
            ("(len == 1", "not closed"),
            ("len == 1 len == 2", "join tests"),
            ("len == 1; drop", "no meaning"),
            (&"(".repeat(100_000), "nests more than 64"),
            (&"!".repeat(100_000), "nests more than 64"),
            (
                &vec!["len == 1"; 10_000].join(" && "),
                "more than 256 tests",
            ),
        ] {
            let err = PacketFilter::parse(bad).unwrap_err().to_string();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
}
