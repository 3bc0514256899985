"""Pure Block Kit builders for reviews: start and stage modals, the status message, lists."""
