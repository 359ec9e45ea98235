"""Pure domain rules: no I/O, no database, time only through an injected clock."""
