//! Joins never invert: a client whose WebSocket handshake has completed is already in the room,
//! so it is told about everyone who connects after it (the original `wscat` flow of "connect,
//! wait for `new-peer`, then offer" depends on it).

#[path = "signaling_support.rs"]
mod support;

use support::*;

#[tokio::test]
async fn whoever_completed_the_handshake_first_hears_of_the_next_one() {
    let server = TestServer::start(|_| {}).await;
    // Many rooms at once, so joins race each other on every core and node.
    let rooms = (0..100).map(|i| {
        let server = &server;
        async move {
            let room = format!("order-{i}");
            let mut first = server.connect(&room, "first").await;
            let mut second = server.connect(&room, "second").await;
            let welcome = recv(&mut first).await;
            assert_eq!(
                welcome["data"]["peers"].as_array().map(Vec::len),
                Some(0),
                "{welcome}"
            );
            let news = recv(&mut first).await;
            assert_eq!(news["type"], "new-peer", "{news}");
            assert_eq!(news["data"], "second");
            let welcome = recv(&mut second).await;
            assert_eq!(welcome["data"]["peers"][0]["id"], "first", "{welcome}");
        }
    });
    futures_util::future::join_all(rooms).await;
}
