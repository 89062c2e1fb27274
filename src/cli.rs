//! Options, defaults, help text and `--version`. Never touches the network.
