//! The call's background loops (signaling connection, stats), cancelled together on leave.
//!
//! A loop that outlived its call would keep reconnecting to a room the person left and hold the
//! whole session alive; aborting drops the future, and with it every handle it held.

use std::cell::RefCell;
use std::future::Future;

use futures::future::{AbortHandle, Abortable};
use wasm_bindgen_futures::spawn_local;

/// A set of running tasks.
#[derive(Default)]
pub struct Tasks {
    handles: RefCell<Vec<AbortHandle>>,
}

impl Tasks {
    /// Runs `task` until it finishes or [`Tasks::cancel_all`].
    pub fn spawn(&self, task: impl Future<Output = ()> + 'static) {
        let (handle, registration) = AbortHandle::new_pair();
        self.handles.borrow_mut().push(handle);
        spawn_local(async move {
            let _ = Abortable::new(task, registration).await;
        });
    }

    /// Stops every task at its next suspension point (they are single-threaded futures, so none
    /// is running while this runs).
    pub fn cancel_all(&self) {
        for handle in self.handles.borrow_mut().drain(..) {
            handle.abort();
        }
    }
}

impl Drop for Tasks {
    fn drop(&mut self) {
        self.cancel_all();
    }
}
