//! The reference model (the oracle). See issue text.
