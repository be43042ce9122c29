//! The web side of the server over real HTTP: health, server-rendered pages and their statuses.

mod signaling_support;

use signaling_support::TestServer;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn get(server: &TestServer, path: &str) -> (u16, String) {
    let response = client().get(server.http_url(path)).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

#[tokio::test]
async fn health_answers_ok_with_an_rfc3339_time() {
    let server = TestServer::start(|_| {}).await;
    let (status, body) = get(&server, "/health").await;
    assert_eq!(status, 200);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["status"], "ok");
    let time = json["time"].as_str().unwrap();
    assert!(humantime::parse_rfc3339(time).is_ok(), "{time}");
}

#[tokio::test]
async fn home_page_is_server_rendered() {
    let server = TestServer::start(|_| {}).await;
    let (status, body) = get(&server, "/").await;
    assert_eq!(status, 200);
    assert!(body.contains("New meeting"), "{body}");
    assert!(body.contains("/pkg/record-meet.css"));
    assert!(body.contains("record-meet.wasm") || body.contains("/pkg/record-meet.js"));
}

#[tokio::test]
async fn room_page_shows_the_room_id() {
    let server = TestServer::start(|_| {}).await;
    let (status, body) = get(&server, "/room/abc123XYZ90").await;
    assert_eq!(status, 200);
    assert!(body.contains("abc123XYZ90"), "{body}");
    assert!(body.contains("Copy link"));
    // The title is in the server-rendered head (the browser keeps no meta code).
    assert!(
        body.contains("<title>Room abc123XYZ90 · record-meet</title>"),
        "{body}"
    );
}

#[tokio::test]
async fn invalid_room_id_is_a_400_page() {
    let server = TestServer::start(|_| {}).await;
    for path in [
        "/room/not.a.room",
        "/room/%3Cscript%3E",
        &format!("/room/{}", "x".repeat(65)),
    ] {
        let (status, body) = get(&server, path).await;
        assert_eq!(status, 400, "{path}");
        assert!(body.contains("That room link is not valid"), "{path}");
        assert!(
            !body.contains("<script>"),
            "an id must never be echoed as markup"
        );
    }
}

#[tokio::test]
async fn unknown_route_is_a_404_page() {
    let server = TestServer::start(|_| {}).await;
    let (status, body) = get(&server, "/no/such/page").await;
    assert_eq!(status, 404);
    assert!(body.contains("This page does not exist"));
}

#[tokio::test]
async fn new_room_redirects_to_a_fresh_unguessable_id() {
    let server = TestServer::start(|_| {}).await;
    let mut seen = Vec::new();
    for _ in 0..2 {
        let response = client().post(server.http_url("/new")).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 303);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let id = location.strip_prefix("/room/").unwrap().to_owned();
        assert_eq!(id.len(), 12);
        assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()));
        seen.push(id);
    }
    assert_ne!(seen[0], seen[1]);
}

#[tokio::test]
async fn join_redirects_valid_names_and_refuses_invalid_ones() {
    let server = TestServer::start(|_| {}).await;
    let response = client()
        .get(server.http_url("/join?room=team-sync"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(response.headers()["location"], "/room/team-sync");
    let (status, body) = get(&server, "/join?room=bad%20name").await;
    assert_eq!(status, 400);
    assert!(body.contains("invalid-id"));
}

/// A block left open swallows every rule after it into a media query (it once hid the
/// connectivity check's and the recording indicator's desktop styles).
#[test]
fn the_stylesheet_closes_every_block_it_opens() {
    let css =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../style/main.css")).unwrap();
    let mut depth = 0i32;
    for (n, line) in css.lines().enumerate() {
        depth += line.matches('{').count() as i32 - line.matches('}').count() as i32;
        assert!(depth >= 0, "a '}}' without its block at line {}", n + 1);
        if line.starts_with("/* ---- ") {
            assert_eq!(depth, 0, "section at line {} opens inside a block", n + 1);
        }
    }
    assert_eq!(depth, 0);
}
