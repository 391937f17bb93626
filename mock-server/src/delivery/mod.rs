//! Delivery over real HTTP.
