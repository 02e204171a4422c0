"""The `snaprace` command's commands, grouped by concept; snaprace.cli puts them together."""
