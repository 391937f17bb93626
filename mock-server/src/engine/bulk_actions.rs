//! Bulk actions: DLQ deletes and retries and message cancels asked for by filter, each
//! with an id to ask about later. The mock carries them out at once, so every action is
//! `FINISHED` by the time its id is handed out.

use super::state::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// A bulk action as `GET /v2/bulkActions/{actionId}` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct BulkAction {
    /// The action's id.
    pub action_id: String,
    /// `delete` (DLQ), `retry` (DLQ) or `cancel` (messages).
    pub kind: String,
    /// `FINISHED`: the mock completes actions at once.
    pub state: String,
    /// How many items the filter selected.
    pub total: u64,
    /// How many were processed.
    pub processed: u64,
    /// Unix ms when it was asked for.
    pub created_at: u64,
    /// Unix ms when it finished.
    pub completed_at: u64,
    /// The filter, `{parameter: [values]}`.
    pub filter: BTreeMap<String, Vec<String>>,
}

/// Every bulk action of an engine.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct BulkActions {
    actions: BTreeMap<String, BulkAction>,
    created: u64,
}

impl Engine {
    /// Records a bulk action that processed `processed` items at `now`, and returns it.
    pub fn record_bulk_action(
        &mut self,
        now: u64,
        kind: &str,
        filter: BTreeMap<String, Vec<String>>,
        processed: u64,
    ) -> BulkAction {
        self.bulk_actions.created += 1;
        let action = BulkAction {
            action_id: action_id(self.config().seed, self.bulk_actions.created),
            kind: kind.to_owned(),
            state: "FINISHED".to_owned(),
            total: processed,
            processed,
            created_at: now,
            completed_at: now,
            filter,
        };
        self.bulk_actions
            .actions
            .insert(action.action_id.clone(), action.clone());
        action
    }

    /// The bulk action `action_id`, if it exists.
    pub fn bulk_action(&self, action_id: &str) -> Option<&BulkAction> {
        self.bulk_actions.actions.get(action_id)
    }
}

/// The id of the `n`-th bulk action.
fn action_id(seed: u64, n: u64) -> String {
    let mut hasher = Sha256::new();
    hasher.update(seed.to_be_bytes());
    hasher.update(b"bulk-action");
    hasher.update(n.to_be_bytes());
    let digest = hasher.finalize();
    format!("act_{}", bs58::encode(&digest[..16]).into_string())
}
