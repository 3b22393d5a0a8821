//! The kernel's drop count of a socket as it stands now. `SO_RXQ_OVFL` only
//! says it with the next datagram queued, so the drops at the end of a flood
//! (the queue full until the last datagram) would never be told. Linux also
//! lists every UDP socket's count in `/proc/net/udp` and `/proc/net/udp6`,
//! found there by the socket's inode.

use std::collections::HashMap;

use socket2::Socket;

/// The current drop count of each socket given, by the caller's key; a
/// socket the system does not list is left out.
#[cfg(target_os = "linux")]
pub fn current<K: Copy>(sockets: &[(K, &Socket)]) -> Vec<(K, u32)> {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    if sockets.is_empty() {
        return Vec::new();
    }
    let inodes: Vec<(K, u64)> = sockets
        .iter()
        .filter_map(|(key, sock)| {
            let fd = sock.as_fd().try_clone_to_owned().ok()?;
            let meta = std::fs::File::from(fd).metadata().ok()?;
            Some((*key, meta.ino()))
        })
        .collect();
    let mut drops = HashMap::new();
    for table in ["/proc/net/udp", "/proc/net/udp6"] {
        if let Ok(text) = std::fs::read_to_string(table) {
            parse_table(&text, &mut drops);
        }
    }
    inodes
        .into_iter()
        .filter_map(|(key, ino)| drops.get(&ino).map(|d| (key, *d)))
        .collect()
}

/// Other systems: no count to read.
#[cfg(not(target_os = "linux"))]
pub fn current<K: Copy>(_sockets: &[(K, &Socket)]) -> Vec<(K, u32)> {
    Vec::new()
}

/// Adds `inode → drops` for each socket line of a `/proc/net/udp` table
/// (the inode is the 10th column, the drops the last).
fn parse_table(text: &str, into: &mut HashMap<u64, u32>) {
    for line in text.lines().skip(1) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if let (Some(inode), Some(drops)) = (fields.get(9), fields.last())
            && let (Ok(inode), Ok(drops)) = (inode.parse::<u64>(), drops.parse::<u32>())
            && fields.len() >= 13
        {
            into.insert(inode, drops);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn lines_give_inode_and_drops() {
        let text = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops             \n\
          120: 0100007F:270F 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4242 2 0000000000000000 17         \n\
          121: 0100007F:2710 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 77 2 0000000000000000 0\n\
          garbage\n";
        let mut drops = HashMap::new();
        parse_table(text, &mut drops);
        assert_eq!(drops.len(), 2);
        assert_eq!(drops[&4242], 17);
        assert_eq!(drops[&77], 0);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_socket_nobody_reads_counts_what_the_kernel_dropped() {
        use std::net::UdpSocket;
        let sock = Socket::from(UdpSocket::bind("127.0.0.1:0").unwrap());
        sock.set_recv_buffer_size(4096).unwrap();
        let to = sock.local_addr().unwrap().as_socket().unwrap();
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        for _ in 0..200 {
            sender.send_to(&[0u8; 512], to).unwrap();
        }
        // Loopback delivers inside send_to: by now every datagram was queued or dropped.
        let read = current(&[(1, &sock)]);
        assert_eq!(read.len(), 1);
        let mut queued = 0;
        let mut buf = [0u8; 1024];
        sock.set_nonblocking(true).unwrap();
        while std::io::Read::read(&mut &sock, &mut buf).is_ok() {
            queued += 1;
        }
        assert!(read[0].1 > 0, "a 4 KiB buffer cannot hold 200 datagrams");
        assert_eq!(u64::from(read[0].1) + queued, 200);
    }
}
