//! Recording when things go wrong: storage full (507, "paused", resume), a recorder that
//! leaves or goes silent (watchdog, late chunks), and a server restart with chunks on disk.

mod recording_support;
mod signaling_support;

use std::time::Duration;

use recording_support::*;
use signaling_support::recv;

#[tokio::test]
async fn a_full_quota_pauses_with_507_and_resumes_when_space_is_freed() {
    let dir = TempDir::new();
    let chunks = chunks();
    let all: u64 = chunks.iter().map(|c| c.len() as u64).sum();
    // Room for one finished recording (chunks + file) and about half of another's chunks.
    let server = start_server(&dir, |c| {
        c.recordings_quota_bytes = 2 * all + all / 2 + 4096
    })
    .await;

    let first = RoomApi {
        server: &server,
        room: "earlier".into(),
    };
    let (_e, _) = server.join("earlier", "e").await;
    let (old_id, old_upload, old_owner) = started(&first.start("e").await);
    for (seq, chunk) in chunks.iter().enumerate() {
        assert_eq!(
            first
                .put(&old_id, &old_upload, seq as u64, chunk)
                .await
                .status,
            201
        );
    }
    assert_eq!(first.stop(&old_id, &old_upload).await.status, 200);

    let api = RoomApi {
        server: &server,
        room: "full".into(),
    };
    let (mut a, _) = server.join("full", "a").await;
    let (mut b, _) = server.join("full", "b").await;
    let _ = recv(&mut a).await;
    let (id, upload, _) = started(&api.start("a").await);
    assert_eq!(recv(&mut b).await["data"]["phase"], "recording");
    let mut acked = Vec::new();
    let mut refused_at = None;
    for (seq, chunk) in chunks.iter().enumerate() {
        let answer = api.put(&id, &upload, seq as u64, chunk).await;
        match answer.status {
            201 => acked.push(seq),
            507 => {
                assert_eq!(answer.code(), "insufficient-storage");
                refused_at = Some(seq);
                break;
            }
            other => panic!("unexpected {other}"),
        }
    }
    let refused_at = refused_at.expect("the quota must be reached");
    assert!(!acked.is_empty(), "some chunks fit before the quota");
    let paused = recv(&mut b).await;
    assert_eq!(
        (paused["type"].as_str(), paused["data"]["phase"].as_str()),
        (Some("recording"), Some("paused"))
    );
    // A joiner sees "paused" too; retrying while full changes nothing and loses nothing.
    let (_c, welcome) = server.join("full", "c").await;
    assert_eq!(welcome["data"]["recording"]["phase"], "paused");
    let _ = recv(&mut b).await; // new-peer c
    assert_eq!(
        api.put(&id, &upload, refused_at as u64, &chunks[refused_at])
            .await
            .status,
        507
    );

    // Space comes back: the same chunk is accepted and the room hears "recording" again.
    assert_eq!(first.delete(&old_id, Some(&old_owner)).await.status, 204);
    let retried = api
        .put(&id, &upload, refused_at as u64, &chunks[refused_at])
        .await;
    assert_eq!(retried.status, 201);
    assert_eq!(recv(&mut b).await["data"]["phase"], "recording");
    for (seq, chunk) in chunks.iter().enumerate().skip(refused_at + 1) {
        assert_eq!(api.put(&id, &upload, seq as u64, chunk).await.status, 201);
    }
    let info = api.stop(&id, &upload).await.json();
    assert_eq!(info["state"], "complete");
    let file = call(
        &server,
        "GET",
        info["url"].as_str().unwrap(),
        None,
        Vec::new(),
        &[],
    )
    .await;
    let verified = server::recording::webm::verify(&file.body[..], file.body.len() as u64).unwrap();
    assert_eq!(verified.blocks, 190, "nothing acknowledged was lost");
}

#[tokio::test]
async fn too_little_free_disk_is_507() {
    let dir = TempDir::new();
    let server = start_server(&dir, |c| c.recordings_min_free_bytes = u64::MAX).await;
    let api = RoomApi {
        server: &server,
        room: "disk".into(),
    };
    let (_a, _) = server.join("disk", "a").await;
    let refused = api.start("a").await;
    assert_eq!(
        (refused.status, refused.code().as_str()),
        (507, "insufficient-storage")
    );
}

#[tokio::test]
async fn a_recorder_that_leaves_is_finalized_as_interrupted_and_late_chunks_refinalize() {
    let dir = TempDir::new();
    let server = start_server(&dir, |c| {
        c.recording_left_grace_ms = 100;
        // The socket vanishes without a close frame, as when a tab crashes; no resume grace.
        c.resume_grace_secs = 0;
    })
    .await;
    let api = RoomApi {
        server: &server,
        room: "crash".into(),
    };
    let (a, _) = server.join("crash", "a").await;
    let (mut b, _) = server.join("crash", "b").await;
    let (id, upload, _) = started(&api.start("a").await);
    assert_eq!(recv(&mut b).await["data"]["phase"], "recording");
    let chunks = chunks();
    for seq in 0..3 {
        assert_eq!(
            api.put(&id, &upload, seq, &chunks[seq as usize])
                .await
                .status,
            201
        );
    }
    drop(a); // the tab dies: no close frame, no stop
    let frame = recv(&mut b).await;
    assert_eq!(frame["type"], "peer-left", "{frame}");
    let ended = recv(&mut b).await;
    assert_eq!(ended["data"]["phase"], "ended", "{ended}");
    let entry = api
        .wait_for(&id, "interrupted with a file", |e| {
            e["state"] == "interrupted" && e["duration_ms"].as_u64() > Some(1500)
        })
        .await;
    let first_bytes = entry["bytes"].as_u64().unwrap();
    let file = call(
        &server,
        "GET",
        entry["url"].as_str().unwrap(),
        None,
        Vec::new(),
        &[],
    )
    .await;
    assert_eq!(file.status, 200);
    assert!(server::recording::webm::verify(&file.body[..], file.body.len() as u64).is_ok());

    // A chunk that was in flight when the tab died arrives late: the file grows to include it.
    assert_eq!(api.put(&id, &upload, 3, &chunks[3]).await.status, 201);
    let grown = api
        .wait_for(&id, "re-finalized", |e| {
            e["bytes"].as_u64() > Some(first_bytes)
        })
        .await;
    assert_eq!(grown["state"], "interrupted");
}

#[tokio::test]
async fn a_silent_recorder_is_interrupted() {
    let dir = TempDir::new();
    let server = start_server(&dir, |c| c.recording_idle_ms = 300).await;
    let api = RoomApi {
        server: &server,
        room: "silent".into(),
    };
    let (mut a, _) = server.join("silent", "a").await;
    let (id, upload, _) = started(&api.start("a").await);
    assert_eq!(recv(&mut a).await["data"]["phase"], "recording");
    assert_eq!(api.put(&id, &upload, 0, &chunks()[0]).await.status, 201);
    // Still in the room, but no chunk for longer than the idle timeout.
    assert_eq!(recv(&mut a).await["data"]["phase"], "ended");
    api.wait_for(&id, "interrupted", |e| e["state"] == "interrupted")
        .await;
}

#[tokio::test]
async fn acknowledged_chunks_survive_a_server_restart() {
    let dir = TempDir::new();
    let chunks = chunks();
    let tweak = |c: &mut server::config::Config| c.recording_left_grace_ms = 10_000;
    let first = start_server(&dir, tweak).await;
    let (id, upload) = {
        let api = RoomApi {
            server: &first,
            room: "restart".into(),
        };
        let (_a, _) = first.join("restart", "a").await;
        let (id, upload, _) = started(&api.start("a").await);
        for seq in 0..3 {
            assert_eq!(
                api.put(&id, &upload, seq, &chunks[seq as usize])
                    .await
                    .status,
                201
            );
        }
        (id, upload)
    };
    first.shutdown.cancel();
    first.task.await.unwrap().unwrap();

    let second = start_server(&dir, tweak).await;
    let api = RoomApi {
        server: &second,
        room: "restart".into(),
    };
    let list = api.list().await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["state"], "recording");
    let stored: usize = chunks[..3].iter().map(Vec::len).sum();
    assert_eq!(list[0]["bytes"], stored);
    // The recorder comes back: its welcome says the room is still being recorded.
    let (_a, welcome) = second.join("restart", "a").await;
    assert_eq!(welcome["data"]["recording"]["id"], id.as_str());
    // Its unacknowledged chunks go on; an acknowledged one replayed is recognised.
    assert_eq!(api.put(&id, &upload, 2, &chunks[2]).await.status, 200);
    for (seq, chunk) in chunks.iter().enumerate().skip(3) {
        let ack = api.put(&id, &upload, seq as u64, chunk).await;
        assert_eq!(ack.status, 201);
        assert_eq!(ack.json()["contiguous"], seq);
    }
    let info = api.stop(&id, &upload).await.json();
    assert_eq!(info["state"], "complete");
    let file = call(
        &second,
        "GET",
        info["url"].as_str().unwrap(),
        None,
        Vec::new(),
        &[],
    )
    .await;
    let verified = server::recording::webm::verify(&file.body[..], file.body.len() as u64).unwrap();
    assert_eq!(verified.blocks, 190);
    tokio::time::sleep(Duration::from_millis(1)).await;
}
