//! The engine's state and every transition it knows.

use super::attempt::{AttemptOutcome, OutgoingRequest};
use super::config::{EngineConfig, SignatureTime, SigningKeys};
use super::dlq::{DlqEntry, DlqFilter, DlqPage, RecordedResponse};
use super::error::EngineError;
use super::events::{DlqReason, Event, EventKind, EventLog, NextRetry};
use super::ids;
use super::message::{CallbackSpec, Message, MessageKind, MessageState, OrderKey, Routing};
use super::publish::{PublishRequest, PublishSettings, Published};
use crate::rules::{canonical_header_name, choose_retry_delay, format_duration_ms, RetryDelay};
use crate::signing::{body_hash, sign_claims, SignatureClaims};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// When a piece of work is due and where it sits among work due at the same instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
struct DueKey {
    at: u64,
    order: OrderKey,
    /// Deliveries (0) run before expiries (1) of the same order key.
    slot: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "work", rename_all = "camelCase")]
enum Work {
    Deliver {
        message_id: String,
    },
    Expire {
        dlq_id: String,
    },
    /// A schedule's firing.
    #[serde(rename_all = "camelCase")]
    Fire {
        schedule_id: String,
    },
    /// The end of a flow-control key's rate period: its waitlist may move again.
    Release {
        key: String,
    },
}

/// Where a DLQ entry sits: entry time, then its number within that millisecond.
type DlqKey = (u64, u32);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DedupRecord {
    message_id: String,
    expires_at: u64,
}

/// An attempt the shell is to perform, as handed out by [`Engine::start_due`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The message being attempted.
    pub message_id: String,
    /// Its place in the order of work; outcomes are applied in this order.
    pub order: OrderKey,
    /// The attempt's `Upstash-Retried`.
    pub retried: u32,
    /// Unix ms at which the attempt was due.
    pub due_at: u64,
    /// The request to send.
    pub request: OutgoingRequest,
}

/// The QStash state machine. See the module docs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Engine {
    config: EngineConfig,
    keys: SigningKeys,
    rotations: u64,
    /// API calls that created a message chain so far.
    origins: u64,
    /// Messages derived from each origin so far.
    derived: BTreeMap<u64, u32>,
    #[serde(with = "super::serde_util::sorted")]
    messages: HashMap<String, Message>,
    #[serde(with = "super::serde_util::pairs")]
    due: BTreeMap<DueKey, Work>,
    #[serde(with = "super::serde_util::pairs")]
    dlq: BTreeMap<DlqKey, DlqEntry>,
    #[serde(skip)]
    dlq_index: HashMap<String, DlqKey>,
    last_dlq_key: Option<DlqKey>,
    dedup: BTreeMap<String, DedupRecord>,
    /// How many dedup records trigger the next sweep of expired ones.
    #[serde(default)]
    dedup_sweep_at: usize,
    events: EventLog,
    #[serde(default)]
    pub(super) topics: super::topics::Topics,
    #[serde(default)]
    pub(super) queues: super::queues::Queues,
    #[serde(default)]
    pub(super) schedules: super::schedules::Schedules,
    #[serde(default)]
    pub(super) flow_control: super::flow_control::FlowControls,
    #[serde(default)]
    pub(super) bulk_actions: super::bulk_actions::BulkActions,
    #[serde(default)]
    pub(super) quota: super::quota::QuotaUsage,
}

impl Engine {
    /// An empty engine.
    pub fn new(config: EngineConfig) -> Self {
        Engine {
            keys: config.signing_keys.clone(),
            config,
            rotations: 0,
            origins: 0,
            derived: BTreeMap::new(),
            messages: HashMap::new(),
            due: BTreeMap::new(),
            dlq: BTreeMap::new(),
            dlq_index: HashMap::new(),
            last_dlq_key: None,
            dedup: BTreeMap::new(),
            dedup_sweep_at: 0,
            events: EventLog::default(),
            topics: Default::default(),
            queues: Default::default(),
            schedules: Default::default(),
            flow_control: Default::default(),
            bulk_actions: Default::default(),
            quota: Default::default(),
        }
    }

    /// Restores an engine from the JSON that [`Engine::export`] wrote.
    ///
    /// # Errors
    /// When the JSON is not an exported engine state.
    pub fn import(value: serde_json::Value) -> Result<Self, serde_json::Error> {
        let mut engine: Engine = serde_json::from_value(value)?;
        engine.dlq_index = engine
            .dlq
            .iter()
            .map(|(key, entry)| (entry.dlq_id.clone(), *key))
            .collect();
        Ok(engine)
    }

    /// The whole state as JSON, for [`Engine::import`].
    pub fn export(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_else(|err| {
            // Every field is plain data with string keys, so this cannot fail; keep the
            // error visible rather than panic if a future field breaks that.
            serde_json::json!({ "error": err.to_string() })
        })
    }

    /// The settings the engine was built with.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The signing keys in force.
    pub fn signing_keys(&self) -> &SigningKeys {
        &self.keys
    }

    /// Accepts a publish to a URL destination.
    ///
    /// # Errors
    /// [`EngineError::InvalidInput`] for a destination that is not an http(s) URL or a
    /// delay over the plan's limit; [`EngineError::PayloadTooLarge`] for a body over it.
    pub fn publish(&mut self, now: u64, request: PublishRequest) -> Result<Published, EngineError> {
        self.publish_with(now, request, Routing::default())
    }

    /// Accepts a publish that came through a URL group, queue or schedule, or that
    /// carries flow control.
    pub fn publish_with(
        &mut self,
        now: u64,
        request: PublishRequest,
        routing: Routing,
    ) -> Result<Published, EngineError> {
        validate_destination(&request.destination)?;
        self.check_body_size(request.body.len())?;
        let not_before = self.not_before(now, &request.settings)?;
        // One publish to a URL group fans out to several messages that share the
        // deduplication id, so the key is scoped to the endpoint.
        let dedup_key = deduplication_key(&request).map(|key| match &routing.topic_name {
            Some(_) => format!("{key}@{}", request.destination),
            None => key,
        });
        self.forget_expired_dedup(now);

        if let Some(key) = &dedup_key {
            if let Some(record) = self.dedup.get(key).filter(|r| r.expires_at > now) {
                let message_id = record.message_id.clone();
                self.origins += 1;
                let order = OrderKey {
                    origin: self.origins,
                    derived: 0,
                };
                self.record(
                    order,
                    now,
                    EventKind::Deduplicated {
                        message_id: message_id.clone(),
                        deduplication_id: key.clone(),
                    },
                );
                return Ok(Published {
                    message_id,
                    url: request.destination,
                    deduplicated: true,
                });
            }
        }

        self.origins += 1;
        let order = OrderKey {
            origin: self.origins,
            derived: 0,
        };
        let message_id = ids::message_id(self.config.seed, self.origins);
        let settings = request.settings;
        let message = Message {
            message_id: message_id.clone(),
            order,
            kind: MessageKind::Published,
            url: request.destination.clone(),
            method: settings.method.clone().unwrap_or_else(|| "POST".to_owned()),
            headers: message_headers(&settings),
            body: request.body,
            body_hash: String::new(),
            max_retries: settings.retries.unwrap_or(self.config.default_retries),
            retry_delay: settings.retry_delay.clone(),
            timeout_ms: self.attempt_timeout(settings.timeout_ms),
            not_before,
            created_at: now,
            callback: settings.callback.clone(),
            failure_callback: settings.failure_callback.clone(),
            labels: settings.labels.clone(),
            deduplication_id: dedup_key.clone(),
            caller_ip: request.caller_ip,
            retried: 0,
            state: MessageState::Created,
            next_delivery_at: Some(not_before),
            routing,
        };
        self.quota.count_message(now);
        if let Some(key) = dedup_key {
            let expires_at = now.saturating_add(self.config.dedup_window_ms);
            self.dedup.insert(
                key,
                DedupRecord {
                    message_id: message_id.clone(),
                    expires_at,
                },
            );
        }
        self.enqueue(now, message, None);
        Ok(Published {
            message_id,
            url: request.destination,
            deduplicated: false,
        })
    }

    /// Unix ms of the earliest due work, if any.
    pub fn next_due_at(&self) -> Option<u64> {
        self.due.keys().next().map(|key| key.at)
    }

    /// Whether nothing is scheduled at all.
    pub fn is_idle(&self) -> bool {
        self.due.is_empty()
    }

    /// Takes every piece of work due at or before `now`, in (due time, order) order.
    ///
    /// Expiries take effect at once. Deliveries come back as [`Attempt`]s; the caller
    /// performs them (concurrently if it likes) and hands each outcome to
    /// [`Engine::finish_attempt`], in the order returned here.
    pub fn start_due(&mut self, now: u64) -> Vec<Attempt> {
        self.start_due_at(now, now)
    }

    /// [`Engine::start_due`], with the wall clock's reading given for signatures made
    /// under [`SignatureTime::ReceiverSafe`](super::SignatureTime::ReceiverSafe).
    pub fn start_due_at(&mut self, now: u64, wall_ms: u64) -> Vec<Attempt> {
        let mut attempts = Vec::new();
        while let Some(entry) = self.due.first_entry() {
            if entry.key().at > now {
                break;
            }
            let (key, work) = entry.remove_entry();
            match work {
                Work::Deliver { message_id } => {
                    if !self.flow_control_admits(key.at, &message_id) {
                        continue;
                    }
                    if let Some(attempt) = self.begin_attempt(key, &message_id, wall_ms) {
                        attempts.push(attempt);
                    }
                }
                Work::Expire { dlq_id } => self.expire(key.at, &dlq_id),
                Work::Fire { schedule_id } => self.fire_schedule(key.at, &schedule_id),
                Work::Release { key: flow_key } => self.release_flow_control(key.at, &flow_key),
            }
        }
        attempts
    }

    /// Applies what an attempt produced, at `now`.
    pub fn finish_attempt(&mut self, now: u64, attempt: &Attempt, outcome: AttemptOutcome) {
        let Some(message) = self.messages.get(&attempt.message_id) else {
            return;
        };
        if message.state == MessageState::CancelRequested {
            // The cancel already took effect in the log; the answer is dropped.
            let message = message.clone();
            self.messages.remove(&attempt.message_id);
            self.attempt_ended(now, &message);
            self.message_left(now, &message);
            return;
        }
        let response = recorded_response(&outcome);
        let plain_retry = !(200..300).contains(&response.status)
            && !is_non_retryable(&outcome)
            && message.retried < message.max_retries
            && message.callback.is_none()
            && message.routing.flow_control.is_none();
        if plain_retry {
            // The common case, a retry with no callback and no flow control to tell,
            // needs no copy of the message.
            let (order, retried) = (message.order, message.retried);
            let delay = choose_retry_delay(
                retried,
                message.retry_delay.as_ref(),
                &response.headers,
                now,
            );
            let message_id = message.message_id.clone();
            if response.status != 0 {
                self.events.remember_answer(&message_id, retried, response);
            }
            self.retry_later(now, order, message_id, retried, delay, &outcome);
            return;
        }
        let message = message.clone();
        self.attempt_ended(now, &message);
        if !(200..300).contains(&response.status) && response.status != 0 {
            self.events
                .remember_answer(&message.message_id, message.retried, response.clone());
        }

        if (200..300).contains(&response.status) {
            self.record(
                message.order,
                now,
                EventKind::AttemptSucceeded {
                    message_id: message.message_id.clone(),
                    retried: message.retried,
                    status: response.status,
                },
            );
            self.publish_callback(now, &message, &response);
            self.messages.remove(&message.message_id);
            self.message_left(now, &message);
            return;
        }

        let non_retryable = is_non_retryable(&outcome);
        if non_retryable || message.retried >= message.max_retries {
            let (status, error) = describe_failure(&outcome);
            self.record(
                message.order,
                now,
                EventKind::AttemptFailed {
                    message_id: message.message_id.clone(),
                    retried: message.retried,
                    status,
                    error,
                    next_retry: None,
                },
            );
            self.publish_callback(now, &message, &response);
            let reason = if non_retryable {
                DlqReason::NonRetryable
            } else {
                DlqReason::RetriesExhausted
            };
            self.move_to_dlq(now, message, reason, response);
            return;
        }

        // The rules pick the delay: a response header first, then the message's own
        // expression, then QStash's default backoff.
        let delay = choose_retry_delay(
            message.retried,
            message.retry_delay.as_ref(),
            &response.headers,
            now,
        );
        let message_id = message.message_id.clone();
        self.retry_later(
            now,
            message.order,
            message_id,
            message.retried,
            delay,
            &outcome,
        );
        self.publish_callback(now, &message, &response);
    }

    /// Records a failed attempt and schedules the next one after `delay`.
    fn retry_later(
        &mut self,
        now: u64,
        order: OrderKey,
        message_id: String,
        retried: u32,
        delay: RetryDelay,
        outcome: &AttemptOutcome,
    ) {
        let (status, error) = describe_failure(outcome);
        let at = now.saturating_add(delay.delay_ms);
        let explanation = delay.rule.explain(delay.delay_ms);
        self.record(
            order,
            now,
            EventKind::AttemptFailed {
                message_id: message_id.clone(),
                retried,
                status,
                error,
                next_retry: Some(NextRetry {
                    at,
                    delay,
                    explanation,
                }),
            },
        );
        if let Some(stored) = self.messages.get_mut(&message_id) {
            stored.retried += 1;
            stored.state = MessageState::Retry;
            stored.next_delivery_at = Some(at);
        }
        self.schedule(at, order, 0, Work::Deliver { message_id });
    }

    /// A message the engine still holds (waiting, being attempted or retrying).
    pub fn message(&self, message_id: &str) -> Option<&Message> {
        self.messages
            .get(message_id)
            .filter(|message| message.state != MessageState::CancelRequested)
    }

    /// Every message the engine still holds, in the order they were created.
    pub fn messages(&self) -> impl Iterator<Item = &Message> {
        let mut held: Vec<&Message> = self
            .messages
            .values()
            .filter(|message| message.state != MessageState::CancelRequested)
            .collect();
        held.sort_by_key(|message| message.order);
        held.into_iter()
    }

    /// Cancels a message: it gets no further attempt and never reaches the DLQ.
    ///
    /// # Errors
    /// [`EngineError::NotFound`] when the engine does not hold the message.
    pub fn cancel(&mut self, now: u64, message_id: &str) -> Result<(), EngineError> {
        let Some(message) = self.message(message_id) else {
            return Err(EngineError::NotFound {
                what: "message",
                id: message_id.to_owned(),
            });
        };
        let order = message.order;
        let in_flight = message.state == MessageState::Active;
        let scheduled = message
            .next_delivery_at
            .map(|at| DueKey { at, order, slot: 0 });
        let is_this =
            |work: &Work| matches!(work, Work::Deliver { message_id: id } if id == message_id);
        // The delivery usually sits at the key the message records; look there first and
        // scan the whole schedule only when it is elsewhere (held back by flow control).
        match scheduled.and_then(|key| self.due.get(&key).filter(|w| is_this(w)).map(|_| key)) {
            Some(key) => {
                self.due.remove(&key);
            }
            None => self.due.retain(|_, work| !is_this(work)),
        }
        if in_flight {
            if let Some(message) = self.messages.get_mut(message_id) {
                message.state = MessageState::CancelRequested;
            }
        } else if let Some(message) = self.messages.remove(message_id) {
            self.message_left(now, &message);
        }
        self.record(
            order,
            now,
            EventKind::Cancelled {
                message_id: message_id.to_owned(),
            },
        );
        Ok(())
    }

    /// Cancels every held message, returning how many.
    pub fn cancel_all(&mut self, now: u64) -> usize {
        let ids: Vec<String> = self.messages().map(|m| m.message_id.clone()).collect();
        ids.iter().filter(|id| self.cancel(now, id).is_ok()).count()
    }

    /// One DLQ entry.
    pub fn dlq_entry(&self, dlq_id: &str) -> Option<&DlqEntry> {
        self.dlq_index.get(dlq_id).and_then(|key| self.dlq.get(key))
    }

    /// Every DLQ entry, oldest first.
    pub fn dlq_entries(&self) -> impl Iterator<Item = &DlqEntry> {
        self.dlq.values()
    }

    /// A page of the DLQ entries that pass `filter`, oldest first.
    ///
    /// # Errors
    /// [`EngineError::InvalidInput`] for a cursor this engine did not hand out.
    pub fn dlq_page(
        &self,
        filter: &DlqFilter,
        cursor: Option<&str>,
        count: usize,
    ) -> Result<DlqPage, EngineError> {
        let start = match cursor {
            Some(cursor) => parse_cursor(cursor)?,
            None => (0, 0),
        };
        let mut matching = self
            .dlq
            .range(start..)
            .map(|(_, entry)| entry)
            .filter(|entry| filter.matches(entry));
        let entries: Vec<DlqEntry> = matching.by_ref().take(count).cloned().collect();
        let cursor = matching.next().map(|next| {
            let key = self.dlq_index[&next.dlq_id];
            format!("{}-{}", key.0, key.1)
        });
        Ok(DlqPage { entries, cursor })
    }

    /// Deletes one DLQ entry.
    ///
    /// # Errors
    /// [`EngineError::NotFound`] for an unknown or expired entry.
    pub fn dlq_delete(&mut self, now: u64, dlq_id: &str) -> Result<(), EngineError> {
        let entry = self.remove_dlq_entry(dlq_id)?;
        self.record(
            entry.message.order,
            now,
            EventKind::DlqDeleted {
                dlq_id: entry.dlq_id,
                message_id: entry.message.message_id,
            },
        );
        Ok(())
    }

    /// Republishes a DLQ entry under a new message id and removes the entry.
    ///
    /// Settings given in `overrides` replace the original ones; forwarded headers given
    /// there replace the original headers of the same name. The republished message is
    /// not deduplicated against anything.
    ///
    /// # Errors
    /// [`EngineError::NotFound`] for an unknown or expired entry;
    /// [`EngineError::InvalidInput`] for an override the plan does not allow.
    pub fn dlq_retry(
        &mut self,
        now: u64,
        dlq_id: &str,
        overrides: &PublishSettings,
    ) -> Result<Published, EngineError> {
        if self.dlq_entry(dlq_id).is_none() {
            return Err(EngineError::NotFound {
                what: "dlq entry",
                id: dlq_id.to_owned(),
            });
        }
        let not_before = self.not_before(now, overrides)?;
        let entry = self.remove_dlq_entry(dlq_id)?;

        self.origins += 1;
        let order = OrderKey {
            origin: self.origins,
            derived: 0,
        };
        let message_id = ids::message_id(self.config.seed, self.origins);
        let mut message = entry.message.clone();
        apply_overrides(&mut message, overrides);
        if let Some(timeout) = overrides.timeout_ms {
            message.timeout_ms = self.attempt_timeout(Some(timeout));
        }
        message.message_id = message_id.clone();
        message.order = order;
        message.kind = MessageKind::Published;
        message.created_at = now;
        message.not_before = not_before;
        message.retried = 0;
        message.state = MessageState::Created;
        message.next_delivery_at = Some(not_before);
        let url = message.url.clone();

        self.record(
            order,
            now,
            EventKind::DlqRetried {
                dlq_id: entry.dlq_id.clone(),
                message_id: entry.message.message_id.clone(),
                new_message_id: message_id.clone(),
            },
        );
        self.enqueue(now, message, Some(entry.dlq_id));
        Ok(Published {
            message_id,
            url,
            deduplicated: false,
        })
    }

    /// Makes the next key current and creates a fresh next key.
    pub fn rotate_signing_keys(&mut self, now: u64) -> SigningKeys {
        let next = ids::signing_key(self.config.seed, self.rotations);
        self.rotations += 1;
        self.keys.current = std::mem::replace(&mut self.keys.next, next);
        self.origins += 1;
        let order = OrderKey {
            origin: self.origins,
            derived: 0,
        };
        self.record(order, now, EventKind::KeysRotated);
        self.keys.clone()
    }

    /// Every event, in log order.
    pub fn events(&self) -> impl Iterator<Item = &Event> {
        self.events.iter()
    }

    /// How many events the log holds.
    pub fn event_count(&self) -> usize {
        self.events.len()
    }

    /// A mark for [`Engine::events_since`].
    pub fn event_mark(&self) -> u64 {
        self.events.mark()
    }

    /// The events recorded after `mark`, in log order.
    pub fn events_since(&self, mark: u64) -> Vec<Event> {
        self.events.since(mark)
    }

    /// How many messages the engine still holds.
    pub fn message_count(&self) -> usize {
        self.messages.len()
    }

    /// How many DLQ entries exist.
    pub fn dlq_len(&self) -> usize {
        self.dlq.len()
    }
}

// The transitions, private to the engine.
impl Engine {
    pub(super) fn record(&mut self, order: OrderKey, time: u64, kind: EventKind) {
        self.events.record(order, Event { time, kind });
    }

    /// The event log, with what it keeps for `/v2/logs`.
    pub(super) fn event_log(&self) -> &EventLog {
        &self.events
    }

    /// Schedules an attempt of a held message.
    pub(super) fn schedule_delivery(&mut self, at: u64, order: OrderKey, message_id: &str) {
        let work = Work::Deliver {
            message_id: message_id.to_owned(),
        };
        self.schedule(at, order, 0, work);
    }

    /// Schedules a schedule's firing. Firings sort before the deliveries of the same
    /// instant, by the schedule's creation number.
    pub(super) fn schedule_firing(&mut self, at: u64, number: u32, schedule_id: &str) {
        let order = OrderKey {
            origin: 0,
            derived: number,
        };
        let work = Work::Fire {
            schedule_id: schedule_id.to_owned(),
        };
        self.schedule(at, order, 0, work);
    }

    /// Drops the pending attempt of a held message, if any.
    pub(super) fn unschedule_delivery(&mut self, message_id: &str) {
        self.due.retain(
            |_, work| !matches!(work, Work::Deliver { message_id: id } if id == message_id),
        );
    }

    /// Drops the pending firing of a schedule, if any.
    pub(super) fn unschedule_firing(&mut self, schedule_id: &str) {
        self.due
            .retain(|_, work| !matches!(work, Work::Fire { schedule_id: id } if id == schedule_id));
    }

    /// Wakes a flow-control key's waitlist at `at`; `number` is the key's creation number.
    pub(super) fn schedule_release(&mut self, at: u64, number: u32, key: &str) {
        let order = OrderKey {
            origin: 0,
            derived: number,
        };
        let work = Work::Release {
            key: key.to_owned(),
        };
        self.schedule(at, order, 2, work);
    }

    /// The held message, cancelled ones included.
    pub(super) fn held_message(&self, message_id: &str) -> Option<&Message> {
        self.messages.get(message_id)
    }

    /// Whether any held message descends from the API call `origin`.
    pub(super) fn origin_is_live(&self, origin: u64) -> bool {
        self.messages
            .values()
            .any(|message| message.order.origin == origin)
    }

    fn schedule(&mut self, at: u64, order: OrderKey, slot: u8, work: Work) {
        self.due.insert(DueKey { at, order, slot }, work);
    }

    fn enqueue(&mut self, now: u64, message: Message, from_dlq_id: Option<String>) {
        self.record(
            message.order,
            now,
            EventKind::Published {
                message_id: message.message_id.clone(),
                url: message.url.clone(),
                not_before: message.not_before,
                max_retries: message.max_retries,
                from_dlq_id,
            },
        );
        self.events.remember_created(&message);
        self.register_flow_control(&message);
        let queue = message.routing.queue_name.clone();
        let message_id = message.message_id.clone();
        let (at, order) = (message.not_before, message.order);
        self.messages.insert(message_id.clone(), message);
        // A queued message waits for its turn; the queue schedules it when it comes.
        match queue {
            Some(queue) => self.join_queue(now, &queue, &message_id),
            None => self.schedule_delivery(at, order, &message_id),
        }
    }

    fn begin_attempt(&mut self, key: DueKey, message_id: &str, wall_ms: u64) -> Option<Attempt> {
        let seed = self.config.seed;
        let signature_time = self.config.signature_time;
        let signing_key = self.keys.current.clone();
        let message = self.messages.get_mut(message_id)?;
        message.state = MessageState::Active;
        message.next_delivery_at = None;

        let jti = ids::jwt_id(seed, message_id, message.retried);
        if message.body_hash.is_empty() {
            message.body_hash = body_hash(&message.body);
        }
        let (issued, expiring) = match signature_time {
            SignatureTime::ReceiverSafe => (key.at.min(wall_ms), key.at.max(wall_ms)),
            SignatureTime::Virtual => (key.at, key.at),
        };
        let claims = SignatureClaims {
            iss: "Upstash".to_owned(),
            sub: message.url.clone(),
            exp: expiring / 1000 + 300,
            nbf: 0,
            iat: issued / 1000,
            jti,
            body: message.body_hash.clone(),
        };
        let signature = sign_claims(&signing_key, &claims);
        let mut headers = vec![
            ("Upstash-Message-Id".to_owned(), message.message_id.clone()),
            ("Upstash-Retried".to_owned(), message.retried.to_string()),
            ("User-Agent".to_owned(), "Upstash-QStash".to_owned()),
            ("Upstash-Signature".to_owned(), signature),
        ];
        if let Some(ip) = &message.caller_ip {
            headers.push(("Upstash-Caller-Ip".to_owned(), ip.clone()));
        }
        if let Some(topic) = &message.routing.topic_name {
            headers.push(("Upstash-Topic-Name".to_owned(), topic.clone()));
        }
        if let Some(schedule_id) = &message.routing.schedule_id {
            headers.push(("Upstash-Schedule-Id".to_owned(), schedule_id.clone()));
        }
        headers.extend(message.headers.iter().cloned());
        let method =
            http::Method::from_bytes(message.method.as_bytes()).unwrap_or(http::Method::POST);

        Some(Attempt {
            message_id: message.message_id.clone(),
            order: message.order,
            retried: message.retried,
            due_at: key.at,
            request: OutgoingRequest {
                url: message.url.clone(),
                method,
                headers,
                body: message.body.clone(),
                timeout: Duration::from_millis(message.timeout_ms),
            },
        })
    }

    fn move_to_dlq(
        &mut self,
        now: u64,
        mut message: Message,
        reason: DlqReason,
        response: RecordedResponse,
    ) {
        self.messages.remove(&message.message_id);
        let number = match self.last_dlq_key {
            Some((at, n)) if at == now => n + 1,
            _ => 0,
        };
        let key = (now, number);
        self.last_dlq_key = Some(key);
        let dlq_id = format!("{now}-{number}");
        let expires_at = now.saturating_add(self.config.effective_retention_ms());
        message.state = MessageState::Created;
        message.next_delivery_at = None;

        self.record(
            message.order,
            now,
            EventKind::MovedToDlq {
                message_id: message.message_id.clone(),
                dlq_id: dlq_id.clone(),
                reason,
                expires_at,
            },
        );
        self.schedule(
            expires_at,
            message.order,
            1,
            Work::Expire {
                dlq_id: dlq_id.clone(),
            },
        );
        let entry = DlqEntry {
            dlq_id: dlq_id.clone(),
            message,
            entered_at: now,
            expires_at,
            reason,
            response,
        };
        let failure_source = entry.message.clone();
        let failure_response = entry.response.clone();
        self.dlq_index.insert(dlq_id.clone(), key);
        self.dlq.insert(key, entry);
        self.publish_failure_callback(now, &failure_source, &failure_response, &dlq_id);
        self.message_left(now, &failure_source);
    }

    fn expire(&mut self, now: u64, dlq_id: &str) {
        let Some(key) = self.dlq_index.remove(dlq_id) else {
            return;
        };
        let Some(entry) = self.dlq.remove(&key) else {
            return;
        };
        self.record(
            entry.message.order,
            now,
            EventKind::DlqExpired {
                dlq_id: entry.dlq_id,
                message_id: entry.message.message_id,
            },
        );
    }

    fn remove_dlq_entry(&mut self, dlq_id: &str) -> Result<DlqEntry, EngineError> {
        let not_found = || EngineError::NotFound {
            what: "dlq entry",
            id: dlq_id.to_owned(),
        };
        let key = self.dlq_index.remove(dlq_id).ok_or_else(not_found)?;
        let entry = self.dlq.remove(&key).ok_or_else(not_found)?;
        self.due.remove(&DueKey {
            at: entry.expires_at,
            order: entry.message.order,
            slot: 1,
        });
        Ok(entry)
    }

    fn publish_callback(&mut self, now: u64, source: &Message, response: &RecordedResponse) {
        let Some(spec) = source.callback.clone() else {
            return;
        };
        self.publish_derived(
            now,
            source,
            &spec,
            "callback",
            callback_body(source, response, None),
        );
    }

    fn publish_failure_callback(
        &mut self,
        now: u64,
        source: &Message,
        response: &RecordedResponse,
        dlq_id: &str,
    ) {
        let Some(spec) = source.failure_callback.clone() else {
            return;
        };
        let body = callback_body(source, response, Some(dlq_id));
        self.publish_derived(now, source, &spec, "failureCallback", body);
    }

    fn publish_derived(
        &mut self,
        now: u64,
        source: &Message,
        spec: &CallbackSpec,
        role: &str,
        body: Vec<u8>,
    ) {
        let counter = self.derived.entry(source.order.origin).or_insert(0);
        *counter += 1;
        let order = OrderKey {
            origin: source.order.origin,
            derived: *counter,
        };
        let message_id =
            ids::derived_message_id(self.config.seed, &source.message_id, role, *counter);
        let source_message_id = source.message_id.clone();
        let kind = if role == "callback" {
            MessageKind::Callback {
                source_message_id: source_message_id.clone(),
            }
        } else {
            MessageKind::FailureCallback {
                source_message_id: source_message_id.clone(),
            }
        };
        let mut headers = vec![("Content-Type".to_owned(), "application/json".to_owned())];
        headers.extend(spec.forward_headers.iter().cloned());
        let message = Message {
            message_id: message_id.clone(),
            order,
            kind,
            url: spec.url.clone(),
            method: spec.method.clone().unwrap_or_else(|| "POST".to_owned()),
            headers,
            body: Bytes::from(body),
            body_hash: String::new(),
            max_retries: spec.retries.unwrap_or(source.max_retries),
            retry_delay: spec.retry_delay.clone(),
            timeout_ms: spec
                .timeout_ms
                .map_or(source.timeout_ms, |t| self.attempt_timeout(Some(t))),
            not_before: now,
            created_at: now,
            callback: None,
            failure_callback: None,
            labels: source.labels.clone(),
            deduplication_id: None,
            caller_ip: source.caller_ip.clone(),
            retried: 0,
            state: MessageState::Created,
            next_delivery_at: Some(now),
            routing: Routing::default(),
        };
        self.record(
            source.order,
            now,
            EventKind::CallbackPublished {
                message_id: source_message_id,
                callback_message_id: message_id,
                role: role.to_owned(),
                url: spec.url.clone(),
            },
        );
        self.enqueue(now, message, None);
    }

    fn not_before(&self, now: u64, settings: &PublishSettings) -> Result<u64, EngineError> {
        if let Some(at) = settings.not_before_ms {
            return Ok(at.max(now));
        }
        let delay = settings.delay_ms.unwrap_or(0);
        if let Some(max) = self.config.plan.max_delay_ms() {
            if delay > max {
                return Err(EngineError::invalid(
                    "Upstash-Delay",
                    format!(
                        "{} is over the {} plan's maximum delay of {}",
                        format_duration_ms(delay),
                        self.config.plan,
                        format_duration_ms(max)
                    ),
                ));
            }
        }
        Ok(now.saturating_add(delay))
    }

    fn attempt_timeout(&self, requested: Option<u64>) -> u64 {
        // Upstash-Timeout can only shorten the plan's limit.
        let max = self.config.plan.max_attempt_ms();
        requested.map_or(max, |t| t.min(max))
    }

    fn check_body_size(&self, size: usize) -> Result<(), EngineError> {
        let limit = self.config.plan.max_body_bytes();
        if size > limit {
            return Err(EngineError::PayloadTooLarge { size, limit });
        }
        Ok(())
    }

    fn forget_expired_dedup(&mut self, now: u64) {
        // Lookups ignore expired records, so sweeping them is only about memory: doing it
        // when the map has doubled keeps a publish O(log n) instead of O(n).
        if self.dedup.len() < self.dedup_sweep_at {
            return;
        }
        self.dedup.retain(|_, record| record.expires_at > now);
        self.dedup_sweep_at = (self.dedup.len() * 2).max(1024);
    }
}

fn validate_destination(destination: &str) -> Result<(), EngineError> {
    let problem = match destination.parse::<http::Uri>() {
        Err(_) => "is not a valid URL",
        Ok(uri) if !matches!(uri.scheme_str(), Some("http" | "https")) => {
            "must start with http:// or https://"
        }
        Ok(uri) if uri.host().is_none_or(str::is_empty) => "has no host",
        Ok(_) => return Ok(()),
    };
    Err(EngineError::invalid(
        "destination",
        format!("`{destination}` {problem}"),
    ))
}

fn message_headers(settings: &PublishSettings) -> Vec<(String, String)> {
    let mut headers = Vec::new();
    if let Some(content_type) = &settings.content_type {
        headers.push(("Content-Type".to_owned(), content_type.clone()));
    }
    headers.extend(settings.forward_headers.iter().cloned());
    headers
}

fn apply_overrides(message: &mut Message, overrides: &PublishSettings) {
    if let Some(method) = &overrides.method {
        message.method = method.clone();
    }
    if let Some(retries) = overrides.retries {
        message.max_retries = retries;
    }
    if let Some(expression) = &overrides.retry_delay {
        message.retry_delay = Some(expression.clone());
    }
    if let Some(callback) = &overrides.callback {
        message.callback = Some(callback.clone());
    }
    if let Some(callback) = &overrides.failure_callback {
        message.failure_callback = Some(callback.clone());
    }
    if !overrides.labels.is_empty() {
        message.labels = overrides.labels.clone();
    }
    for (name, value) in message_headers(overrides) {
        message
            .headers
            .retain(|(existing, _)| !existing.eq_ignore_ascii_case(&name));
        message.headers.push((name, value));
    }
}

/// The key a publish deduplicates on, if it asked for deduplication.
fn deduplication_key(request: &PublishRequest) -> Option<String> {
    let settings = &request.settings;
    if let Some(id) = &settings.deduplication_id {
        return Some(id.clone());
    }
    if !settings.content_based_deduplication {
        return None;
    }
    let mut hasher = Sha256::new();
    hasher.update(request.destination.as_bytes());
    hasher.update([0]);
    hasher.update(&request.body);
    let mut headers = message_headers(settings);
    headers.sort();
    for (name, value) in headers {
        hasher.update([0]);
        hasher.update(name.to_ascii_lowercase().as_bytes());
        hasher.update([b':']);
        hasher.update(value.as_bytes());
    }
    let digest = hasher.finalize();
    Some(format!("content-{}", bs58::encode(digest).into_string()))
}

/// What an attempt produced, as the DLQ, logs and callbacks show it: header names in
/// the canonical form QStash's Go servers give them (`Retry-After`, `Content-Type`).
fn recorded_response(outcome: &AttemptOutcome) -> RecordedResponse {
    match outcome {
        AttemptOutcome::Response(response) => RecordedResponse {
            status: response.status,
            headers: response
                .headers
                .iter()
                .map(|(name, value)| (canonical_header_name(name), value.clone()))
                .collect(),
            body: response.body.clone(),
        },
        AttemptOutcome::Timeout => RecordedResponse {
            status: 0,
            headers: Vec::new(),
            body: Bytes::from_static(b"timeout"),
        },
        AttemptOutcome::ConnectionError { reason } => RecordedResponse {
            status: 0,
            headers: Vec::new(),
            body: Bytes::from(format!("connection error: {reason}")),
        },
    }
}

fn describe_failure(outcome: &AttemptOutcome) -> (Option<u16>, Option<String>) {
    match outcome {
        AttemptOutcome::Response(response) => (Some(response.status), None),
        AttemptOutcome::Timeout => (None, Some("timeout".to_owned())),
        AttemptOutcome::ConnectionError { reason } => {
            (None, Some(format!("connection error: {reason}")))
        }
    }
}

fn is_non_retryable(outcome: &AttemptOutcome) -> bool {
    let AttemptOutcome::Response(response) = outcome else {
        return false;
    };
    response.status == 489
        && response.headers.iter().any(|(name, value)| {
            name.eq_ignore_ascii_case("upstash-nonretryable-error")
                && value.trim().eq_ignore_ascii_case("true")
        })
}

/// Headers as QStash shows them: `{name: [values]}`, values in order.
pub fn header_map(headers: &[(String, String)]) -> serde_json::Map<String, serde_json::Value> {
    let mut map = serde_json::Map::new();
    for (name, value) in headers {
        let values = map
            .entry(name.clone())
            .or_insert_with(|| serde_json::Value::Array(Vec::new()));
        if let serde_json::Value::Array(list) = values {
            list.push(serde_json::Value::String(value.clone()));
        }
    }
    map
}

/// The JSON body QStash sends to callbacks and failure callbacks.
fn callback_body(source: &Message, response: &RecordedResponse, dlq_id: Option<&str>) -> Vec<u8> {
    let mut body = serde_json::json!({
        "status": response.status,
        "header": header_map(&response.headers),
        "body": STANDARD.encode(&response.body),
        "retried": source.retried,
        "maxRetries": source.max_retries,
        "sourceMessageId": source.message_id,
        "url": source.url,
        "method": source.method,
        "sourceHeader": header_map(&source.headers),
        "sourceBody": STANDARD.encode(&source.body),
        "notBefore": source.not_before,
        "createdAt": source.created_at,
    });
    if let Some(dlq_id) = dlq_id {
        body["dlqId"] = serde_json::Value::String(dlq_id.to_owned());
    }
    if let Some(ip) = &source.caller_ip {
        body["callerIP"] = serde_json::Value::String(ip.clone());
    }
    serde_json::to_vec(&body).unwrap_or_default()
}

fn parse_cursor(cursor: &str) -> Result<DlqKey, EngineError> {
    let invalid = || {
        EngineError::invalid(
            "cursor",
            format!("`{cursor}` is not a cursor this server handed out"),
        )
    };
    let (at, n) = cursor.split_once('-').ok_or_else(invalid)?;
    Ok((
        at.parse().map_err(|_| invalid())?,
        n.parse().map_err(|_| invalid())?,
    ))
}
