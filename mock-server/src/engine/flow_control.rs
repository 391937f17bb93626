//! Flow control: per-key limits on attempts in flight (`parallelism`) and attempts
//! started per period (`rate`), on the virtual clock.
//!
//! An attempt that comes due while its key is at a limit joins the key's waitlist; the
//! waitlist moves in order when an attempt of the key ends or when the rate's period
//! turns over. Attempts take no virtual time in the mock, so parallelism shows in the
//! order of deliveries and rate shows in their times.

use super::message::{FlowControlSpec, Message};
use super::state::Engine;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// A flow-control key as `GET /v2/flowControl/{key}` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct FlowControlInfo {
    /// The key.
    pub flow_control_key: String,
    /// Messages waiting for the key's limits.
    pub wait_list_size: u64,
    /// The parallelism limit, 0 when none.
    pub parallelism_max: u32,
    /// Attempts in flight.
    pub parallelism_count: u32,
    /// The rate limit, 0 when none.
    pub rate_max: u32,
    /// Attempts started in the current period.
    pub rate_count: u32,
    /// The rate's period, in seconds.
    pub rate_period: u64,
    /// The start of the current period, unix seconds (0 before the first attempt).
    pub rate_period_start: u64,
    /// Whether the limits are pinned (never on the mock).
    pub is_pinned_parallelism: bool,
    /// Whether the rate is pinned (never on the mock).
    pub is_pinned_rate: bool,
    /// Whether delivery is paused (never on the mock).
    pub is_paused: bool,
}

/// Global parallelism as `GET /v2/globalParallelism` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GlobalParallelism {
    /// The plan's limit (reported, not enforced).
    pub parallelism_max: u32,
    /// Attempts in flight across every key.
    pub parallelism_count: u32,
}

/// Every flow-control key an engine has seen.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct FlowControls {
    keys: BTreeMap<String, KeyState>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyState {
    /// Creation number, which orders the key's wake-ups among other work.
    number: u32,
    parallelism: Option<u32>,
    rate: Option<u32>,
    period_ms: u64,
    in_flight: BTreeSet<String>,
    /// Messages given a slot by the waitlist whose attempt has not started yet.
    granted: BTreeSet<String>,
    waitlist: VecDeque<String>,
    window_start: Option<u64>,
    window_count: u32,
}

impl KeyState {
    fn new(number: u32, spec: &FlowControlSpec) -> Self {
        KeyState {
            number,
            parallelism: spec.parallelism,
            rate: spec.rate,
            period_ms: spec.period_ms,
            in_flight: BTreeSet::new(),
            granted: BTreeSet::new(),
            waitlist: VecDeque::new(),
            window_start: None,
            window_count: 0,
        }
    }

    /// Starts a new rate period when the current one is over.
    fn turn_window(&mut self, now: u64) {
        let over = self
            .window_start
            .is_none_or(|start| now >= start.saturating_add(self.period_ms));
        if over {
            self.window_start = Some(now);
            self.window_count = 0;
        }
    }

    fn has_parallelism(&self) -> bool {
        self.parallelism
            .is_none_or(|max| (self.in_flight.len() + self.granted.len()) < max as usize)
    }

    fn has_rate(&self) -> bool {
        self.rate.is_none_or(|max| self.window_count < max)
    }

    fn take_slot(&mut self, message_id: &str) {
        self.in_flight.insert(message_id.to_owned());
        self.window_count += 1;
    }

    /// When the rate blocks, the instant the period turns over.
    fn rate_reopens_at(&self) -> Option<u64> {
        if self.has_rate() {
            return None;
        }
        self.window_start
            .map(|start| start.saturating_add(self.period_ms))
    }
}

impl Engine {
    /// Every flow-control key whose name contains `search` (all without it).
    pub fn flow_control_keys(&self, search: Option<&str>) -> Vec<FlowControlInfo> {
        self.flow_control
            .keys
            .iter()
            .filter(|(key, _)| search.is_none_or(|s| key.contains(s)))
            .map(|(key, state)| self.flow_info(key, state))
            .collect()
    }

    /// The flow-control key `key`, if any message used it.
    pub fn flow_control_key(&self, key: &str) -> Option<FlowControlInfo> {
        let state = self.flow_control.keys.get(key)?;
        Some(self.flow_info(key, state))
    }

    /// Attempts in flight across the engine, against the plan's parallelism.
    ///
    /// TODO: the plan's global parallelism is reported but not enforced.
    pub fn global_parallelism(&self) -> GlobalParallelism {
        let in_flight = self
            .messages()
            .filter(|m| m.state == super::message::MessageState::Active)
            .count();
        GlobalParallelism {
            parallelism_max: self.config().plan.max_parallelism(),
            parallelism_count: in_flight as u32,
        }
    }

    /// Registers a message's key, or updates its limits: the latest publish wins.
    pub(super) fn register_flow_control(&mut self, message: &Message) {
        let Some(spec) = &message.routing.flow_control else {
            return;
        };
        let number = self.flow_control.keys.len() as u32 + 1;
        let state = self
            .flow_control
            .keys
            .entry(spec.key.clone())
            .or_insert_with(|| KeyState::new(number, spec));
        state.parallelism = spec.parallelism;
        state.rate = spec.rate;
        state.period_ms = spec.period_ms;
    }

    /// Whether the attempt of `message_id` due at `now` may start; if not, the message
    /// joins its key's waitlist.
    pub(super) fn flow_control_admits(&mut self, now: u64, message_id: &str) -> bool {
        let Some(spec) = self
            .held_message(message_id)
            .and_then(|m| m.routing.flow_control.clone())
        else {
            return true;
        };
        if !self.flow_control.keys.contains_key(&spec.key) {
            let number = self.flow_control.keys.len() as u32 + 1;
            self.flow_control
                .keys
                .insert(spec.key.clone(), KeyState::new(number, &spec));
        }
        let Some(state) = self.flow_control.keys.get_mut(&spec.key) else {
            return true;
        };
        if state.granted.remove(message_id) {
            state.in_flight.insert(message_id.to_owned());
            return true;
        }
        state.turn_window(now);
        // The waitlist is first in, first out: nobody overtakes a waiting message.
        if state.waitlist.is_empty() && state.has_parallelism() && state.has_rate() {
            state.take_slot(message_id);
            return true;
        }
        if !state.waitlist.iter().any(|id| id == message_id) {
            state.waitlist.push_back(message_id.to_owned());
        }
        if let Some(at) = state.rate_reopens_at() {
            let number = state.number;
            self.schedule_release(at, number, &spec.key);
        }
        false
    }

    /// Frees the slot of an attempt that ended and moves the waitlist.
    pub(super) fn attempt_ended(&mut self, now: u64, message: &Message) {
        let Some(spec) = &message.routing.flow_control else {
            return;
        };
        if let Some(state) = self.flow_control.keys.get_mut(&spec.key) {
            state.in_flight.remove(&message.message_id);
        }
        self.release_flow_control(now, &spec.key);
    }

    /// Forgets a message that left the engine (delivered, failed or cancelled).
    pub(super) fn flow_control_message_left(&mut self, now: u64, message: &Message) {
        let Some(spec) = &message.routing.flow_control else {
            return;
        };
        if let Some(state) = self.flow_control.keys.get_mut(&spec.key) {
            state.in_flight.remove(&message.message_id);
            state.granted.remove(&message.message_id);
            state.waitlist.retain(|id| *id != message.message_id);
        }
        self.release_flow_control(now, &spec.key);
    }

    /// Gives waiting messages of `key` the slots that are free at `now`.
    pub(super) fn release_flow_control(&mut self, now: u64, key: &str) {
        loop {
            let Some(state) = self.flow_control.keys.get_mut(key) else {
                return;
            };
            state.turn_window(now);
            let Some(message_id) = state.waitlist.front().cloned() else {
                return;
            };
            if !(state.has_parallelism() && state.has_rate()) {
                if let Some(at) = state.rate_reopens_at() {
                    let number = state.number;
                    self.schedule_release(at, number, key);
                }
                return;
            }
            state.waitlist.pop_front();
            let Some(order) = self.held_message(&message_id).map(|m| m.order) else {
                continue;
            };
            if let Some(state) = self.flow_control.keys.get_mut(key) {
                state.window_count += 1;
                state.granted.insert(message_id.clone());
            }
            self.schedule_delivery(now, order, &message_id);
        }
    }

    fn flow_info(&self, key: &str, state: &KeyState) -> FlowControlInfo {
        let waiting = state
            .waitlist
            .iter()
            .filter(|id| self.held_message(id).is_some())
            .count();
        FlowControlInfo {
            flow_control_key: key.to_owned(),
            wait_list_size: waiting as u64,
            parallelism_max: state.parallelism.unwrap_or(0),
            parallelism_count: (state.in_flight.len() + state.granted.len()) as u32,
            rate_max: state.rate.unwrap_or(0),
            rate_count: state.window_count,
            rate_period: state.period_ms / 1000,
            rate_period_start: state.window_start.map_or(0, |ms| ms / 1000),
            is_pinned_parallelism: false,
            is_pinned_rate: false,
            is_paused: false,
        }
    }
}
