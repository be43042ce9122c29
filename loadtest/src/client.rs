//! WebSocket clients over loopback, spread over several 127.0.0.x source addresses so that more
//! connections fit than one address's ephemeral port range allows.

use std::io;
use std::net::SocketAddr;

use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::WebSocketStream;

/// A client socket.
pub type Ws = WebSocketStream<TcpStream>;

/// Source addresses used in turn: 127.0.0.1 .. 127.0.0.8.
const SOURCES: u8 = 8;

/// Opens `/ws/{room}/{peer}` on `server` from source address number `n % 8`, and reads the
/// `welcome`.
pub async fn connect(server: SocketAddr, room: &str, peer: &str, n: usize) -> io::Result<Ws> {
    let socket = TcpSocket::new_v4()?;
    let src: SocketAddr = ([127, 0, 0, 1 + (n % usize::from(SOURCES)) as u8], 0).into();
    socket.bind(src)?;
    let stream = socket.connect(server).await?;
    stream.set_nodelay(true)?;
    let url = format!("ws://{server}/ws/{room}/{peer}");
    // Small buffers: the tool holds as many sockets as the server.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .max_write_buffer_size(1 << 20);
    let (mut ws, _) = tokio_tungstenite::client_async_with_config(url, stream, Some(config))
        .await
        .map_err(io::Error::other)?;
    use futures_util::StreamExt;
    match ws.next().await {
        Some(Ok(_welcome)) => Ok(ws),
        other => Err(io::Error::other(format!("no welcome: {other:?}"))),
    }
}
