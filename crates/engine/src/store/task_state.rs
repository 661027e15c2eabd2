//! A migration task's states: one enum, spelt once for SQL, JSON, panes and metrics labels.

use serde::{Deserialize, Serialize};

/// A task's state; ordered as a task passes through them, spelled by `as_str` everywhere (SQL,
/// JSON, panes, metrics labels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    Pending,
    /// Waiting for an archived source to be restored (S3 `RestoreObject`) before it can be read.
    Restoring,
    Copying,
    Verifying,
    Switching,
    Cleaning,
    Done,
    Deferred,
    Failed,
    Cancelled,
}

impl TaskState {
    pub const ALL: [TaskState; 10] = [
        TaskState::Pending,
        TaskState::Restoring,
        TaskState::Copying,
        TaskState::Verifying,
        TaskState::Switching,
        TaskState::Cleaning,
        TaskState::Done,
        TaskState::Deferred,
        TaskState::Failed,
        TaskState::Cancelled,
    ];

    /// Position in `ALL` (for lock-free sharing of a task's current state).
    pub fn index(self) -> usize {
        Self::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Pending => "pending",
            TaskState::Restoring => "restoring",
            TaskState::Copying => "copying",
            TaskState::Verifying => "verifying",
            TaskState::Switching => "switching",
            TaskState::Cleaning => "cleaning",
            TaskState::Done => "done",
            TaskState::Deferred => "deferred",
            TaskState::Failed => "failed",
            TaskState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The states a task ends in.
    pub const FINISHED: [TaskState; 3] = [TaskState::Done, TaskState::Failed, TaskState::Cancelled];

    /// The states a task waits in before a worker takes it.
    pub const QUEUED: [TaskState; 2] = [TaskState::Pending, TaskState::Deferred];

    pub fn is_terminal(self) -> bool {
        Self::FINISHED.contains(&self)
    }

    /// `states` as an SQL list for `state IN …`: the one place state names are spelt for SQL.
    pub fn sql(states: &[TaskState]) -> String {
        let names: Vec<String> = states.iter().map(|s| format!("'{}'", s.as_str())).collect();
        format!("({})", names.join(", "))
    }
}

impl std::fmt::Display for TaskState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// Reason recorded when a source is being written to: not a failure, the task comes back later.
pub const FILE_GROWING: &str = "file_growing";
/// Deferral reason: the source object was not there while the store still placed it there (a
/// DELETE may be on its way through ingest); a second miss fails the task.
pub const SOURCE_MISSING: &str = "source_missing";
