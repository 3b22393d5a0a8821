//! The checksums a template can write and a receiver can verify: the CRCs and byte
//! sums that serial-style protocols (Modbus RTU, NMEA, vendor telemetry) end frames with.

mod verify;

use std::fmt;
use std::str::FromStr;

use crc::{CRC_16_IBM_3740, CRC_16_MODBUS, CRC_32_ISO_HDLC, Crc};

pub use verify::{Verdict, Verify};

const MODBUS: Crc<u16> = Crc::<u16>::new(&CRC_16_MODBUS);
const CCITT_FALSE: Crc<u16> = Crc::<u16>::new(&CRC_16_IBM_3740);
const ISO_HDLC: Crc<u32> = Crc::<u32>::new(&CRC_32_ISO_HDLC);

/// Why a checksum spec was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChecksumError {
    #[error("{}", rust_i18n::t!("codec.unknown_checksum", name = .name, names = NAMES))]
    UnknownAlgorithm { name: String },
    #[error("{}", rust_i18n::t!("codec.bad_checksum_format", format = .format))]
    BadFormat { format: String },
    #[error("{}", rust_i18n::t!("codec.bad_checksum_option", option = .option))]
    BadOption { option: String },
    #[error("{}", rust_i18n::t!("codec.bad_checksum_number", option = .option, value = .value))]
    BadNumber { option: String, value: String },
}

/// The algorithm names as written in templates and specs, for messages.
pub(crate) const NAMES: &str = "crc16_modbus, crc16_ccitt, crc32, sum8 or xor8";

/// A checksum algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// CRC-16/MODBUS; Modbus RTU writes it low byte first.
    Crc16Modbus,
    /// CRC-16/CCITT-FALSE (catalogued as CRC-16/IBM-3740).
    Crc16Ccitt,
    /// CRC-32/ISO-HDLC, the CRC-32 of zip and Ethernet.
    Crc32,
    /// The sum of the bytes, modulo 256.
    Sum8,
    /// All bytes xored together, as NMEA's `*hh`.
    Xor8,
}

impl Algorithm {
    /// Every algorithm, in the order a picker lists them.
    pub const ALL: [Algorithm; 5] = [
        Algorithm::Crc16Modbus,
        Algorithm::Crc16Ccitt,
        Algorithm::Crc32,
        Algorithm::Sum8,
        Algorithm::Xor8,
    ];

    /// The name a template writes, e.g. `"crc16_modbus"`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Crc16Modbus => "crc16_modbus",
            Algorithm::Crc16Ccitt => "crc16_ccitt",
            Algorithm::Crc32 => "crc32",
            Algorithm::Sum8 => "sum8",
            Algorithm::Xor8 => "xor8",
        }
    }

    /// The algorithm named `name` (exactly as [`Algorithm::name`] writes it).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The value's size in bytes.
    #[must_use]
    pub fn bytes(self) -> usize {
        match self {
            Algorithm::Crc16Modbus | Algorithm::Crc16Ccitt => 2,
            Algorithm::Crc32 => 4,
            Algorithm::Sum8 | Algorithm::Xor8 => 1,
        }
    }

    /// The checksum of `bytes`, widened to 32 bits.
    #[must_use]
    pub fn compute(self, bytes: &[u8]) -> u32 {
        match self {
            Algorithm::Crc16Modbus => u32::from(MODBUS.checksum(bytes)),
            Algorithm::Crc16Ccitt => u32::from(CCITT_FALSE.checksum(bytes)),
            Algorithm::Crc32 => ISO_HDLC.checksum(bytes),
            Algorithm::Sum8 => u32::from(bytes.iter().fold(0u8, |s, &b| s.wrapping_add(b))),
            Algorithm::Xor8 => u32::from(bytes.iter().fold(0u8, |s, &b| s ^ b)),
        }
    }

    /// How the algorithm's protocols usually write it.
    #[must_use]
    pub fn default_format(self) -> SumFormat {
        match self {
            Algorithm::Crc16Modbus => SumFormat::Le,
            _ => SumFormat::Be,
        }
    }
}

/// How a checksum's value is written into a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SumFormat {
    /// Binary, most significant byte first.
    Be,
    /// Binary, least significant byte first.
    Le,
    /// Upper-case ASCII hex digits, two per byte (NMEA's `*hh`).
    Hex,
}

impl SumFormat {
    fn name(self) -> &'static str {
        match self {
            SumFormat::Be => "be",
            SumFormat::Le => "le",
            SumFormat::Hex => "hex",
        }
    }
}

/// A checksum and the way it is written: what `{crc16_modbus}` or `{xor8:hex}` stands for.
/// Serializes as the placeholder's text (`"xor8:hex"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Sum {
    pub algorithm: Algorithm,
    pub format: SumFormat,
}

impl Sum {
    /// `ALG` or `ALG:be|le|hex`, the placeholder without its braces: `"crc32:le"`.
    ///
    /// # Errors
    /// An unknown algorithm or format.
    pub fn parse(spec: &str) -> Result<Sum, ChecksumError> {
        let (name, format) = match spec.split_once(':') {
            Some((n, f)) => (n, Some(f)),
            None => (spec, None),
        };
        let algorithm =
            Algorithm::from_name(name).ok_or_else(|| ChecksumError::UnknownAlgorithm {
                name: name.to_owned(),
            })?;
        let format = match format {
            None => algorithm.default_format(),
            Some("be") => SumFormat::Be,
            Some("le") => SumFormat::Le,
            Some("hex") => SumFormat::Hex,
            Some(other) => {
                return Err(ChecksumError::BadFormat {
                    format: other.to_owned(),
                });
            }
        };
        Ok(Sum { algorithm, format })
    }

    /// The bytes it occupies in a datagram (hex digits count one byte each: they
    /// are ASCII, whatever the template's encoding does with them).
    #[must_use]
    pub fn width(&self) -> usize {
        match self.format {
            SumFormat::Hex => self.algorithm.bytes() * 2,
            SumFormat::Be | SumFormat::Le => self.algorithm.bytes(),
        }
    }

    /// Appends the checksum of `covered` to `out`, [`Sum::width`] bytes.
    pub fn write(&self, covered: &[u8], out: &mut Vec<u8>) {
        let value = self.algorithm.compute(covered);
        let n = self.algorithm.bytes();
        let be = value.to_be_bytes();
        let be = be.get(be.len() - n..).unwrap_or_default();
        match self.format {
            SumFormat::Be => out.extend_from_slice(be),
            SumFormat::Le => out.extend(be.iter().rev()),
            SumFormat::Hex => {
                const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
                for &b in be {
                    out.push(DIGITS[usize::from(b >> 4)]);
                    out.push(DIGITS[usize::from(b & 0xf)]);
                }
            }
        }
    }
}

/// Writes what [`Sum::parse`] reads; the format only when it is not the algorithm's default.
impl fmt::Display for Sum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.algorithm.name())?;
        if self.format != self.algorithm.default_format() {
            write!(f, ":{}", self.format.name())?;
        }
        Ok(())
    }
}

impl FromStr for Sum {
    type Err = ChecksumError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Sum::parse(s)
    }
}

impl From<Sum> for String {
    fn from(s: Sum) -> String {
        s.to_string()
    }
}

impl TryFrom<String> for Sum {
    type Error = ChecksumError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Sum::parse(&s)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sum(spec: &str) -> Sum {
        Sum::parse(spec).unwrap()
    }

    fn written(spec: &str, covered: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        sum(spec).write(covered, &mut out);
        out
    }

    #[test]
    fn standard_check_values() {
        assert_eq!(Algorithm::Crc16Modbus.compute(b"123456789"), 0x4B37);
        assert_eq!(Algorithm::Crc16Ccitt.compute(b"123456789"), 0x29B1);
        assert_eq!(Algorithm::Crc32.compute(b"123456789"), 0xCBF4_3926);
        assert_eq!(Algorithm::Sum8.compute(b"123456789"), 0xDD); // 477 mod 256
        assert_eq!(Algorithm::Xor8.compute(b"123456789"), 0x31);
        assert_eq!(Algorithm::Sum8.compute(&[0xff, 0x02]), 0x01);
        assert_eq!(Algorithm::Xor8.compute(b""), 0);
    }

    #[test]
    fn written_in_each_format() {
        let table: [(&str, &[u8], &[u8]); 12] = [
            ("crc16_modbus", b"123456789", &[0x37, 0x4B]),
            ("crc16_modbus:be", b"123456789", &[0x4B, 0x37]),
            ("crc16_modbus:hex", b"123456789", b"4B37"),
            ("crc16_ccitt", b"123456789", &[0x29, 0xB1]),
            ("crc16_ccitt:le", b"123456789", &[0xB1, 0x29]),
            ("crc32", b"123456789", &[0xCB, 0xF4, 0x39, 0x26]),
            ("crc32:le", b"123456789", &[0x26, 0x39, 0xF4, 0xCB]),
            ("crc32:hex", b"123456789", b"CBF43926"),
            ("sum8", b"123456789", &[0xDD]),
            ("sum8:hex", &[0x01, 0x02], b"03"),
            ("xor8", b"123456789", &[0x31]),
            ("xor8:hex", &[0x0a], b"0A"),
        ];
        for (spec, covered, want) in table {
            assert_eq!(written(spec, covered), want, "{spec}");
            assert_eq!(sum(spec).width(), want.len(), "{spec}");
        }
    }

    #[test]
    fn a_modbus_rtu_request_ends_c5_cd() {
        // Read 10 holding registers from address 0 of unit 1.
        assert_eq!(
            written("crc16_modbus", &[0x01, 0x03, 0x00, 0x00, 0x00, 0x0A]),
            [0xC5, 0xCD]
        );
    }

    #[test]
    fn bad_specs_say_what_to_write() {
        let table = [
            (
                "crc8",
                "unknown checksum \"crc8\": use crc16_modbus, crc16_ccitt, crc32, sum8 or xor8",
            ),
            (
                "crc32:xx",
                "\"xx\" is not a way to write a checksum: use :be, :le or :hex",
            ),
            (
                "crc32@to=3",
                "unknown option \"@to\": use @from=N, @gap=N or @trailer=N",
            ),
            (
                "crc32@from=x",
                "@from needs a whole number of bytes, not \"x\"",
            ),
            (
                "crc32@trailer",
                "@trailer needs a whole number of bytes, not \"\"",
            ),
            (
                "",
                "unknown checksum \"\": use crc16_modbus, crc16_ccitt, crc32, sum8 or xor8",
            ),
        ];
        for (spec, want) in table {
            assert_eq!(Verify::parse(spec).unwrap_err().to_string(), want, "{spec}");
        }
    }
}
