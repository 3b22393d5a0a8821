//! Checking the checksum a received datagram carries.

use std::fmt;
use std::str::FromStr;

use super::{ChecksumError, Sum, SumFormat};

/// Where a received datagram carries its checksum, for checking it.
///
/// Written `ALG[:be|le|hex][@from=N][@gap=N][@trailer=N]`: the checksum sits
/// `trailer` bytes before the end of the datagram (the `\r\n` after an NMEA `*hh` is
/// `@trailer=2`) and covers the bytes from offset `from` (the `$` NMEA leaves out is
/// `@from=1`) up to `gap` bytes before the checksum (NMEA's `*` is `@gap=1`). All
/// default to 0. `crc16_modbus` checks a Modbus RTU frame;
/// `xor8:hex@from=1@gap=1@trailer=2` an NMEA sentence.
///
/// Serializes as that text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Verify {
    pub sum: Sum,
    pub from: usize,
    /// Bytes between the covered ones and the checksum.
    pub gap: usize,
    pub trailer: usize,
}

/// What checking a datagram found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Good,
    /// `expected` is the checksum of the bytes; `found` what the datagram carries.
    Bad {
        expected: Vec<u8>,
        found: Vec<u8>,
    },
    /// Too short to hold the checksum where the spec puts it.
    TooShort,
}

impl Verify {
    /// Checks the checksum `bytes` carry. Hex digits are read as ASCII, in either case
    /// (one byte each, as [`Sum::width`] counts them).
    #[must_use]
    pub fn check(&self, bytes: &[u8]) -> Verdict {
        let width = self.sum.width();
        let Some(at) = bytes
            .len()
            .checked_sub(self.trailer.saturating_add(width))
            .filter(|&at| at >= self.from.saturating_add(self.gap))
        else {
            return Verdict::TooShort;
        };
        let covered = bytes.get(self.from..at - self.gap);
        let (Some(covered), Some(found)) = (covered, bytes.get(at..at + width)) else {
            return Verdict::TooShort;
        };
        let mut expected = Vec::with_capacity(width);
        self.sum.write(covered, &mut expected);
        let same = match self.sum.format {
            SumFormat::Hex => found.eq_ignore_ascii_case(&expected),
            SumFormat::Be | SumFormat::Le => found == expected,
        };
        if same {
            Verdict::Good
        } else {
            Verdict::Bad {
                expected,
                found: found.to_vec(),
            }
        }
    }

    /// Reads what [`Verify`]'s `Display` writes (see the type's docs).
    ///
    /// # Errors
    /// An unknown algorithm, format or option, or an option without a number.
    pub fn parse(spec: &str) -> Result<Verify, ChecksumError> {
        let mut pieces = spec.trim().split('@');
        let sum = Sum::parse(pieces.next().unwrap_or_default())?;
        let mut verify = Verify {
            sum,
            from: 0,
            gap: 0,
            trailer: 0,
        };
        for piece in pieces {
            let (option, value) = piece.split_once('=').unwrap_or((piece, ""));
            let slot = match option {
                "from" => &mut verify.from,
                "gap" => &mut verify.gap,
                "trailer" => &mut verify.trailer,
                _ => {
                    return Err(ChecksumError::BadOption {
                        option: option.to_owned(),
                    });
                }
            };
            *slot = value.parse().map_err(|_| ChecksumError::BadNumber {
                option: option.to_owned(),
                value: value.to_owned(),
            })?;
        }
        Ok(verify)
    }
}

impl fmt::Display for Verify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.sum)?;
        if self.from != 0 {
            write!(f, "@from={}", self.from)?;
        }
        if self.gap != 0 {
            write!(f, "@gap={}", self.gap)?;
        }
        if self.trailer != 0 {
            write!(f, "@trailer={}", self.trailer)?;
        }
        Ok(())
    }
}

impl FromStr for Verify {
    type Err = ChecksumError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Verify::parse(s)
    }
}

impl From<Verify> for String {
    fn from(v: Verify) -> String {
        v.to_string()
    }
}

impl TryFrom<String> for Verify {
    type Error = ChecksumError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Verify::parse(&s)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn written(spec: &str, covered: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        Sum::parse(spec).unwrap().write(covered, &mut out);
        out
    }

    #[test]
    fn an_nmea_sentence_carries_its_xor() {
        let sentence = b"$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47\r\n";
        let body = &sentence[1..sentence.len() - 5];
        assert_eq!(written("xor8:hex", body), b"47");
        let nmea = Verify::parse("xor8:hex@from=1@gap=1@trailer=2").unwrap();
        assert_eq!(nmea.check(sentence), Verdict::Good);
        let mut wrong = sentence.to_vec();
        wrong[7] = b'2'; // 123519 becomes 223519
        assert_eq!(
            nmea.check(&wrong),
            Verdict::Bad {
                expected: b"44".to_vec(),
                found: b"47".to_vec()
            }
        );
        let gll = b"$GPGLL,4916.45,N,12311.12,W,225444,A*31\r\n";
        assert_eq!(nmea.check(gll), Verdict::Good);
        // Lower-case hex digits are as good.
        assert_eq!(nmea.check(b"$J*4a\r\n"), Verdict::Good);
        assert_eq!(nmea.check(b"$J*4A\r\n"), Verdict::Good);
    }

    #[test]
    fn verify_round_trips_through_its_text_and_serde() {
        for spec in [
            "crc16_modbus",
            "crc16_modbus:be",
            "crc16_ccitt:hex@from=3",
            "crc32:le@trailer=1",
            "xor8:hex@from=1@gap=1@trailer=2",
            "xor8@gap=2",
            "sum8",
        ] {
            let v = Verify::parse(spec).unwrap();
            assert_eq!(v.to_string(), spec);
            let json = serde_json::to_string(&v).unwrap();
            assert_eq!(json, format!("\"{spec}\""));
            assert_eq!(serde_json::from_str::<Verify>(&json).unwrap(), v);
        }
        // Defaults written out are read the same and shown short.
        let v = Verify::parse("crc16_modbus:le@from=0").unwrap();
        assert_eq!(v.to_string(), "crc16_modbus");
        let s: Sum = serde_json::from_str("\"crc32:hex\"").unwrap();
        assert_eq!(s, Sum::parse("crc32:hex").unwrap());
        assert!(serde_json::from_str::<Sum>("\"md5\"").is_err());
    }

    #[test]
    fn verify_calls_good_bad_and_too_short() {
        let v = Verify::parse("crc16_modbus").unwrap();
        let frame = [0x01, 0x03, 0x00, 0x00, 0x00, 0x0A, 0xC5, 0xCD];
        assert_eq!(v.check(&frame), Verdict::Good);
        let mut flipped = frame;
        flipped[2] ^= 0x10;
        assert!(matches!(v.check(&flipped), Verdict::Bad { .. }));
        // Binary sums are compared exactly, not as letters in either case.
        let case = Verify::parse("sum8").unwrap();
        assert_eq!(case.check(b"\x41\x41"), Verdict::Good);
        assert!(matches!(case.check(b"\x41\x61"), Verdict::Bad { .. }));
        assert_eq!(v.check(&[0x01]), Verdict::TooShort);
        assert_eq!(v.check(&[0xFF, 0xFF]), Verdict::Good); // the CRC of nothing
        let from = Verify::parse("xor8@from=3@trailer=1").unwrap();
        assert_eq!(from.check(&[9, 9, 9, 0]), Verdict::TooShort);
        assert_eq!(from.check(&[9, 9, 9, 0, 0]), Verdict::Good);
        assert_eq!(
            from.check(&[9, 9, 9, 5, 6, 0]),
            Verdict::Bad {
                expected: vec![5],
                found: vec![6]
            }
        );
        let gap = Verify::parse("sum8@from=1@gap=2").unwrap();
        assert_eq!(gap.check(&[9, 1, 2, 9, 9, 3]), Verdict::Good);
        assert_eq!(gap.check(&[9, 9, 9]), Verdict::TooShort);
        assert_eq!(gap.check(&[9, 9, 9, 0]), Verdict::Good);
    }
}
