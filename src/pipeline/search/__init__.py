"""Runners find their photos: the searches (photos), by time (by_time), by name (names), the
selfie's checks (selfie), the gallery's cursors (cursor) and how a match is answered (answers)."""
