//! The recording API over real sockets: announcements, durable chunks, replays, tokens, rooms,
//! the served file, and deletion.

mod recording_support;
mod signaling_support;

use recording_support::*;
use signaling_support::{recv, silent};

#[tokio::test]
async fn a_recording_is_announced_stored_finalized_served_and_deleted() {
    let dir = TempDir::new();
    let server = start_server(&dir, |_| {}).await;
    let api = RoomApi {
        server: &server,
        room: "lifecycle".into(),
    };
    let (mut a, _) = server.join("lifecycle", "a").await;
    let (mut b, _) = server.join("lifecycle", "b").await;
    let _ = recv(&mut a).await; // new-peer b

    let (id, upload, owner) = started(&api.start("a").await);
    assert_eq!(id.len(), 22);
    assert!(upload.len() >= 43 && owner.len() >= 43 && upload != owner);
    // The room hears of it before any chunk can arrive: the frame was queued before the answer.
    for ws in [&mut a, &mut b] {
        let frame = recv(ws).await;
        assert_eq!(frame["type"], "recording", "{frame}");
        assert_eq!(frame["data"]["id"], id.as_str());
        assert_eq!(frame["data"]["phase"], "recording");
        assert_eq!(frame["data"]["by"], "a");
    }
    // A late joiner sees it in its welcome.
    let (mut c, welcome) = server.join("lifecycle", "c").await;
    assert_eq!(welcome["data"]["recording"]["id"], id.as_str(), "{welcome}");
    assert_eq!(welcome["data"]["recording"]["phase"], "recording");
    for ws in [&mut a, &mut b] {
        assert_eq!(recv(ws).await["type"], "new-peer");
    }
    // One at a time per room.
    let second = api.start("b").await;
    assert_eq!(
        (second.status, second.code().as_str()),
        (409, "already-recording")
    );

    let chunks = chunks();
    for (seq, chunk) in chunks.iter().enumerate() {
        let ack = api.put(&id, &upload, seq as u64, chunk).await;
        assert_eq!(ack.status, 201, "{}", String::from_utf8_lossy(&ack.body));
        assert_eq!(ack.json()["seq"], seq);
        assert_eq!(ack.json()["contiguous"], seq);
    }
    // Every chunk is on disk byte for byte, and never in the repository's tree.
    let listed = api.list().await;
    assert_eq!(listed[0]["state"], "recording");
    assert_eq!(
        listed[0]["bytes"],
        chunks.iter().map(Vec::len).sum::<usize>()
    );

    // A replay with the same bytes is harmless; different bytes are refused.
    let replay = api.put(&id, &upload, 2, &chunks[2]).await;
    assert_eq!(replay.status, 200);
    assert_eq!(replay.json()["contiguous"], chunks.len() - 1);
    let conflict = api.put(&id, &upload, 2, b"other bytes").await;
    assert_eq!(
        (conflict.status, conflict.code().as_str()),
        (409, "chunk-conflict")
    );

    let stopped = api.stop(&id, &upload).await;
    assert_eq!(
        stopped.status,
        200,
        "{}",
        String::from_utf8_lossy(&stopped.body)
    );
    let info = stopped.json();
    assert_eq!(info["state"], "complete");
    let duration = info["duration_ms"].as_u64().unwrap();
    assert!((5_500..=6_500).contains(&duration), "{info}");
    for ws in [&mut a, &mut b, &mut c] {
        let frame = recv(ws).await;
        assert_eq!(frame["data"]["phase"], "ended", "{frame}");
    }
    // The next recording may start, and a joiner now sees none.
    let (_d, welcome) = server.join("lifecycle", "d").await;
    assert!(welcome["data"].get("recording").is_none(), "{welcome}");
    assert_eq!(recv(&mut b).await["type"], "new-peer");

    let list = api.list().await;
    assert_eq!(list.len(), 1);
    let entry = &list[0];
    for field in ["id", "state", "started_at", "duration_ms", "bytes", "url"] {
        assert!(entry.get(field).is_some(), "{field} missing: {entry}");
    }
    let url = entry["url"].as_str().unwrap();
    let file = call(&server, "GET", url, None, Vec::new(), &[]).await;
    assert_eq!(file.status, 200);
    assert_eq!(file.headers["content-type"], "video/webm");
    assert_eq!(file.headers["x-content-type-options"], "nosniff");
    assert_eq!(file.body.len() as u64, entry["bytes"].as_u64().unwrap());
    let verified = server::recording::webm::verify(&file.body[..], file.body.len() as u64).unwrap();
    assert_eq!(verified.blocks, 190, "every frame of the fixture");
    let part = call(
        &server,
        "GET",
        url,
        None,
        Vec::new(),
        &[("range", "bytes=100-199")],
    )
    .await;
    assert_eq!(part.status, 206);
    assert_eq!(part.body, file.body[100..200]);
    assert!(part.headers["content-range"]
        .to_str()
        .unwrap()
        .starts_with("bytes 100-199/"));
    if have_ffprobe() {
        let path = dir.0.join("served.webm");
        std::fs::write(&path, &file.body).unwrap();
        let (duration, packets) = ffprobe(&path);
        assert!((duration.unwrap() - 6.0).abs() < 0.5, "{duration:?}");
        assert_eq!(packets.iter().sum::<u64>(), 190);
        assert!(ffmpeg_seeks(&path, 4.5), "seeking into the finalized file");
    }

    // Deleting needs the owner token, not the upload token.
    let wrong = api.delete(&id, Some(&upload)).await;
    assert_eq!((wrong.status, wrong.code().as_str()), (403, "bad-token"));
    assert_eq!(api.delete(&id, Some(&owner)).await.status, 204);
    assert!(api.list().await.is_empty());
    // Deleting a finished recording tells the room nothing.
    silent(&mut b).await;
    let gone = call(&server, "GET", url, None, Vec::new(), &[]).await;
    assert_eq!(
        (gone.status, gone.code().as_str()),
        (404, "no-such-recording")
    );
}

#[tokio::test]
async fn tokens_rooms_ids_and_sizes_are_checked() {
    let dir = TempDir::new();
    let server = start_server(&dir, |c| c.recording_chunk_max_bytes = 64 * 1024).await;
    let api = RoomApi {
        server: &server,
        room: "checked".into(),
    };
    let other = RoomApi {
        server: &server,
        room: "other-room".into(),
    };
    let (_a, _) = server.join("checked", "a").await;
    let (_x, _) = server.join("other-room", "x").await;

    let outsider = api.start("nobody").await;
    assert_eq!(
        (outsider.status, outsider.code().as_str()),
        (409, "not-in-room")
    );
    let bad_body = call(
        &server,
        "POST",
        "/api/rooms/checked/recordings",
        None,
        b"{".to_vec(),
        &[("content-type", "application/json")],
    )
    .await;
    assert_eq!(
        (bad_body.status, bad_body.code().as_str()),
        (400, "bad-request")
    );
    let bad_room = call(
        &server,
        "GET",
        "/api/rooms/bad%20room/recordings",
        None,
        Vec::new(),
        &[],
    )
    .await;
    assert_eq!(
        (bad_room.status, bad_room.code().as_str()),
        (400, "bad-request")
    );

    let (id, upload, owner) = started(&api.start("a").await);
    let chunk = &chunks()[0];
    for token in ["wrong", owner.as_str()] {
        let refused = api.put(&id, token, 0, chunk).await;
        assert_eq!(
            (refused.status, refused.code().as_str()),
            (403, "bad-token")
        );
    }
    let path = format!("/api/rooms/checked/recordings/{id}/chunks/0");
    let anonymous = call(&server, "PUT", &path, None, chunk.clone(), &[]).await;
    assert_eq!(
        (anonymous.status, anonymous.code().as_str()),
        (403, "bad-token")
    );
    // Another room's recording does not exist there, whatever the token.
    let cross = other.put(&id, &upload, 0, chunk).await;
    assert_eq!(
        (cross.status, cross.code().as_str()),
        (404, "no-such-recording")
    );
    assert_eq!(other.stop(&id, &upload).await.code(), "no-such-recording");
    assert_eq!(
        other.delete(&id, Some(&owner)).await.code(),
        "no-such-recording"
    );
    assert!(other.list().await.is_empty());
    for unknown in ["AAAAAAAAAAAAAAAAAAAAAA", "short", "..%2F..%2Fetc"] {
        let answer = api.put(unknown, &upload, 0, chunk).await;
        assert_eq!(
            (answer.status, answer.code().as_str()),
            (404, "no-such-recording"),
            "{unknown}"
        );
    }
    let bad_seq = call(
        &server,
        "PUT",
        &format!("/api/rooms/checked/recordings/{id}/chunks/x"),
        Some(&upload),
        chunk.clone(),
        &[],
    )
    .await;
    assert_eq!(
        (bad_seq.status, bad_seq.code().as_str()),
        (400, "bad-request")
    );
    let huge_seq = api.put(&id, &upload, u64::MAX, chunk).await;
    assert_eq!(huge_seq.code(), "bad-request");
    let too_big = api.put(&id, &upload, 0, &vec![0u8; 64 * 1024 + 1]).await;
    assert_eq!(
        (too_big.status, too_big.code().as_str()),
        (413, "chunk-too-large")
    );
    // None of that stored anything; the real chunk still goes in as new.
    assert_eq!(api.put(&id, &upload, 0, chunk).await.status, 201);
    // Out of order: acknowledged, but the contiguous prefix waits for the gap.
    let ahead = api.put(&id, &upload, 2, &chunks()[2]).await;
    assert_eq!(ahead.status, 201);
    assert_eq!(ahead.json()["contiguous"], 0);
    let not_yet = call(
        &server,
        "GET",
        &format!("/api/rooms/checked/recordings/{id}/file"),
        None,
        Vec::new(),
        &[],
    )
    .await;
    assert_eq!(
        (not_yet.status, not_yet.code().as_str()),
        (404, "not-finalized")
    );
    // Tokens are stored as digests only.
    let meta = std::fs::read_to_string(dir.0.join("checked").join(&id).join("meta.json")).unwrap();
    assert!(!meta.contains(&upload) && !meta.contains(&owner), "{meta}");
}

#[tokio::test]
async fn size_and_duration_limits_refuse_further_chunks() {
    let dir = TempDir::new();
    let chunks = chunks();
    let limit = (chunks[0].len() + chunks[1].len()) as u64;
    let server = start_server(&dir, |c| c.recording_max_bytes = limit).await;
    let api = RoomApi {
        server: &server,
        room: "limits".into(),
    };
    let (_a, _) = server.join("limits", "a").await;
    let (id, upload, _) = started(&api.start("a").await);
    assert_eq!(api.put(&id, &upload, 0, &chunks[0]).await.status, 201);
    assert_eq!(api.put(&id, &upload, 1, &chunks[1]).await.status, 201);
    let over = api.put(&id, &upload, 2, &chunks[2]).await;
    assert_eq!(
        (over.status, over.code().as_str()),
        (413, "recording-limit")
    );
    // A replay of an acknowledged chunk is still fine at the limit.
    assert_eq!(api.put(&id, &upload, 1, &chunks[1]).await.status, 200);

    let dir2 = TempDir::new();
    let server2 = start_server(&dir2, |c| c.recording_max_secs = 0).await;
    let api2 = RoomApi {
        server: &server2,
        room: "limits".into(),
    };
    let (_a2, _) = server2.join("limits", "a").await;
    let (id2, upload2, _) = started(&api2.start("a").await);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let late = api2.put(&id2, &upload2, 0, &chunks[0]).await;
    assert_eq!(
        (late.status, late.code().as_str()),
        (413, "recording-limit")
    );
}
