"""Australian Consumer Law: the consumer guarantees assessment and the mandatory warranty texts."""
