//! The kube-proxy stand-in's web server: answers every HTTP request with the node's name,
//! so a test (or a user with curl) sees which node its traffic reached. It listens on
//! `[::]:80`, which takes IPv4 too, and serves any address the node accepts, including the
//! LB pools routed to `lo`.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

/// Serves forever; returns only if the socket cannot be opened.
pub fn serve(name: &str, port: u16) -> std::io::Result<()> {
    let listener = TcpListener::bind(("::", port))?;
    eprintln!("standin: {name} answering on [::]:{port}");
    for conn in listener.incoming().flatten() {
        let body = format!("{name}\n");
        std::thread::spawn(move || {
            let _ = answer(conn, &body);
        });
    }
    Ok(())
}

fn answer(conn: TcpStream, body: &str) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    // Read the request head; the body of a request, if any, is not needed.
    let mut line = String::new();
    while reader.read_line(&mut line)? > 0 {
        if line == "\r\n" || line == "\n" {
            break;
        }
        line.clear();
    }
    let mut conn = conn;
    write!(
        conn,
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    conn.flush()
}
