//! Executes a plan against the engine: pulls, safe replace with rollback, removal,
//! bounded concurrency and the run lock. The only module with side effects; it never
//! re-decides what the plan says.
