//! The keys command group.

use super::CommandSpec;

/// This group's commands.
pub const COMMANDS: &[CommandSpec] = &[];
