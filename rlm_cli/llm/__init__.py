"""Model backends: one `Model` interface, several ways to run it."""
