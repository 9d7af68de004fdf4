//! The ClientHellos of TLS stacks as they ship, for `connect --like PRESET`.
