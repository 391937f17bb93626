//! Flow control: per-key limits on attempts in flight (`parallelism`) and attempts
//! started per period (`rate`), on the virtual clock.
//!
//! An attempt that comes due while its key is at a limit joins the key's waitlist; the
//! waitlist moves in order when an attempt of the key ends or when the rate's period
//! turns over. Attempts take no virtual time in the mock, so parallelism shows in the
//! order of deliveries and rate shows in their times.
//!
//! A key can also be managed: paused (nothing of it starts until it is resumed), pinned
//! (its limits stop following the publishes until unpinned) and reset.

use super::error::EngineError;
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
    /// Whether the parallelism is pinned, so publishes no longer change it.
    pub is_pinned_parallelism: bool,
    /// Whether the rate and its period are pinned, so publishes no longer change them.
    pub is_pinned_rate: bool,
    /// Whether delivery is paused: attempts of the key wait until it is resumed.
    pub is_paused: bool,
}

/// What `POST /v2/flowControl/{key}/{action}` asks of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FlowControlAction {
    /// Holds every attempt of the key that is not already in flight.
    Pause,
    /// Lets held attempts go again, within the key's limits.
    Resume,
    /// Fixes the given limits until unpinned and starts a fresh rate period. `period_ms`
    /// alone pins the rate's period and keeps its count.
    Pin {
        /// The parallelism to pin.
        parallelism: Option<u32>,
        /// The rate to pin.
        rate: Option<u32>,
        /// The rate's period to pin, in ms.
        period_ms: Option<u64>,
    },
    /// Lets publishes change the pinned limits again. The pinned values stay in force
    /// until a publish brings others.
    Unpin {
        /// Unpins the parallelism.
        parallelism: bool,
        /// Unpins the rate and its period.
        rate: bool,
    },
    /// Ends the current rate period: the count starts again from 0 now.
    ResetRate,
    /// Resumes the key, unpins both limits and resets the rate.
    Reset,
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
    /// Messages given a slot by the waitlist whose attempt has not started yet, in the
    /// order they were given it.
    granted: VecDeque<String>,
    waitlist: VecDeque<String>,
    window_start: Option<u64>,
    window_count: u32,
    #[serde(default)]
    paused: bool,
    #[serde(default)]
    pinned_parallelism: bool,
    #[serde(default)]
    pinned_rate: bool,
}

impl KeyState {
    fn new(number: u32, spec: &FlowControlSpec) -> Self {
        KeyState {
            number,
            parallelism: spec.parallelism,
            rate: spec.rate,
            period_ms: spec.period_ms,
            in_flight: BTreeSet::new(),
            granted: VecDeque::new(),
            waitlist: VecDeque::new(),
            window_start: None,
            window_count: 0,
            paused: false,
            pinned_parallelism: false,
            pinned_rate: false,
        }
    }

    /// Takes the limits a publish asked for, except those that are pinned.
    fn follow(&mut self, spec: &FlowControlSpec) {
        if !self.pinned_parallelism {
            self.parallelism = spec.parallelism;
        }
        if !self.pinned_rate {
            self.rate = spec.rate;
            self.period_ms = spec.period_ms;
        }
    }

    /// Starts a new rate period at `now` with nothing counted.
    fn restart_window(&mut self, now: u64) {
        self.window_start = Some(now);
        self.window_count = 0;
    }

    /// Removes `message_id` from the granted slots; whether it held one.
    fn take_grant(&mut self, message_id: &str) -> bool {
        let before = self.granted.len();
        self.granted.retain(|id| id != message_id);
        self.granted.len() != before
    }

    /// Gives the slots granted but not yet used back to the head of the waitlist, in
    /// the order they were granted, so a pause holds them too.
    fn return_grants(&mut self) {
        while let Some(message_id) = self.granted.pop_back() {
            self.window_count = self.window_count.saturating_sub(1);
            self.waitlist.push_front(message_id);
        }
    }

    fn apply(&mut self, now: u64, action: FlowControlAction) -> Result<(), EngineError> {
        match action {
            FlowControlAction::Pause => {
                self.paused = true;
                self.return_grants();
            }
            FlowControlAction::Resume => self.paused = false,
            FlowControlAction::Pin {
                parallelism,
                rate,
                period_ms,
            } => self.pin(now, parallelism, rate, period_ms)?,
            FlowControlAction::Unpin { parallelism, rate } => {
                self.pinned_parallelism &= !parallelism;
                self.pinned_rate &= !rate;
            }
            FlowControlAction::ResetRate => self.restart_window(now),
            FlowControlAction::Reset => {
                self.paused = false;
                self.pinned_parallelism = false;
                self.pinned_rate = false;
                self.restart_window(now);
            }
        }
        Ok(())
    }

    fn pin(
        &mut self,
        now: u64,
        parallelism: Option<u32>,
        rate: Option<u32>,
        period_ms: Option<u64>,
    ) -> Result<(), EngineError> {
        if parallelism.is_none() && rate.is_none() && period_ms.is_none() {
            return Err(EngineError::invalid(
                "pin",
                "give parallelism, rate or period to pin",
            ));
        }
        if let Some(parallelism) = parallelism {
            self.parallelism = Some(parallelism);
            self.pinned_parallelism = true;
        }
        if let Some(rate) = rate {
            self.rate = Some(rate);
        }
        if let Some(period_ms) = period_ms {
            self.period_ms = period_ms;
        }
        self.pinned_rate |= rate.is_some() || period_ms.is_some();
        // QStash documents that pinning starts the key's rate state afresh.
        self.restart_window(now);
        Ok(())
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

    /// Pauses, resumes, pins, unpins or resets the flow-control key `key` at `now`, and
    /// answers the key as it is afterwards. Attempts the change lets go are scheduled
    /// at `now`.
    ///
    /// # Errors
    /// [`EngineError::NotFound`] for a key no message used; [`EngineError::InvalidInput`]
    /// for a pin that names nothing to pin.
    pub fn manage_flow_control(
        &mut self,
        now: u64,
        key: &str,
        action: FlowControlAction,
    ) -> Result<FlowControlInfo, EngineError> {
        let state = self
            .flow_control
            .keys
            .get_mut(key)
            .ok_or_else(|| EngineError::NotFound {
                what: "flow control key",
                id: key.to_owned(),
            })?;
        // A pause takes back the slots granted but not yet used; their attempts go
        // back to the waitlist, so the ones already scheduled are dropped.
        let taken_back: Vec<String> = match action {
            FlowControlAction::Pause => state.granted.iter().cloned().collect(),
            _ => Vec::new(),
        };
        state.apply(now, action)?;
        for message_id in &taken_back {
            self.unschedule_delivery(message_id);
        }
        self.release_flow_control(now, key);
        self.flow_control_key(key)
            .ok_or_else(|| EngineError::NotFound {
                what: "flow control key",
                id: key.to_owned(),
            })
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
        state.follow(spec);
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
        if state.take_grant(message_id) {
            state.in_flight.insert(message_id.to_owned());
            return true;
        }
        if state.paused {
            if !state.waitlist.iter().any(|id| id == message_id) {
                state.waitlist.push_back(message_id.to_owned());
            }
            return false;
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
            state.take_grant(&message.message_id);
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
            if state.paused {
                return;
            }
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
                state.granted.push_back(message_id.clone());
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
            is_pinned_parallelism: state.pinned_parallelism,
            is_pinned_rate: state.pinned_rate,
            is_paused: state.paused,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{
        AttemptOutcome, CapturedResponse, EngineConfig, PublishRequest, PublishSettings, Routing,
    };
    use bytes::Bytes;

    const START: u64 = 1_893_456_000_000;
    const MINUTE: u64 = 60_000;

    fn publish(engine: &mut Engine, now: u64, key: &str, parallelism: u32) -> String {
        let request = PublishRequest {
            destination: "https://app.example.com/hook".to_owned(),
            body: Bytes::from_static(b"{}"),
            settings: PublishSettings::default(),
            caller_ip: None,
        };
        let routing = Routing {
            flow_control: Some(FlowControlSpec {
                key: key.to_owned(),
                parallelism: Some(parallelism),
                rate: None,
                period_ms: 1_000,
            }),
            ..Routing::default()
        };
        engine
            .publish_with(now, request, routing)
            .unwrap()
            .message_id
    }

    /// Runs every due instant up to `until`, answering 200; returns the attempt times
    /// relative to `START`.
    fn run(engine: &mut Engine, until: u64) -> Vec<u64> {
        let mut times = Vec::new();
        while let Some(at) = engine.next_due_at().filter(|at| *at <= until) {
            for attempt in engine.start_due(at) {
                times.push(at - START);
                let outcome = AttemptOutcome::Response(CapturedResponse {
                    status: 200,
                    headers: Vec::new(),
                    body: Bytes::new(),
                });
                engine.finish_attempt(at, &attempt, outcome);
            }
        }
        times
    }

    fn manage(engine: &mut Engine, now: u64, action: FlowControlAction) -> FlowControlInfo {
        engine.manage_flow_control(now, "k", action).unwrap()
    }

    #[test]
    fn a_paused_key_delivers_nothing_until_it_is_resumed() {
        let mut engine = Engine::new(EngineConfig::default());
        publish(&mut engine, START, "k", 2);
        manage(&mut engine, START, FlowControlAction::Pause);
        publish(&mut engine, START, "k", 2);

        let while_paused = run(&mut engine, START + 10 * MINUTE);
        let info = engine.flow_control_key("k").unwrap();
        manage(&mut engine, START + 10 * MINUTE, FlowControlAction::Resume);
        let after_resume = run(&mut engine, START + 20 * MINUTE);

        assert_eq!(while_paused, Vec::<u64>::new());
        assert!(info.is_paused);
        assert_eq!(info.wait_list_size, 2);
        assert_eq!(after_resume, vec![10 * MINUTE, 10 * MINUTE]);
    }

    #[test]
    fn a_pause_takes_back_a_slot_granted_but_not_yet_used() {
        let mut engine = Engine::new(EngineConfig::default());
        publish(&mut engine, START, "k", 1);
        publish(&mut engine, START, "k", 1);
        let first = engine.start_due(START).remove(0);
        let outcome = AttemptOutcome::Response(CapturedResponse {
            status: 200,
            headers: Vec::new(),
            body: Bytes::new(),
        });
        engine.finish_attempt(START, &first, outcome);

        let paused = manage(&mut engine, START, FlowControlAction::Pause);
        let while_paused = run(&mut engine, START + MINUTE);
        manage(&mut engine, START + MINUTE, FlowControlAction::Resume);
        let after_resume = run(&mut engine, START + 2 * MINUTE);

        assert_eq!((paused.wait_list_size, paused.parallelism_count), (1, 0));
        assert_eq!(while_paused, Vec::<u64>::new());
        assert_eq!(after_resume, vec![MINUTE]);
    }

    #[test]
    fn a_pinned_parallelism_outlasts_publishes_until_unpinned() {
        let mut engine = Engine::new(EngineConfig::default());
        publish(&mut engine, START, "k", 1);
        let pin = FlowControlAction::Pin {
            parallelism: Some(5),
            rate: None,
            period_ms: None,
        };

        let pinned = manage(&mut engine, START, pin);
        publish(&mut engine, START, "k", 2);
        let after_publish = engine.flow_control_key("k").unwrap();
        let unpin = FlowControlAction::Unpin {
            parallelism: true,
            rate: false,
        };
        let unpinned = manage(&mut engine, START, unpin);
        publish(&mut engine, START, "k", 3);
        let followed = engine.flow_control_key("k").unwrap();

        assert!(pinned.is_pinned_parallelism && !pinned.is_pinned_rate);
        assert_eq!(after_publish.parallelism_max, 5);
        assert_eq!(
            (unpinned.is_pinned_parallelism, unpinned.parallelism_max),
            (false, 5)
        );
        assert_eq!(followed.parallelism_max, 3);
    }

    #[test]
    fn reset_resumes_unpins_and_starts_a_new_rate_period() {
        let mut engine = Engine::new(EngineConfig::default());
        publish(&mut engine, START, "k", 1);
        run(&mut engine, START);
        manage(&mut engine, START, FlowControlAction::Pause);
        let pin = FlowControlAction::Pin {
            parallelism: None,
            rate: Some(4),
            period_ms: Some(MINUTE),
        };
        manage(&mut engine, START, pin);

        let reset = manage(&mut engine, START + 5_000, FlowControlAction::Reset);

        assert!(!reset.is_paused && !reset.is_pinned_rate && !reset.is_pinned_parallelism);
        assert_eq!((reset.rate_max, reset.rate_period), (4, 60));
        assert_eq!(reset.rate_count, 0);
        assert_eq!(reset.rate_period_start, (START + 5_000) / 1000);
    }

    #[test]
    fn unknown_keys_and_empty_pins_are_refused() {
        let mut engine = Engine::new(EngineConfig::default());
        publish(&mut engine, START, "k", 1);
        let empty_pin = FlowControlAction::Pin {
            parallelism: None,
            rate: None,
            period_ms: None,
        };

        let unknown = engine.manage_flow_control(START, "nope", FlowControlAction::Pause);
        let empty = engine.manage_flow_control(START, "k", empty_pin);

        assert_eq!(unknown.unwrap_err().status(), 404);
        assert_eq!(empty.unwrap_err().status(), 400);
    }

    #[test]
    fn pauses_and_pins_survive_export_and_import() {
        let mut engine = Engine::new(EngineConfig::default());
        publish(&mut engine, START, "k", 1);
        manage(&mut engine, START, FlowControlAction::Pause);
        let pin = FlowControlAction::Pin {
            parallelism: Some(2),
            rate: Some(3),
            period_ms: None,
        };
        manage(&mut engine, START, pin);
        run(&mut engine, START);

        let mut copy = Engine::import(engine.export()).unwrap();
        let info = copy.flow_control_key("k").unwrap();
        manage(&mut copy, START + MINUTE, FlowControlAction::Resume);

        assert!(info.is_paused && info.is_pinned_parallelism && info.is_pinned_rate);
        assert_eq!(info, engine.flow_control_key("k").unwrap());
        assert_eq!(run(&mut copy, START + MINUTE), vec![MINUTE]);
    }
}
