//! App-wide state: the storage connection, the unlocked session, and the lock.
//!
//! The session (decrypted record and keys) lives in a non-reactive `StoredValue`; reactive code
//! reads it through [`AppCtx::with_session`] and re-runs when [`AppCtx::revision`] changes. Locking
//! drops the session, which zeroizes the vault key, and bumps the revision so every view that
//! showed record data renders nothing.

use std::cell::Cell;
use std::rc::Rc;

use leptos::prelude::*;

use crate::platform::idb::Db;
use crate::platform::time::now_ms;
use crate::session::Session;

/// Where the app is.
#[derive(Clone, Debug, PartialEq)]
pub enum Phase {
    /// Opening storage.
    Starting,
    /// IndexedDB cannot be used (e.g. a private window that forbids it).
    StorageUnavailable(String),
    /// No vault is open.
    Locked,
    /// A vault is open.
    Unlocked,
}

/// A message shown in the app's status area.
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    pub kind: NoticeKind,
    pub text: String,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NoticeKind {
    Info,
    Success,
    Error,
}

/// What happens after the record locks (set by the record module).
type LockHook = Rc<dyn Fn(Option<String>)>;

#[derive(Clone, Copy)]
pub struct AppCtx {
    db: StoredValue<Option<Db>, LocalStorage>,
    session: StoredValue<Option<Rc<Session>>, LocalStorage>,
    pub phase: RwSignal<Phase>,
    /// Bumped whenever the record changes or the vault locks/unlocks.
    pub revision: RwSignal<u64>,
    pub notice: RwSignal<Option<Notice>>,
    /// Why the vault was last locked (shown on the unlock screen).
    pub lock_reason: RwSignal<Option<String>>,
    last_activity: StoredValue<Rc<Cell<f64>>, LocalStorage>,
    on_lock: StoredValue<Option<LockHook>, LocalStorage>,
}

impl AppCtx {
    pub fn new() -> AppCtx {
        AppCtx {
            db: StoredValue::new_local(None),
            session: StoredValue::new_local(None),
            phase: RwSignal::new(Phase::Starting),
            revision: RwSignal::new(0),
            notice: RwSignal::new(None),
            lock_reason: RwSignal::new(None),
            last_activity: StoredValue::new_local(Rc::new(Cell::new(now_ms()))),
            on_lock: StoredValue::new_local(None),
        }
    }

    pub fn expect() -> AppCtx {
        expect_context::<AppCtx>()
    }

    pub fn set_db(&self, db: Db) {
        self.db.set_value(Some(db));
    }

    pub fn db(&self) -> Option<Db> {
        self.db.with_value(Clone::clone)
    }

    /// The open session, if any (cloning the `Rc` is cheap; don't keep it after locking).
    pub fn session(&self) -> Option<Rc<Session>> {
        self.session.with_value(Clone::clone)
    }

    /// Reads from the open session, tracking the revision so the caller re-runs on changes.
    pub fn with_session<T>(&self, f: impl FnOnce(&Session) -> T) -> Option<T> {
        self.revision.track();
        self.session.with_value(|s| s.as_deref().map(f))
    }

    /// The views' index of the open record (tracked: callers re-run when the record changes).
    pub fn index(&self) -> Option<Rc<phr_views::Index>> {
        self.revision.track();
        self.session.with_value(|s| s.as_ref().map(|s| s.index()))
    }

    pub fn unlocked(&self, session: Session) {
        self.session.set_value(Some(session.into_shared()));
        self.lock_reason.set(None);
        self.touch();
        self.phase.set(Phase::Unlocked);
        self.revision.update(|r| *r += 1);
    }

    /// What to do after locking (the record module unmounts itself and tells the shell).
    pub fn set_on_lock(&self, f: impl Fn(Option<String>) + 'static) {
        self.on_lock.set_value(Some(Rc::new(f)));
    }

    /// Drops the session (keys and record) and marks the app locked, without telling anyone.
    pub fn clear_session(&self) {
        self.session.set_value(None);
        self.notice.set(None);
        if self.phase.get_untracked() == Phase::Unlocked {
            self.phase.set(Phase::Locked);
        }
        self.revision.update(|r| *r += 1);
    }

    /// Drops the keys and the decrypted record, and every view of them.
    pub fn lock(&self, reason: Option<String>) {
        if let Some(f) = self.on_lock.with_value(Clone::clone) {
            f(reason);
            return;
        }
        self.session.set_value(None);
        self.notice.set(None);
        self.lock_reason.set(reason);
        if self.phase.get_untracked() == Phase::Unlocked {
            self.phase.set(Phase::Locked);
        }
        self.revision.update(|r| *r += 1);
    }

    /// Call after changing the record: views re-render.
    pub fn changed(&self) {
        self.revision.update(|r| *r += 1);
    }

    pub fn say(&self, kind: NoticeKind, text: impl Into<String>) {
        self.notice.set(Some(Notice {
            kind,
            text: text.into(),
        }));
    }

    /// Records user activity (for the idle lock).
    pub fn touch(&self) {
        self.last_activity.with_value(|c| c.set(now_ms()));
    }

    pub fn idle_ms(&self) -> f64 {
        now_ms() - self.last_activity.with_value(|c| c.get())
    }
}

impl Default for AppCtx {
    fn default() -> Self {
        Self::new()
    }
}
