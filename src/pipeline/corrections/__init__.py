"""People fix what the machine read: the review queue's reasons (review) and a person's corrections
that hold against every later run (records)."""
