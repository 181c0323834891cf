//! TCP MD5 signatures (RFC 2385) for BGP sessions: the `TCP_MD5SIG` socket option.
//!
//! Decides nothing: it hands the kernel the peer address and key; the kernel then signs every
//! segment to that peer and drops unsigned or wrongly signed ones. Set it before `connect`.

use std::io;
use std::net::IpAddr;
use std::os::fd::{AsRawFd, BorrowedFd};

/// Longest key the kernel accepts (TCP_MD5SIG_MAXKEYLEN).
pub const MAX_KEY_LEN: usize = 80;

/// Linux's `struct tcp_md5sig` (include/uapi/linux/tcp.h); libc does not define it.
#[repr(C)]
struct TcpMd5Sig {
    addr: libc::sockaddr_storage,
    flags: u8,
    prefix_len: u8,
    key_len: u16,
    ifindex: libc::c_int,
    key: [u8; MAX_KEY_LEN],
}

/// Makes the kernel sign segments to and from `peer` on `socket` with `key`; an empty key
/// removes the signature. Fails with `InvalidInput` for a key over 80 octets.
pub fn set_tcp_md5(socket: BorrowedFd<'_>, peer: IpAddr, key: &[u8]) -> io::Result<()> {
    let key_len = u16::try_from(key.len())
        .ok()
        .filter(|len| usize::from(*len) <= MAX_KEY_LEN)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "TCP MD5 key longer than 80 octets"))?;
    // SAFETY: sockaddr_storage is plain old data (integers and padding); all zeroes is a valid value.
    let mut addr: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    match peer {
        IpAddr::V4(v4) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: 0,
                sin_addr: libc::in_addr { s_addr: u32::from_ne_bytes(v4.octets()) },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than and aligned at least as strictly as sockaddr_in,
            // so writing one at its start stays inside `addr`.
            unsafe { std::ptr::write((&raw mut addr).cast::<libc::sockaddr_in>(), sin) };
        }
        IpAddr::V6(v6) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: 0,
                sin6_flowinfo: 0,
                sin6_addr: libc::in6_addr { s6_addr: v6.octets() },
                sin6_scope_id: 0,
            };
            // SAFETY: sockaddr_storage is larger than and aligned at least as strictly as sockaddr_in6,
            // so writing one at its start stays inside `addr`.
            unsafe { std::ptr::write((&raw mut addr).cast::<libc::sockaddr_in6>(), sin6) };
        }
    }
    let mut sig = TcpMd5Sig { addr, flags: 0, prefix_len: 0, key_len, ifindex: 0, key: [0; MAX_KEY_LEN] };
    if let Some(dst) = sig.key.get_mut(..key.len()) {
        dst.copy_from_slice(key);
    }
    let len = libc::socklen_t::try_from(std::mem::size_of::<TcpMd5Sig>()).map_err(io::Error::other)?;
    // SAFETY: `sig` is a fully initialised tcp_md5sig that outlives the call, `len` is its exact size,
    // and `socket` is a live descriptor borrowed for the call; the kernel only reads the option.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_MD5SIG,
            (&raw const sig).cast::<libc::c_void>(),
            len,
        )
    };
    if rc == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, TcpListener};
    use std::os::fd::AsFd;

    #[test]
    fn layout_matches_the_kernels_struct() {
        assert_eq!(std::mem::size_of::<TcpMd5Sig>(), 216);
    }

    #[test]
    fn kernel_accepts_a_key_and_refuses_a_long_one() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let peer = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        assert!(set_tcp_md5(listener.as_fd(), peer, b"secret").is_ok());
        let err = set_tcp_md5(listener.as_fd(), peer, &[b'x'; 81]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
}
