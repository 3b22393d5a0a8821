//! The classic `hexdump -C` view.

use super::chars::hex_digit;

const WIDTH: usize = 16;

/// Classic dump, one line per 16 bytes:
/// `00000000  48 65 6c 6c 6f 20 77 6f  72 6c 64 0a              |Hello world.|`
///
/// The offset has 8 hex digits (more past 4 GiB), the byte columns are split 8+8 and
/// padded on the last line, and the text column shows printable ASCII with `.` for
/// everything else. Lines are joined with `\n` with no trailing newline; empty input
/// gives an empty string.
#[must_use]
pub fn hex_dump(bytes: &[u8]) -> String {
    // 78 characters per full line including the newline.
    let mut out = String::with_capacity(bytes.len().div_ceil(WIDTH) * 78);
    for (line, chunk) in bytes.chunks(WIDTH).enumerate() {
        if line > 0 {
            out.push('\n');
        }
        push_offset(line * WIDTH, &mut out);
        out.push(' ');
        for i in 0..WIDTH {
            if i % 8 == 0 {
                out.push(' ');
            }
            match chunk.get(i) {
                Some(&b) => {
                    out.push(hex_digit(b >> 4));
                    out.push(hex_digit(b));
                    out.push(' ');
                }
                None => out.push_str("   "),
            }
        }
        out.push(' ');
        out.push('|');
        out.extend(chunk.iter().map(|&b| {
            if b == b' ' || b.is_ascii_graphic() {
                char::from(b)
            } else {
                '.'
            }
        }));
        out.push('|');
    }
    out
}

/// At least 8 lowercase hex digits, more only when the offset needs them.
fn push_offset(offset: usize, out: &mut String) {
    let digits = (usize::BITS - offset.leading_zeros()).div_ceil(4).max(8);
    for shift in (0..digits).rev() {
        let nibble = u8::try_from(offset >> (shift * 4) & 0xF).unwrap_or_default();
        out.push(hex_digit(nibble));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_dump_table() {
        let sixteen: Vec<u8> = (0x41..0x51).collect();
        let seventeen: Vec<u8> = (0x41..0x52).collect();
        let table: [(&[u8], &str); 6] = [
            (b"", ""),
            (
                b"A",
                "00000000  41                                                |A|",
            ),
            (
                b"Hello world\n",
                "00000000  48 65 6c 6c 6f 20 77 6f  72 6c 64 0a              |Hello world.|",
            ),
            (
                &sixteen,
                "00000000  41 42 43 44 45 46 47 48  49 4a 4b 4c 4d 4e 4f 50  |ABCDEFGHIJKLMNOP|",
            ),
            (
                &seventeen,
                "00000000  41 42 43 44 45 46 47 48  49 4a 4b 4c 4d 4e 4f 50  |ABCDEFGHIJKLMNOP|\n\
                 00000010  51                                                |Q|",
            ),
            (
                b"\x00\x1b\x7f\x80\xff ~\xe4\xbd\xa0",
                "00000000  00 1b 7f 80 ff 20 7e e4  bd a0                    |..... ~...|",
            ),
        ];
        for (bytes, want) in table {
            assert_eq!(hex_dump(bytes), want, "{bytes:x?}");
        }
    }

    #[test]
    fn eight_bytes_exactly_and_line_count() {
        assert_eq!(
            hex_dump(b"01234567"),
            "00000000  30 31 32 33 34 35 36 37                           |01234567|"
        );
        let big = vec![0u8; 16 * 3 + 1];
        let dump = hex_dump(&big);
        assert_eq!(dump.lines().count(), 4);
        assert!(
            dump.lines()
                .last()
                .is_some_and(|l| l.starts_with("00000030  00 "))
        );
        assert!(!dump.ends_with('\n'));
    }

    #[test]
    fn offsets() {
        let table = [
            (0, "00000000"),
            (0x10, "00000010"),
            (0xffff_fff0, "fffffff0"),
            (0x1_0000_0000, "100000000"),
        ];
        for (offset, want) in table {
            let mut out = String::new();
            push_offset(offset, &mut out);
            assert_eq!(out, want);
        }
    }
}
