//! Ends recordings whose recorder left the room or went silent, and finalizes them from what
//! arrived: a crashed tab still leaves a playable file.

use std::sync::Arc;

use protocol::RecordingState;
use tokio_util::sync::CancellationToken;

use super::service::Recordings;

/// Runs until `shutdown`, checking every [`watchdog_tick`](super::RecordingSettings::watchdog_tick).
pub async fn run(recordings: Arc<Recordings>, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(recordings.settings().watchdog_tick());
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        for id in recordings.overdue().await {
            tracing::info!(id = %id, "recorder gone: finalizing the recording as interrupted");
            if recordings
                .end(&id, RecordingState::Interrupted)
                .await
                .is_ok()
            {
                let recordings = recordings.clone();
                tokio::spawn(async move { recordings.finalize(&id).await });
            }
        }
    }
}
