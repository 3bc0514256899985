"""People on a review: participants and stakeholders, stages handed to a person, lessons told."""
