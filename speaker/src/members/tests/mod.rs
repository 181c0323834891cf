//! Tests of the members module: the codec and the table are pure; the prober runs on loopback.

mod partitions;
mod prober;
mod table;
mod wire;
